/**
 * Box-constrained quasi-Newton minimiser standing in for scipy's `minimize(method="L-BFGS-B")`,
 * which both sklearn (GP length-scale fit) and bayes_opt 1.4.3 (acquisition refinement) call.
 *
 * Projected L-BFGS: the two-loop recursion runs on the free variables (those not pinned at a
 * bound by the gradient), the step is projected back into the box and chosen by an Armijo
 * backtracking search on the projected path that also extrapolates while the slope stays steep
 * (scipy's dcsrch does both). Stopping rules and defaults are scipy's:
 * `pgtol = 1e-5` on the ∞-norm of the projected gradient, `factr·eps = 1e7·2.22e-16` on the
 * relative reduction of f, 15000 iterations / evaluations, memory m = 10, and a first step of
 * length min(1, 1/‖d‖). This is not Byrd–Lu–Nocedal's generalised Cauchy point + subspace
 * minimisation, so iterates differ from Fortran L-BFGS-B; it converges to the same kind of
 * point (a projected-gradient stationary point) and is deterministic.
 *
 * `success` is false when the line search fails or a budget is exhausted, which is where scipy
 * reports `success=False` (bayes_opt discards such runs).
 */

/**
 * Returns f(x) and, when `grad` is given, writes ∇f(x) into it. `grad` is null for line-search
 * trial points, where only the value is needed. May return a non-finite value (e.g. +∞).
 */
export type ValueAndGradient = (x: Float64Array, grad: Float64Array | null) => number;

export interface BoxMinimizeOptions {
  memory?: number;
  pgtol?: number;
  factr?: number;
  maxIter?: number;
  maxFun?: number;
}

export interface BoxMinimizeResult {
  x: Float64Array;
  f: number;
  success: boolean;
  iterations: number;
  evaluations: number;
}

const EPS = 2.220446049250313e-16;

export function minimizeBox(
  fg: ValueAndGradient,
  x0: ArrayLike<number>,
  lower: ArrayLike<number>,
  upper: ArrayLike<number>,
  options: BoxMinimizeOptions = {},
): BoxMinimizeResult {
  const m = options.memory ?? 10;
  const pgtol = options.pgtol ?? 1e-5;
  const ftol = (options.factr ?? 1e7) * EPS;
  const maxIter = options.maxIter ?? 15000;
  const maxFun = options.maxFun ?? 15000;
  const n = x0.length;

  const x = new Float64Array(n);
  for (let i = 0; i < n; i++) x[i] = clamp(x0[i]!, lower[i]!, upper[i]!);
  const g = new Float64Array(n);
  const xn = new Float64Array(n);
  const gn = new Float64Array(n);
  const xt = new Float64Array(n);
  const d = new Float64Array(n);
  const free = new Uint8Array(n);
  const sMem: Float64Array[] = [];
  const yMem: Float64Array[] = [];
  const rhoMem: number[] = [];
  const alphaTmp = new Float64Array(m);

  let f = fg(x, g);
  let nfev = 1;
  if (!Number.isFinite(f)) return { x, f, success: false, iterations: 0, evaluations: nfev };

  for (let iter = 0; iter < maxIter; iter++) {
    let pgNorm = 0;
    for (let i = 0; i < n; i++) {
      const pg = Math.abs(clamp(x[i]! - g[i]!, lower[i]!, upper[i]!) - x[i]!);
      if (pg > pgNorm) pgNorm = pg;
    }
    if (pgNorm <= pgtol) return { x, f, success: true, iterations: iter, evaluations: nfev };

    // A variable sitting on a bound with the gradient pushing outward stays fixed this step.
    for (let i = 0; i < n; i++) {
      const atLower = x[i]! <= lower[i]! && g[i]! > 0;
      const atUpper = x[i]! >= upper[i]! && g[i]! < 0;
      free[i] = atLower || atUpper ? 0 : 1;
    }

    twoLoop(g, free, sMem, yMem, rhoMem, alphaTmp, d);
    let gd = dotMasked(g, d, free);
    if (!(gd < 0)) {
      // Curvature memory gave no descent direction: restart from steepest descent.
      sMem.length = 0;
      yMem.length = 0;
      rhoMem.length = 0;
      for (let i = 0; i < n; i++) d[i] = free[i] ? -g[i]! : 0;
      gd = dotMasked(g, d, free);
      if (!(gd < 0)) return { x, f, success: true, iterations: iter, evaluations: nfev };
    }

    let step = 1;
    if (sMem.length === 0) {
      let dn = 0;
      for (let i = 0; i < n; i++) dn += d[i]! * d[i]!;
      dn = Math.sqrt(dn);
      step = Math.min(1, 1 / dn);
    }

    // Backtrack until Armijo holds. Trial points are evaluated without the gradient (for the
    // GP fit that skips the O(n³/3) K⁻¹ part); it is formed only at an accepted point. When the
    // first accepted trial still has a steep slope along d (weak Wolfe fails), extrapolate (×4)
    // while f keeps decreasing, as scipy's dcsrch extrapolates: without it a long monotone
    // stretch (the LML at large length scales) costs hundreds of short steps.
    let accepted = false;
    let shrunk = false;
    let extrapolating = false;
    let haveGrad = false;
    let fNew = Number.POSITIVE_INFINITY;
    for (let ls = 0; ls < 40 && nfev < maxFun; ls++) {
      let moved = false;
      let same = accepted;
      for (let i = 0; i < n; i++) {
        const v = clamp(x[i]! + step * d[i]!, lower[i]!, upper[i]!);
        xt[i] = v;
        if (v !== x[i]) moved = true;
        if (v !== xn[i]) same = false;
      }
      // No motion, or extrapolation pinned by the box at the point already accepted.
      if (!moved || same) break;
      const ft = fg(xt, null);
      nfev++;
      let gs = 0;
      for (let i = 0; i < n; i++) gs += g[i]! * (xt[i]! - x[i]!);
      const sufficient = Number.isFinite(ft) && (gs < 0 ? ft <= f + 1e-4 * gs : ft < f);
      if (sufficient && (!accepted || ft < fNew)) {
        accepted = true;
        fNew = ft;
        xn.set(xt);
        haveGrad = false;
        if (shrunk) break;
        if (!extrapolating) {
          fNew = fg(xn, gn);
          nfev++;
          haveGrad = true;
          let slope = 0;
          for (let i = 0; i < n; i++) {
            if (free[i] && xn[i]! > lower[i]! && xn[i]! < upper[i]!) slope += gn[i]! * d[i]!;
          }
          if (slope >= 0.9 * gd) break;
          extrapolating = true;
        }
        step *= 4;
        continue;
      }
      if (accepted) break;
      shrunk = true;
      step *= 0.5;
    }
    if (!accepted) return { x, f, success: false, iterations: iter, evaluations: nfev };
    if (!haveGrad) {
      fNew = fg(xn, gn);
      nfev++;
    }

    const s = new Float64Array(n);
    const y = new Float64Array(n);
    let sy = 0;
    let yy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xn[i]! - x[i]!;
      y[i] = gn[i]! - g[i]!;
      sy += s[i]! * y[i]!;
      yy += y[i]! * y[i]!;
    }
    // scipy's rule: skip the update unless the curvature condition holds comfortably.
    if (sy > EPS * yy) {
      if (sMem.length === m) {
        sMem.shift();
        yMem.shift();
        rhoMem.shift();
      }
      sMem.push(s);
      yMem.push(y);
      rhoMem.push(1 / sy);
    }

    const fOld = f;
    x.set(xn);
    g.set(gn);
    f = fNew;
    if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) {
      return { x, f, success: true, iterations: iter + 1, evaluations: nfev };
    }
    if (nfev >= maxFun) return { x, f, success: false, iterations: iter + 1, evaluations: nfev };
  }
  return { x, f, success: false, iterations: maxIter, evaluations: nfev };
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function dotMasked(a: Float64Array, b: Float64Array, mask: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) if (mask[i]) s += a[i]! * b[i]!;
  return s;
}

/** d = −H·g on the free variables (L-BFGS two-loop recursion), 0 on the fixed ones. */
function twoLoop(
  g: Float64Array,
  free: Uint8Array,
  sMem: Float64Array[],
  yMem: Float64Array[],
  rhoMem: number[],
  alphaTmp: Float64Array,
  d: Float64Array,
): void {
  const n = g.length;
  for (let i = 0; i < n; i++) d[i] = free[i] ? g[i]! : 0;
  const k = sMem.length;
  for (let j = k - 1; j >= 0; j--) {
    const a = rhoMem[j]! * dotMasked(sMem[j]!, d, free);
    alphaTmp[j] = a;
    const y = yMem[j]!;
    for (let i = 0; i < n; i++) if (free[i]) d[i] = d[i]! - a * y[i]!;
  }
  if (k > 0) {
    const s = sMem[k - 1]!;
    const y = yMem[k - 1]!;
    const sy = dotMasked(s, y, free);
    const yy = dotMasked(y, y, free);
    const gamma = sy > 0 && yy > 0 ? sy / yy : 1;
    for (let i = 0; i < n; i++) d[i] = d[i]! * gamma;
  }
  for (let j = 0; j < k; j++) {
    const b = rhoMem[j]! * dotMasked(yMem[j]!, d, free);
    const a = alphaTmp[j]! - b;
    const s = sMem[j]!;
    for (let i = 0; i < n; i++) if (free[i]) d[i] = d[i]! + a * s[i]!;
  }
  for (let i = 0; i < n; i++) d[i] = free[i] ? -d[i]! : 0;
}
