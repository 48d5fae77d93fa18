/** Subnormal flushing: host arrays in place; device tensors with an identity gradient, on CPU and WASM. */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { NODE_BACKENDS, useBackend } from '../../helpers/backends.ts';
import { flushDenormals, flushDenormalsTf } from '../../../src/core/util/denormals.ts';

const SUB = [1e-40, -3e-39, 2 ** -149, -(2 ** -127)];
const NORMAL = [0, -0.5, 3.25, 2 ** -126, -(2 ** -75), 1e-20, -7e5];

describe('flushDenormals', () => {
  it('zeroes subnormals and keeps every other value', () => {
    const a = Float32Array.from([...SUB, ...NORMAL]);
    const want = Float32Array.from([...SUB.map(() => 0), ...NORMAL]);
    expect(Array.from(flushDenormals(a))).toEqual(Array.from(want));
  });
});

describe.each(NODE_BACKENDS)('flushDenormalsTf on %s', (backend) => {
  it('zeroes subnormals, keeps |w| ≥ 2⁻⁷⁵ exactly, and passes the gradient through', async () => {
    await useBackend(backend);
    const w = tf.tensor1d([...SUB, ...NORMAL.filter((v) => v === 0 || Math.abs(v) >= 2 ** -75)]);
    const kept = NORMAL.filter((v) => v === 0 || Math.abs(v) >= 2 ** -75);
    const y = flushDenormalsTf(w);
    expect(Array.from(await y.data())).toEqual([...SUB.map(() => 0), ...Array.from(Float32Array.from(kept))]);
    const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(flushDenormalsTf(t), tf.range(0, w.size))))(w);
    expect(Array.from(await g.data())).toEqual(Array.from({ length: w.size }, (_, i) => i));
    tf.dispose([w, y, g]);
  });
});
