/**
 * Fidelity of the TF.js EResFD against the PyTorch goldens (SPEC §10): per-level loc/conf ≤ 1e-4,
 * priors ≤ 1e-6, Detect rows with score ≥ 0.2 identical in order with boxes ≤ 1e-3, on CPU and WASM.
 */
import { describe, expect, it, beforeAll, afterAll } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { readNpy, readNpz, type NpyArray } from '../../helpers/npy.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createEResFD, type EResFDModel } from '../../../src/core/model/eresfd/eresfd.ts';
import { priorBoxes } from '../../../src/core/model/eresfd/priors.ts';
import { normalizeImage } from '../../../src/core/image/normalize-image.ts';
import { detectRows } from '../../../src/core/detect/detect.ts';
import { detectFaces } from '../../../src/core/detect/detect-faces.ts';
import type { BackendName, RgbImage } from '../../../src/core/types.ts';

interface Case {
  name: string;
  dir: string;
  model: string;
  input: string;
  detections: boolean;
}

const CASES: Case[] = [
  { name: 'synth_rs0', dir: 'golden/synth_rs0', model: 'EResFD-original.pth', input: 'golden/synth_rs0/input_rgb_u8.npy', detections: true },
  { name: 'synth_ramp', dir: 'golden/synth_ramp', model: 'EResFD-original.pth', input: 'golden/synth_ramp/input_rgb_u8.npy', detections: true },
  { name: 'astronaut', dir: 'golden/real/astronaut', model: 'EResFD-original.pth', input: 'golden/real/astronaut_rgb_u8.npy', detections: true },
  { name: 'pruned30_synth_rs0', dir: 'golden/pruned30_synth_rs0', model: 'EResFD-30-pruned.pth', input: 'golden/synth_rs0/input_rgb_u8.npy', detections: false },
];

function imageFromNpy(a: NpyArray): RgbImage {
  const [height, width] = a.shape as [number, number, number];
  return { width: width!, height: height!, channels: 3, data: a.data as Uint8Array };
}

/** Reads a tensor made for the comparison and frees it, so the leak check sees only the model's tensors. */
async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return (await t.data()) as Float32Array;
  } finally {
    t.dispose();
  }
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const BACKENDS: BackendName[] = ['wasm', 'cpu'];

describe.skipIf(!HAS_SHARED).each(BACKENDS)('EResFD vs PyTorch goldens on %s', (backend) => {
  const models = new Map<string, EResFDModel>();
  beforeAll(async () => {
    await useBackend(backend);
    for (const file of new Set(CASES.map((c) => c.model))) {
      models.set(file, createEResFD(readCheckpoint(readShared('models', file)).stateDict));
    }
  });
  afterAll(() => {
    for (const m of models.values()) m.dispose();
  });

  it.each(CASES)('$name: heads, priors and detections', async (c) => {
    const image = imageFromNpy(readNpy(sharedPath(c.input)));
    const model = models.get(c.model)!;
    const before = tf.memory().numTensors;
    const out = tf.tidy(() => model.predict(tf.tensor4d(normalizeImage(image), [1, image.height, image.width, 3]), { keepSources: true, levels: true }));
    for (let k = 0; k < 6; k++) {
      const loc = readNpy(sharedPath(c.dir, `loc_L${k}.npy`));
      const conf = readNpy(sharedPath(c.dir, `conf_L${k}.npy`));
      expect(out.locLevels![k]!.shape.slice(1)).toEqual(loc.shape);
      expect(out.confLevels![k]!.shape.slice(1)).toEqual(conf.shape);
      expect(maxAbsDiff(await out.locLevels![k]!.data(), loc.data as Float32Array), `loc L${k}`).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(await out.confLevels![k]!.data(), conf.data as Float32Array), `conf L${k}`).toBeLessThanOrEqual(1e-4);
    }
    if (c.detections) {
      const sources = readNpz(sharedPath(c.dir, 'sources.npz'));
      for (let k = 0; k < 6; k++) {
        // FEM outputs are stored CHW; compare after transposing ours back.
        const ours = await take(tf.transpose(out.sources![k]!, [0, 3, 1, 2]));
        expect(maxAbsDiff(ours, sources[`s${k}`]!.data as Float32Array), `S${k}`).toBeLessThanOrEqual(1e-4);
      }

      const priorsGolden = readNpy(sharedPath(c.dir, 'priors.npy'));
      const priors = priorBoxes(image.height, image.width);
      expect(maxAbsDiff(priors, priorsGolden.data as Float32Array)).toBeLessThanOrEqual(1e-6);

      const scores = await take(tf.tidy(() => tf.slice(tf.softmax(out.conf, -1), [0, 0, 1], [-1, -1, 1])));
      const rows = detectRows((await out.loc.data()) as Float32Array, scores, priors);
      const golden = readNpy(sharedPath(c.dir, 'detections.npy')); // [750, 5] class-1 rows (score, x1, y1, x2, y2)
      const g = golden.data as Float32Array;
      let compared = 0;
      for (let r = 0; r < 750 && g[r * 5]! >= 0.2; r++) {
        for (let j = 0; j < 5; j++) expect(Math.abs(rows[r * 5 + j]! - g[r * 5 + j]!), `row ${r} col ${j}`).toBeLessThanOrEqual(1e-3);
        compared++;
      }
      expect(rows.length / 5).toBe(Math.min(750, rows.length / 5));
      if (c.name === 'astronaut') expect(compared).toBeGreaterThanOrEqual(1);
    }
    tf.dispose([out.loc, out.conf, ...out.locLevels!, ...out.confLevels!, ...(out.sources ?? [])]);
    tf.disposeVariables();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('astronaut single-pass detections in original pixels match det0', async () => {
    const image = imageFromNpy(readNpy(sharedPath('golden/real/astronaut_rgb_u8.npy')));
    const res = await detectFaces(models.get('EResFD-original.pth')!, image);
    expect(res.shrink).toBe(1);
    const det0 = readNpy(sharedPath('golden/real/astronaut.det0.npy'));
    const g = det0.data as Float64Array | Float32Array;
    const cols = det0.shape[1]!;
    let compared = 0;
    for (let r = 0; r < det0.shape[0]! && g[r * cols + 4]! >= 0.2; r++) {
      for (let j = 0; j < 5; j++) expect(Math.abs(res.detections[r]![j]! - g[r * cols + j]!)).toBeLessThanOrEqual(j < 4 ? 0.05 : 1e-3);
      compared++;
    }
    expect(compared).toBeGreaterThan(0);
    const top = res.detections[0]!;
    expect(top[4]).toBeGreaterThan(0.99);
    expect(top[0]).toBeCloseTo(179.07, 0);
    expect(top[3]).toBeCloseTo(176.29, 0);
  });
});
