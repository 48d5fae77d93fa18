/**
 * numpy's legacy `np.random.RandomState` (MT19937) for the draws bayes_opt 1.4.3 makes.
 *
 * Mirrors numpy `RandomState(seed)` bit for bit: an int seed goes through `init_genrand`
 * (numpy's `_legacy_seeding` → `mt19937_seed`), an array seed through `init_by_array`;
 * `random_sample()` is `genrand_res53` and `uniform(low, high)` is `low + (high - low) * u`,
 * evaluated in that order so the doubles match numpy's exactly. Only what the optimiser needs is
 * here (no gaussian cache, no integer samplers).
 *
 * The state is plain data (`getState()` / `fromState()`) so an optimiser can be checkpointed and
 * resumed mid-run with the exact same stream.
 */

const N = 624;
const M = 397;
const MATRIX_A = 0x9908b0df;
const UPPER_MASK = 0x80000000;
const LOWER_MASK = 0x7fffffff;

/** Serialisable generator state: the 624-word key and the read position (numpy's `pos`). */
export interface Mt19937State {
  key: number[];
  pos: number;
}

export class RandomState {
  private readonly mt = new Uint32Array(N);
  private pos = N;

  private constructor() {}

  /** Same stream as numpy `RandomState(seed)` for an int in [0, 2^32 − 1] or an int array. */
  static fromSeed(seed: number | readonly number[]): RandomState {
    const rs = new RandomState();
    if (typeof seed === 'number') {
      if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) {
        throw new RangeError(`Seed must be an integer between 0 and 2**32 - 1, got ${seed}`);
      }
      rs.initGenrand(seed);
    } else {
      if (seed.length === 0) throw new RangeError('Seed array must not be empty');
      for (const s of seed) {
        if (!Number.isInteger(s) || s < 0 || s > 0xffffffff) {
          throw new RangeError(`Seed array values must be integers in [0, 2**32 - 1], got ${s}`);
        }
      }
      rs.initByArray(seed);
    }
    return rs;
  }

  static fromState(state: Mt19937State): RandomState {
    if (!Array.isArray(state.key) || state.key.length !== N) {
      throw new RangeError(`MT19937 state needs ${N} key words`);
    }
    if (!Number.isInteger(state.pos) || state.pos < 0 || state.pos > N) {
      throw new RangeError(`MT19937 position must be in [0, ${N}]`);
    }
    const rs = new RandomState();
    for (let i = 0; i < N; i++) rs.mt[i] = state.key[i]! >>> 0;
    rs.pos = state.pos;
    return rs;
  }

  getState(): Mt19937State {
    return { key: Array.from(this.mt), pos: this.pos };
  }

  clone(): RandomState {
    return RandomState.fromState(this.getState());
  }

  private initGenrand(s: number): void {
    const mt = this.mt;
    mt[0] = s >>> 0;
    for (let i = 1; i < N; i++) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      // Math.imul keeps the 32-bit wrap-around of the C `unsigned long` arithmetic.
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
    this.pos = N;
  }

  private initByArray(key: readonly number[]): void {
    const mt = this.mt;
    this.initGenrand(19650218);
    let i = 1;
    let j = 0;
    const len = key.length;
    for (let k = Math.max(N, len); k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1664525)) + key[j]! + j) >>> 0;
      i++;
      j++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
      if (j >= len) j = 0;
    }
    for (let k = N - 1; k > 0; k--) {
      const prev = mt[i - 1]! ^ (mt[i - 1]! >>> 30);
      mt[i] = ((mt[i]! ^ Math.imul(prev, 1566083941)) - i) >>> 0;
      i++;
      if (i >= N) {
        mt[0] = mt[N - 1]!;
        i = 1;
      }
    }
    mt[0] = 0x80000000;
    this.pos = N;
  }

  private generate(): void {
    const mt = this.mt;
    let kk = 0;
    let y: number;
    for (; kk < N - M; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + M]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    for (; kk < N - 1; kk++) {
      y = (mt[kk]! & UPPER_MASK) | (mt[kk + 1]! & LOWER_MASK);
      mt[kk] = mt[kk + (M - N)]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    }
    y = (mt[N - 1]! & UPPER_MASK) | (mt[0]! & LOWER_MASK);
    mt[N - 1] = mt[M - 1]! ^ (y >>> 1) ^ (y & 1 ? MATRIX_A : 0);
    this.pos = 0;
  }

  /** Next raw 32-bit output (`genrand_int32`). */
  nextUint32(): number {
    if (this.pos >= N) this.generate();
    let y = this.mt[this.pos++]!;
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** numpy `random_sample()`: 53-bit double in [0, 1). */
  randomSample(): number {
    const a = this.nextUint32() >>> 5;
    const b = this.nextUint32() >>> 6;
    return (a * 67108864.0 + b) / 9007199254740992.0;
  }

  /** numpy `uniform(low, high)` for scalar bounds. */
  uniform(low: number, high: number): number {
    const range = high - low;
    return low + range * this.randomSample();
  }

  /**
   * numpy `uniform(lows, highs, size=(rows, lows.length))` written row-major into `out`
   * (C order, the order numpy's broadcast loop consumes the stream in).
   */
  fillUniform(out: Float64Array, lows: ArrayLike<number>, highs: ArrayLike<number>, rows: number): Float64Array {
    const d = lows.length;
    if (highs.length !== d) throw new RangeError('lows and highs differ in length');
    if (out.length < rows * d) throw new RangeError('output buffer too small');
    const ranges = new Float64Array(d);
    for (let j = 0; j < d; j++) ranges[j] = highs[j]! - lows[j]!;
    let o = 0;
    for (let r = 0; r < rows; r++) {
      for (let j = 0; j < d; j++) out[o++] = lows[j]! + ranges[j]! * this.randomSample();
    }
    return out;
  }
}
