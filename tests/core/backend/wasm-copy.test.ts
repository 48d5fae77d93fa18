/**
 * WASM copy kernels (Identity, Slice, SplitV, Concat, ResizeNearestNeighbor): the same values, bit
 * for bit, as WASM's own kernels and as the CPU backend, for short and long rows, every axis,
 * float32/int32/bool; gradients through concat/slice/split agree; Identity shares data yet
 * disposal stays exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import '../../helpers/tf-gradients.ts';
import { registerWasmCopyKernels } from '../../../src/core/backend/kernels/wasm-copy.ts';
import { createRng } from '../../../src/core/util/random.ts';

type Dtype = 'float32' | 'int32' | 'bool';
interface Input { shape: number[]; dtype: Dtype; values: number[] }

function input(shape: number[], dtype: Dtype = 'float32', seed = 1): Input {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const values = Array.from({ length: n }, () => (dtype === 'bool' ? (rng() < 0.5 ? 1 : 0) : dtype === 'int32' ? Math.floor(rng() * 1000) - 500 : rng() * 2 - 1));
  return { shape, dtype, values };
}

/** Runs `f` on fresh tensors of `inputs` on one backend and returns every output's values. */
async function runOn(backend: string, f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], inputs: Input[]): Promise<Array<{ shape: number[]; values: number[] }>> {
  await tf.setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.values, i.shape, i.dtype));
  const out = f(...xs);
  const outs = Array.isArray(out) ? out : [out];
  const res = await Promise.all(outs.map(async (t) => ({ shape: t.shape, values: Array.from(await t.data()) })));
  tf.dispose([...xs, ...outs]);
  return res;
}

/** WASM with the copy kernels = WASM's own kernels = CPU. */
async function expectSame(f: (...xs: tf.Tensor[]) => tf.Tensor | tf.Tensor[], inputs: Input[]): Promise<void> {
  const fast = await runOn('wasm', f, inputs);
  const cpu = await runOn('cpu', f, inputs);
  expect(fast).toEqual(cpu);
  const native = await runOn('wasm-native', f, inputs);
  expect(fast).toEqual(native);
}

beforeAll(async () => {
  // WASM's own kernels under another backend name, for the bit-for-bit comparison.
  const factory = tf.findBackendFactory('wasm')!;
  tf.registerBackend('wasm-native', factory);
  for (const k of tf.getKernelsForBackend('wasm')) tf.registerKernel({ ...k, backendName: 'wasm-native' });
  registerWasmCopyKernels();
  await tf.setBackend('wasm');
  await tf.ready();
});

afterAll(async () => {
  await tf.setBackend('cpu');
  tf.removeBackend('wasm-native');
});

describe('WASM copy kernels', () => {
  it('registers once', () => {
    expect(registerWasmCopyKernels()).toEqual([]);
  });

  it.each([
    { name: 'channels of NHWC', shape: [2, 5, 7, 8], begin: [0, 0, 0, 3], size: [-1, -1, -1, 4] },
    { name: 'one channel', shape: [1, 6, 9, 4], begin: [0, 0, 0, 3], size: [-1, -1, -1, 1] },
    { name: 'spatial window', shape: [2, 5, 7, 8], begin: [1, 1, 2, 0], size: [1, 3, 4, 8] },
    { name: 'every axis partial', shape: [3, 5, 7, 40], begin: [1, 2, 1, 3], size: [2, 2, 5, 35] },
    { name: 'leading axis only', shape: [4, 3, 2, 5], begin: [1, 0, 0, 0], size: [2, -1, -1, -1] },
    { name: 'long rows', shape: [3, 100], begin: [1, 10], size: [2, 80] },
    { name: '1-D', shape: [50], begin: [7], size: [30] },
    { name: 'whole tensor', shape: [2, 3, 4], begin: [0, 0, 0], size: [-1, -1, -1] },
    { name: 'unit axes (a strided tap window)', shape: [3, 2, 6, 2, 5, 2], begin: [0, 0, 1, 1, 2, 0], size: [3, 2, 4, 1, 3, 1] },
    { name: 'odd short rows', shape: [2, 3, 4, 13], begin: [0, 1, 0, 2], size: [2, 2, 4, 7] },
  ])('slice: $name', async ({ shape, begin, size }) => {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      await expectSame((x) => tf.slice(x!, begin, size), [input(shape, dtype)]);
    }
  });

  it.each([
    { name: 'FEM channels', shapes: [[1, 4, 5, 8], [1, 4, 5, 4], [1, 4, 5, 4]], axis: 3 },
    { name: 'odd channel counts', shapes: [[2, 3, 5], [2, 3, 6], [2, 3, 7]], axis: 2 },
    { name: 'max-out channels', shapes: [[2, 3, 5, 1], [2, 3, 5, 1]], axis: -1 },
    { name: 'long rows', shapes: [[2, 3, 40], [2, 3, 50]], axis: 2 },
    { name: 'rows of a matrix', shapes: [[3, 4], [5, 4]], axis: 0 },
    { name: 'spatial axis', shapes: [[2, 3, 4, 6], [2, 5, 4, 6]], axis: 1 },
    { name: 'with an empty input', shapes: [[2, 3, 0], [2, 3, 4]], axis: 2 },
    { name: 'many 1-D', shapes: [[16], [3], [1], [40], [8]], axis: 0 },
  ])('concat: $name', async ({ shapes, axis }) => {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      await expectSame((...xs) => tf.concat(xs, axis), shapes.map((s, i) => input(s, dtype, i + 1)));
    }
  });

  it.each([
    { name: 'channels', shape: [2, 4, 5, 16], splits: [8, 4, 4], axis: 3 },
    { name: 'rows', shape: [6, 7], splits: [1, 2, 3], axis: 0 },
    { name: 'middle axis, even', shape: [2, 6, 3], splits: 3, axis: 1 },
  ])('split: $name', async ({ shape, splits, axis }) => {
    await expectSame((x) => tf.split(x!, splits, axis), [input(shape)]);
  });

  it.each([
    { name: '2× (the FPN upsampling)', shape: [2, 3, 4, 5], size: [6, 8] as [number, number] },
    { name: '2×1', shape: [1, 3, 4, 16], size: [6, 4] as [number, number] },
    { name: '3×', shape: [1, 2, 3, 2], size: [6, 9] as [number, number] },
    { name: 'not a block upsampling (8 → 15)', shape: [1, 8, 8, 3], size: [15, 15] as [number, number] },
    { name: 'half-pixel centres', shape: [1, 3, 4, 2], size: [6, 8] as [number, number], halfPixel: true },
    { name: 'aligned corners', shape: [1, 3, 4, 2], size: [6, 8] as [number, number], align: true },
  ])('resizeNearestNeighbor: $name', async ({ shape, size, align, halfPixel }) => {
    for (const dtype of ['float32', 'int32'] as const) {
      await expectSame((x) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, size, align ?? false, halfPixel ?? false), [input(shape, dtype)]);
    }
  });

  it('gradients through concat, slice and split equal the CPU backend', async () => {
    const rng = createRng(7);
    const host = [[1, 3, 4, 8], [1, 3, 4, 4]].map((s) => tf.util.sizeFromShape(s)).map((n) => Float32Array.from({ length: n }, () => rng() * 2 - 1));
    const grads = async (backend: string) => {
      await tf.setBackend(backend);
      const a = tf.tensor4d(host[0]!, [1, 3, 4, 8]);
      const b = tf.tensor4d(host[1]!, [1, 3, 4, 4]);
      const f = (x: tf.Tensor, y: tf.Tensor) => {
        const c = tf.concat([x, y], 3);
        const [p, q] = tf.split(c, [5, 7], 3);
        return tf.sum(tf.mul(tf.slice(p!, [0, 1, 0, 2], [-1, 2, -1, 3]), tf.slice(q!, [0, 0, 0, 1], [-1, 2, -1, 3])));
      };
      const gs = tf.grads(f)([a, b]);
      const out = await Promise.all(gs.map(async (g) => Array.from(await g.data())));
      tf.dispose([a, b, ...gs]);
      return out;
    };
    expect(await grads('wasm')).toEqual(await grads('cpu'));
  });

  it('Identity shares the data, and every copy frees cleanly', async () => {
    await tf.setBackend('wasm');
    const dataIds = () => (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
    const before = { ...tf.memory(), dataIds: dataIds() };
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.clone(a);
    const c = tf.clone(b);
    a.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3]);
    b.dispose();
    expect(Array.from(await c.data())).toEqual([1, 2, 3]);
    c.dispose();
    const after = tf.memory();
    expect(after.numTensors).toBe(before.numTensors);
    expect(after.numBytes).toBe(before.numBytes);
    expect(dataIds()).toBe(before.dataIds);
  });
});
