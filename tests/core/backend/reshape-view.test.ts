/**
 * reshapeView: the values of tf.reshape without an engine kernel (none in tf.profile) outside a
 * gradient tape, and tf.reshape itself — with its gradient — while a tape records.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { NODE_BACKENDS, useBackend } from '../../helpers/backends.ts';
import { reshapeView } from '../../../src/core/backend/reshape-view.ts';

describe.each(NODE_BACKENDS)('reshapeView on %s', (backend) => {
  it('gives tf.reshape\'s values and shape, launches no kernel, and frees what it made', async () => {
    await useBackend(backend);
    const x = tf.tensor3d(Float32Array.from({ length: 24 }, (_, i) => i * 0.5 - 3), [2, 3, 4]);
    const before = tf.memory().numTensors;
    const profile = await tf.profile(() => {
      const v = reshapeView(x, [4, 6]);
      expect(v.shape).toEqual([4, 6]);
      expect(Array.from(v.dataSync())).toEqual(Array.from(x.dataSync()));
      v.dispose();
    });
    expect(profile.kernels.map((k) => k.name)).toEqual([]);
    expect(tf.memory().numTensors).toBe(before);
    // The view shares the data: disposing it leaves the source intact.
    expect(Array.from(x.dataSync())[5]).toBe(-0.5);
    x.dispose();
  });

  it('keeps the gradient while a tape records (falls back to tf.reshape)', async () => {
    await useBackend(backend);
    const x = tf.tensor2d([1, -2, 3, 4, 5, -6], [2, 3]);
    const w = tf.tensor1d([1, 2, 3, 4, 5, 6]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(reshapeView(a, [6]), w)))(x);
    expect(g.shape).toEqual([2, 3]);
    expect(Array.from(g.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    tf.dispose([x, w, g]);
  });
});
