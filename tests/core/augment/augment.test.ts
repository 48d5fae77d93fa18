/**
 * Training augmentation (SPEC §8) and validation preprocessing: geometric properties over 500
 * seeded draws (boxes inside the image, faces whose centre leaves the crop dropped, tiny faces
 * dropped, big centred faces kept, same seed ⇒ same sample, other seed ⇒ other sample), pixel ↔ box
 * agreement on synthetic images, a real WIDER image, and the resampler against Pillow's BILINEAR
 * output stored in golden/train_step.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import { HAS_SHARED, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { createRng } from '../../../src/core/util/random.ts';
import type { RgbImage } from '../../../src/core/types.ts';
import {
  augmentTrain, DAS_FILL, planTrainAugmentation, renderTrainAugmentation, type TrainAugmentPlan,
} from '../../../src/core/augment/augment-train.ts';
import { preprocessVal } from '../../../src/core/augment/preprocess-val.ts';
import { resampleRegion } from '../../../src/core/augment/resample.ts';
import { applyPhotometric } from '../../../src/core/augment/photometric.ts';

const S = 640;
const MIN_AREA = 36;

/** A random scene: image size and faces from 2 px to most of the image, log-uniform. */
function scene(seed: number): { W: number; H: number; boxes: number[] } {
  const rng = createRng(seed * 7919 + 1);
  const W = 80 + Math.floor(rng() * 1500), H = 80 + Math.floor(rng() * 1500);
  const n = 1 + Math.floor(rng() * 12);
  const boxes: number[] = [];
  for (let i = 0; i < n; i++) {
    const w = Math.max(1, Math.round(Math.exp(Math.log(2) + rng() * Math.log(Math.min(W, H) * 0.9 / 2))));
    const h = Math.max(1, Math.round(w * (0.7 + rng() * 0.8)));
    const x = Math.floor(rng() * Math.max(1, W - w)), y = Math.floor(rng() * Math.max(1, H - h));
    boxes.push(x, y, Math.min(W, x + w), Math.min(H, y + h));
  }
  return { W, H, boxes };
}

/** Where a source point lands in the output, in [0,1] coordinates (before any flip). */
function mapToOutput(plan: TrainAugmentPlan, x: number, y: number): [number, number] {
  const r = plan.region;
  return [(x - r.x0) / (r.x1 - r.x0), (y - r.y0) / (r.y1 - r.y0)];
}

describe('planTrainAugmentation: properties over 500 seeded draws', () => {
  const plans = Array.from({ length: 500 }, (_, seed) => {
    const sc = scene(seed);
    return { seed, sc, plan: planTrainAugmentation(sc.W, sc.H, sc.boxes, createRng(seed), { size: S }) };
  });

  it('draws both crop strategies, all filters and both flips', () => {
    const kinds = new Set(plans.map((p) => p.plan.kind));
    expect(kinds).toEqual(new Set(['das', 'ssd']));
    const das = plans.filter((p) => p.plan.kind === 'das').length;
    expect(das).toBeGreaterThan(200);
    expect(das).toBeLessThan(300);
    expect(new Set(plans.map((p) => p.plan.filter)).size).toBe(5);
    expect(new Set(plans.map((p) => p.plan.flip))).toEqual(new Set([true, false]));
  });

  it('every output box lies inside the image and has positive area ≥ 36 px² at 640', () => {
    for (const { plan } of plans) {
      const t = plan.targets;
      expect(t.length % 5).toBe(0);
      for (let i = 0; i < t.length; i += 5) {
        const [x1, y1, x2, y2, label] = [t[i]!, t[i + 1]!, t[i + 2]!, t[i + 3]!, t[i + 4]!];
        for (const v of [x1, y1, x2, y2]) {
          expect(v).toBeGreaterThanOrEqual(0);
          expect(v).toBeLessThanOrEqual(1);
        }
        expect(x2).toBeGreaterThan(x1);
        expect(y2).toBeGreaterThan(y1);
        expect((x2 - x1) * S * ((y2 - y1) * S)).toBeGreaterThanOrEqual(MIN_AREA * (1 - 1e-5));
        expect(label).toBe(1);
      }
    }
  });

  it('each kept face is the mapped, clipped input box with its centre inside the crop', () => {
    for (const { sc, plan } of plans) {
      expect(new Set(plan.kept).size).toBe(plan.kept.length);
      const r = plan.region;
      // SSD labels are relative to the float sample box, pixels to its int-truncated crop.
      const tolX = 1.5 / (r.x1 - r.x0) + 1e-4, tolY = 1.5 / (r.y1 - r.y0) + 1e-4;
      plan.kept.forEach((k, j) => {
        const [x1, y1, x2, y2] = sc.boxes.slice(k * 4, k * 4 + 4) as [number, number, number, number];
        const [cx, cy] = mapToOutput(plan, (x1 + x2) / 2, (y1 + y2) / 2);
        expect(cx).toBeGreaterThan(-tolX);
        expect(cx).toBeLessThan(1 + tolX);
        expect(cy).toBeGreaterThan(-tolY);
        expect(cy).toBeLessThan(1 + tolY);
        let [a1, b1] = mapToOutput(plan, x1, y1);
        let [a2, b2] = mapToOutput(plan, x2, y2);
        if (plan.flip) [a1, a2] = [1 - a2, 1 - a1];
        const clip = (v: number) => Math.min(1, Math.max(0, v));
        const got = plan.targets.slice(j * 5, j * 5 + 4);
        // DAS scales boxes by `ratio`, pixels by round(W·ratio)/W: a sub-pixel difference.
        expect(Math.abs(got[0]! - clip(a1))).toBeLessThanOrEqual(tolX + 2e-3);
        expect(Math.abs(got[2]! - clip(a2))).toBeLessThanOrEqual(tolX + 2e-3);
        expect(Math.abs(got[1]! - clip(b1))).toBeLessThanOrEqual(tolY + 2e-3);
        expect(Math.abs(got[3]! - clip(b2))).toBeLessThanOrEqual(tolY + 2e-3);
      });
    }
  });

  it('drops faces whose centre leaves the crop or that end up tiny, and keeps the others', () => {
    let dropped = 0, droppedOutside = 0, droppedTiny = 0;
    for (const { sc, plan } of plans) {
      const kept = new Set(plan.kept);
      const r = plan.region;
      const margin = 3 / Math.min(r.x1 - r.x0, r.y1 - r.y0);
      for (let k = 0; k < sc.boxes.length / 4; k++) {
        const [x1, y1, x2, y2] = sc.boxes.slice(k * 4, k * 4 + 4) as [number, number, number, number];
        const [cx, cy] = mapToOutput(plan, (x1 + x2) / 2, (y1 + y2) / 2);
        const inside = cx > margin && cx < 1 - margin && cy > margin && cy < 1 - margin;
        const outside = cx < -margin || cx > 1 + margin || cy < -margin || cy > 1 + margin;
        const [a1, b1] = mapToOutput(plan, x1, y1).map((v) => Math.min(1, Math.max(0, v)));
        const [a2, b2] = mapToOutput(plan, x2, y2).map((v) => Math.min(1, Math.max(0, v)));
        const area = (a2! - a1!) * S * ((b2! - b1!) * S);
        if (kept.has(k)) {
          expect(outside).toBe(false);
          continue;
        }
        dropped++;
        if (outside) droppedOutside++;
        else if (area < MIN_AREA * 1.2) droppedTiny++;
        // A face clearly inside and clearly big enough must survive. DAS also asks for > 36 px² in
        // its crop before the stretch to S, i.e. area·(crop/S)² in output terms.
        const shrink = plan.kind === 'das' ? Math.max(1, (S / plan.cropSize.width) * (S / plan.cropSize.height)) : 1;
        if (inside && area > MIN_AREA * 1.2 * shrink) expect.fail(`face ${k} (${plan.kind}) inside and big enough but dropped`);
      }
    }
    expect(dropped).toBeGreaterThan(0);
    expect(droppedOutside).toBeGreaterThan(0);
    expect(droppedTiny).toBeGreaterThan(0);
  });

  it('same seed ⇒ identical plan, different seed ⇒ different plan', () => {
    for (const { seed, sc, plan } of plans.slice(0, 100)) {
      const again = planTrainAugmentation(sc.W, sc.H, sc.boxes, createRng(seed), { size: S });
      expect(again).toEqual(plan);
      const other = planTrainAugmentation(sc.W, sc.H, sc.boxes, createRng(seed + 100_000), { size: S });
      expect(other).not.toEqual(plan);
    }
  });
});

/** Grey image with non-overlapping, uniquely coloured face rectangles. */
function colouredScene(seed: number, W: number, H: number): { image: RgbImage; boxes: number[]; colours: number[][] } {
  const rng = createRng(seed);
  const data = new Uint8Array(W * H * 3).fill(60);
  const boxes: number[] = [];
  const colours: number[][] = [];
  const cell = 64;
  for (let gy = 0; gy + cell <= H; gy += cell) {
    for (let gx = 0; gx + cell <= W; gx += cell) {
      if (rng() < 0.6) continue;
      const w = 8 + Math.floor(rng() * 48), h = 8 + Math.floor(rng() * 48);
      const x = gx + Math.floor(rng() * (cell - w)), y = gy + Math.floor(rng() * (cell - h));
      const colour = [Math.floor(100 + rng() * 155), Math.floor(rng() * 255), Math.floor(rng() * 255)];
      for (let yy = y; yy < y + h; yy++) for (let xx = x; xx < x + w; xx++) data.set(colour, (yy * W + xx) * 3);
      boxes.push(x, y, x + w, y + h);
      colours.push(colour);
    }
  }
  return { image: { width: W, height: H, channels: 3, data }, boxes, colours };
}

describe('augmentTrain: pixels agree with the targets', () => {
  it('the centre pixel of every output box has its face colour (no distortion)', () => {
    const size = 256;
    let checked = 0;
    for (let seed = 0; seed < 40; seed++) {
      const { image, boxes, colours } = colouredScene(seed, 320 + (seed % 5) * 40, 256 + (seed % 3) * 64);
      if (boxes.length === 0) continue;
      const { image: out, targets, plan } = augmentTrain(image, boxes, seed, { size, distort: false });
      expect(out.width).toBe(size);
      expect(out.height).toBe(size);
      expect(out.data.length).toBe(size * size * 3);
      plan.kept.forEach((k, j) => {
        const [x1, y1, x2, y2] = targets.slice(j * 5, j * 5 + 4) as unknown as number[];
        if ((x2! - x1!) * size < 8 || (y2! - y1!) * size < 8) return; // resampling blurs thin boxes
        const px = Math.floor(((x1! + x2!) / 2) * size), py = Math.floor(((y1! + y2!) / 2) * size);
        const o = (py * size + px) * 3;
        for (let c = 0; c < 3; c++) expect(Math.abs(out.data[o + c]! - colours[k]![c]!)).toBeLessThanOrEqual(12);
        checked++;
      });
      if (plan.kind === 'das' && plan.region.x0 < -2 && plan.region.y0 < -2) {
        // Top-left padding of a DAS crop that starts outside the image: the reference's fill.
        const corner = plan.flip ? (size - 1) * 3 : 0;
        expect(Array.from(out.data.slice(corner, corner + 3))).toEqual([...DAS_FILL]);
      }
    }
    expect(checked).toBeGreaterThan(40);
  });

  it('same seed ⇒ identical image and targets; different seed ⇒ different image', () => {
    const { image, boxes } = colouredScene(3, 400, 300);
    const a = augmentTrain(image, boxes, 42, { size: 128 });
    const b = augmentTrain(image, boxes, createRng(42), { size: 128 });
    expect(b.image.data).toEqual(a.image.data);
    expect(b.targets).toEqual(a.targets);
    const c = augmentTrain(image, boxes, 43, { size: 128 });
    expect(Buffer.from(c.image.data).equals(Buffer.from(a.image.data))).toBe(false);
  });

  it('an image without faces gives an empty target list', () => {
    const img: RgbImage = { width: 50, height: 40, channels: 4, data: new Uint8Array(50 * 40 * 4).fill(9) };
    const r = augmentTrain(img, [], 1, { size: 32 });
    expect(r.targets.length).toBe(0);
    expect(r.image.channels).toBe(3);
  });
});

describe('resample and photometric primitives', () => {
  it('an identity resample copies the image; a 2× box downscale averages 2×2 blocks', () => {
    const rng = createRng(1);
    const img: RgbImage = { width: 6, height: 4, channels: 3, data: Uint8Array.from({ length: 72 }, () => Math.floor(rng() * 256)) };
    expect(resampleRegion(img, { x0: 0, y0: 0, x1: 6, y1: 4 }, 6, 4, 'bilinear').data).toEqual(img.data);
    const half = resampleRegion(img, { x0: 0, y0: 0, x1: 6, y1: 4 }, 3, 2, 'box');
    for (let y = 0; y < 2; y++) for (let x = 0; x < 3; x++) for (let c = 0; c < 3; c++) {
      const v = (dy: number, dx: number) => img.data[((2 * y + dy) * 6 + 2 * x + dx) * 3 + c]!;
      expect(half.data[(y * 3 + x) * 3 + c]).toBe(Math.floor((v(0, 0) + v(0, 1) + v(1, 0) + v(1, 1)) / 4 + 0.5));
    }
  });

  it('fills the part of a region left of / above the image', () => {
    const img: RgbImage = { width: 4, height: 4, channels: 3, data: new Uint8Array(48).fill(200) };
    const out = resampleRegion(img, { x0: -4, y0: 0, x1: 4, y1: 4 }, 8, 4, 'nearest', [1, 2, 3]);
    expect(Array.from(out.data.slice(0, 3))).toEqual([1, 2, 3]);
    expect(Array.from(out.data.slice(7 * 3, 7 * 3 + 3))).toEqual([200, 200, 200]);
  });

  it('photometric extremes behave like Pillow (factor 0 ⇒ degenerate image)', () => {
    const img: RgbImage = { width: 2, height: 1, channels: 3, data: Uint8Array.from([200, 100, 50, 10, 20, 30]) };
    const none = { contrastSecond: true, brightness: null, contrast: null, saturation: null, hue: null };
    expect(applyPhotometric(img, none).data).toEqual(img.data);
    expect(Array.from(applyPhotometric(img, { ...none, brightness: 0 }).data)).toEqual([0, 0, 0, 0, 0, 0]);
    const gray = applyPhotometric(img, { ...none, saturation: 0 }).data;
    expect(gray[0]).toBe(gray[1]);
    expect(gray[1]).toBe(gray[2]);
    const flat = applyPhotometric(img, { ...none, contrast: 0 }).data;
    expect(new Set(flat).size).toBe(1);
    const hue0 = applyPhotometric(img, { ...none, hue: 0 }).data; // HSV round trip only
    for (let i = 0; i < 6; i++) expect(Math.abs(hue0[i]! - img.data[i]!)).toBeLessThanOrEqual(3);
    const shifted = applyPhotometric(img, { ...none, hue: 17 }).data;
    expect(Array.from(shifted)).not.toEqual(Array.from(img.data));
  });
});

function decodeJpeg(path: string): RgbImage {
  const d = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: false });
  return { width: d.width, height: d.height, channels: 3, data: d.data };
}

/** Pixel boxes (x1, y1, x2, y2) of one image from the official WIDER gt file. */
function widerBoxes(file: string): number[] {
  const lines = readFileSync(sharedPath('widerface/wider_face_split/wider_face_train_bbx_gt.txt'), 'utf8').split('\n');
  const i = lines.findIndex((l) => l.trim() === file);
  const n = Number(lines[i + 1]);
  const boxes: number[] = [];
  for (let k = 0; k < n; k++) {
    const [x, y, w, h] = lines[i + 2 + k]!.trim().split(/\s+/).map(Number) as [number, number, number, number];
    if (w > 0 && h > 0) boxes.push(x, y, x + w, y + h);
  }
  return boxes;
}

describe.skipIf(!HAS_SHARED)('real WIDER images', () => {
  it('preprocessVal (bilinear) is within ±3 of Pillow BILINEAR on the train_step images', () => {
    for (const [file, golden] of [
      ['1--Handshaking/1_Handshaking_Handshaking_1_409.jpg', 'img0_rgb_u8_320.npy'],
      ['1--Handshaking/1_Handshaking_Handshaking_1_389.jpg', 'img1_rgb_u8_320.npy'],
    ] as const) {
      const img = decodeJpeg(sharedPath('widerface/WIDER_train/images', file));
      const { image, targets } = preprocessVal(img, widerBoxes(file), { size: 320 });
      const ref = readNpy(sharedPath('golden/train_step', golden)).data as Uint8Array;
      let sum = 0, max = 0;
      for (let i = 0; i < ref.length; i++) {
        const d = Math.abs(image.data[i]! - ref[i]!);
        sum += d;
        max = Math.max(max, d);
      }
      // Measured: mean 0.28 / 0.48, max 2 (jpeg-js vs libjpeg decoding included).
      expect(max).toBeLessThanOrEqual(3);
      expect(sum / ref.length).toBeLessThanOrEqual(1);
      if (golden === 'img0_rgb_u8_320.npy') {
        expect(Array.from(targets)).toEqual(Array.from(Float32Array.from([0.4560547, 0.07421875, 0.5654297, 0.19140625, 1])));
      }
    }
  });

  it('augments a crowded WIDER photo reproducibly with every box inside the image', () => {
    const lines = readFileSync(sharedPath('widerface/wider_face_split/wider_face_train_bbx_gt.txt'), 'utf8').split('\n');
    // The first image with ≥ 15 faces.
    let file = '';
    for (let i = 0; i < lines.length; i++) {
      if (/\.jpg$/.test(lines[i]!.trim()) && Number(lines[i + 1]) >= 15) { file = lines[i]!.trim(); break; }
    }
    expect(file).not.toBe('');
    const img = decodeJpeg(sharedPath('widerface/WIDER_train/images', file));
    const boxes = widerBoxes(file);
    const kinds = new Set<string>();
    for (let seed = 0; seed < 6; seed++) {
      const r = augmentTrain(img, boxes, seed, { size: S });
      kinds.add(r.plan.kind);
      expect(r.image.width).toBe(S);
      expect(r.image.data.length).toBe(S * S * 3);
      for (let i = 0; i < r.targets.length; i += 5) {
        for (let c = 0; c < 4; c++) {
          expect(r.targets[i + c]).toBeGreaterThanOrEqual(0);
          expect(r.targets[i + c]).toBeLessThanOrEqual(1);
        }
      }
      if (seed === 0) {
        const again = renderTrainAugmentation(img, planTrainAugmentation(img.width, img.height, boxes, createRng(0), { size: S }));
        expect(Buffer.from(again.data).equals(Buffer.from(r.image.data))).toBe(true);
      }
    }
    expect(kinds.size).toBeGreaterThanOrEqual(1);
  });
});
