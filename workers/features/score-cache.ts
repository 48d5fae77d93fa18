/**
 * Per-model caches of the worker's pruning features: the FPGM planner (scores computed once per conv),
 * the sparsity predictor (per-filter zero counts) and the parameter count. Keyed by the model object,
 * so loading another checkpoint starts fresh and the old entry is garbage-collected with the model.
 */
import { createFpgmPlanner, createSparsityPredictor, describeModel, type EResFDModel, type FpgmPlanner, type PruningPlan } from '../../src/core/index.ts';

export interface ModelCache {
  planner: FpgmPlanner;
  /** Sparsity in percent (SPEC §3.4) of the model once a plan is applied. */
  sparsity: (plan: PruningPlan) => number;
  parameters: number;
}

const caches = new WeakMap<EResFDModel, ModelCache>();

export function modelCache(model: EResFDModel): ModelCache {
  let c = caches.get(model);
  if (!c) {
    const sd = model.stateDict;
    c = { planner: createFpgmPlanner(sd), sparsity: createSparsityPredictor(sd), parameters: describeModel(sd).parameters };
    caches.set(model, c);
  }
  return c;
}

/** FPGM distance sums of one conv of `model` (cached). */
export function cacheScores(model: EResFDModel, conv: string): Float64Array {
  return modelCache(model).planner.scores(conv);
}
