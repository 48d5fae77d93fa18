/**
 * Child process of tests/core/backend/webgpu-node.test.ts (run with the Vulkan driver's environment):
 * EResFD — dense original and a compacted released pruned checkpoint — on TF.js WebGPU through Dawn in
 * Node vs the WASM forward (which eresfd-golden.test.ts ties to PyTorch at 1e-4), on a 96×128 crop of
 * the goldens' synthetic input (a software adapter takes ~1 min per 480×640 forward here). Prints one
 * JSON line: max |diff| per model, or `{"adapter": null}` when Dawn finds no adapter.
 */
import * as tf from '@tensorflow/tfjs-core';
import { installNodeWebGPU } from '../../src/platform/node/webgpu.ts';
import { selectNodeBackend } from '../../src/platform/node/backends.ts';
import { compactEResFD, createEResFD, type FaceModel, type StateDict } from '../../src/core/index.ts';
import { readCheckpoint } from '../../src/core/checkpoint/read-checkpoint.ts';
import { normalizeImage } from '../../src/core/image/normalize-image.ts';
import { readNpy } from './npy.ts';
import { readShared, sharedPath } from './shared.ts';

const H = 96, W = 128;
let adapter;
try {
  adapter = await installNodeWebGPU();
} catch (e) {
  console.log(JSON.stringify({ adapter: null, error: (e as Error).message }));
  process.exit(0);
}
const img = readNpy(sharedPath('golden', 'synth_rs0', 'input_rgb_u8.npy'));
const full = img.data as Uint8Array;
const fullW = img.shape[1]!;
const crop = new Uint8Array(H * W * 3);
for (let y = 0; y < H; y++) crop.set(full.subarray(((100 + y) * fullW + 200) * 3, ((100 + y) * fullW + 200 + W) * 3), y * W * 3);
const input = normalizeImage({ height: H, width: W, channels: 3, data: crop });
const build: Record<string, (sd: StateDict) => FaceModel & { dispose(): void }> = { dense: createEResFD, compacted: (sd) => compactEResFD(sd).model };
const cases = [['EResFD-original.pth', 'dense'], ['EResFD-30-pruned.pth', 'compacted']] as const;

async function heads(backend: string, checkpoint: string, kind: string): Promise<Float32Array[]> {
  await selectNodeBackend(backend);
  const model = build[kind]!(readCheckpoint(readShared('models', checkpoint)).stateDict);
  const x = tf.tensor4d(input, [1, H, W, 3]);
  const out = tf.tidy(() => model.predict(x, { levels: true }));
  const res = await Promise.all([...out.locLevels!, ...out.confLevels!].map(async (t) => (await t.data()) as Float32Array));
  tf.dispose([x, out.loc, out.conf, ...out.locLevels!, ...out.confLevels!]);
  model.dispose();
  return res;
}

const results: Record<string, number> = {};
for (const [checkpoint, kind] of cases) {
  const [a, b] = [await heads('wasm', checkpoint, kind), await heads('webgpu', checkpoint, kind)];
  let worst = 0;
  a.forEach((levels, i) => levels.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - b[i]![j]!)))));
  results[`${checkpoint} ${kind}`] = worst;
}
console.log(JSON.stringify({ adapter, backend: tf.getBackend(), results }));
process.exit(0);
