/**
 * Dense row-major Float64 linear algebra for the GP (n up to a few thousand, plain loops).
 *
 * Mirrors the LAPACK calls sklearn's GaussianProcessRegressor makes: `cholesky(lower=True)`,
 * `cho_solve`, `solve_triangular(lower=True)`. Every O(n³) loop is written as dot products over
 * contiguous row segments with four accumulators: a single running sum is bound by the add
 * latency, four independent ones let V8's code keep the FPU busy (≈2× on n = 100).
 */

/** Σ a[ao + k]·b[bo + k] for k < len, four partial sums. */
export function dot(a: Float64Array, ao: number, b: Float64Array, bo: number, len: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < len; k += 4) {
    s0 += a[ao + k]! * b[bo + k]!;
    s1 += a[ao + k + 1]! * b[bo + k + 1]!;
    s2 += a[ao + k + 2]! * b[bo + k + 2]!;
    s3 += a[ao + k + 3]! * b[bo + k + 3]!;
  }
  for (; k < len; k++) s0 += a[ao + k]! * b[bo + k]!;
  return s0 + s1 + (s2 + s3);
}

/**
 * In-place lower Cholesky of the symmetric n×n matrix `a` (only the lower triangle is read),
 * row by row; the strict upper triangle is zeroed. Returns false when a pivot is not strictly
 * positive, where LAPACK's potrf reports "not positive definite".
 */
export function choleskyInPlace(a: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j < i; j++) {
      const rj = j * n;
      a[ri + j] = (a[ri + j]! - dot(a, ri, a, rj, j)) / a[rj + j]!;
    }
    const s = a[ri + i]! - dot(a, ri, a, ri, i);
    if (!(s > 0)) return false;
    a[ri + i] = Math.sqrt(s);
    a.fill(0, ri + i + 1, ri + n);
  }
  return true;
}

/** Solves L·x = b in place (L lower, row-major n×n). */
export function forwardSubstitute(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    b[i] = (b[i]! - dot(l, ri, b, 0, i)) / l[ri + i]!;
  }
  return b;
}

/** Solves Lᵀ·x = b in place (L lower, row-major n×n). */
export function backSubstituteTransposed(l: Float64Array, n: number, b: Float64Array): Float64Array {
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n;
    const bi = b[i]! / l[ri + i]!;
    b[i] = bi;
    // Column i of Lᵀ is row i of L: remove its contribution from the rows above.
    for (let k = 0; k < i; k++) b[k] = b[k]! - l[ri + k]! * bi;
  }
  return b;
}

/** cho_solve((L, True), b): solves (L·Lᵀ)·x = b in place. */
export function choSolveInPlace(l: Float64Array, n: number, b: Float64Array): Float64Array {
  forwardSubstitute(l, n, b);
  return backSubstituteTransposed(l, n, b);
}

/**
 * (L⁻¹)ᵀ into `out`: row j of `out` holds column j of L⁻¹ (entries k ≥ j; the rest is left
 * as is). Stored transposed so both the recurrence and K⁻¹ entries are contiguous dot products:
 * L⁻¹[i][j] = −(Σ_{k=j}^{i−1} L[i][k]·L⁻¹[k][j]) / L[i][i], and
 * K⁻¹[i][j] = Σ_{k ≥ max(i,j)} L⁻¹[k][i]·L⁻¹[k][j] = `inverseEntry(out, n, i, j)`.
 */
export function lowerInverseTransposed(l: Float64Array, n: number, out: Float64Array): Float64Array {
  for (let j = 0; j < n; j++) {
    const rj = j * n;
    out[rj + j] = 1 / l[rj + j]!;
    for (let i = j + 1; i < n; i++) {
      const ri = i * n;
      out[rj + i] = -dot(l, ri + j, out, rj + j, i - j) / l[ri + i]!;
    }
  }
  return out;
}

/** K⁻¹[i][j] from `lowerInverseTransposed` output. */
export function inverseEntry(lt: Float64Array, n: number, i: number, j: number): number {
  const m = i > j ? i : j;
  return dot(lt, i * n + m, lt, j * n + m, n - m);
}
