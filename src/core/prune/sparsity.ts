/**
 * What a plan does to the model's numbers without materialising the pruned weights: the
 * zero-parameter sparsity of `utilities.calc_sparsity` (SPEC §3.4, the Bayesian search's sparsity
 * target) and the share of conv MACs a compacted model would drop (its compute target).
 */
import type { StateDict } from '../types.ts';
import { CONV_BY_NAME, convMacs, isParameterKey, totalMacs } from '../model/eresfd/architecture.ts';
import { validatePlan, type PruningPlan } from './plan.ts';

/**
 * Precomputes per-filter zero counts of `sd` once; the returned function gives the sparsity (percent,
 * as describeModel would report for `applyPlanToStateDict(sd, plan)`) in O(planned filters).
 */
export function createSparsityPredictor(sd: StateDict): (plan: PruningPlan) => number {
  let parameters = 0;
  let zeros = 0;
  const filterZeros = new Map<string, { size: number; zeros: Uint32Array }>();
  for (const [key, t] of sd) {
    if (!isParameterKey(key)) continue;
    const data = t.data as Float32Array;
    parameters += data.length;
    for (let i = 0; i < data.length; i++) if (data[i] === 0) zeros++;
    const filters = t.shape.length === 4 ? t.shape[0]! : 0;
    if (filters > 0) {
      const size = data.length / filters;
      const z = new Uint32Array(filters);
      for (let f = 0; f < filters; f++) for (let k = f * size; k < (f + 1) * size; k++) if (data[k] === 0) z[f]!++;
      filterZeros.set(key, { size, zeros: z });
    }
  }
  return (plan) => {
    let extra = 0;
    for (const c of plan.convs) {
      const fz = filterZeros.get(c.key);
      if (!fz) continue;
      for (const f of c.pruned) extra += fz.size - fz.zeros[f]!;
    }
    return parameters ? (100 * (zeros + extra)) / parameters : 0;
  };
}

/** Sparsity (percent, SPEC §3.4) of `sd` once `plan` is applied. */
export function predictSparsity(sd: StateDict, plan: PruningPlan): number {
  return createSparsityPredictor(sd)(plan);
}

export interface MacsRemoved {
  /** Conv MACs that produce zeroed output filters. */
  removed: number;
  /** All conv MACs at that size (heads and the dead layer5 included, SPEC §1.8). */
  total: number;
  /** removed / total. */
  fraction: number;
}

/**
 * Conv MACs at an input of height × width whose output filters the plan zeroes: each pruned filter
 * of a conv saves `h·w·in·k²` MACs. This is what a compacted model would save. A masked model (the
 * zeroed weights still in place, as in the released checkpoints) computes every one of them; the
 * figure is conservative, since compaction could also drop the matching input channels of the next
 * conv once the constant BN output of a pruned channel is folded into that conv's bias.
 */
export function macsRemoved(plan: PruningPlan, height: number, width: number): MacsRemoved {
  validatePlan(plan);
  let removed = 0;
  for (const c of plan.convs) {
    if (!c.pruned.length) continue;
    const spec = CONV_BY_NAME.get(c.key.slice(0, -'.weight'.length))!;
    removed += c.pruned.length * convMacs(spec, height, width, spec.inChannels, 1);
  }
  const total = totalMacs(height, width);
  return { removed, total, fraction: total ? removed / total : 0 };
}
