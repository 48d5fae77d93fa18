/**
 * WASM training kernels: gradients through conv2d (strides 1/2/4, pads 0/1/2, kernels 1/3/5),
 * depthwise conv and gather on WASM equal the CPU backend's, the other ops the model and loss
 * differentiate work on WASM, the MultiBoxLoss golden holds on WASM, and nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../../helpers/tf-gradients.ts';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from '../../../src/core/backend/conv-grad.ts';
import { nearestSourceIndex, registerCpuKernelFixes } from '../../../src/core/backend/cpu-kernel-fixes.ts';
import { multiboxLoss } from '../../../src/core/loss/multibox-loss.ts';
import { createRng } from '../../../src/core/util/random.ts';
import { HAS_SHARED, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';

type Host = { data: Float32Array; shape: number[] };
type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

function randomHost(rng: () => number, shape: number[], scale = 1): Host {
  const n = shape.reduce((a, b) => a * b, 1);
  return { data: Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale), shape };
}

/** Value of Σ w·f(xs) and its gradients wrt every input, on one backend. */
async function gradsOn(backend: string, f: Fn, inputs: Host[], seed = 99): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = inputs.map((h) => tf.tensor(h.data, h.shape));
  const probe = tf.tidy(() => f(...xs));
  const w = tf.tensor(randomHost(createRng(seed), probe.shape).data, probe.shape);
  probe.dispose();
  const gs = tf.grads((...args: tf.Tensor[]) => tf.sum(tf.mul(f(...args), w)))(xs);
  const out = await Promise.all(gs.map(async (g) => Float32Array.from(await g.data() as Float32Array)));
  tf.dispose([...xs, w, ...gs]);
  return out;
}

/** max |a − b| / max |b| (0 when both vanish). */
function relErr(a: Float32Array, b: Float32Array): number {
  let d = 0, m = 0;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return m === 0 ? d : d / m;
}

async function expectSameGrads(f: Fn, inputs: Host[], tol = 1e-4): Promise<void> {
  const cpu = await gradsOn('cpu', f, inputs);
  const wasm = await gradsOn('wasm', f, inputs);
  expect(wasm.length).toBe(cpu.length);
  cpu.forEach((ref, i) => {
    expect(wasm[i]!.length).toBe(ref.length);
    expect(relErr(wasm[i]!, ref)).toBeLessThanOrEqual(tol);
  });
}

const pad4 = (p: number): [[0, 0], [number, number], [number, number], [0, 0]] => [[0, 0], [p, p], [p, p], [0, 0]];

beforeAll(async () => {
  registerWasmTrainingKernels();
  registerCpuKernelFixes();
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  await tf.setBackend('cpu');
});

describe('registerWasmTrainingKernels', () => {
  it('registers every missing kernel once and is idempotent', () => {
    for (const k of WASM_TRAINING_KERNELS) expect(tf.getKernel(k, 'wasm')).toBeDefined();
    expect(registerWasmTrainingKernels()).toEqual([]);
  });
});

describe('conv2d gradients on WASM vs CPU', () => {
  const rng = createRng(1);
  const combos: Array<[number, number, number, 'auto' | 'conv']> = [];
  for (const mode of ['auto', 'conv'] as const) {
    for (const k of [1, 3, 5]) for (const s of [1, 2, 4]) for (const p of [0, 1, 2]) if (p < k || (k === 1 && p === 0)) combos.push([k, s, p, mode]);
  }

  // 'conv' forces the XNNPACK formulation of Conv2DBackpropInput where 'auto' would keep WASM's.
  it.each(combos)('kernel %i, stride %i, pad %i, backprop-input %s', async (k, s, p, mode) => {
    registerWasmTrainingKernels({ backpropInput: mode });
    const x = randomHost(rng, [2, 13, 11, 3]);
    const w = randomHost(rng, [k, k, 3, 8], 0.5);
    try {
      await expectSameGrads((xx, ww) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad4(p)), [x, w]);
    } finally {
      registerWasmTrainingKernels({ backpropInput: 'auto' });
    }
  });

  // 'taps' forces the per-tap GEMM formulation of Conv2DBackpropFilter, which 'auto' keeps for large maps.
  const tapCombos: Array<[number, number, number]> = [];
  for (const k of [1, 3, 5]) for (const s of [1, 2, 4]) for (const p of [0, 1, 2]) if (p < k || (k === 1 && p === 0)) tapCombos.push([k, s, p]);
  it.each(tapCombos)('kernel %i, stride %i, pad %i, backprop-filter taps', async (k, s, p) => {
    registerWasmTrainingKernels({ backpropFilter: 'taps' });
    const x = randomHost(rng, [2, 13, 11, 3]);
    const w = randomHost(rng, [k, k, 3, 8], 0.5);
    try {
      await expectSameGrads((xx, ww) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, s, pad4(p)), [x, w]);
    } finally {
      registerWasmTrainingKernels();
    }
  });

  it("'same' and 'valid' string paddings", async () => {
    const x = randomHost(rng, [2, 10, 9, 4]);
    const w = randomHost(rng, [3, 3, 4, 5], 0.5);
    await expectSameGrads((xx, ww) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same'), [x, w]);
    await expectSameGrads((xx, ww) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, [1, 2], 'valid'), [x, w]);
  });

  it('a small conv net (3→8→16, strides 4/2/1, BN-like moments, ReLU, upsample, fused bias)', async () => {
    const x = randomHost(rng, [2, 32, 28, 3], 50);
    const w1 = randomHost(rng, [5, 5, 3, 8], 0.05);
    const w2 = randomHost(rng, [3, 3, 8, 16], 0.2);
    const w3 = randomHost(rng, [1, 1, 16, 16], 0.3);
    const w4 = randomHost(rng, [3, 3, 16, 16], 0.2);
    const b4 = randomHost(rng, [16], 0.1);
    const net: Fn = (xx, a, b, c, d, bias) => {
      const y1 = tf.conv2d(xx as tf.Tensor4D, a as tf.Tensor4D, 4, pad4(2)); // [2, 8, 7, 8]
      const m = tf.moments(y1, [0, 1, 2]);
      const n1 = tf.div(tf.sub(y1, m.mean), tf.sqrt(tf.add(m.variance, 1e-5)));
      const y2 = tf.relu(tf.conv2d(n1 as tf.Tensor4D, b as tf.Tensor4D, 2, pad4(1))); // [2, 4, 4, 16]
      const y3 = tf.conv2d(y2, c as tf.Tensor4D, 1, pad4(0));
      const up = tf.image.resizeNearestNeighbor(y3, [8, 7]);
      const y4 = tf.fused.conv2d({ x: up, filter: d as tf.Tensor4D, strides: 1, pad: pad4(1), bias, activation: 'relu' });
      const maxOut = tf.max(tf.slice(y4, [0, 0, 0, 0], [-1, -1, -1, 3]), -1, true);
      return tf.concat([maxOut, tf.slice(y4, [0, 0, 0, 3], [-1, -1, -1, 13])], -1);
    };
    await expectSameGrads(net, [x, w1, w2, w3, w4, b4]);
  });

  it('frees every intermediate (tensors and WASM buffers)', async () => {
    await tf.setBackend('wasm');
    const r = createRng(5);
    const x = tf.tensor(randomHost(r, [2, 12, 12, 3]).data, [2, 12, 12, 3]);
    const w = tf.tensor(randomHost(r, [3, 3, 3, 4]).data, [3, 3, 3, 4]);
    const step = () => {
      const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, pad4(1))))([x, w]);
      tf.dispose(gs);
    };
    step();
    const before = tf.memory();
    for (let i = 0; i < 4; i++) step();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, w]);
  });
});

describe('other gradient kernels on WASM vs CPU', () => {
  const rng = createRng(2);

  it('depthwise conv (input and filter), multiplier 2', async () => {
    const x = randomHost(rng, [2, 9, 8, 3]);
    const f = randomHost(rng, [3, 3, 3, 2], 0.5);
    await expectSameGrads((xx, ff) => tf.depthwiseConv2d(xx as tf.Tensor4D, ff as tf.Tensor4D, 2, 'same'), [x, f]);
  });

  it('gather (UnsortedSegmentSum), with repeated indices', async () => {
    const x = randomHost(rng, [5, 4]);
    await expectSameGrads((xx) => tf.gather(xx, tf.tensor1d([0, 3, 3, 1], 'int32'), 0), [x]);
    await expectSameGrads((xx) => tf.gather(xx, tf.tensor1d([2, 2, 0], 'int32'), 1), [x]);
  });

  it('ops of the model and the loss', async () => {
    const x = randomHost(rng, [2, 5, 6, 4]);
    const ops: Fn[] = [
      (a) => tf.relu(a),
      (a) => tf.max(a, -1),
      (a) => tf.maximum(a, tf.reverse(a, 3)),
      (a) => { const m = tf.moments(a, [0, 1, 2]); return tf.add(tf.mul(m.mean, 2), m.variance); },
      (a) => tf.batchNorm(a, tf.zeros([4]), tf.ones([4]), tf.zeros([4]), tf.ones([4]), 1e-5),
      (a) => tf.logSumExp(a, -1),
      (a) => tf.logSoftmax(a),
      (a) => tf.minimum(tf.abs(a), 0.5),
      (a) => tf.concat([a, tf.slice(a, [0, 0, 0, 1], [2, 5, 6, 2])], 3),
      (a) => tf.pad(a, pad4(1)),
      (a) => tf.transpose(a, [0, 3, 1, 2]),
      (a) => tf.div(a, tf.add(tf.sum(tf.relu(a), -1, true), 1e-4)),
    ];
    for (const op of ops) await expectSameGrads(op, [x], 1e-5);
  });
});

describe('ResizeNearestNeighborGrad (FPN upsampling backward)', () => {
  /** Scatter-add of dy onto the source pixels the forward read: the definition of the gradient. */
  function reference(dy: Float32Array, [B, H, W, C]: number[], oh: number, ow: number): Float32Array {
    const rows = nearestSourceIndex(H, oh, false, false), cols = nearestSourceIndex(W, ow, false, false);
    const out = new Float32Array(B * H * W * C);
    for (let b = 0; b < B; b++) for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) for (let c = 0; c < C; c++) {
      out[((b * H + rows[y]!) * W + cols[x]!) * C + c]! += dy[((b * oh + y) * ow + x) * C + c]!;
    }
    return out;
  }

  // 2× and 2×1 (block upsamplings: WASM's average-pool path) and the (n+1)/2 → n case of
  // ceil-halved maps (SPEC §1.4, WASM's own kernel), batch 2.
  it.each([[[2, 3, 4, 5], 6, 8], [[2, 3, 4, 5], 6, 4], [[2, 3, 4, 5], 5, 7], [[3, 5, 5, 2], 10, 9]] as Array<[number[], number, number]>)(
    'input %j → %i×%i on CPU and WASM equals the scatter-add reference',
    async (shape, oh, ow) => {
      const dyHost = randomHost(createRng(4), [shape[0]!, oh, ow, shape[3]!]);
      const ref = reference(dyHost.data, shape, oh, ow);
      for (const backend of ['cpu', 'wasm']) {
        await tf.setBackend(backend);
        const x = tf.zeros(shape);
        const dy = tf.tensor(dyHost.data, dyHost.shape);
        const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as tf.Tensor4D, [oh, ow]), dy)))(x);
        expect(relErr(Float32Array.from(await g.data() as Float32Array), ref)).toBeLessThanOrEqual(1e-6);
        tf.dispose([x, dy, g]);
      }
    });

  it('registerCpuKernelFixes is idempotent', () => {
    registerCpuKernelFixes();
    expect(tf.getKernel('ResizeNearestNeighborGrad', 'cpu')).toBeDefined();
  });
});

describe.skipIf(!HAS_SHARED)('MultiBoxLoss on WASM', () => {
  it('mines the golden negatives and reproduces the golden losses', async () => {
    await tf.setBackend('wasm');
    const G = 'golden/train_step';
    const f32 = (n: string) => readNpy(sharedPath(G, n)).data as Float32Array;
    const loc = tf.tensor3d(f32('train_loc.npy'), [2, 8550, 4]);
    const conf = tf.tensor3d(f32('train_conf.npy'), [2, 8550, 2]);
    const r = multiboxLoss(loc, conf, f32('priors_320.npy'), [f32('targets_img0.npy'), f32('targets_img1.npy')], { keepNegMask: true });
    const neg = await r.negMask!.data();
    const gold = readNpy(sharedPath(G, 'neg_mask.npy')).data as Uint8Array;
    let mismatches = 0;
    for (let i = 0; i < gold.length; i++) if ((neg[i]! > 0 ? 1 : 0) !== gold[i]) mismatches++;
    expect(mismatches).toBe(0);
    expect(Math.abs((await r.lossL.data())[0]! - 1.476109266281128) / 1.476109266281128).toBeLessThanOrEqual(1e-5);
    expect(Math.abs((await r.lossC.data())[0]! - 1.3484829664230347) / 1.3484829664230347).toBeLessThanOrEqual(1e-5);
    tf.dispose([loc, conf, r.lossL, r.lossC, r.negMask!]);
  });
});
