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
