/**
 * The training pieces together on a tiny two-level conv detector: MultiBoxLoss → tf.variableGrads
 * → TorchAdam, on CPU and WASM. The loss must go down on a fixed batch, both backends must agree,
 * and repeated steps must not grow the tensor count (tensor hygiene).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../../helpers/tf-gradients.ts';
import { registerWasmTrainingKernels } from '../../../src/core/backend/conv-grad.ts';
import { registerCpuKernelFixes } from '../../../src/core/backend/cpu-kernel-fixes.ts';
import { matchBatch } from '../../../src/core/loss/match.ts';
import { multiboxLossFromMatch } from '../../../src/core/loss/multibox-loss.ts';
import { createTorchAdam } from '../../../src/core/train/adam.ts';
import { createRng } from '../../../src/core/util/random.ts';

const B = 2, IMG = 32;
const LEVELS = [{ size: 8, anchor: 0.25 }, { size: 4, anchor: 0.5 }];

function priors(): Float32Array {
  const p: number[] = [];
  for (const { size, anchor } of LEVELS) for (let i = 0; i < size; i++) for (let j = 0; j < size; j++) p.push((j + 0.5) / size, (i + 0.5) / size, anchor, anchor);
  return Float32Array.from(p);
}

function initialWeights(): Record<string, { data: Float32Array; shape: number[] }> {
  const rng = createRng(17);
  const w = (shape: number[], scale: number) => ({ data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (rng() * 2 - 1) * scale), shape });
  return {
    stem: w([5, 5, 3, 8], 0.1), down: w([3, 3, 8, 8], 0.2),
    loc0: w([1, 1, 8, 4], 0.2), conf0: w([1, 1, 8, 2], 0.2), loc1: w([1, 1, 8, 4], 0.2), conf1: w([1, 1, 8, 2], 0.2),
    confBias: w([2], 0),
  };
}

interface Net { params: Map<string, tf.Variable>; forward(x: tf.Tensor4D): { loc: tf.Tensor3D; conf: tf.Tensor3D } }

function createNet(tag: string): Net {
  const params = new Map(Object.entries(initialWeights()).map(([k, v]) => [k, tf.tidy(() => tf.variable(tf.tensor(v.data, v.shape), true, `${tag}/${k}`))]));
  const p = (k: string) => params.get(k)! as tf.Tensor4D;
  const pad = (n: number): [[0, 0], [number, number], [number, number], [0, 0]] => [[0, 0], [n, n], [n, n], [0, 0]];
  return {
    params,
    forward(x) {
      const f0 = tf.relu(tf.conv2d(x, p('stem'), 4, pad(2))) as tf.Tensor4D; // [B, 8, 8, 8]
      const f1 = tf.relu(tf.conv2d(f0, p('down'), 2, pad(1))) as tf.Tensor4D; // [B, 4, 4, 8]
      const up = tf.image.resizeNearestNeighbor(f1, [8, 8]);
      const g0 = tf.add(f0, up) as tf.Tensor4D;
      const head = (f: tf.Tensor4D, w: string, c: number) => tf.reshape(tf.conv2d(f, p(w), 1, 'valid'), [B, -1, c]);
      const loc = tf.concat([head(g0, 'loc0', 4), head(f1, 'loc1', 4)], 1) as tf.Tensor3D;
      const conf = tf.add(tf.concat([head(g0, 'conf0', 2), head(f1, 'conf1', 2)], 1), params.get('confBias')!) as tf.Tensor3D;
      return { loc, conf };
    },
  };
}

function batch() {
  const rng = createRng(5);
  const x = Float32Array.from({ length: B * IMG * IMG * 3 }, () => (rng() - 0.5) * 4);
  const targets = [Float32Array.from([0.1, 0.1, 0.45, 0.5, 1, 0.6, 0.55, 0.9, 0.95, 1]), Float32Array.from([0.3, 0.2, 0.8, 0.75, 1])];
  return { x, targets };
}

async function train(backend: string, steps: number): Promise<{ losses: number[]; tensorCounts: number[]; params: Record<string, Float32Array> }> {
  await tf.setBackend(backend);
  const net = createNet(`train-step-${backend}`);
  const adam = createTorchAdam(net.params, { lr: 1e-2, weightDecay: 5e-4 });
  const { x: xHost, targets } = batch();
  const match = matchBatch(priors(), targets);
  const x = tf.tensor4d(xHost, [B, IMG, IMG, 3]);
  const losses: number[] = [];
  const tensorCounts: number[] = [];
  for (let s = 0; s < steps; s++) {
    const { value, grads } = tf.variableGrads(() => {
      const { loc, conf } = net.forward(x);
      const r = multiboxLossFromMatch(loc, conf, match);
      return tf.add(r.lossL, r.lossC) as tf.Scalar;
    });
    adam.step(grads);
    losses.push((await value.data())[0]!);
    tf.dispose([value, ...Object.values(grads)]);
    tensorCounts.push(tf.memory().numTensors);
  }
  const params = Object.fromEntries(await Promise.all([...net.params].map(async ([k, v]) => [k, Float32Array.from(await v.data() as Float32Array)] as const)));
  adam.dispose();
  tf.dispose([x, ...net.params.values()]);
  return { losses, tensorCounts, params };
}

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerCpuKernelFixes();
  await tf.setBackend('cpu');
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('a tiny detector trains with MultiBoxLoss + TorchAdam', () => {
  it('lowers the loss, keeps the tensor count flat, and CPU and WASM agree', async () => {
    const before = tf.memory().numTensors;
    const cpu = await train('cpu', 12);
    expect(tf.memory().numTensors).toBe(before);
    const wasm = await train('wasm', 12);

    expect(cpu.losses.at(-1)!).toBeLessThan(cpu.losses[0]! * 0.8);
    // After the first step (which creates the Adam moments) nothing accumulates.
    expect(new Set(cpu.tensorCounts.slice(1)).size).toBe(1);
    expect(new Set(wasm.tensorCounts.slice(1)).size).toBe(1);
    cpu.losses.forEach((l, i) => expect(Math.abs(wasm.losses[i]! - l) / l).toBeLessThanOrEqual(1e-3));
    for (const k of Object.keys(cpu.params)) {
      const a = cpu.params[k]!, b = wasm.params[k]!;
      let d = 0;
      for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
      expect(d).toBeLessThanOrEqual(1e-3);
    }
  });
});
