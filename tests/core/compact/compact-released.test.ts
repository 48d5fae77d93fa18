/**
 * Compaction of the released B-FPGM checkpoints (issue 7): the compacted model must reproduce the
 * dense (masked) model's heads to 1e-4 and its detections, on the goldens' inputs, on WASM; it must
 * shed at least the MACs of the zero filters that nothing ties to a live channel; and it must
 * survive a serialize → load round trip.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createEResFD, type EResFDModel } from '../../../src/core/model/eresfd/eresfd.ts';
import { CONVS, convMacs, totalMacs } from '../../../src/core/model/eresfd/architecture.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { priorBoxes } from '../../../src/core/model/eresfd/priors.ts';
import { normalizeImage } from '../../../src/core/image/normalize-image.ts';
import { detectRows } from '../../../src/core/detect/detect.ts';
import { detectFaces } from '../../../src/core/detect/detect-faces.ts';
import { compactEResFD, type CompactedModel } from '../../../src/core/compact/compacted-model.ts';
import { loadCompacted, serializeCompacted } from '../../../src/core/compact/serialize.ts';
import type { GraphOutput } from '../../../src/core/model/eresfd/graph.ts';
import type { RgbImage, StateDict } from '../../../src/core/types.ts';

const RATES = ['10', '20', '30', '40', '50', '60'] as const;
const INPUTS = { synth_rs0: 'golden/synth_rs0/input_rgb_u8.npy', astronaut: 'golden/real/astronaut_rgb_u8.npy' };

function image(path: string): RgbImage {
  const a = readNpy(sharedPath(path));
  return { height: a.shape[0]!, width: a.shape[1]!, channels: 3, data: a.data as Uint8Array };
}

const checkpoint = (rate: string): StateDict => readCheckpoint(readShared('models', `EResFD-${rate}-pruned.pth`)).stateDict;

interface Heads {
  levels: Float32Array[];
  loc: Float32Array;
  faceScores: Float32Array;
}

async function heads(model: { predict(x: tf.Tensor4D, options?: { levels?: boolean }): GraphOutput }, img: RgbImage): Promise<Heads> {
  const out = tf.tidy(() => model.predict(tf.tensor4d(normalizeImage(img), [1, img.height, img.width, 3]), { levels: true }));
  const scores = tf.tidy(() => tf.slice(tf.softmax(out.conf, -1), [0, 0, 1], [-1, -1, 1]));
  const levels: Float32Array[] = [];
  for (const t of [...out.locLevels!, ...out.confLevels!]) levels.push((await t.data()) as Float32Array);
  const res = { levels, loc: (await out.loc.data()) as Float32Array, faceScores: (await scores.data()) as Float32Array };
  tf.dispose([out.loc, out.conf, ...out.locLevels!, ...out.confLevels!, scores]);
  return res;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Detect rows (score, x1, y1, x2, y2; normalised) must agree for every dense row with score ≥ 0.2. */
function expectSameDetections(dense: Heads, compact: Heads, img: RgbImage, what: string): number {
  const priors = priorBoxes(img.height, img.width);
  const a = detectRows(dense.loc, dense.faceScores, priors);
  const b = detectRows(compact.loc, compact.faceScores, priors);
  const strong = (rows: Float32Array): number => {
    let n = 0;
    while (n < rows.length / 5 && rows[n * 5]! >= 0.2) n++;
    return n;
  };
  const n = strong(a);
  expect(strong(b), `${what}: rows with score ≥ 0.2`).toBe(n);
  for (let r = 0; r < n; r++) {
    for (let j = 0; j < 5; j++) expect(Math.abs(a[r * 5 + j]! - b[r * 5 + j]!), `${what} row ${r} col ${j}`).toBeLessThanOrEqual(1e-4);
  }
  return n;
}

const table: Array<Record<string, string | number>> = [];

describe.skipIf(!HAS_SHARED)('compacted released checkpoints vs the dense model (wasm)', () => {
  const images = new Map<string, RgbImage>();
  beforeAll(async () => {
    await useBackend('wasm');
    for (const [name, path] of Object.entries(INPUTS)) images.set(name, image(path));
  });
  afterAll(() => {
    if (table.length) console.table(table);
  });

  it.each(RATES)('EResFD-%s-pruned: heads ≤ 1e-4, same detections, fewer parameters and MACs', async (rate) => {
    const sd = checkpoint(rate);
    const dense = createEResFD(sd);
    const { model, analysis } = compactEResFD(sd, { source: `EResFD-${rate}-pruned.pth` });
    try {
      let strongRows = 0;
      for (const [name, img] of images) {
        const d = await heads(dense, img);
        const c = await heads(model, img);
        const diffs = d.levels.map((lv, i) => maxAbsDiff(lv, c.levels[i]!));
        expect(Math.max(...diffs), `${name}: max |diff| over loc/conf L0..L5`).toBeLessThanOrEqual(1e-4);
        strongRows += expectSameDetections(d, c, img, name);
      }
      expect(strongRows).toBeGreaterThan(0); // the astronaut has a face

      // No leak: a second forward (bias maps already cached) leaves the tensor count unchanged.
      const before = tf.memory().numTensors;
      await heads(model, images.get('synth_rs0')!);
      expect(tf.memory().numTensors).toBe(before);

      const desc = model.describe();
      const paramsBefore = describeModel(sd).parameters;
      const macsBefore = totalMacs(480, 640);
      expect(desc.parameters).toBeLessThan(paramsBefore);
      expect(desc.macs480x640).toBeLessThan(macsBefore);
      // describe() agrees with the kept channel lists.
      const macs = [...analysis.convs.values()].reduce((s, c) => {
        const spec = CONVS.find((x) => x.name === c.name)!;
        return s + (c.dead ? 0 : convMacs(spec, 480, 640, c.keptIn.length, c.keptOut.length));
      }, 0);
      expect(desc.macs480x640).toBe(macs);
      table.push({
        checkpoint: `EResFD-${rate}`,
        params_before: paramsBefore,
        params_after: desc.parameters,
        macs_before: macsBefore,
        macs_after: desc.macs480x640,
        ratio: Number((macsBefore / desc.macs480x640).toFixed(3)),
        bias_maps: desc.biasMaps,
        removed_sets: analysis.sets.filter((s) => s.removable).length,
        kept_sets_with_zero_filters: analysis.sets.filter((s) => !s.removable).length,
      });
    } finally {
      dense.dispose();
      model.dispose();
    }
  });

  it('EResFD-50: sheds at least the MACs of its removable zero filters (counted independently)', () => {
    const sd = checkpoint('50');
    // 'bias-map' removes every removable zero filter; 'carrier' (default) may keep a few as carriers.
    const { model } = compactEResFD(sd, { strategy: 'bias-map' });
    // Independent count: filters whose channel nothing couples to another conv — res_layer.0 of every
    // block (read only by res_layer.3) and every FEM conv (read by the next FEM conv and the 1x1
    // heads). With bias maps every zero filter there is removable, whatever its constant. Removing
    // output filter o of a conv saves at least its full-input MACs, so the total saving is at least
    // the sum over those filters.
    let zeroFilterMacs = 0;
    let zeroFilters = 0;
    for (const spec of CONVS) {
      const uncoupled = (spec.role === 'block' && spec.name.endsWith('res_layer.0') && spec.owner !== 'base.m0.layer5') || spec.role === 'fem';
      if (!uncoupled) continue;
      const w = sd.get(`${spec.name}.weight`)!.data as Float32Array;
      const per = spec.inChannels * spec.kernel * spec.kernel;
      for (let o = 0; o < spec.outChannels; o++) {
        if (w.subarray(o * per, (o + 1) * per).every((v) => v === 0)) {
          zeroFilters++;
          zeroFilterMacs += convMacs(spec, 480, 640, spec.inChannels, 1);
        }
      }
    }
    expect(zeroFilters).toBeGreaterThan(100);
    const saved = totalMacs(480, 640) - model.describe().macs480x640;
    expect(saved).toBeGreaterThanOrEqual(zeroFilterMacs);
    model.dispose();

    // Under 'carrier' the bound holds once the filters kept as carriers are added back.
    const carrier = compactEResFD(sd);
    let carrierMacs = 0;
    carrier.analysis.carriers.forEach((k, v) => {
      const prod = carrier.analysis.graph.nodes[carrier.analysis.graph.values[v]!.producer];
      if (k !== null && prod?.kind === 'conv') carrierMacs += convMacs(prod.spec, 480, 640, prod.spec.inChannels, 1);
    });
    expect(totalMacs(480, 640) - carrier.model.describe().macs480x640 + carrierMacs).toBeGreaterThanOrEqual(zeroFilterMacs);
    carrier.model.dispose();
  });

  it("EResFD-30 under strategy 'keep' (no bias maps) is exact too, removes less, and says why", async () => {
    const sd = checkpoint('30');
    const dense = createEResFD(sd);
    const keep = compactEResFD(sd, { strategy: 'keep' });
    const map = compactEResFD(sd, { strategy: 'bias-map' });
    try {
      const img = images.get('synth_rs0')!;
      const d = await heads(dense, img);
      const c = await heads(keep.model, img);
      d.levels.forEach((lv, i) => expect(maxAbsDiff(lv, c.levels[i]!)).toBeLessThanOrEqual(1e-4));
      expect(keep.model.describe().biasMaps).toBe(0);
      expect(keep.model.describe().macs480x640).toBeGreaterThan(map.model.describe().macs480x640);
      expect(keep.analysis.sets.some((s) => !s.removable && /zero-padded 3x3 conv/.test(s.reason))).toBe(true);
    } finally {
      dense.dispose();
      keep.model.dispose();
      map.model.dispose();
    }
  });

  it('serialize → load reproduces the compacted model bit for bit; detectFaces runs it', async () => {
    const sd = checkpoint('50');
    const { model } = compactEResFD(sd, { source: 'EResFD-50-pruned.pth' });
    const dense: EResFDModel = createEResFD(sd);
    const { manifest, weights } = serializeCompacted(model);
    expect(weights.byteLength).toBe(model.describe().storedFloats * 4);
    const json = JSON.parse(JSON.stringify(manifest)) as unknown;
    let loaded: CompactedModel | null = null;
    try {
      loaded = loadCompacted(json, weights);
      expect(loaded.weights.source).toBe('EResFD-50-pruned.pth');
      const img = images.get('synth_rs0')!;
      const a = await heads(model, img);
      const b = await heads(loaded, img);
      a.levels.forEach((lv, i) => expect(maxAbsDiff(lv, b.levels[i]!)).toBe(0));

      const astronaut = images.get('astronaut')!;
      const [rd, rc] = [await detectFaces(dense, astronaut, { scoreThreshold: 0.2 }), await detectFaces(loaded, astronaut, { scoreThreshold: 0.2 })];
      expect(rc.detections.length).toBe(rd.detections.length);
      expect(rd.detections.length).toBeGreaterThan(0);
      rd.detections.forEach((row, r) => row.forEach((v, j) => expect(Math.abs(v - rc.detections[r]![j]!)).toBeLessThanOrEqual(j < 4 ? 0.05 : 1e-4)));
    } finally {
      model.dispose();
      dense.dispose();
      loaded?.dispose();
    }
  });
});
