import { describe, expect, it, vi } from 'vitest';
import {
  evaluateCandidate,
  firstProbe,
  groupBounds,
  objectiveValue,
  sparsityFraction,
  sparsityPenalty,
  SKIPPED_OBJECTIVE,
} from '../../../src/core/search/index.ts';

describe('sparsityPenalty (SPEC §3.4)', () => {
  // [s, target, expected]; the first branch (|s − target| ≥ 0.04 → 100) is checked first.
  const table: Array<[number, number, number]> = [
    [0.3, 0.3, 0],
    [0.32, 0.3, 0],
    [0.339, 0.3, 0],
    [0.29, 0.3, Math.abs(0.29 - 0.3)],
    [0.27, 0.3, Math.abs(0.27 - 0.3)],
    [0.261, 0.3, Math.abs(0.261 - 0.3)],
    // Float edges, same doubles as Python: |0.26 − 0.3| = 0.03999999999999998 < 0.04 and
    // 0.3 − 0.04 = 0.26 ≤ s, so the third branch applies; 0.34 − 0.3 = 0.040000000000000036.
    [0.26, 0.3, 0.03999999999999998],
    [0.34, 0.3, 100],
    [0.56, 0.6, 0.039999999999999925],
    [0.64, 0.6, 100],
    [0.5, 0.3, 100],
    [0.0, 0.3, 100],
    [0.1, 0.1, 0],
    [0.06, 0.1, 100], // |0.06 − 0.1| = 0.04000000000000001
    [0.14, 0.1, 100],
    [0.62, 0.6, 0],
    [0.58, 0.6, Math.abs(0.58 - 0.6)],
    [Number.NaN, 0.3, 100],
  ];
  it.each(table)('s=%s target=%s → %s', (s, target, expected) => {
    expect(sparsityPenalty(s, target)).toBe(expected);
  });

  it('penalty inside the lower band is |s − target| (< 0.04, so training happens)', () => {
    const p = sparsityPenalty(0.28, 0.3);
    expect(p).toBeCloseTo(0.02, 15);
    expect(objectiveValue(1.5, p)).toBeCloseTo(-1.5 - 5 * 0.02, 15);
  });
});

describe('objective', () => {
  it('is −val_loss − 5·penalty when trained and −500 when skipped', () => {
    expect(objectiveValue(2, 0)).toBe(-2);
    expect(objectiveValue(2, 0.03)).toBe(-2 - 5 * 0.03);
    expect(objectiveValue(2, 100)).toBe(SKIPPED_OBJECTIVE);
    expect(objectiveValue(2, 10)).toBe(-500);
    expect(objectiveValue(2, 9.999)).toBe(-2 - 5 * 9.999);
  });

  it('never trains a skipped candidate', async () => {
    const train = vi.fn(async () => 1.25);
    const skipped = await evaluateCandidate({ sparsity: 0.5, target: 0.3, train });
    expect(skipped).toEqual({ objective: -500, penalty: 100, skipped: true, valLoss: null });
    expect(train).not.toHaveBeenCalled();
    const trained = await evaluateCandidate({ sparsity: 0.31, target: 0.3, train });
    expect(trained).toEqual({ objective: -1.25, penalty: 0, skipped: false, valLoss: 1.25 });
    expect(train).toHaveBeenCalledTimes(1);
  });

  it('forms the sparsity fraction like calc_sparsity/100', () => {
    expect(sparsityFraction(80, 92208)).toBe((100 * 80) / 92208 / 100);
    expect(sparsityFraction(0, 92208)).toBe(0);
  });
});

describe('search space', () => {
  it('bounds are [0, min(0.98, target + 0.2)] per group', () => {
    expect(groupBounds(0.3, 6)).toEqual(Array.from({ length: 6 }, () => [0, 0.5]));
    expect(groupBounds(0.6, 2)).toEqual([
      [0, 0.8],
      [0, 0.8],
    ]);
    expect(groupBounds(0.9, 1)).toEqual([[0, 0.98]]);
  });

  it('first probe is target + 0.04 for every group', () => {
    expect(firstProbe(0.3, 6)).toEqual(new Array(6).fill(0.3 + 0.04));
  });

  it('rejects a target outside [0, 1) and a bad group count', () => {
    expect(() => groupBounds(1.2, 6)).toThrow(/target/);
    expect(() => groupBounds(0.3, 0)).toThrow(/nGroups/);
    expect(() => firstProbe(Number.NaN, 6)).toThrow(/target/);
  });
});
