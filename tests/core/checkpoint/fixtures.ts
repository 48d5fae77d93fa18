/** Small generated inputs for the checkpoint tests (no shared data needed). */
import { expect } from 'vitest';
import { isStudioError, type ErrorCode, type StudioError } from '../../../src/core/errors.ts';
import type { HostTensor } from '../../../src/core/types.ts';
import { writeTorchZip } from '../../../src/core/checkpoint/zip.ts';

export const CHECKPOINT_FILES = [
  'EResFD-original.pth',
  'EResFD-10-pruned.pth',
  'EResFD-20-pruned.pth',
  'EResFD-30-pruned.pth',
  'EResFD-40-pruned.pth',
  'EResFD-50-pruned.pth',
  'EResFD-60-pruned.pth',
] as const;

/** Runs `fn`, asserts it throws a StudioError with `code` (and message matching `pattern`). */
export function expectStudioError(fn: () => unknown, code: ErrorCode, pattern?: RegExp): StudioError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, 'expected a StudioError').toBeInstanceOf(Error);
  if (!isStudioError(caught)) throw caught;
  expect(caught.code, caught.message).toBe(code);
  if (pattern) expect(caught.message).toMatch(pattern);
  return caught;
}

/** Deterministic bytes (xorshift32) so failures reproduce. */
export function pseudoRandomBytes(n: number, seed = 0x9e3779b9): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export function f32(shape: number[], fill: (i: number) => number): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype: 'float32', shape, data: Float32Array.from({ length: n }, (_, i) => fill(i)) };
}

export function i64(shape: number[], values: bigint[]): HostTensor {
  return { dtype: 'int64', shape, data: BigInt64Array.from(values) };
}

export function latin1(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

/** A torch-layout zip holding only `<archive>/data.pkl` (+ version): for crafted pickles. */
export function zipWithPickle(pkl: Uint8Array, archive = 'archive'): Uint8Array {
  return writeTorchZip([
    { name: `${archive}/data.pkl`, data: pkl },
    { name: `${archive}/version`, data: latin1('3\n') },
  ]);
}

export function bytesOf(t: HostTensor): Uint8Array {
  return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** LSB-first bit packing, as deflate stores its fields (Huffman codes go MSB-first, see `code`). */
class BitWriter {
  private readonly bytes: Uint8Array;
  private bit = 0;
  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }
  bits(value: number, count: number): void {
    for (let i = 0; i < count; i++, this.bit++) if ((value >>> i) & 1) this.bytes[this.bit >>> 3]! |= 1 << (this.bit & 7);
  }
  code(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--, this.bit++) if ((value >>> i) & 1) this.bytes[this.bit >>> 3]! |= 1 << (this.bit & 7);
  }
  /** Skips `count` zero bits (the buffer is zero-filled). */
  zeros(count: number): void {
    this.bit += count;
  }
  finish(): Uint8Array {
    return this.bytes.slice(0, (this.bit + 7) >>> 3);
  }
}

/**
 * A raw deflate stream of `outBytes` zero bytes at deflate's maximum ratio (~1032:1), built directly
 * instead of compressing a gigabyte: one dynamic-Huffman block whose codes are literal 0 → '10',
 * end-of-block → '11', length 258 → '0', distance 1 → '0', so every 258 output bytes cost two zero
 * bits. `deflateBomb(2 ** 30)` is ~1 MB and inflates to exactly 1 GiB (any `outBytes` ≥ 1 is exact).
 */
export function deflateBomb(outBytes: number): Uint8Array {
  const pairs = Math.max(0, Math.floor((outBytes - 1) / 258));
  const rest = Math.max(0, outBytes - 1 - pairs * 258); // written as literal zeros: exactly outBytes
  const w = new BitWriter(64 + Math.ceil((pairs * 2 + rest * 2) / 8));
  w.bits(1, 1); // BFINAL
  w.bits(2, 2); // dynamic Huffman
  w.bits(286 - 257, 5); // HLIT: literal/length codes 0..285
  w.bits(0, 5); // HDIST: one distance code
  w.bits(18 - 4, 4); // HCLEN: code-length codes in the order below, up to symbol 1
  // Code-length alphabet: 18 → '0' (1 bit), 1 → '10', 2 → '11' (2 bits each).
  const CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1];
  const clLength: Record<number, number> = { 18: 1, 1: 2, 2: 2 };
  for (const sym of CL_ORDER) w.bits(clLength[sym] ?? 0, 3);
  const cl = (sym: 1 | 2 | 18) => (sym === 18 ? w.code(0, 1) : w.code(sym === 1 ? 0b10 : 0b11, 2));
  // Literal/length lengths: 0 → 2, 1..255 → 0, 256 → 2, 257..284 → 0, 285 → 1; distance 0 → 1.
  cl(2);
  cl(18); w.bits(138 - 11, 7);
  cl(18); w.bits(117 - 11, 7);
  cl(2);
  cl(18); w.bits(28 - 11, 7);
  cl(1);
  cl(1);
  w.code(0b10, 2); // literal 0
  w.zeros(pairs * 2); // (length 258 '0', distance 1 '0') × pairs
  for (let i = 0; i < rest; i++) w.code(0b10, 2);
  w.code(0b11, 2); // end of block
  return w.finish();
}

export interface RawZipEntry {
  name: string;
  data: Uint8Array;
  /** 8 (deflate) or 0 (stored). */
  method: 0 | 8;
  /** Uncompressed size written in both headers (may lie). */
  declaredSize: number;
  crc?: number;
}

/** A zip written by hand, so sizes and CRCs can lie. */
export function rawZipMany(entries: readonly RawZipEntry[]): Uint8Array<ArrayBuffer> {
  const names = entries.map((e) => latin1(e.name));
  const localSize = entries.reduce((n, e, i) => n + 30 + names[i]!.length + e.data.length, 0);
  const centralSize = names.reduce((n, name) => n + 46 + name.length, 0);
  const out = new Uint8Array(localSize + centralSize + 22);
  const dv = new DataView(out.buffer);
  const offsets: number[] = [];
  let p = 0;
  entries.forEach((e, i) => {
    offsets.push(p);
    dv.setUint32(p, 0x04034b50, true);
    dv.setUint16(p + 8, e.method, true);
    dv.setUint32(p + 14, e.crc ?? 0, true);
    dv.setUint32(p + 18, e.data.length, true);
    dv.setUint32(p + 22, e.declaredSize, true);
    dv.setUint16(p + 26, names[i]!.length, true);
    out.set(names[i]!, p + 30);
    out.set(e.data, p + 30 + names[i]!.length);
    p += 30 + names[i]!.length + e.data.length;
  });
  entries.forEach((e, i) => {
    dv.setUint32(p, 0x02014b50, true);
    dv.setUint16(p + 10, e.method, true);
    dv.setUint32(p + 16, e.crc ?? 0, true);
    dv.setUint32(p + 20, e.data.length, true);
    dv.setUint32(p + 24, e.declaredSize, true);
    dv.setUint16(p + 28, names[i]!.length, true);
    dv.setUint32(p + 42, offsets[i]!, true);
    out.set(names[i]!, p + 46);
    p += 46 + names[i]!.length;
  });
  dv.setUint32(p, 0x06054b50, true);
  dv.setUint16(p + 8, entries.length, true);
  dv.setUint16(p + 10, entries.length, true);
  dv.setUint32(p + 12, centralSize, true);
  dv.setUint32(p + 16, localSize, true);
  return out;
}

/** A one-entry zip written by hand (see rawZipMany). */
export function rawZip(name: string, data: Uint8Array, opts: Omit<RawZipEntry, 'name' | 'data'>): Uint8Array<ArrayBuffer> {
  return rawZipMany([{ name, data, ...opts }]);
}

/** The parts one after the other in one buffer. */
export function concatBytes(parts: ReadonlyArray<Uint8Array | readonly number[]>): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of arrays) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}
