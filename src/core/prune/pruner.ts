/**
 * B-FPGM's `MultiLayerPruner` over nni v3.0rc1's FPGMPruner (SPEC §3.2, §3.3): every conv of a
 * group gets the group's rate r and is decided on its own — `pruned = int(r·n)` filters with the
 * smallest FPGM scores, i.e. all but `topk(metric, n − int(r·n))`. The pruner only turns scores into
 * a plan; scores come from importance/fpgm.ts (Torch-Pruning's split of importance and pruner).
 *
 * Tie rule (ours, deterministic): filters with exactly equal scores are pruned lowest index first.
 * The reference resolves ties in torch.topk's undocumented internal order (golden/README.md), which
 * only matters for filters with identical weights; counts, sparsity and per-group totals are the same.
 * NaN scores count as largest (kept), as in torch.topk.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import { CONV_BY_NAME, type ConvSpec } from '../model/eresfd/architecture.ts';
import { ensureFpgmDistancesPath } from '../backend/kernels/fpgm-distances.ts';
import { fpgmScores, fpgmScoresTf } from './importance/fpgm.ts';
import { groupConvs, PRUNABLE_MODULES, validateGrouping, type Grouping } from './layer-groups.ts';
import { validateRates, type PlannedConv, type PruningPlan } from './plan.ts';

/** Filters pruned at rate r out of n: Python's `int(r * n)` on doubles (truncation, SPEC §3.3). */
export function prunedCount(rate: number, filters: number): number {
  return Math.trunc(rate * filters);
}

/** Indices (ascending) of the `int(rate·n)` lowest-scoring filters; ties lowest index first. */
export function selectPrunedFilters(scores: ArrayLike<number>, rate: number): number[] {
  const n = scores.length;
  const count = prunedCount(rate, n);
  if (count <= 0) return [];
  const key = (i: number): number => (Number.isNaN(scores[i]!) ? Infinity : scores[i]!);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
    const x = key(a), y = key(b);
    return x < y ? -1 : x > y ? 1 : a - b;
  });
  return order.slice(0, count).sort((a, b) => a - b);
}

/** Grouped convs in plan order (group order, then architecture order inside a group). */
function plannedConvSpecs(grouping: Grouping): Array<{ spec: ConvSpec; group: number }> {
  return grouping.groups.flatMap((g, group) => groupConvs(g).map((spec) => ({ spec, group })));
}

function buildPlan(grouping: Grouping, rates: readonly number[], scoresOf: (spec: ConvSpec) => ArrayLike<number>): PruningPlan {
  validateGrouping(grouping);
  validateRates(grouping, rates);
  const convs: PlannedConv[] = plannedConvSpecs(grouping).map(({ spec, group }) => ({
    key: `${spec.name}.weight`,
    group,
    filters: spec.outChannels,
    pruned: selectPrunedFilters(scoresOf(spec), rates[group]!),
  }));
  return { method: 'fpgm', grouping: structuredClone(grouping), rates: [...rates], convs };
}

function convWeights(sd: StateDict, spec: ConvSpec): Float32Array {
  const key = `${spec.name}.weight`;
  const t = sd.get(key);
  const size = spec.outChannels * spec.inChannels * spec.kernel * spec.kernel;
  if (!t || !(t.data instanceof Float32Array) || t.data.length !== size) {
    throw new StudioError('CHECKPOINT_ARCHITECTURE', `The state dict has no float32 ${key} of shape [${spec.outChannels}, ${spec.inChannels}, ${spec.kernel}, ${spec.kernel}].`);
  }
  return t.data;
}

export interface FpgmPlanner {
  /** FPGM scores of one conv (by module name, e.g. `base.conv1.0`), computed once and cached. */
  scores(conv: string): Float64Array;
  /** The plan for one rate per group. Scores do not depend on rates, so repeated calls only re-select. */
  plan(grouping: Grouping, rates: readonly number[]): PruningPlan;
}

/**
 * Host FPGM over a state dict with cached scores: the Bayesian search prunes a copy of the same
 * weights at every trial (SPEC §3.4), so only the selection changes between trials.
 */
export function createFpgmPlanner(sd: StateDict): FpgmPlanner {
  const cache = new Map<string, Float64Array>();
  const scoresOf = (spec: ConvSpec): Float64Array => {
    let s = cache.get(spec.name);
    if (!s) {
      s = fpgmScores(convWeights(sd, spec), spec.outChannels);
      cache.set(spec.name, s);
    }
    return s;
  };
  return {
    scores(conv) {
      const spec = CONV_BY_NAME.get(conv);
      if (!spec || !PRUNABLE_MODULES.includes(spec.owner)) throw new StudioError('CONFIG_INVALID', `${conv} is not a prunable conv.`);
      return scoresOf(spec);
    },
    plan: (grouping, rates) => buildPlan(grouping, rates, scoresOf),
  };
}

/** Host FPGM plan for a state dict (PyTorch layout). */
export function planFpgm(sd: StateDict, grouping: Grouping, rates: readonly number[]): PruningPlan {
  return createFpgmPlanner(sd).plan(grouping, rates);
}

/**
 * Scores of many convs on the active backend: convs of one shape are stacked into a [B, n, d] batch
 * (EResFD has a handful of shapes), one dispatch and one download per shape.
 * `filtersOf` returns a new [n, d] tensor per conv; it is disposed here.
 */
async function scoresOnBackend(specs: readonly ConvSpec[], filtersOf: (spec: ConvSpec) => tf.Tensor2D): Promise<Map<string, Float32Array>> {
  await ensureFpgmDistancesPath();
  const byShape = new Map<string, ConvSpec[]>();
  for (const s of specs) {
    const shape = `${s.outChannels}x${s.inChannels * s.kernel * s.kernel}`;
    byShape.set(shape, [...(byShape.get(shape) ?? []), s]);
  }
  const batches = [...byShape.values()].map((batch) => ({
    batch,
    sums: tf.tidy(() => fpgmScoresTf(tf.stack(batch.map(filtersOf)) as tf.Tensor3D)),
  }));
  const out = new Map<string, Float32Array>();
  for (const { batch, sums } of batches) {
    const data = (await sums.data()) as Float32Array;
    sums.dispose();
    const n = batch[0]!.outChannels;
    batch.forEach((s, b) => out.set(s.name, data.slice(b * n, (b + 1) * n)));
  }
  return out;
}

/** FPGM plan for a state dict, scores computed with TF.js on the active backend (WebGPU kernel or ops). */
export async function planFpgmTf(sd: StateDict, grouping: Grouping, rates: readonly number[]): Promise<PruningPlan> {
  validateGrouping(grouping);
  validateRates(grouping, rates);
  const specs = plannedConvSpecs(grouping).map((c) => c.spec);
  const scores = await scoresOnBackend(specs, (s) => tf.tensor2d(convWeights(sd, s), [s.outChannels, s.inChannels * s.kernel * s.kernel]));
  return buildPlan(grouping, rates, (s) => scores.get(s.name)!);
}

/**
 * FPGM plan from the current weights of TF.js variables (conv weights HWIO [kh, kw, in, out], as in
 * TrainableEResFD), for soft pruning during training. Filters are read as columns of [kh·kw·in, out]:
 * another flattening order than PyTorch's, which distances do not see.
 */
export async function planFpgmFromParams(params: ReadonlyMap<string, tf.Tensor>, grouping: Grouping, rates: readonly number[]): Promise<PruningPlan> {
  validateGrouping(grouping);
  validateRates(grouping, rates);
  const specs = plannedConvSpecs(grouping).map((c) => c.spec);
  for (const s of specs) {
    const v = params.get(`${s.name}.weight`);
    if (!v || v.rank !== 4 || v.shape[3] !== s.outChannels || v.size !== s.outChannels * s.inChannels * s.kernel * s.kernel) {
      throw new StudioError('CONFIG_INVALID', `No HWIO weight [${s.kernel}, ${s.kernel}, ${s.inChannels}, ${s.outChannels}] for ${s.name}.`);
    }
  }
  const scores = await scoresOnBackend(specs, (s) =>
    tf.transpose(tf.reshape(params.get(`${s.name}.weight`)!, [s.kernel * s.kernel * s.inChannels, s.outChannels])),
  );
  return buildPlan(grouping, rates, (s) => scores.get(s.name)!);
}
