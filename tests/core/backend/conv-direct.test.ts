/**
 * The direct WASM-SIMD gradient kernels (src/core/backend/kernels/wasm/train_kernels.c): forced on,
 * conv2d's filter and input gradients on WASM equal the CPU backend's over channel counts, kernel
 * sizes, strides and paddings; the shared-memory build (TF.js's threaded WASM) computes the same in a
 * SharedArrayBuffer memory; the embedded modules were built from the C source in the repo; nothing leaks.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../../helpers/tf-gradients.ts';
import { registerWasmTrainingKernels } from '../../../src/core/backend/conv-grad.ts';
import { directKernels } from '../../../src/core/backend/kernels/wasm/direct-kernels.ts';
import { TRAIN_KERNELS_SOURCE_SHA256, TRAIN_KERNELS_WASM_SHARED } from '../../../src/core/backend/kernels/wasm/train-kernels-wasm.generated.ts';
import { createRng } from '../../../src/core/util/random.ts';
import { relErr } from '../../helpers/seeded.ts';

const SOURCE = new URL('../../../src/core/backend/kernels/wasm/train_kernels.c', import.meta.url);

type Stride = number | [number, number];

function randomArray(rng: () => number, n: number, scale = 1): Float32Array {
  return Float32Array.from({ length: n }, () => (rng() * 2 - 1) * scale);
}

/** [dx, dw] of Σ u·conv2d(x, w) on one backend. */
async function convGrads(backend: string, x: tf.Tensor4D, w: tf.Tensor4D, u: tf.Tensor, stride: Stride, pad: number | 'same' | 'valid'): Promise<Float32Array[]> {
  await tf.setBackend(backend);
  const xs = [tf.tensor(await x.data(), x.shape), tf.tensor(await w.data(), w.shape)];
  const uu = tf.tensor(await u.data(), u.shape);
  const p = typeof pad === 'number' ? ([[0, 0], [pad, pad], [pad, pad], [0, 0]] as [[0, 0], [number, number], [number, number], [0, 0]]) : pad;
  const gs = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, stride, p), uu)))(xs);
  const out = await Promise.all(gs.map(async (g) => Float32Array.from((await g.data()) as Float32Array)));
  tf.dispose([...xs, uu, ...gs]);
  return out;
}

beforeAll(async () => {
  registerWasmTrainingKernels({ backpropFilter: 'direct', backpropInput: 'direct' });
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  registerWasmTrainingKernels();
  await tf.setBackend('cpu');
});

describe('direct conv gradient kernels on WASM vs CPU', () => {
  it('instantiate against the WASM backend memory', async () => {
    await tf.setBackend('wasm');
    expect(directKernels(tf.backend())).not.toBeNull();
  });

  // Channel counts cover each SIMD tile (16/8/4 wide) and their remainders; strides 1–3 (also
  // unequal in height and width), pads 0–2; 'same' at stride 2 on 15×14 pads top 1 but left 0.
  const cases: Array<[number, number, number, Stride, number | 'same' | 'valid']> = [
    [16, 16, 3, 1, 1], [16, 16, 3, 2, 1], [16, 16, 1, 2, 0], [16, 8, 3, 1, 1], [8, 16, 3, 1, 1], [4, 4, 3, 1, 1],
    [8, 4, 3, 2, 1], [4, 12, 5, 3, 2], [20, 24, 3, 1, 0], [12, 28, 1, 1, 0], [8, 8, 5, 2, 'same'], [16, 20, 3, 3, 'valid'],
    [8, 8, 3, 2, 'same'], [16, 16, 3, [1, 2], 1], [4, 8, 3, [2, 1], 'same'],
  ];
  it.each(cases)('Ci %i, Co %i, kernel %i, stride %j, pad %s', async (ci, co, k, s, p) => {
    const rng = createRng(ci * 1000 + co * 10 + k + JSON.stringify(s).length);
    const x = tf.tensor4d(randomArray(rng, 2 * 15 * 14 * ci), [2, 15, 14, ci]);
    const w = tf.tensor4d(randomArray(rng, k * k * ci * co, 0.5), [k, k, ci, co]);
    const pad = typeof p === 'number' ? ([[0, 0], [p, p], [p, p], [0, 0]] as [[0, 0], [number, number], [number, number], [0, 0]]) : p;
    const y = tf.conv2d(x, w, s, pad);
    const u = tf.tensor(randomArray(rng, y.size), y.shape);
    const [cpuDx, cpuDw] = await convGrads('cpu', x, w, u, s, p);
    const [wasmDx, wasmDw] = await convGrads('wasm', x, w, u, s, p);
    expect(relErr(wasmDx!, cpuDx!)).toBeLessThanOrEqual(1e-5);
    expect(relErr(wasmDw!, cpuDw!)).toBeLessThanOrEqual(1e-5);
    tf.dispose([x, w, y, u]);
  });

  it('refuse shapes they do not cover (forced mode throws, auto falls back)', async () => {
    await tf.setBackend('wasm');
    const x = tf.zeros([1, 6, 6, 3]) as tf.Tensor4D; // Ci 3: no direct input gradient
    const w = tf.zeros([3, 3, 3, 6]) as tf.Tensor4D; // Co 6: no direct filter gradient
    expect(() => tf.grads((a: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, w, 1, 'same')))([x])).toThrow(/direct input-gradient/);
    expect(() => tf.grads((b: tf.Tensor) => tf.sum(tf.conv2d(x, b as tf.Tensor4D, 1, 'same')))([w])).toThrow(/direct filter-gradient/);
    registerWasmTrainingKernels();
    try {
      const [dx, dw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same')))([x, w]);
      expect(dx!.shape).toEqual([1, 6, 6, 3]);
      expect(dw!.shape).toEqual([3, 3, 3, 6]);
      tf.dispose([dx!, dw!]);
    } finally {
      registerWasmTrainingKernels({ backpropFilter: 'direct', backpropInput: 'direct' });
      tf.dispose([x, w]);
    }
  });

  it('free every intermediate', async () => {
    await tf.setBackend('wasm');
    const rng = createRng(7);
    const x = tf.tensor4d(randomArray(rng, 2 * 12 * 12 * 8), [2, 12, 12, 8]);
    const w = tf.tensor4d(randomArray(rng, 3 * 3 * 8 * 16), [3, 3, 8, 16]);
    const step = () => tf.dispose(tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same')))([x, w]));
    step();
    const before = tf.memory();
    for (let i = 0; i < 4; i++) step();
    expect(tf.memory().numTensors).toBe(before.numTensors);
    expect(tf.memory().numDataBuffers).toBe(before.numDataBuffers);
    tf.dispose([x, w]);
  });
});

describe('the embedded WASM modules', () => {
  it('were built from the train_kernels.c in the repo (rerun scripts/build-wasm-kernels.sh after editing it)', () => {
    expect(createHash('sha256').update(readFileSync(SOURCE)).digest('hex')).toBe(TRAIN_KERNELS_SOURCE_SHA256);
  });

  it('the shared-memory build computes the filter gradient in a SharedArrayBuffer memory', () => {
    // TF.js's threaded build: memory shared, maximum 4 GiB. Layout: x, dy, dw at fixed offsets.
    const memory = new WebAssembly.Memory({ initial: 16, maximum: 65536, shared: true });
    const instance = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(TRAIN_KERNELS_WASM_SHARED, 'base64')), { env: { memory } });
    const grad = instance.exports['conv_filter_grad'] as (...a: number[]) => void;
    const [B, H, W, Ci, Co, K] = [2, 7, 6, 4, 8, 3];
    const rng = createRng(11);
    const x = randomArray(rng, B * H * W * Ci), dy = randomArray(rng, B * H * W * Co);
    const f32 = new Float32Array(memory.buffer);
    const X = 0, DY = x.length * 4, DW = DY + dy.length * 4;
    f32.set(x, X / 4);
    f32.set(dy, DY / 4);
    grad(X, DY, DW, B, H, W, Ci, H, W, Co, K, K, 1, 1, 1, 1);
    // The definition, on the host in float64.
    const ref = new Float32Array(K * K * Ci * Co);
    for (let kh = 0; kh < K; kh++) for (let kw = 0; kw < K; kw++) for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) {
      let s = 0;
      for (let b = 0; b < B; b++) for (let oy = 0; oy < H; oy++) for (let ox = 0; ox < W; ox++) {
        const iy = oy + kh - 1, ix = ox + kw - 1;
        if (iy >= 0 && iy < H && ix >= 0 && ix < W) s += x[((b * H + iy) * W + ix) * Ci + ci]! * dy[((b * H + oy) * W + ox) * Co + co]!;
      }
      ref[((kh * K + kw) * Ci + ci) * Co + co] = s;
    }
    expect(relErr(f32.slice(DW / 4, DW / 4 + ref.length), ref)).toBeLessThanOrEqual(1e-5);
  });
});
