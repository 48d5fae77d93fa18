/**
 * Child process of tests/core/backend/webgpu-train.test.ts (run with the Vulkan driver's environment):
 * the fused train-mode BatchNorm's WGSL kernels and a whole training step on TF.js WebGPU through
 * Dawn, against the same on the CPU backend (TF.js ops, no fused kernels: an independent
 * implementation). Prints one JSON line, or `{"adapter": null}` when Dawn finds no adapter.
 *
 *   bn:    max relative error of y, dx, dgamma, dbeta, mean, variance per case (relu on/off)
 *   step:  the loss pair and every parameter after one step (batch 2 at 128²: every FPN level
 *          distinct, as at 320²), max relative error vs CPU; engine kernels per step on WebGPU
 */
import * as tf from '@tensorflow/tfjs-core';
import { installNodeWebGPU } from '../../src/platform/node/webgpu.ts';
import { selectNodeBackend } from '../../src/platform/node/backends.ts';
import { batchNormTrain } from '../../src/core/model/eresfd/batch-norm-train.ts';
import { hasFusedBatchNormTrain } from '../../src/core/backend/kernels/batch-norm-train.ts';
import { readCheckpoint } from '../../src/core/checkpoint/read-checkpoint.ts';
import { createTrainableEResFD } from '../../src/core/model/eresfd/trainable.ts';
import { createTorchAdam } from '../../src/core/train/adam.ts';
import { createTrainStep } from '../../src/core/train/train-step.ts';
import { host, relErr } from './seeded.ts';
import { readShared } from './shared.ts';

let adapter;
try {
  adapter = await installNodeWebGPU();
} catch (e) {
  console.log(JSON.stringify({ adapter: null, error: (e as Error).message }));
  process.exit(0);
}


type Shape = [number, number, number, number];

async function bnCase(relu: boolean, shape: Shape): Promise<Float32Array[]> {
  const c = shape[3], size = shape.reduce((a, b) => a * b, 1);
  const x = tf.tensor4d(host(1, size, 2, 3), shape);
  const g = tf.tensor1d(host(2, c, 1));
  const b = tf.tensor1d(host(3, c, 0.5));
  const w = tf.tensor4d(host(4, size, 1), shape);
  let stats: tf.Tensor[] = [];
  const y = tf.tidy(() => batchNormTrain(x, g, b, { epsilon: 1e-5, relu, onStats: (m, v) => (stats = [tf.keep(m), tf.keep(v)]) }));
  const f = (xx: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(batchNormTrain(xx as tf.Tensor4D, gg as tf.Tensor1D, bb as tf.Tensor1D, { epsilon: 1e-5, relu }), w));
  const grads = tf.grads(f)([x, g, b]);
  const out = await Promise.all([y, ...grads, ...stats].map(async (t) => Float32Array.from((await t.data()) as Float32Array)));
  tf.dispose([x, g, b, w, y, ...grads, ...stats]);
  return out;
}

const CASES: Array<{ relu: boolean; shape: Shape }> = [
  { relu: true, shape: [2, 6, 5, 4] },
  { relu: false, shape: [3, 4, 7, 8] },
  { relu: true, shape: [2, 33, 31, 16] }, // more rows than a workgroup has invocations
];

const SIZE = 128;
const original = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;

async function step(countKernels: boolean): Promise<{ values: Float32Array[]; kernels: number; fused: number }> {
  const model = createTrainableEResFD(original);
  const adam = createTorchAdam(model.params, { lr: 1e-3, weightDecay: 5e-4 });
  const run = createTrainStep(model, adam, SIZE);
  const targets = [Float32Array.of(0.1, 0.1, 0.45, 0.5, 1), Float32Array.of(0.5, 0.3, 0.9, 0.8, 1)];
  const batch = { x: host(7, 2 * SIZE * SIZE * 3, 1), targets, count: 2 };
  let kernels = 0, fused = 0;
  let pair: tf.Tensor1D;
  if (countKernels) {
    const profile = await tf.profile(async () => {
      pair = run(batch);
      await pair.data();
    });
    kernels = profile.kernels.length;
    fused = profile.kernels.filter((k) => k.name.startsWith('StudioBatchNormTrain')).length;
  } else {
    pair = run(batch);
  }
  const values = [Float32Array.from((await pair!.data()) as Float32Array)];
  for (const v of model.params.values()) values.push(Float32Array.from((await v.data()) as Float32Array));
  pair!.dispose();
  adam.dispose();
  model.dispose();
  return { values, kernels, fused };
}

async function on(backend: string) {
  await selectNodeBackend(backend);
  const bn = [];
  for (const c of CASES) bn.push(await bnCase(c.relu, c.shape));
  return { bn, fusedPath: hasFusedBatchNormTrain(), step: await step(backend === 'webgpu') };
}

const cpu = await on('cpu');
const gpu = await on('webgpu');
const bn = CASES.map((c, i) => ({
  ...c,
  errors: gpu.bn[i]!.map((v, k) => relErr(v, cpu.bn[i]![k]!)),
}));
const stepLoss = relErr(gpu.step.values[0]!, cpu.step.values[0]!);
let stepParams = 0;
for (let k = 1; k < cpu.step.values.length; k++) stepParams = Math.max(stepParams, relErr(gpu.step.values[k]!, cpu.step.values[k]!));
console.log(JSON.stringify({
  adapter, backend: tf.getBackend(), fusedOnGpu: gpu.fusedPath, fusedOnCpu: cpu.fusedPath, bn,
  stepLoss, stepParams, kernelsPerStep: gpu.step.kernels, fusedKernelsPerStep: gpu.step.fused,
}));
process.exit(0);
