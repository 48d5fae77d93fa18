import { describe, expect, it } from 'vitest';
import { bboxVote } from '../../../src/core/detect/bbox-vote.ts';

describe('bboxVote (wider_test.py bbox_vote)', () => {
  it('merges overlapping boxes into a score-weighted mean with the max score and drops singletons', () => {
    const dets = [
      [0, 0, 9, 9, 0.9], // A
      [100, 100, 109, 109, 0.8], // C: alone → dropped
      [1, 1, 10, 10, 0.6], // B: +1 IoU with A = 81 / 119 ≥ 0.3
    ];
    const out = bboxVote(dets);
    expect(out).toHaveLength(1);
    const [x1, y1, x2, y2, s] = out[0]!;
    expect(x1).toBeCloseTo((0 * 0.9 + 1 * 0.6) / 1.5, 12);
    expect(y1).toBeCloseTo(0.4, 12);
    expect(x2).toBeCloseTo((9 * 0.9 + 10 * 0.6) / 1.5, 12);
    expect(y2).toBeCloseTo(9.4, 12);
    expect(s).toBe(0.9);
    // The input is not modified.
    expect(dets[1]).toEqual([100, 100, 109, 109, 0.8]);
  });

  it('uses IoU ≥ 0.3 with the +1 pixel convention', () => {
    // B inside A: areas 100 and 10·h, IoU = 10h / 100.
    expect(bboxVote([[0, 0, 9, 9, 0.9], [0, 0, 9, 2, 0.5]])).toHaveLength(1); // h = 3 → 0.3
    expect(bboxVote([[0, 0, 9, 9, 0.9], [0, 0, 9, 1, 0.5]])).toEqual([]); // h = 2 → 0.2: two singletons
  });

  it('returns [] when every cluster is a singleton (the reference raises NameError) or there is no input', () => {
    expect(bboxVote([[0, 0, 9, 9, 0.9], [50, 50, 59, 59, 0.8]])).toEqual([]);
    expect(bboxVote([])).toEqual([]);
  });

  it('orders clusters by their seed score; equal scores put the later row first', () => {
    const out = bboxVote([
      [0, 0, 9, 9, 0.5],
      [50, 50, 59, 59, 0.5],
      [1, 1, 10, 10, 0.5],
      [51, 51, 60, 60, 0.5],
    ]);
    expect(out).toEqual([
      [50.5, 50.5, 59.5, 59.5, 0.5],
      [0.5, 0.5, 9.5, 9.5, 0.5],
    ]);
  });

  it('keeps the first 750 clusters', () => {
    const dets: number[][] = [];
    for (let i = 0; i < 800; i++) {
      const x = (i % 40) * 100;
      const y = Math.floor(i / 40) * 100;
      const s = 1 - i / 1000;
      dets.push([x, y, x + 9, y + 9, s], [x + 1, y, x + 10, y + 9, s / 2]);
    }
    const out = bboxVote(dets);
    expect(out).toHaveLength(750);
    expect(out.map((d) => d[4])).toEqual(Array.from({ length: 750 }, (_, i) => 1 - i / 1000));
  });

  it("follows numpy's summation order: sequential weighted sums over pairwise score sum (values from numpy 2.4)", () => {
    const scores = [0.55, 0.72, 0.6, 0.54, 0.42, 0.65, 0.44, 0.89, 0.96, 0.38, 0.79];
    const out = bboxVote(scores.map((s) => [10.1, 20.2, 50.3, 70.4, s]));
    // A left-to-right score sum would give 10.100000000000001, 20.200000000000003, 50.300000000000004, 70.40000000000002.
    expect(out).toEqual([[10.099999999999998, 20.199999999999996, 50.29999999999999, 70.4, 0.96]]);
  });

  it('does not loop forever on a degenerate seed box (the reference would)', () => {
    const out = bboxVote([
      [10, 10, 5, 5, 0.9],
      [0, 0, 9, 9, 0.8],
      [0, 0, 9, 9, 0.7],
    ]);
    expect(out).toEqual([[0, 0, 9, 9, 0.8]]);
  });
});
