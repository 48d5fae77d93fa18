/**
 * ONNX export (issue 14): the exported dense and compacted EResFD, run by ONNX Runtime Web's WASM
 * backend in Node, reproduce the studio's own forward (TF.js WASM) to 1e-4 on every head output, for
 * the original checkpoint, a compacted released pruned one, and a dense export of that pruned one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import * as ort from 'onnxruntime-web';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createEResFD } from '../../../src/core/model/eresfd/eresfd.ts';
import { normalizeImage } from '../../../src/core/image/normalize-image.ts';
import { compactEResFD } from '../../../src/core/compact/compacted-model.ts';
import { denseWeights, exportEResFDOnnx, ONNX_INPUT } from '../../../src/core/onnx/index.ts';
import type { FaceModel } from '../../../src/core/detect/detect-faces.ts';
import type { RgbImage } from '../../../src/core/types.ts';

ort.env.wasm.numThreads = 1;

function astronaut(): RgbImage {
  const a = readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy'));
  return { height: a.shape[0]!, width: a.shape[1]!, channels: 3, data: a.data as Uint8Array };
}

/** NHWC → NCHW, the ONNX input layout. */
function toNchw(nhwc: Float32Array, h: number, w: number): Float32Array {
  const out = new Float32Array(nhwc.length);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) out[(c * h + y) * w + x] = nhwc[(y * w + x) * 3 + c]!;
  return out;
}

async function studioHeads(model: FaceModel, input: Float32Array, h: number, w: number): Promise<{ loc: Float32Array; conf: Float32Array }> {
  const out = tf.tidy(() => model.predict(tf.tensor4d(input, [1, h, w, 3])));
  const res = { loc: (await out.loc.data()) as Float32Array, conf: (await out.conf.data()) as Float32Array };
  tf.dispose([out.loc, out.conf, ...(out.locLevels ?? []), ...(out.confLevels ?? [])]);
  return res;
}

async function onnxHeads(bytes: Uint8Array, input: Float32Array, h: number, w: number): Promise<{ loc: Float32Array; conf: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ [ONNX_INPUT]: new ort.Tensor('float32', toNchw(input, h, w), [1, 3, h, w]) });
    return { loc: out.loc!.data as Float32Array, conf: out.conf!.data as Float32Array, dims: out.loc!.dims };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe.skipIf(!HAS_SHARED)('ONNX export runs in ONNX Runtime Web with the studio forward', () => {
  let img: RgbImage;
  let input: Float32Array;
  beforeAll(async () => {
    await useBackend('wasm');
    img = astronaut();
    input = normalizeImage(img);
  });
  afterAll(() => tf.disposeVariables());

  const check = async (model: FaceModel & { dispose(): void }, bytes: Uint8Array): Promise<void> => {
    try {
      const studio = await studioHeads(model, input, img.height, img.width);
      const onnx = await onnxHeads(bytes, input, img.height, img.width);
      expect(onnx.dims).toEqual([1, studio.loc.length / 4, 4]);
      expect(maxAbsDiff(onnx.loc, studio.loc)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(onnx.conf, studio.conf)).toBeLessThanOrEqual(1e-4);
    } finally {
      model.dispose();
    }
  };

  it('dense original checkpoint', async () => {
    const sd = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
    await check(createEResFD(sd), exportEResFDOnnx(denseWeights(sd, 'EResFD-original.pth')));
  }, 120_000);

  it('compacted EResFD-50-pruned (fewer conv weights in the file than dense)', async () => {
    const sd = readCheckpoint(readShared('models', 'EResFD-50-pruned.pth')).stateDict;
    const { model } = compactEResFD(sd, { source: 'EResFD-50-pruned.pth' });
    const bytes = exportEResFDOnnx(model.weights);
    const dense = exportEResFDOnnx(denseWeights(sd, 'EResFD-50-pruned.pth'));
    expect(bytes.length).toBeLessThan(0.8 * dense.length);
    await check(model, bytes);
    // Its dense export against the masked dense forward, too.
    await check(createEResFD(sd), dense);
  }, 120_000);

  it('compacted under the bias-map strategy (border convs as a second conv over ones)', async () => {
    const sd = readCheckpoint(readShared('models', 'EResFD-60-pruned.pth')).stateDict;
    const { model } = compactEResFD(sd, { strategy: 'bias-map', source: 'EResFD-60-pruned.pth' });
    expect(model.describe().biasMaps).toBeGreaterThan(0);
    await check(model, exportEResFDOnnx(model.weights));
  }, 120_000);
});
