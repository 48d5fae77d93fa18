/**
 * The training augmentation distorts only the source pixels its resample reads (issue 14: the
 * photometric distortion of a whole 1024-px WIDER image was the largest part of a 320² batch's
 * preparation). For every kind of plan — each enhancement on or off, both orders, contrast last (the
 * whole-image path), RGB and RGBA input, windows clipped at the edges — the windowed result equals the
 * whole-image distortion inside the window, and rendered samples equal resampling the whole-image
 * distortion.
 */
import { describe, expect, it } from 'vitest';
import { createRng } from '../../../src/core/util/random.ts';
import type { RgbImage } from '../../../src/core/types.ts';
import { applyPhotometric, planPhotometric, type PhotometricPlan } from '../../../src/core/augment/photometric.ts';
import { planTrainAugmentation, renderTrainAugmentation } from '../../../src/core/augment/augment-train.ts';
import { flipHorizontal, resampleRegion } from '../../../src/core/augment/resample.ts';

function noiseImage(seed: number, width: number, height: number, channels: 3 | 4): RgbImage {
  const rng = createRng(seed);
  const data = new Uint8Array(width * height * channels);
  // Smooth ramps plus noise: every HSV sector, grey pixels (s = 0) and saturated ones.
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < channels; c++) {
    data[(y * width + x) * channels + c] = (x * (c + 1) * 3 + y * (5 - c) + Math.floor(rng() * 40)) % 256;
  }
  for (let i = 0; i < data.length; i += channels * 7) data.fill(128, i, i + 3); // grey pixels
  return { width, height, channels, data };
}

const plans: PhotometricPlan[] = [];
for (const contrastSecond of [true, false]) {
  for (let mask = 0; mask < 16; mask++) {
    plans.push({
      contrastSecond,
      brightness: mask & 1 ? 1.11 : null,
      contrast: mask & 2 ? 0.62 : null,
      saturation: mask & 4 ? 1.43 : null,
      hue: mask & 8 ? -13.7 : null,
    });
  }
}

describe('photometric distortion in a window', () => {
  it.each([3, 4] as const)('equals the whole-image distortion inside the window (%i channels, 32 plans)', (channels) => {
    const img = noiseImage(channels, 61, 47, channels);
    const windows = [{ x0: 5, y0: 3, x1: 40, y1: 30 }, { x0: -4, y0: 20, x1: 70, y1: 60 }, { x0: 0, y0: 0, x1: 61, y1: 47 }];
    for (const plan of plans) {
      const whole = applyPhotometric(img, plan).data;
      for (const w of windows) {
        const part = applyPhotometric(img, plan, w).data;
        const x0 = Math.max(0, w.x0), y0 = Math.max(0, w.y0), x1 = Math.min(61, w.x1), y1 = Math.min(47, w.y1);
        for (let y = y0; y < y1; y++) {
          const a = (y * 61 + x0) * 3, b = (y * 61 + x1) * 3;
          expect(Array.from(part.subarray(a, b)), JSON.stringify({ plan, w, y })).toEqual(Array.from(whole.subarray(a, b)));
        }
      }
    }
  });

  it('renderTrainAugmentation equals resampling the whole-image distortion (200 seeded samples)', () => {
    const img = noiseImage(9, 203, 151, 3);
    const boxes = [40, 30, 70, 66, 120, 80, 150, 120, 10, 100, 30, 125];
    let distorted = 0;
    for (let seed = 1; seed <= 200; seed++) {
      const plan = planTrainAugmentation(img.width, img.height, boxes, createRng(seed), { size: 64 });
      const ours = renderTrainAugmentation(img, plan);
      const src = plan.photometric ? applyPhotometric(img, plan.photometric) : img;
      const resampled = resampleRegion(src, plan.region, 64, 64, plan.filter, plan.fill);
      const reference = plan.flip ? flipHorizontal(resampled) : resampled;
      expect(Array.from(ours.data), `seed ${seed}`).toEqual(Array.from(reference.data));
      if (plan.photometric) distorted++;
    }
    expect(distorted).toBeGreaterThan(150); // the plans did distort: this compared something
  });

  it('the plans the sampler draws cover both orders', () => {
    const rng = createRng(3);
    const orders = new Set(Array.from({ length: 50 }, () => planPhotometric(rng).contrastSecond));
    expect(orders).toEqual(new Set([true, false]));
  });
});
