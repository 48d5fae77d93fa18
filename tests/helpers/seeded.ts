/** Seeded test data and the error measure the BatchNorm tests compare with. */
import { createRng } from '../../src/core/util/random.ts';

/** n values uniform in [shift − scale, shift + scale), from `seed`. */
export function host(seed: number, n: number, scale: number, shift = 0): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale + shift);
}

/** max |a − b| / max |b|, the latter at least 1e-3 (for gradients that vanish up to rounding). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 1e-3;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}
