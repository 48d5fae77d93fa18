/**
 * A pruning plan: which output filters of which convs are zeroed, as plain serialisable data (stored,
 * sent across the worker, replayed on a fresh model like Torch-Pruning's pruning history). Applying a
 * plan mirrors nni's `_unwrap_model()` (SPEC §3.3): the weight is multiplied by a 0/1 filter mask, so
 * a pruned filter becomes zeros over all its input channels and kernel taps; BN, biases and heads are
 * untouched (no conv inside a group has a bias).
 */
import * as tf from '@tensorflow/tfjs-core';
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import { CONV_BY_NAME, type ConvSpec } from '../model/eresfd/architecture.ts';
import { groupConvs, validateGrouping, type Grouping } from './layer-groups.ts';

export interface PlannedConv {
  /** Canonical conv weight key, e.g. `base.m0.layer1.0.res_layer.0.weight`. */
  key: string;
  /** Index of the conv's group in `plan.grouping.groups`. */
  group: number;
  /** Output filters of the conv. */
  filters: number;
  /** Zeroed output filters, ascending. */
  pruned: number[];
}

export interface PruningPlan {
  method: 'fpgm';
  /** The grouping itself, not only its id, so a plan made with a user-defined grouping replays as is. */
  grouping: Grouping;
  /** Pruning rate per group, fraction in [0, 1). */
  rates: number[];
  /** Every conv of every group in architecture order, including those with nothing pruned. */
  convs: PlannedConv[];
}

/** `base.conv1.0.weight` → the conv's spec, or undefined for keys that are not conv weights. */
export function convOfWeightKey(key: string): ConvSpec | undefined {
  return key.endsWith('.weight') ? CONV_BY_NAME.get(key.slice(0, -'.weight'.length)) : undefined;
}

/** Throws StudioError CONFIG_INVALID unless there is one rate per group, each a fraction in [0, 1). */
export function validateRates(grouping: Grouping, rates: readonly number[]): void {
  if (rates.length !== grouping.groups.length) {
    throw new StudioError('CONFIG_INVALID', `${rates.length} rates given for the ${grouping.groups.length} groups of "${grouping.label}".`);
  }
  rates.forEach((r, i) => {
    if (!Number.isFinite(r) || r < 0 || r >= 1) {
      throw new StudioError('CONFIG_INVALID', `Rate ${r} of group "${grouping.groups[i]!.name}" must be a fraction in [0, 1).`);
    }
  });
}

/**
 * Checks that a plan (e.g. read back from storage) fits EResFD and its own grouping: known convs, each
 * in the group it claims, filter counts right, pruned indices in range, ascending and unique.
 * Throws StudioError CONFIG_INVALID.
 */
export function validatePlan(plan: PruningPlan): PruningPlan {
  const fail = (msg: string): never => {
    throw new StudioError('CONFIG_INVALID', `Pruning plan: ${msg}`);
  };
  if (plan.method !== 'fpgm') fail(`unknown method "${String(plan.method)}".`);
  validateGrouping(plan.grouping);
  validateRates(plan.grouping, plan.rates);
  const expected = new Map<string, number>();
  plan.grouping.groups.forEach((g, gi) => groupConvs(g).forEach((c) => expected.set(`${c.name}.weight`, gi)));
  const seen = new Set<string>();
  for (const c of plan.convs) {
    const spec = convOfWeightKey(c.key);
    if (!spec || expected.get(c.key) !== c.group) fail(`${c.key} is not a conv of group ${c.group}.`);
    if (seen.has(c.key)) fail(`${c.key} appears twice.`);
    seen.add(c.key);
    if (c.filters !== spec!.outChannels) fail(`${c.key} has ${spec!.outChannels} filters, not ${c.filters}.`);
    c.pruned.forEach((f, i) => {
      if (!Number.isInteger(f) || f < 0 || f >= c.filters || (i > 0 && f <= c.pruned[i - 1]!)) {
        fail(`${c.key}: pruned filters must be ascending unique indices below ${c.filters}.`);
      }
    });
  }
  return plan;
}

/** Filter mask of one planned conv: 1 = kept, 0 = pruned. */
export function filterMask(conv: PlannedConv): Float32Array {
  const mask = new Float32Array(conv.filters).fill(1);
  for (const f of conv.pruned) mask[f] = 0;
  return mask;
}

/**
 * A copy of `sd` (every tensor with its own buffer) with the plan's filters zeroed. Zeroing
 * multiplies by 0 as nni's `weight * mask` does, so negative weights become −0 (still `== 0` for
 * the sparsity count). Throws StudioError CHECKPOINT_ARCHITECTURE when a planned conv is missing.
 */
export function applyPlanToStateDict(sd: StateDict, plan: PruningPlan): StateDict {
  validatePlan(plan);
  const out: StateDict = new Map();
  for (const [key, t] of sd) out.set(key, { dtype: t.dtype, shape: t.shape.slice(), data: t.data.slice() as typeof t.data });
  for (const c of plan.convs) {
    if (!c.pruned.length) continue;
    const t = out.get(c.key);
    if (!t || !(t.data instanceof Float32Array) || t.shape[0] !== c.filters) {
      throw new StudioError('CHECKPOINT_ARCHITECTURE', `The state dict has no [${c.filters}, …] float32 tensor ${c.key}.`);
    }
    const d = t.data.length / c.filters; // PyTorch [out, in, kh, kw]: a filter is one contiguous row
    for (const f of c.pruned) for (let k = f * d; k < (f + 1) * d; k++) t.data[k] = t.data[k]! * 0;
  }
  return out;
}

/**
 * Zeroes the plan's filters in place in TF.js variables holding conv weights in HWIO layout
 * ([kh, kw, in, out]: the filter mask broadcasts over the last axis). Throws StudioError
 * CONFIG_INVALID when a planned conv has no variable of the right shape.
 */
export function applyPlanToVariables(params: ReadonlyMap<string, tf.Variable>, plan: PruningPlan): void {
  for (const c of plan.convs) {
    if (!c.pruned.length) continue;
    const v = params.get(c.key);
    if (!v || v.rank !== 4 || v.shape[3] !== c.filters) {
      throw new StudioError('CONFIG_INVALID', `No HWIO variable with ${c.filters} output filters for ${c.key}.`);
    }
    tf.tidy(() => {
      v.assign(tf.mul(v, tf.tensor1d(filterMask(c))));
    });
  }
}

/** Per-group totals of a plan: filters zeroed / filters, in group order. */
export function planGroupSummary(plan: PruningPlan): Array<{ name: string; rate: number; filters: number; zeroedFilters: number }> {
  const rows = plan.grouping.groups.map((g, i) => ({ name: g.name, rate: plan.rates[i]!, filters: 0, zeroedFilters: 0 }));
  for (const c of plan.convs) {
    rows[c.group]!.filters += c.filters;
    rows[c.group]!.zeroedFilters += c.pruned.length;
  }
  return rows;
}
