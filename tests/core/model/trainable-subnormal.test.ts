/**
 * The trainable model keeps a checkpoint's subnormal conv weights as they are (sparsity counts and
 * written checkpoints stay the checkpoint's) but convolves with them flushed to zero, which WASM
 * needs for speed — only for the convs that hold any, so the others pay no flush kernels.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createTrainableEResFD } from '../../../src/core/model/eresfd/trainable.ts';
import { flushDenormals, hasSubnormals } from '../../../src/core/util/denormals.ts';
import type { StateDict } from '../../../src/core/types.ts';

describe.skipIf(!HAS_SHARED)('TrainableEResFD and subnormal weights', () => {
  let original: StateDict;
  beforeAll(async () => {
    await useBackend('wasm');
    original = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
  });

  it('stores them unchanged and convolves as if they were zero', async () => {
    const withSubnormals = [...original].filter(([k, t]) => k.endsWith('.weight') && t.shape.length === 4 && hasSubnormals(t.data as Float32Array)).map(([k]) => k);
    expect(withSubnormals.length).toBeGreaterThan(0);
    const model = createTrainableEResFD(original);
    const back = await model.toStateDict();
    for (const k of withSubnormals) expect(Array.from(back.get(k)!.data as Float32Array)).toEqual(Array.from(original.get(k)!.data as Float32Array));

    const flushed: StateDict = new Map([...original].map(([k, t]) => [k, withSubnormals.includes(k) ? { ...t, data: flushDenormals(Float32Array.from(t.data as Float32Array)) } : t]));
    const reference = createTrainableEResFD(flushed);
    const x = tf.randomUniform([1, 96, 96, 3], -1, 1, 'float32', 7) as tf.Tensor4D;
    const [a, b] = [model, reference].map((m) => tf.tidy(() => m.forwardTrain(x, { updateStats: false }).conf));
    const diff = tf.tidy(() => tf.max(tf.abs(tf.sub(a!, b!))).dataSync()[0]!);
    expect(diff).toBeLessThanOrEqual(1e-6);
    tf.dispose([x, a!, b!]);
    model.dispose();
    reference.dispose();
  });
});
