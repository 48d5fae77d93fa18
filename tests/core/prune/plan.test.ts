/** Plans: selection rule, application to state dicts and variables, sparsity prediction, MACs removed. */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/backends.ts';
import { prunedCount, selectPrunedFilters, planFpgm } from '../../../src/core/prune/pruner.ts';
import { applyPlanToStateDict, applyPlanToVariables, validatePlan, type PruningPlan } from '../../../src/core/prune/plan.ts';
import { createSparsityPredictor, macsRemoved, predictSparsity } from '../../../src/core/prune/sparsity.ts';
import { CODE_GROUPING, COARSE_GROUPING, FINE_GROUPING, RELEASED_GROUPING, createGrouping } from '../../../src/core/prune/layer-groups.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { CONV_BY_NAME, totalMacs } from '../../../src/core/model/eresfd/architecture.ts';
import { toHwio } from '../../../src/core/model/eresfd/eresfd.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { syntheticStateDict } from './synthetic-state-dict.ts';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isStudioError(e) ? e.code : String(e);
  }
  return undefined;
}

describe('selectPrunedFilters', () => {
  it('prunes int(r·n) lowest scores, returned ascending', () => {
    expect(selectPrunedFilters([5, 1, 4, 2, 3], 0.5)).toEqual([1, 3]);
    expect(selectPrunedFilters([5, 1, 4, 2, 3], 0.59)).toEqual([1, 3]);
    expect(selectPrunedFilters([5, 1, 4, 2, 3], 0.6)).toEqual([1, 3, 4]);
    expect(selectPrunedFilters([5, 1, 4, 2, 3], 0)).toEqual([]);
  });
  it('follows Python int(r*n) on doubles', () => {
    expect(prunedCount(0.29, 100)).toBe(28); // 0.29·100 = 28.999999999999996
    expect(prunedCount(0.448, 4)).toBe(1);
    expect(prunedCount(0.561, 16)).toBe(8);
  });
  it('breaks exact ties lowest index first and keeps NaN scores', () => {
    expect(selectPrunedFilters([2, 1, 2, 2, 1, 3], 0.5)).toEqual([0, 1, 4]);
    expect(selectPrunedFilters([NaN, 1, 2, NaN], 0.5)).toEqual([1, 2]);
    expect(selectPrunedFilters([0, 0, 0, 0], 0.5)).toEqual([0, 1]);
  });
});

describe('plans on a synthetic state dict', () => {
  const sd = syntheticStateDict(9);
  const rates = [0.2, 0.1, 0.35, 0.5, 0.3, 0.45];
  const plan = planFpgm(sd, CODE_GROUPING, rates);

  it('cover every grouped conv, pruned counts int(r·n), plain JSON data', () => {
    expect(plan.convs).toHaveLength(75);
    for (const c of plan.convs) expect(c.pruned.length).toBe(prunedCount(rates[c.group]!, c.filters));
    const copy = JSON.parse(JSON.stringify(plan)) as PruningPlan;
    expect(copy).toEqual(plan);
    expect(validatePlan(copy)).toBe(copy);
  });

  it('reject tampered plans and bad rates with CONFIG_INVALID', () => {
    const tamper = (f: (p: PruningPlan) => void): PruningPlan => {
      const p = structuredClone(plan);
      f(p);
      return p;
    };
    expect(code(() => validatePlan(tamper((p) => (p.convs[5]!.pruned = [3, 2]))))).toBe('CONFIG_INVALID');
    expect(code(() => validatePlan(tamper((p) => (p.convs[5]!.pruned = [16]))))).toBe('CONFIG_INVALID');
    expect(code(() => validatePlan(tamper((p) => (p.convs[0]!.key = 'loc.0.weight'))))).toBe('CONFIG_INVALID');
    expect(code(() => validatePlan(tamper((p) => (p.convs[0]!.group = 3))))).toBe('CONFIG_INVALID');
    expect(code(() => planFpgm(sd, CODE_GROUPING, [0.1, 0.2]))).toBe('CONFIG_INVALID');
    expect(code(() => planFpgm(sd, CODE_GROUPING, [0.1, 0.2, 0.3, 0.4, 0.5, 1]))).toBe('CONFIG_INVALID');
    expect(code(() => planFpgm(sd, CODE_GROUPING, [0.1, 0.2, 0.3, 0.4, 0.5, -0.1]))).toBe('CONFIG_INVALID');
  });

  it('applyPlanToStateDict zeroes whole filters in a copy, like weight * mask', () => {
    const out = applyPlanToStateDict(sd, plan);
    for (const c of plan.convs) {
      const before = sd.get(c.key)!.data as Float32Array;
      const after = out.get(c.key)!.data as Float32Array;
      expect(after).not.toBe(before);
      const d = before.length / c.filters;
      for (let f = 0; f < c.filters; f++) {
        const row = Array.from(after.subarray(f * d, (f + 1) * d));
        if (c.pruned.includes(f)) {
          expect(row.every((v) => v === 0)).toBe(true);
          expect(row.some((v) => Object.is(v, -0))).toBe(true); // negative weights × 0
        } else {
          expect(row).toEqual(Array.from(before.subarray(f * d, (f + 1) * d)));
        }
      }
    }
    // BN, heads and everything else untouched; the input is not modified.
    for (const [key, t] of sd) if (!plan.convs.some((c) => c.key === key)) expect(out.get(key)!.data).toEqual(t.data);
    expect(describeModel(sd).sparsity).toBe(0);
  });

  it.each([CODE_GROUPING, RELEASED_GROUPING, COARSE_GROUPING, FINE_GROUPING])('predictSparsity equals describeModel after applying ($id)', (grouping) => {
    const predict = createSparsityPredictor(sd);
    for (const r of [0, 0.15, 0.4, 0.75]) {
      const p = planFpgm(sd, grouping, grouping.groups.map((_, i) => Math.min(0.95, r + 0.05 * i)));
      const want = describeModel(applyPlanToStateDict(sd, p), grouping).sparsity;
      expect(predict(p)).toBeCloseTo(want, 10);
      expect(predictSparsity(sd, p)).toBeCloseTo(want, 10);
    }
  });

  it('macsRemoved counts h·w·in·k² per zeroed filter', () => {
    const conv1Only = planFpgm(sd, createGrouping('conv1', [['base.conv1']]), [0.25]);
    expect(conv1Only.convs[0]!.pruned).toHaveLength(2);
    const m = macsRemoved(conv1Only, 480, 640);
    expect(m.removed).toBe(2 * 120 * 160 * 3 * 25); // conv1: 8 filters of 3×5×5 at 120×160
    expect(m.total).toBe(totalMacs(480, 640));
    expect(m.fraction).toBeCloseTo(m.removed / 295_183_680, 15);
    expect(macsRemoved(planFpgm(sd, CODE_GROUPING, [0, 0, 0, 0, 0, 0]), 480, 640).removed).toBe(0);
    expect(macsRemoved(plan, 480, 640).fraction).toBeGreaterThan(0.1);
  });
});

describe('applyPlanToVariables', () => {
  beforeAll(async () => {
    await useBackend('cpu');
  });
  it('zeroes the same filters in HWIO variables', async () => {
    const sd = syntheticStateDict(4);
    const plan = planFpgm(sd, RELEASED_GROUPING, [0.3, 0.2, 0.4, 0.5, 0.6, 0.5]);
    const pruned = applyPlanToStateDict(sd, plan);
    const params = new Map<string, tf.Variable>();
    for (const c of plan.convs) {
      const spec = CONV_BY_NAME.get(c.key.replace(/\.weight$/, ''))!;
      params.set(c.key, tf.variable(tf.tensor4d(toHwio(sd.get(c.key)!.data as Float32Array, spec), [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels])));
    }
    const before = tf.memory().numTensors;
    applyPlanToVariables(params, plan);
    expect(tf.memory().numTensors).toBe(before);
    for (const c of plan.convs) {
      const spec = CONV_BY_NAME.get(c.key.replace(/\.weight$/, ''))!;
      expect(Array.from(await params.get(c.key)!.data())).toEqual(Array.from(toHwio(pruned.get(c.key)!.data as Float32Array, spec)));
    }
    expect(code(() => applyPlanToVariables(new Map(), plan))).toBe('CONFIG_INVALID');
    tf.dispose([...params.values()]);
  });
});
