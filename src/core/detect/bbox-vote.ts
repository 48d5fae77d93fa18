/**
 * `bbox_vote` of EResFD's `wider_test.py` (SPEC §6.2 step 7), in float64 with numpy's arithmetic
 * order: rows sorted by score (descending); repeatedly take the first row, merge every row whose
 * +1-pixel IoU with it is ≥ 0.3 (itself included), drop the cluster if it holds a single row, else
 * emit the score-weighted mean box with the cluster's max score. The first 750 results are kept.
 *
 * Where the reference cannot be followed:
 * - If every cluster is a singleton the reference raises NameError (its accumulator is never
 *   bound); this returns an empty array instead.
 * - Equal scores: the reference orders by `argsort()[::-1]`, whose tie order numpy leaves
 *   unspecified; here ties keep the LATER input row first (what a stable ascending argsort reversed
 *   gives, and what numpy does for small arrays).
 * - A degenerate first row whose IoU with itself is below 0.3 (non-positive area) would never be
 *   removed and the reference would loop forever; here it is dropped as a singleton.
 */
import { pairwiseSum } from '../util/pairwise-sum.ts';

export const BBOX_VOTE_IOU = 0.3;
export const BBOX_VOTE_KEEP = 750;

/** `dets`: `[x1, y1, x2, y2, score]` rows in original pixels (the union of all test-time passes). */
export function bboxVote(dets: readonly (readonly number[])[]): number[][] {
  const order = dets.map((_, i) => i).sort((a, b) => compareScoresDescending(dets[a]![4]!, dets[b]![4]!) || b - a);
  let rest = order.map((i) => dets[i]!);
  const out: number[][] = [];
  while (rest.length > 0) {
    const first = rest[0]!;
    const area0 = (first[2]! - first[0]! + 1) * (first[3]! - first[1]! + 1);
    const merged: (readonly number[])[] = [];
    const kept: (readonly number[])[] = [];
    rest.forEach((d, i) => {
      const area = (d[2]! - d[0]! + 1) * (d[3]! - d[1]! + 1);
      const xx1 = Math.max(first[0]!, d[0]!);
      const yy1 = Math.max(first[1]!, d[1]!);
      const xx2 = Math.min(first[2]!, d[2]!);
      const yy2 = Math.min(first[3]!, d[3]!);
      const w = Math.max(0, xx2 - xx1 + 1);
      const h = Math.max(0, yy2 - yy1 + 1);
      const inter = w * h;
      const o = inter / (area0 + area - inter);
      (o >= BBOX_VOTE_IOU || i === 0 ? merged : kept).push(d);
    });
    rest = kept;
    if (merged.length <= 1) continue;

    // det_accu[:, 0:4] * score, summed row by row (numpy reduces axis 0 sequentially), divided by
    // np.sum(scores) (a 1-D reduction: pairwise).
    const sum = new Float64Array(4);
    let maxScore = merged[0]![4]!;
    merged.forEach((d, k) => {
      const s = d[4]!;
      for (let c = 0; c < 4; c++) sum[c] = k === 0 ? d[c]! * s : sum[c]! + d[c]! * s;
      // np.max propagates NaN.
      if (k > 0) maxScore = Number.isNaN(s) || Number.isNaN(maxScore) ? NaN : Math.max(maxScore, s);
    });
    const scoreSum = pairwiseSum(merged.map((d) => d[4]!));
    out.push([sum[0]! / scoreSum, sum[1]! / scoreSum, sum[2]! / scoreSum, sum[3]! / scoreSum, maxScore]);
  }
  return out.slice(0, BBOX_VOTE_KEEP);
}

/** numpy's argsort puts NaN after every number; reversed, NaN scores come first. */
function compareScoresDescending(a: number, b: number): number {
  const aNaN = Number.isNaN(a);
  const bNaN = Number.isNaN(b);
  if (aNaN || bNaN) return aNaN && bNaN ? 0 : aNaN ? -1 : 1;
  return b - a;
}
