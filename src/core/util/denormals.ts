/**
 * Subnormal float32 weights (|w| < 2⁻¹²⁶) make convolutions crawl on WASM: WebAssembly cannot flush
 * them to zero, and each multiply by one takes a microcode slow path on x86. The released EResFD has
 * 6,777 of them (720 in each of base.m0.layer3.1's filters, 2,027 left after BN folding): a 0.5 ms
 * conv of base.m0.layer3.1 took 50 ms in training. They contribute less than 2⁻¹²⁶·|x| to any output,
 * so zeroing them changes no result at float32 precision.
 */
import * as tf from '@tensorflow/tfjs-core';
import { straightThrough } from '../backend/tape-light.ts';

const MIN_NORMAL = 2 ** -126;

/** Zeroes the subnormal entries of a host array in place; returns it. */
export function flushDenormals(values: Float32Array): Float32Array {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0 && Math.abs(values[i]!) < MIN_NORMAL) values[i] = 0;
  return values;
}

/** Whether any entry is subnormal (non-zero, |v| < 2⁻¹²⁶). */
export function hasSubnormals(values: Float32Array): boolean {
  for (let i = 0; i < values.length; i++) if (values[i] !== 0 && Math.abs(values[i]!) < MIN_NORMAL) return true;
  return false;
}

const FLUSH = 2 ** -100;

/**
 * A differentiable flush for device weights, (w + 2⁻¹⁰⁰) − 2⁻¹⁰⁰ in two kernels: subnormals round to
 * 0, every |w| ≥ 2⁻⁷⁵ ≈ 2.6e-23 comes back unchanged (2⁻¹⁰⁰ is below half its ulp), the few in
 * between move by at most 2⁻¹⁰⁰. Its gradient is exactly 1 everywhere, as for the unflushed weight,
 * so training sees the reference's gradients — stated as such to the tape (straightThrough), which
 * would otherwise differentiate the add and the subtract, saving and cloning both their inputs.
 */
export function flushDenormalsTf<T extends tf.Tensor>(w: T): T {
  return straightThrough(w, (v) => tf.sub(tf.add(v, FLUSH), FLUSH) as T);
}
