/**
 * A tiny seeded PRNG for everything in the studio that must be reproducible from a seed (subset
 * selection, shuffles). mulberry32: 32-bit state, period 2^32, good enough for sampling; not crypto.
 */

/** Returns a generator of floats in [0, 1). The same seed always yields the same sequence. */
export function createRng(seed: number): () => number {
  if (!Number.isFinite(seed)) throw new RangeError(`createRng: seed must be a finite number, got ${seed}`);
  // Fractional or out-of-range seeds are folded into 32 bits so that any finite number is usable.
  let state = Math.trunc(seed) >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Uniform integer in [0, n) from a generator made by createRng. */
export function randomInt(rng: () => number, n: number): number {
  return Math.floor(rng() * n);
}
