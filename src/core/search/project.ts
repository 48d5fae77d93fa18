/**
 * Projection of a candidate onto the sparsity band. Random rates in [0, target + 0.2]^6 rarely land in
 * the ±4 pt band at 50 % (2 of 46 in a measured laptop run), so a short search wastes most of its
 * trials. Scaling the candidate's rates by one factor keeps its *shape* (which groups to prune more)
 * — the thing the search is learning — and moves its sparsity to the target: the smallest factor
 * whose sparsity reaches the target, i.e. the least pruning that is in band.
 */

/** Bisection steps: the factor's interval shrinks 2^-40, far below one filter's step in sparsity. */
const STEPS = 40;

/**
 * Rates `alpha · rates` (each clipped to its cap) with the smallest alpha whose `sparsityOf` is at
 * least `target`. Sparsity is non-decreasing in every rate, so bisection finds it. Returns the rates
 * unchanged when even every nonzero group at its cap stays below the target (the caller's band
 * check then skips it). All-zero rates scale as a uniform candidate.
 */
export function projectRatesToTarget(
  rates: readonly number[],
  caps: readonly number[],
  target: number,
  sparsityOf: (rates: readonly number[]) => number,
): number[] {
  const shape = rates.some((r) => r > 0) ? rates : rates.map(() => 1);
  const at = (alpha: number) => shape.map((r, i) => Math.min(caps[i]!, alpha * r));
  let hi = Math.max(...shape.map((r, i) => (r > 0 ? caps[i]! / r : 0)));
  if (!(sparsityOf(at(hi)) >= target)) return rates.slice();
  let lo = 0;
  if (sparsityOf(at(lo)) >= target) return at(lo);
  for (let k = 0; k < STEPS; k++) {
    const mid = (lo + hi) / 2;
    if (sparsityOf(at(mid)) >= target) hi = mid;
    else lo = mid;
  }
  return at(hi);
}
