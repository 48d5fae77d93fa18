/**
 * The GP bayes_opt 1.4.3 builds: sklearn `GaussianProcessRegressor(kernel=Matern(nu=2.5),
 * alpha=1e-6, normalize_y=True, n_restarts_optimizer=5, random_state=<the optimiser's RNG>)`.
 *
 * - Kernel: isotropic Matern 5/2, k(r) = (1 + √5 r/l + 5r²/(3l²))·exp(−√5 r/l), no amplitude
 *   (sklearn's bare `Matern` has none), so the prior variance is 1 in normalised units.
 * - `normalize_y`: y ← (y − mean)/std with the population std, std → 1 when < 10·eps
 *   (sklearn's `_handle_zeros_in_scale`).
 * - Fit: maximise the log marginal likelihood over θ = log l within log([1e-5, 1e5]); first from
 *   θ = log(1.0), then from `nRestarts` starts drawn `rng.uniform(log 1e-5, log 1e5)` one at a
 *   time from the shared RNG (exactly the draws sklearn makes, so the stream stays aligned with
 *   the reference); the lowest −LML wins, ties to the earliest. Each local search is the
 *   projected quasi-Newton of `bounded-lbfgs.ts` with the analytic gradient
 *   ∂LML/∂θ = ½·tr((ααᵀ − K⁻¹)·∂K/∂θ), with
 *   ∂K/∂θ = (5/3)·d²·(1 + √5 d)·exp(−√5 d), d = r/l.
 *   Choice: sklearn runs a gradient-based bounded quasi-Newton (L-BFGS-B) here, so the same
 *   kind of search from the same starts lands on the same local optima (the fitted l matches
 *   sklearn to ~1e-8 in the tests). Line-search trial points use the LML alone (one Cholesky);
 *   the O(n³/3) gradient part is only formed at accepted points.
 * - Predict: mean = Kₓᵀα, var = 1 − ‖L⁻¹kₓ‖² (negatives → 0), then un-normalised
 *   (mean·std + ȳ, var·std²), as sklearn's `predict(return_std=True)`.
 *
 * Deviation kept on purpose: sklearn raises if the final K is not positive definite; here the
 * diagonal jitter is raised ×10 (up to 1e-2) so a long pruning run never dies on a near-duplicate
 * observation. With the default alpha and distinct points this path is not taken.
 */
import { minimizeBox } from './bounded-lbfgs.ts';
import { choleskyInPlace, choSolveInPlace, dot, lowerInverseTransposed } from './linalg.ts';
import type { RandomState } from '../util/mt19937.ts';

const SQRT5 = Math.sqrt(5);
const LOG_2PI = Math.log(2 * Math.PI);
const DOUBLE_EPS = 2.220446049250313e-16;

/** k(r) for Matern 5/2 with t = √5·r/l already formed. */
function matern52(t: number): number {
  return (1 + t + (t * t) / 3) * Math.exp(-t);
}

export interface GpFitOptions {
  alpha: number;
  lengthScale: number;
  lengthScaleBounds: readonly [number, number];
  nRestarts: number;
}

export interface GpFitInfo {
  lengthScale: number;
  /** Log marginal likelihood (normalised targets) at the chosen length scale. */
  logMarginalLikelihood: number;
  /** Diagonal jitter actually used (alpha unless the fallback kicked in). */
  jitter: number;
  yMean: number;
  yStd: number;
  /** LML evaluations spent over all starts. */
  evaluations: number;
}

/** Pairwise Euclidean distances, lower triangle of an n×n row-major matrix. */
function pairwiseDistances(x: Float64Array, n: number, d: number): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) {
        const diff = x[i * d + k]! - x[j * d + k]!;
        s += diff * diff;
      }
      r[i * n + j] = Math.sqrt(s);
    }
  }
  return r;
}

/**
 * Log marginal likelihood and its derivative with respect to θ = log l, reusing caller-owned
 * buffers (K/L, K⁻¹, L⁻¹ work space, α). Returns −∞ when K is not positive definite, as sklearn.
 */
export class LmlEvaluator {
  private readonly k: Float64Array;
  private readonly dk: Float64Array;
  private readonly lt: Float64Array;
  private readonly a: Float64Array;
  /** θ whose factorisation, α and ∂K are in the buffers (a gradient request there skips them). */
  private cachedTheta = Number.NaN;
  private cachedLml = Number.NaN;
  evaluations = 0;

  constructor(
    private readonly r: Float64Array,
    private readonly y: Float64Array,
    private readonly n: number,
    private readonly alpha: number,
  ) {
    this.k = new Float64Array(n * n);
    this.dk = new Float64Array(n * n);
    this.lt = new Float64Array(n * n);
    this.a = new Float64Array(n);
  }

  /** Returns [lml, dlml/dθ]; `withGradient=false` skips the O(n³/3) K⁻¹ part (gradient NaN). */
  evaluate(theta: number, withGradient = true): [number, number] {
    this.evaluations++;
    const { n, r, k, dk, y, a } = this;
    let lml: number;
    if (theta === this.cachedTheta) {
      lml = this.cachedLml;
    } else {
      this.cachedTheta = Number.NaN;
      const invL = 1 / Math.exp(theta);
      for (let i = 0; i < n; i++) {
        const ri = i * n;
        for (let j = 0; j < i; j++) {
          const t = SQRT5 * r[ri + j]! * invL;
          const e = Math.exp(-t);
          k[ri + j] = (1 + t + (t * t) / 3) * e;
          dk[ri + j] = ((t * t) / 3) * (1 + t) * e;
        }
        k[ri + i] = 1 + this.alpha;
      }
      if (!choleskyInPlace(k, n)) return [Number.NEGATIVE_INFINITY, 0];
      a.set(y);
      choSolveInPlace(k, n, a);
      lml = -0.5 * dot(y, 0, a, 0, n);
      for (let i = 0; i < n; i++) lml -= Math.log(k[i * n + i]!);
      lml -= (n / 2) * LOG_2PI;
      this.cachedTheta = theta;
      this.cachedLml = lml;
    }
    if (!withGradient) return [lml, Number.NaN];

    const lt = lowerInverseTransposed(k, n, this.lt);
    // dK is symmetric with a zero diagonal: ½·Σ_ij (αiαj − K⁻¹ij)·dKij = Σ_{i>j} (…)·dKij,
    // with K⁻¹ij (i > j) = Σ_{m ≥ i} L⁻¹[m][i]·L⁻¹[m][j], a dot of rows i and j of (L⁻¹)ᵀ.
    let grad = 0;
    for (let i = 1; i < n; i++) {
      const ri = i * n;
      const ai = a[i]!;
      const len = n - i;
      let rowSum = 0;
      for (let j = 0; j < i; j++) {
        const kinv = dot(lt, ri + i, lt, j * n + i, len);
        rowSum += (ai * a[j]! - kinv) * dk[ri + j]!;
      }
      grad += rowSum;
    }
    return [lml, grad];
  }
}

/** A fitted GP: everything `predict` needs, plus the fit diagnostics. */
export class FittedGp {
  /** Cholesky factor of K + jitter·I (row-major lower). */
  readonly chol: Float64Array;
  /** K⁻¹·y (normalised y). */
  readonly alphaVec: Float64Array;
  /** Training inputs column-major (d×n) so kernel rows are built with unit-stride loops. */
  private readonly xT: Float64Array;
  private readonly scale: number;
  private readonly lanes: Float64Array[];
  private readonly dist2: Float64Array;
  private readonly bufW: Float64Array;

  constructor(
    readonly x: Float64Array,
    readonly n: number,
    readonly d: number,
    chol: Float64Array,
    alphaVec: Float64Array,
    readonly info: GpFitInfo,
  ) {
    this.chol = chol;
    this.alphaVec = alphaVec;
    this.xT = new Float64Array(n * d);
    for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) this.xT[c * n + i] = x[i * d + c]!;
    this.scale = SQRT5 / info.lengthScale;
    this.lanes = [new Float64Array(n), new Float64Array(n), new Float64Array(n), new Float64Array(n)];
    this.dist2 = new Float64Array(n);
    this.bufW = new Float64Array(n);
  }

  get lengthScale(): number {
    return this.info.lengthScale;
  }

  /** Kernel row k(xq, X) into `out`; returns the normalised mean kᵀα. */
  private kernelRow(xs: ArrayLike<number>, off: number, out: Float64Array): number {
    const { n, d, xT, dist2, scale, alphaVec } = this;
    dist2.fill(0);
    for (let c = 0; c < d; c++) {
      const xc = xs[off + c]!;
      const base = c * n;
      for (let i = 0; i < n; i++) {
        const diff = xc - xT[base + i]!;
        dist2[i] = dist2[i]! + diff * diff;
      }
    }
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const kv = matern52(scale * Math.sqrt(dist2[i]!));
      out[i] = kv;
      mu += kv * alphaVec[i]!;
    }
    return mu;
  }

  /** Un-normalised UCB from the normalised mean and ‖L⁻¹k‖²; the one formula every path uses. */
  private ucbFrom(muN: number, sumSq: number, kappa: number): number {
    const { yMean, yStd } = this.info;
    let v = 1 - sumSq;
    if (v < 0) v = 0;
    return yStd * muN + yMean + kappa * Math.sqrt(v * yStd * yStd);
  }

  /**
   * Posterior mean and std (un-normalised) for m row-major points, as sklearn's
   * `predict(return_std=True)`.
   */
  predict(xs: Float64Array, m: number, outMean: Float64Array, outStd: Float64Array): void {
    const { yMean, yStd } = this.info;
    const sumSq = new Float64Array(4);
    const mus = new Float64Array(4);
    for (let p = 0; p < m; p += 4) {
      const count = Math.min(4, m - p);
      this.solveBlock(xs, p, count, mus, sumSq, null);
      for (let q = 0; q < count; q++) {
        let v = 1 - sumSq[q]!;
        if (v < 0) v = 0;
        outMean[p + q] = yStd * mus[q]! + yMean;
        outStd[p + q] = Math.sqrt(v * yStd * yStd);
      }
    }
  }

  /** UCB = mean + κ·std for m row-major points. */
  ucb(xs: Float64Array, m: number, kappa: number, out: Float64Array): Float64Array {
    const sumSq = new Float64Array(4);
    const mus = new Float64Array(4);
    for (let p = 0; p < m; p += 4) {
      const count = Math.min(4, m - p);
      this.solveBlock(xs, p, count, mus, sumSq, null);
      for (let q = 0; q < count; q++) out[p + q] = this.ucbFrom(mus[q]!, sumSq[q]!, kappa);
    }
    return out;
  }

  /**
   * First index of the largest UCB among m row-major points and its value: the same answer as
   * `ucb` followed by numpy's argmax, but a point is dropped as soon as its UCB provably cannot
   * beat the best so far. ‖L⁻¹k‖² only grows as rows of the triangular solve are added (and
   * floating-point addition of non-negative terms is monotone), so the UCB formed from a
   * partial sum is an upper bound of the final one, computed by the same operations.
   */
  argmaxUcb(xs: Float64Array, m: number, kappa: number): { index: number; value: number } {
    const sumSq = new Float64Array(4);
    const mus = new Float64Array(4);
    const bound = { best: Number.NEGATIVE_INFINITY, kappa };
    let bestIndex = -1;
    for (let p = 0; p < m; p += 4) {
      const count = Math.min(4, m - p);
      const complete = this.solveBlock(xs, p, count, mus, sumSq, bound);
      // Later points win only when strictly greater (first-argmax semantics).
      for (let q = 0; q < count; q++) {
        if (!(complete & (1 << q))) continue;
        const u = this.ucbFrom(mus[q]!, sumSq[q]!, kappa);
        if (u > bound.best || bestIndex < 0) {
          bound.best = u;
          bestIndex = p + q;
        }
      }
    }
    return { index: bestIndex, value: bound.best };
  }

  /**
   * Kernel rows, normalised means and ‖L⁻¹k‖² for points p..p+count−1 (count ≤ 4). The four
   * forward substitutions share each pass over a row of L (four independent accumulators).
   * With `prune`, lanes whose UCB bound falls to or below `prune.best` are abandoned every
   * 8 rows; the returned bit mask tells which lanes were solved to the end.
   */
  private solveBlock(
    xs: Float64Array,
    p: number,
    count: number,
    mus: Float64Array,
    sumSq: Float64Array,
    prune: { best: number; kappa: number } | null,
  ): number {
    const { n, d, chol: L } = this;
    const [k0, k1, k2, k3] = this.lanes as [Float64Array, Float64Array, Float64Array, Float64Array];
    let live = 0;
    for (let q = 0; q < 4; q++) {
      const lane = this.lanes[q]!;
      if (q < count) {
        mus[q] = this.kernelRow(xs, (p + q) * d, lane);
        if (!prune || this.ucbFrom(mus[q]!, 0, prune.kappa) > prune.best) live |= 1 << q;
      } else {
        lane.fill(0);
        mus[q] = 0;
      }
      sumSq[q] = 0;
    }
    if (live === 0) return 0;
    let q0 = 0;
    let q1 = 0;
    let q2 = 0;
    let q3 = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      let s0 = k0[i]!;
      let s1 = k1[i]!;
      let s2 = k2[i]!;
      let s3 = k3[i]!;
      for (let j = 0; j < i; j++) {
        const lij = L[ri + j]!;
        s0 -= lij * k0[j]!;
        s1 -= lij * k1[j]!;
        s2 -= lij * k2[j]!;
        s3 -= lij * k3[j]!;
      }
      const inv = 1 / L[ri + i]!;
      s0 *= inv;
      s1 *= inv;
      s2 *= inv;
      s3 *= inv;
      k0[i] = s0;
      k1[i] = s1;
      k2[i] = s2;
      k3[i] = s3;
      q0 += s0 * s0;
      q1 += s1 * s1;
      q2 += s2 * s2;
      q3 += s3 * s3;
      if (prune && (i & 7) === 7) {
        const best = prune.best;
        const kp = prune.kappa;
        if (live & 1 && !(this.ucbFrom(mus[0]!, q0, kp) > best)) live &= ~1;
        if (live & 2 && !(this.ucbFrom(mus[1]!, q1, kp) > best)) live &= ~2;
        if (live & 4 && !(this.ucbFrom(mus[2]!, q2, kp) > best)) live &= ~4;
        if (live & 8 && !(this.ucbFrom(mus[3]!, q3, kp) > best)) live &= ~8;
        if (live === 0) return 0;
      }
    }
    sumSq[0] = q0;
    sumSq[1] = q1;
    sumSq[2] = q2;
    sumSq[3] = q3;
    return live;
  }

  /**
   * Mean, std and their gradients at one point (un-normalised). The std gradient is taken as 0
   * where the posterior variance vanishes (observed points), its subgradient there.
   */
  predictWithGradient(
    xq: ArrayLike<number>,
    gradMean: Float64Array,
    gradStd: Float64Array,
  ): { mean: number; std: number } {
    const { n, d, xT, chol: L, alphaVec, scale } = this;
    const { yMean, yStd, lengthScale } = this.info;
    const kx = this.lanes[0]!;
    const w = this.bufW;
    const mu = this.kernelRow(xq, 0, kx);
    // v = L⁻¹k (kept in w), var = 1 − ‖v‖², then w = L⁻ᵀv = K⁻¹k for the variance gradient.
    w.set(kx);
    let vv = 0;
    for (let i = 0; i < n; i++) {
      const ri = i * n;
      const s = (w[i]! - dot(L, ri, w, 0, i)) / L[ri + i]!;
      w[i] = s;
      vv += s * s;
    }
    for (let i = n - 1; i >= 0; i--) {
      const ri = i * n;
      const wi = w[i]! / L[ri + i]!;
      w[i] = wi;
      for (let k = 0; k < i; k++) w[k] = w[k]! - L[ri + k]! * wi;
    }
    let varN = 1 - vv;
    if (varN < 0) varN = 0;
    const stdN = Math.sqrt(varN);
    // ∂k/∂x = −(5/(3l²))·(1 + t)·exp(−t)·(x − xi), t = √5·r/l (smooth at r = 0). dist2 still
    // holds the squared distances kernelRow computed.
    const dist2 = this.dist2;
    const c0 = -5 / (3 * lengthScale * lengthScale);
    const fm = kx; // reuse: kernel values are no longer needed
    const fv = this.lanes[1]!;
    for (let i = 0; i < n; i++) {
      const t = scale * Math.sqrt(dist2[i]!);
      const f = c0 * (1 + t) * Math.exp(-t);
      fm[i] = alphaVec[i]! * f;
      fv[i] = w[i]! * f;
    }
    // ∂var/∂x = −2·Σ wi·∂ki/∂x and ∂std/∂x = ∂var/∂x / (2·std).
    const stdScale = stdN > 1e-12 ? -yStd / stdN : 0;
    for (let c = 0; c < d; c++) {
      const xc = xq[c]!;
      const base = c * n;
      let gmc = 0;
      let gvc = 0;
      for (let i = 0; i < n; i++) {
        const diff = xc - xT[base + i]!;
        gmc += fm[i]! * diff;
        gvc += fv[i]! * diff;
      }
      gradMean[c] = gmc * yStd;
      gradStd[c] = gvc * stdScale;
    }
    return { mean: yStd * mu + yMean, std: Math.sqrt(varN * yStd * yStd) };
  }
}

/** Population mean and std with sklearn's zero-scale guard. */
export function normalizeTargets(y: ArrayLike<number>): { mean: number; std: number; yn: Float64Array } {
  const n = y.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += y[i]!;
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) {
    const e = y[i]! - mean;
    v += e * e;
  }
  let std = Math.sqrt(v / n);
  if (std < 10 * DOUBLE_EPS) std = 1;
  const yn = new Float64Array(n);
  for (let i = 0; i < n; i++) yn[i] = (y[i]! - mean) / std;
  return { mean, std, yn };
}

/**
 * Fits the GP to n row-major points `x` (n×d) and targets `y`. Draws exactly `nRestarts`
 * numbers from `rng`, like sklearn's fit with a shared RandomState.
 */
export function fitGp(
  x: Float64Array,
  y: ArrayLike<number>,
  n: number,
  d: number,
  options: GpFitOptions,
  rng: RandomState,
): FittedGp {
  if (n < 1) throw new RangeError('fitGp needs at least one observation');
  const { mean, std, yn } = normalizeTargets(y);
  const r = pairwiseDistances(x, n, d);
  const lo = Math.log(options.lengthScaleBounds[0]);
  const hi = Math.log(options.lengthScaleBounds[1]);
  const lml = new LmlEvaluator(r, yn, n, options.alpha);
  const objective = (th: Float64Array, grad: Float64Array | null): number => {
    const [v, gv] = lml.evaluate(th[0]!, grad !== null);
    if (!Number.isFinite(v)) {
      if (grad) grad[0] = 0;
      return Number.POSITIVE_INFINITY;
    }
    if (grad) grad[0] = -gv;
    return -v;
  };

  const starts = [Math.log(options.lengthScale)];
  for (let i = 0; i < options.nRestarts; i++) starts.push(rng.uniform(lo, hi));

  let bestTheta = starts[0]!;
  let bestF = Number.POSITIVE_INFINITY;
  let first = true;
  for (const s of starts) {
    const res = minimizeBox(objective, [s], [lo], [hi]);
    // np.argmin over the optima: first strict minimum wins; an all-∞ list keeps the first start.
    if (first || res.f < bestF) {
      bestF = res.f;
      bestTheta = res.x[0]!;
      first = false;
    }
  }

  const lengthScale = Math.exp(bestTheta);
  const kmat = new Float64Array(n * n);
  let jitter = options.alpha;
  const scale = SQRT5 / lengthScale;
  for (;;) {
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < i; j++) kmat[i * n + j] = matern52(scale * r[i * n + j]!);
      kmat[i * n + i] = 1 + jitter;
    }
    if (choleskyInPlace(kmat, n)) break;
    if (jitter >= 1e-2) {
      throw new RangeError('GP kernel matrix is not positive definite even with jitter 1e-2');
    }
    jitter = Math.max(jitter * 10, 1e-10);
  }
  const alphaVec = Float64Array.from(yn);
  choSolveInPlace(kmat, n, alphaVec);
  let lmlValue = -bestF;
  if (jitter !== options.alpha) lmlValue = Number.NaN;
  return new FittedGp(Float64Array.from(x.subarray(0, n * d)), n, d, kmat, alphaVec, {
    lengthScale,
    logMarginalLikelihood: lmlValue,
    jitter,
    yMean: mean,
    yStd: std,
    evaluations: lml.evaluations,
  });
}
