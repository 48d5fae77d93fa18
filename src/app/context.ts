/** Typed contexts shared by the studio's components (getters throw when no parent provided them). */
import { createContext } from 'svelte';
import type { ComputeClient } from './compute-client.ts';
import type { DatasetState } from './features/dataset/dataset-state.svelte.ts';
import type { EvaluateState } from './features/evaluate/evaluate-state.svelte.ts';
import type { ModelState } from './features/model/model-state.svelte.ts';
import type { RatesState } from './features/prune/rates.svelte.ts';
import type { PipelineState } from './features/pipeline/pipeline-state.svelte.ts';
import type { TrainingState } from './features/train/training-state.svelte.ts';
import type { ZooState } from './features/zoo/zoo-state.svelte.ts';

export interface StudioContext {
  client: ComputeClient;
  model: ModelState;
  /** Stored WIDER FACE datasets and the import. */
  datasets: DatasetState;
  /** WIDER evaluations (runs in the compute worker) and their results. */
  evaluation: EvaluateState;
  /** The pruning rates (grouping + one rate per group): the rate editor and the BO dashboard share them. */
  rates: RatesState;
  /** B-FPGM pipeline runs (the pipeline worker): form, runs, live progress. */
  pipeline: PipelineState;
  /** Plain training runs (the pipeline worker). */
  training: TrainingState;
  /** Every stored model with its numbers (model zoo). */
  zoo: ZooState;
}

export const [getStudioContext, setStudioContext] = createContext<StudioContext>();
