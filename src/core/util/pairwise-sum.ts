/**
 * numpy's float64 summation order (`pairwise_sum_DOUBLE` in numpy/_core/src/umath/loops_utils.h.src),
 * which `np.sum` uses when reducing a 1-D array. Mirroring it makes our sums bit-identical to the
 * reference's (`voc_ap` in eval_tools/evaluation.py, the score sum in `bbox_vote`), not just close.
 */

const BLOCK = 128;

/** Σ values[start .. start+n) in numpy's order: plain loop below 8, 8 accumulators up to 128, halves above. */
export function pairwiseSum(values: ArrayLike<number>, start = 0, n = values.length - start): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += values[start + i]!;
    return res;
  }
  if (n <= BLOCK) {
    const r = new Float64Array(8);
    for (let j = 0; j < 8; j++) r[j] = values[start + j]!;
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += values[start + i + j]!;
    }
    let res = ((r[0]! + r[1]!) + (r[2]! + r[3]!)) + ((r[4]! + r[5]!) + (r[6]! + r[7]!));
    for (; i < n; i++) res += values[start + i]!;
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(values, start, n2) + pairwiseSum(values, start + n2, n - n2);
}
