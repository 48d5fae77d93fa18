/**
 * UCB acquisition and its maximiser, mirroring bayes_opt 1.4.3 `util.UtilityFunction(kind='ucb',
 * kappa=2.576)` and `util.acq_max(n_warmup=10000, n_iter=10)`:
 *
 * 1. `x_tries = rng.uniform(lows, highs, size=(n_warmup, dim))`, UCB on all of them, keep the
 *    first argmax;
 * 2. `x_seeds = rng.uniform(lows, highs, size=(n_iter, dim))`, a bounded quasi-Newton run on
 *    −UCB from each; a run replaces the incumbent when it succeeded and `−f ≥ max_acq`;
 * 3. clip to the bounds.
 *
 * The RNG draws are exactly those of the reference (n_warmup·dim then n_iter·dim), so the warm-up
 * candidates coincide with bayes_opt's for the same stream. The reference's L-BFGS-B uses
 * finite-difference gradients; here the UCB gradient is analytic (same optimum, fewer
 * evaluations, no step-size noise). `refineWarmupBest` (off by default, later bayes_opt releases
 * do it) also starts a local run from the warm-up winner, without consuming extra draws.
 */
import { minimizeBox } from './bounded-lbfgs.ts';
import type { FittedGp } from './gaussian-process.ts';
import type { RandomState } from '../util/mt19937.ts';

export interface AcqMaxOptions {
  kappa: number;
  nWarmup: number;
  nIter: number;
  refineWarmupBest: boolean;
}

export interface AcqMaxResult {
  x: number[];
  /** UCB at x. */
  value: number;
  /** Which stage produced x: the warm-up sample or a local refinement. */
  from: 'warmup' | 'refine';
}

/** UCB = mean + kappa·std on m row-major points; writes into `out`. */
export function ucbBatch(gp: FittedGp, xs: Float64Array, m: number, kappa: number, out: Float64Array): Float64Array {
  return gp.ucb(xs, m, kappa, out);
}

export function acqMax(
  gp: FittedGp,
  lows: readonly number[],
  highs: readonly number[],
  rng: RandomState,
  options: AcqMaxOptions,
): AcqMaxResult {
  const d = lows.length;
  const { kappa, nWarmup, nIter } = options;

  let xMax: number[];
  let maxAcq: number;
  let from: AcqMaxResult['from'] = 'warmup';
  if (nWarmup > 0) {
    const tries = new Float64Array(nWarmup * d);
    rng.fillUniform(tries, lows, highs, nWarmup);
    // First argmax as numpy's, with provably losing points abandoned early (exact, see argmaxUcb).
    const { index: best, value } = gp.argmaxUcb(tries, nWarmup, kappa);
    xMax = Array.from(tries.subarray(best * d, best * d + d));
    maxAcq = value;
  } else {
    xMax = lows.map((lo, j) => (lo + highs[j]!) / 2);
    maxAcq = Number.NEGATIVE_INFINITY;
  }

  const seeds = new Float64Array(nIter * d);
  rng.fillUniform(seeds, lows, highs, nIter);

  const gm = new Float64Array(d);
  const gs = new Float64Array(d);
  const negUcb = (x: Float64Array, grad: Float64Array | null): number => {
    const { mean, std } = gp.predictWithGradient(x, gm, gs);
    if (grad) for (let c = 0; c < d; c++) grad[c] = -(gm[c]! + kappa * gs[c]!);
    return -(mean + kappa * std);
  };

  const starts: ArrayLike<number>[] = [];
  if (options.refineWarmupBest && nWarmup > 0) starts.push(xMax.slice());
  for (let s = 0; s < nIter; s++) starts.push(seeds.subarray(s * d, s * d + d));
  for (const x0 of starts) {
    const res = minimizeBox(negUcb, x0, lows, highs);
    if (!res.success) continue;
    if (-res.f >= maxAcq) {
      xMax = Array.from(res.x);
      maxAcq = -res.f;
      from = 'refine';
    }
  }

  for (let j = 0; j < d; j++) xMax[j] = Math.min(Math.max(xMax[j]!, lows[j]!), highs[j]!);
  return { x: xMax, value: maxAcq, from };
}
