/**
 * Inference speed of a stored model (model zoo; runs in the compute worker, on its backend): the
 * core's timeForwards — the rate editor's and the bench's function — on a separate instance (the model
 * loaded for detection is not touched), and for a pruned model its compacted copy in the same rounds.
 */
import { compactEResFD, createEResFD, loadEResFDCheckpoint, timeForwards, type CompactedModel } from '../../core/index.ts';
import { getModel } from './idb-store.ts';

export interface ModelBenchmark {
  modelId: string;
  backend: string;
  /** Median network forward (ms) at 480×640, read-back included. */
  msPerFrame: number;
  /** The same for the compacted copy (pruned filters removed), when the model has any; else null. */
  compactMsPerFrame: number | null;
  runs: number;
  /** ForwardTimes.protocol: how the figures were taken (the rate editor shows the same). */
  protocol: string;
}

/** A stored model as its own inference instance (the loaded model stays); the caller disposes it. */
export async function loadStoredModel(modelId: string): Promise<ReturnType<typeof createEResFD>> {
  const record = await getModel(modelId);
  return createEResFD(loadEResFDCheckpoint(new Uint8Array(record.bytes)).stateDict);
}

export async function benchmarkStoredModel(modelId: string, runs = 5): Promise<ModelBenchmark> {
  const record = await getModel(modelId);
  const { stateDict } = loadEResFDCheckpoint(new Uint8Array(record.bytes));
  const model = createEResFD(stateDict);
  let compact: CompactedModel | null = null;
  try {
    // A model without zero filters compacts to itself: timing it twice would say nothing.
    if (record.info.sparsity > 0) compact = compactEResFD(stateDict, { source: record.name }).model;
    const times = await timeForwards(compact ? [model, compact] : [model], { runs });
    return { modelId, backend: times.backend, msPerFrame: times.medianMs[0]!, compactMsPerFrame: times.medianMs[1] ?? null, runs, protocol: times.protocol };
  } finally {
    model.dispose();
    compact?.dispose();
  }
}
