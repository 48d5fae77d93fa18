/**
 * batchNormTrain (the training BN op with its own gradient) equals TF.js's own chain
 * tf.moments → tf.batchNorm (→ tf.relu): values, batch statistics and the gradients of x, gamma and
 * beta, on CPU and WASM; and it frees what it saves.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { NODE_BACKENDS, useBackend } from '../../helpers/backends.ts';
import { batchNormTrain } from '../../../src/core/model/eresfd/batch-norm-train.ts';
import { host, relErr } from '../../helpers/seeded.ts';

const EPS = 1e-5;


type Bn = (x: tf.Tensor4D, g: tf.Tensor1D, b: tf.Tensor1D) => tf.Tensor4D;

const reference = (relu: boolean): Bn => (x, g, b) => {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.batchNorm(x, mean as tf.Tensor1D, variance as tf.Tensor1D, b, g, EPS);
  return relu ? tf.relu(y) : y;
};

/** Value of Σ w·bn(x) and the gradients wrt x, gamma, beta. */
async function run(bn: Bn, shape: [number, number, number, number]): Promise<Float32Array[]> {
  const c = shape[3];
  const size = shape.reduce((a, b) => a * b, 1);
  // A channel offset well above the spread, as conv outputs have: the variance must not cancel.
  const x = tf.tensor4d(host(1, size, 2, 3), shape);
  const g = tf.tensor1d(host(2, c, 1));
  const b = tf.tensor1d(host(3, c, 0.5));
  const w = tf.tensor4d(host(4, size, 1), shape);
  const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(bn(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D), w));
  const y = tf.tidy(() => bn(x, g, b));
  const grads = tf.grads(f)([x, g, b]);
  const out = await Promise.all([y, ...grads].map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
  tf.dispose([x, g, b, w, y, ...grads]);
  return out;
}

describe.each(NODE_BACKENDS)('batchNormTrain on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it.each([
    { relu: true, shape: [2, 6, 5, 4] as [number, number, number, number] },
    { relu: false, shape: [3, 4, 7, 8] as [number, number, number, number] },
    { relu: true, shape: [4, 1, 1, 3] as [number, number, number, number] },
    // WASM's direct kernels: 16- and 8+4-channel blocks, sums flushed every 64 rows.
    { relu: true, shape: [2, 12, 10, 16] as [number, number, number, number] },
    { relu: false, shape: [1, 9, 9, 12] as [number, number, number, number] },
  ])('relu $relu, $shape: values and gradients equal moments → batchNorm', async ({ relu, shape }) => {
    const ours = await run((x, g, b) => batchNormTrain(x, g, b, { epsilon: EPS, relu }), shape);
    const ref = await run(reference(relu), shape);
    const names = ['y', 'dx', 'dgamma', 'dbeta'];
    ours.forEach((o, i) => expect(relErr(o, ref[i]!), names[i]).toBeLessThanOrEqual(2e-5));
  });

  it('reports the batch mean and biased variance', async () => {
    const shape: [number, number, number, number] = [2, 5, 3, 4];
    const x = tf.tensor4d(host(5, 120, 2, 3), shape);
    const [g, b] = [tf.ones([4]) as tf.Tensor1D, tf.zeros([4]) as tf.Tensor1D];
    let stats: tf.Tensor[] = [];
    const y = batchNormTrain(x, g, b, { epsilon: EPS, relu: false, onStats: (m, v) => (stats = [tf.keep(tf.clone(m)), tf.keep(tf.clone(v))]) });
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    expect(relErr(await stats[0]!.data(), await mean.data())).toBeLessThanOrEqual(1e-6);
    expect(relErr(await stats[1]!.data(), await variance.data())).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, g, b, y, mean, variance, ...stats]);
  });

  it.each([3, 4])('leaves no tensors or buffers behind after forward and backward (%i channels)', (c) => {
    const x = tf.tensor4d(host(6, 2 * 4 * 4 * c, 1), [2, 4, 4, c]);
    const g = tf.ones([c]) as tf.Tensor1D;
    const b = tf.zeros([c]) as tf.Tensor1D;
    const before = tf.memory();
    const grads = tf.grads((xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(batchNormTrain(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, { epsilon: EPS, relu: true })))([x, g, b]);
    tf.dispose(grads);
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, g, b]);
  });
});
