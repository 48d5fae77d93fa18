/**
 * Inflate with limits, while streaming: the compressed bytes are fed in slices no larger than what
 * the remaining allowance could need at deflate's maximum ratio (~1032:1), so a bomb (a 1 MB entry
 * inflating to 1 GB) is stopped about 1 MB past its allowance, never after it has been inflated
 * whole. fflate's streaming classes keep only a 32 KB window between slices.
 */
import { Inflate, Unzlib } from 'fflate';
import { INPUT_LIMITS } from '../limits.ts';

const MAX_RATIO = 1032;
/** 1 KB in → at most ~1 MB out per step; legitimate data gets larger slices (fewer steps). */
const MIN_SLICE = 1024;
const MAX_SLICE = 1024 * 1024;

export interface BoundedInflateOptions {
  /** Raw deflate (zip entries) or zlib-wrapped (MATLAB miCOMPRESSED). */
  format: 'deflate' | 'zlib';
  /** The size the container declares; more output is refused, less is returned as is. */
  declaredSize?: number;
  /** Absolute cap on the output. */
  maxBytes: number;
  /**
   * For formats that state their size inside the compressed data (MATLAB's miMATRIX tag): reads it
   * from the first output (≥ 8 bytes), which then bounds the rest like a declared size.
   */
  sizeFromHead?: (head: Uint8Array) => number;
  /** Builds (or throws) the error for an exceeded limit (`why` says which) or corrupt data. */
  fail: (why: string, kind: 'limit' | 'corrupt', cause?: unknown) => Error;
}

/** The largest output `compressedSize` bytes may inflate to under the ratio limit. */
export function inflateAllowance(compressedSize: number, maxBytes: number): number {
  return Math.min(maxBytes, Math.max(INPUT_LIMITS.inflateRatioFloor, compressedSize * INPUT_LIMITS.inflateRatio));
}

export function inflateBounded(raw: Uint8Array, options: BoundedInflateOptions): Uint8Array {
  const { declaredSize } = options;
  // `fail` may build the error or throw it itself (a parser's own fail helper): either way, an Error.
  const fail = (why: string, kind: 'limit' | 'corrupt', cause?: unknown): Error => {
    try {
      return options.fail(why, kind, cause);
    } catch (e) {
      return e as Error;
    }
  };
  const allowance = inflateAllowance(raw.length, options.maxBytes);
  if (declaredSize !== undefined && declaredSize > allowance) {
    throw fail(`declares ${declaredSize} bytes from ${raw.length} compressed, over the limit of ${allowance} (at most ${INPUT_LIMITS.inflateRatio}:1 and ${options.maxBytes} bytes)`, 'limit');
  }
  let limit = declaredSize ?? allowance;
  let headRead = !options.sizeFromHead;
  // With a declared size the output is allocated once; otherwise chunks are joined at the end.
  const out = declaredSize !== undefined ? new Uint8Array(declaredSize) : null;
  const chunks: Uint8Array[] = [];
  let total = 0;
  let done = false;
  let stopped: Error | null = null;
  const onData = (chunk: Uint8Array, final: boolean) => {
    if (!headRead && chunk.length >= 8) {
      headRead = true;
      const stated = options.sizeFromHead!(chunk);
      if (stated > allowance) throw (stopped = fail(`states ${stated} bytes from ${raw.length} compressed, over the limit of ${allowance}`, 'limit'));
      limit = Math.min(limit, stated);
    }
    if (total + chunk.length > limit) {
      // Thrown out of fflate's push: the rest of the input is never inflated.
      throw (stopped = fail(
        limit < allowance
          ? `inflates past its stated ${limit} bytes (stopped at ${total + chunk.length})`
          : `inflates past ${limit} bytes from ${raw.length} compressed (over ${INPUT_LIMITS.inflateRatio}:1 or ${options.maxBytes} bytes)`,
        limit < allowance ? 'corrupt' : 'limit',
      ));
    }
    if (out) out.set(chunk, total);
    else chunks.push(chunk);
    total += chunk.length;
    if (final) done = true;
  };
  const stream = options.format === 'zlib' ? new Unzlib(onData) : new Inflate(onData);
  try {
    for (let at = 0; at < raw.length && !done; ) {
      // Until a stated size is read, the smallest slice: its output is at most ~1 MB.
      const slice = headRead ? Math.min(MAX_SLICE, Math.max(MIN_SLICE, Math.floor((limit - total) / MAX_RATIO))) : MIN_SLICE;
      stream.push(raw.subarray(at, at + slice), at + slice >= raw.length);
      at += slice;
    }
    if (raw.length === 0) stream.push(raw, true);
  } catch (e) {
    if (stopped) throw stopped;
    throw fail(`the compressed data is corrupt (${e instanceof Error ? e.message : String(e)})`, 'corrupt', e);
  }
  if (!done) throw fail('the compressed data ends early', 'corrupt');
  if (out) return total === out.length ? out : out.subarray(0, total);
  if (chunks.length === 1) return chunks[0]!;
  const joined = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    joined.set(c, at);
    at += c.length;
  }
  return joined;
}
