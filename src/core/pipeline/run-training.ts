/**
 * A plain training run (`train.py`-style: Adam, augmented S×S batches, validation loss after every
 * epoch) that survives interruption, like `runPipeline`: after every epoch the weights (incl. BN
 * running statistics) and Adam's moments are checkpointed in the RunStore, then the state that points
 * at them. A run started again with the same id continues from the last finished epoch; epochs are
 * seeded, so the resumed run reproduces an uninterrupted one. An interruption loses at most the epoch
 * in progress.
 *
 * Checkpoints alternate between two tags ('ckpt-a', 'ckpt-b'): the state names the last complete one,
 * so a crash while writing the other never leaves the run pointing at half a checkpoint.
 */
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import { createTrainableEResFD } from '../model/eresfd/trainable.ts';
import { checkRunRecord, type RunStore } from './run-store.ts';
import type { SampleSource } from '../train/sample-source.ts';
import type { AdamState } from '../train/adam.ts';
import { createTrainer, validateTrainConfig, type EpochRecord, type StepProgress } from '../train/trainer.ts';

export interface TrainingRunConfig {
  /** Epochs to train in total (a resumed run trains the remaining ones). */
  epochs: number;
  /** Side S of the square training batches (reference 640). */
  size: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Epochs after which the LR is multiplied by 0.1. */
  lrMilestones: number[];
  seed: number;
}

export const DEFAULT_TRAINING_RUN_CONFIG: TrainingRunConfig = {
  epochs: 2,
  size: 320,
  batchSize: 8,
  lr: 1e-3,
  weightDecay: 5e-4,
  lrMilestones: [],
  seed: 0,
};

export function validateTrainingRunConfig(input: Partial<TrainingRunConfig> = {}): TrainingRunConfig {
  const c: TrainingRunConfig = { ...DEFAULT_TRAINING_RUN_CONFIG, ...input, lrMilestones: [...(input.lrMilestones ?? DEFAULT_TRAINING_RUN_CONFIG.lrMilestones)] };
  if (!Number.isInteger(c.epochs) || c.epochs < 1 || c.epochs > 10_000) {
    throw new StudioError('CONFIG_INVALID', `training: epochs ${c.epochs} must be an integer in [1, 10000]`);
  }
  validateTrainConfig({ size: c.size, batchSize: c.batchSize, lr: c.lr, weightDecay: c.weightDecay, seed: c.seed });
  return c;
}

/** One finished epoch: the trainer's record plus when it was checkpointed. */
export type TrainingEpochRow = EpochRecord;

export interface TrainingRunState {
  format: 'bfpgm-training';
  version: 1;
  id: string;
  createdAt: string;
  updatedAt: string;
  config: TrainingRunConfig;
  status: 'running' | 'paused' | 'done' | 'failed';
  error?: string;
  /** Epochs finished and checkpointed. */
  epochsDone: number;
  epochs: TrainingEpochRow[];
  /** Tag of the weights + optimiser state after `epochsDone` epochs (null before the first). */
  checkpoint: string | null;
}

export type TrainingEvent =
  | { type: 'start'; epochsDone: number; epochs: number }
  | { type: 'step'; progress: StepProgress }
  | { type: 'epoch'; row: TrainingEpochRow; epochsDone: number }
  | { type: 'done'; state: TrainingRunState };

export interface RunTrainingOptions {
  runId: string;
  /** Weights the run starts from (used when the run is new or has no checkpoint yet). */
  initial: StateDict;
  /** Used only when the run is new; a resumed run keeps its stored config. */
  config?: Partial<TrainingRunConfig>;
  data: { train: SampleSource; val: SampleSource };
  store: RunStore<TrainingRunState>;
  signal?: AbortSignal;
  onEvent?: (e: TrainingEvent) => void;
}

/** Tag of the final weights of a finished run. */
export const FINAL_TRAINING_TAG = 'final';

const CHECKPOINT_TAGS = ['ckpt-a', 'ckpt-b'] as const;
const nowIso = (): string => new Date().toISOString();

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

export async function runTraining(options: RunTrainingOptions): Promise<TrainingRunState> {
  const { runId, store, signal, data } = options;
  const emit = (e: TrainingEvent) => options.onEvent?.(e);
  const t = nowIso();
  const stored = await store.loadState(runId);
  const state: TrainingRunState = stored ? checkRunRecord<TrainingRunState>(stored, 'bfpgm-training', 1, runId) : {
    format: 'bfpgm-training', version: 1, id: runId, createdAt: t, updatedAt: t,
    config: validateTrainingRunConfig(options.config), status: 'running', epochsDone: 0, epochs: [], checkpoint: null,
  };
  if (state.status === 'done') return state;
  const cfg = state.config;
  const save = async () => {
    state.updatedAt = nowIso();
    await store.saveState(state);
  };
  state.status = 'running';
  delete state.error;
  await save();

  let weights = options.initial;
  let adam: AdamState | null = null;
  if (state.checkpoint) {
    const [w, a] = await Promise.all([store.loadWeights(runId, state.checkpoint), store.loadOptimizer(runId, state.checkpoint)]);
    if (!w || !a) throw new StudioError('NOT_FOUND', `training run ${runId}: checkpoint ${state.checkpoint} is missing from the store`);
    weights = w;
    adam = a;
  }
  const model = createTrainableEResFD(weights);
  const trainer = createTrainer(model, data.train, data.val, {
    size: cfg.size, batchSize: cfg.batchSize, lr: cfg.lr, weightDecay: cfg.weightDecay, lrMilestones: cfg.lrMilestones, seed: cfg.seed,
  }, { signal, onProgress: (progress) => emit({ type: 'step', progress }) });
  try {
    if (adam) trainer.importState({ epochsDone: state.epochsDone, adam });
    emit({ type: 'start', epochsDone: state.epochsDone, epochs: cfg.epochs });
    for (let e = state.epochsDone; e < cfg.epochs; e++) {
      abortIfNeeded(signal);
      const row = await trainer.runEpoch(e);
      const tag = CHECKPOINT_TAGS[e % 2]!;
      // Weights and optimiser first, then the state that points at them.
      await store.saveWeights(runId, tag, await model.toStateDict());
      await store.saveOptimizer(runId, tag, (await trainer.exportState(e + 1)).adam);
      state.epochs.push(row);
      state.epochsDone = e + 1;
      state.checkpoint = tag;
      await save();
      emit({ type: 'epoch', row, epochsDone: state.epochsDone });
    }
    await store.saveWeights(runId, FINAL_TRAINING_TAG, await model.toStateDict());
    state.status = 'done';
    await save();
    emit({ type: 'done', state });
    return state;
  } catch (e) {
    const aborted = signal?.aborted || (e instanceof Error && e.name === 'AbortError');
    state.status = aborted ? 'paused' : 'failed';
    if (!aborted) state.error = e instanceof Error ? e.message : String(e);
    await save();
    throw e;
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

/** The epochs of a training run as CSV (one row per finished epoch, losses as trained and validated). */
export function trainingEpochsCsv(state: TrainingRunState): string {
  const cols = ['epoch', 'trainLoss', 'trainLossL', 'trainLossC', 'valLoss', 'valLossL', 'valLossC', 'lr', 'imagesPerSec', 'seconds'] as const;
  return [cols.join(','), ...state.epochs.map((r) => cols.map((c) => String(r[c])).join(','))].join('\n') + '\n';
}
