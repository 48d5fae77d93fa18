/**
 * Engine kernels per inference and per training step (issue 14: each is a dispatch on a GPU and
 * bookkeeping on WASM), counted with tf.profile on WASM with the real checkpoint, pinned where they
 * stand now so that a change which adds kernels fails here instead of slowing the studio unnoticed.
 * Before: 231 per dense inference, 254 compacted (first forward), 6,081 per training step (3,681
 * before the fused BatchNorm kernels).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createEResFD } from '../../../src/core/model/eresfd/eresfd.ts';
import { compactEResFD } from '../../../src/core/compact/compacted-model.ts';
import { createTrainableEResFD } from '../../../src/core/model/eresfd/trainable.ts';
import { createTorchAdam } from '../../../src/core/train/adam.ts';
import { createTrainStep } from '../../../src/core/train/train-step.ts';
import type { StateDict } from '../../../src/core/types.ts';

async function kernels(fn: () => tf.Tensor): Promise<string[]> {
  const profile = await tf.profile(async () => {
    const t = fn();
    await t.data();
    t.dispose();
  });
  return profile.kernels.map((k) => k.name);
}

describe.skipIf(!HAS_SHARED)('kernel budget on WASM', () => {
  let original: StateDict;
  beforeAll(async () => {
    await useBackend('wasm');
    original = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
  });

  it('dense inference at 480×640: ≤ 120 kernels', async () => {
    const model = createEResFD(original);
    const x = tf.zeros([1, 480, 640, 3]) as tf.Tensor4D;
    const names = await kernels(() => tf.tidy(() => { const o = model.predict(x); tf.dispose(o.conf); return o.loc; }));
    expect(names.length).toBeLessThanOrEqual(120);
    expect(names.filter((n) => n === 'Reshape')).toEqual([]); // reshapes are views outside a tape
    expect(names.filter((n) => n === 'FusedConv2D')).toHaveLength(76); // 82 convs, the 12 heads as 6
    expect(names.filter((n) => n.startsWith('fusedConv2d'))).toEqual([]); // no customGrad scope per conv
    tf.dispose(x);
    model.dispose();
  });

  it('compacted EResFD-50-pruned at 480×640 (default strategy, bias maps built): ≤ 133 kernels', async () => {
    const { model } = compactEResFD(readCheckpoint(readShared('models', 'EResFD-50-pruned.pth')).stateDict);
    const x = tf.zeros([1, 480, 640, 3]) as tf.Tensor4D;
    tf.dispose(Object.values(model.predict(x))); // the first forward at a size builds its bias maps
    const names = await kernels(() => tf.tidy(() => { const o = model.predict(x); tf.dispose(o.conf); return o.loc; }));
    // Above dense's 120: a conv whose removed inputs left a bias map runs as conv + map add (+ ReLU).
    expect(names.length).toBeLessThanOrEqual(133);
    tf.dispose(x);
    model.dispose();
  });

  it('training step, batch 2 at 320²: ≤ 1,500 kernels (issue 14), fused BatchNorm, Adam in ≤ 20', async () => {
    const model = createTrainableEResFD(original);
    const adam = createTorchAdam(model.params, { lr: 1e-3, weightDecay: 5e-4 });
    const step = createTrainStep(model, adam, 320);
    const batch = { x: new Float32Array(2 * 320 * 320 * 3).fill(0.1), targets: [Float32Array.of(0.1, 0.1, 0.4, 0.5, 1), Float32Array.of(0.5, 0.3, 0.9, 0.8, 1)], count: 2 };
    step(batch).dispose(); // warm-up: Adam's first step builds its flat moments
    const names = await kernels(() => step(batch));
    // 1,315 now: fused BatchNorm kernels, tape-light adds/concats/flush, one weighted sum per FPN fusion.
    expect(names.length).toBeLessThanOrEqual(1500);
    expect(names.filter((n) => n === 'StudioBatchNormTrain')).toHaveLength(75);
    expect(names.filter((n) => n === 'StudioBatchNormTrainGrad')).toHaveLength(70); // not the dead layer5
    expect(names.filter((n) => n === 'AvgPool')).toEqual([]); // no composite BatchNorm left
    expect(names.filter((n) => n === 'Reshape').length).toBeLessThanOrEqual(60);
    // The parameters the step updated (the dead layer5 gets no gradient): Adam's flat group again.
    const grads = new Map([...model.params].filter(([k]) => !k.includes('layer5')).map(([k, v]) => [k, tf.zerosLike(v)]));
    const adamKernels = (await tf.profile(() => adam.step(grads))).kernels.length;
    expect(adamKernels).toBeLessThanOrEqual(20);
    tf.dispose([...grads.values()]);
    adam.dispose();
    model.dispose();
  });
});
