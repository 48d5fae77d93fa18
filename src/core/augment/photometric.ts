/**
 * Photometric distortion of `utils/augmentations.distort_image` (SPEC §8), with Pillow's pixel
 * arithmetic (ImageEnhance = `Image.blend(degenerate, img, factor)`: `trunc(clip(d + f·(v − d)))`):
 *
 *   brightness  degenerate black                  factor 1 + U(−0.125, 0.125)
 *   contrast    degenerate = mean of the L image  factor 1 + U(−0.5, 0.5)
 *   saturation  degenerate = the pixel's L value  factor 1 + U(−0.5, 0.5)
 *   hue         PIL HSV, H += U(−18, 18) (H in 0..255), written back into uint8
 *
 * each applied with p = 0.5, order B,C,S,H with p = 0.5 else B,S,H,C. L is Pillow's
 * `(19595 R + 38470 G + 7471 B + 0x8000) >> 16`. The hue shift is float added to a uint8 array and
 * stored back by numpy's unsafe cast, which wraps (e.g. −5 → 251): H is circular, so wrapping is
 * also the right thing.
 */
import type { RgbImage } from '../types.ts';
import type { Region } from './resample.ts';

export interface PhotometricPlan {
  /** `true`: brightness, contrast, saturation, hue; `false`: brightness, saturation, hue, contrast. */
  contrastSecond: boolean;
  /** Factor per enhancement, or null when that coin flip said no. */
  brightness: number | null;
  contrast: number | null;
  saturation: number | null;
  /** Added to PIL's H channel (0..255 scale), or null. */
  hue: number | null;
}

export const DISTORT_CONFIG = {
  brightnessProb: 0.5, brightnessDelta: 0.125,
  contrastProb: 0.5, contrastDelta: 0.5,
  saturationProb: 0.5, saturationDelta: 0.5,
  hueProb: 0.5, hueDelta: 18,
} as const;

function uniform(rng: () => number, a: number, b: number): number {
  return a + (b - a) * rng();
}

/** Draws the distortion parameters in the reference's order (order coin, then B, C/S, …). */
export function planPhotometric(rng: () => number): PhotometricPlan {
  const c = DISTORT_CONFIG;
  const contrastSecond = rng() > 0.5;
  const draw = (prob: number, delta: number, offset: number) => (rng() < prob ? offset + uniform(rng, -delta, delta) : null);
  const brightness = draw(c.brightnessProb, c.brightnessDelta, 1);
  let contrast: number | null = null;
  if (contrastSecond) contrast = draw(c.contrastProb, c.contrastDelta, 1);
  const saturation = draw(c.saturationProb, c.saturationDelta, 1);
  const hue = draw(c.hueProb, c.hueDelta, 0);
  if (!contrastSecond) contrast = draw(c.contrastProb, c.contrastDelta, 1);
  return { contrastSecond, brightness, contrast, saturation, hue };
}

function luma(r: number, g: number, b: number): number {
  return (r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16;
}

function blend(d: number, v: number, f: number): number {
  const t = d + f * (v - d);
  return t <= 0 ? 0 : t >= 255 ? 255 : Math.trunc(t);
}

/** Per-value lookup of `blend(d, v, f)`: brightness and contrast map each channel value alone. */
function blendLut(d: number, f: number): Uint8Array {
  const lut = new Uint8Array(256);
  for (let v = 0; v < 256; v++) lut[v] = blend(d, v, f);
  return lut;
}

/** A pointwise stage over a contiguous run of RGB pixels, its tables built once per image. */
type PixelStage = (px: Uint8Array) => void;

function lutStage(lut: Uint8Array): PixelStage {
  return (px) => {
    for (let i = 0; i < px.length; i++) px[i] = lut[px[i]!]!;
  };
}

/** Pillow's contrast degenerate: the mean of the L image, rounded (ImageStat + int(mean + 0.5)). */
function meanLuma(px: Uint8Array | Uint8ClampedArray, lut: Uint8Array | null): number {
  let sum = 0;
  if (lut) for (let i = 0; i < px.length; i += 3) sum += luma(lut[px[i]!]!, lut[px[i + 1]!]!, lut[px[i + 2]!]!);
  else for (let i = 0; i < px.length; i += 3) sum += luma(px[i]!, px[i + 1]!, px[i + 2]!);
  return Math.trunc(sum / (px.length / 3) + 0.5);
}

function saturation(f: number): PixelStage {
  return (px) => {
    for (let i = 0; i < px.length; i += 3) {
      const l = luma(px[i]!, px[i + 1]!, px[i + 2]!);
      px[i] = blend(l, px[i]!, f);
      px[i + 1] = blend(l, px[i + 1]!, f);
      px[i + 2] = blend(l, px[i + 2]!, f);
    }
  };
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/**
 * Pillow's rgb2hsv → H += delta (wrapping uint8) → hsv2rgb, per pixel. Everything that depends on one
 * uint8 channel of HSV alone (the shifted hue, its sector and fraction, S/255) is looked up in
 * 256-entry tables built with the same arithmetic, so every pixel gets exactly the per-pixel result
 * in two thirds of the time.
 */
function hue(delta: number): PixelStage {
  const shifted = new Uint8Array(256);
  const sectorOf = new Uint8Array(256);
  const fracOf = new Float64Array(256);
  const satOf = new Float64Array(256);
  for (let k = 0; k < 256; k++) {
    shifted[k] = (((Math.trunc(k + delta)) % 256) + 256) % 256;
    const hh = (k * 6) / 255;
    sectorOf[k] = Math.floor(hh) % 6;
    fracOf[k] = hh - Math.floor(hh);
    satOf[k] = k / 255;
  }
  return (px) => {
    for (let i = 0; i < px.length; i += 3) {
      const r = px[i]!, g = px[i + 1]!, b = px[i + 2]!;
      const maxc = Math.max(r, g, b), minc = Math.min(r, g, b);
      if (maxc === minc) continue; // s = 0: hue is irrelevant, RGB unchanged
      const cr = maxc - minc;
      const s8 = clip8(Math.trunc((cr / maxc) * 255));
      const v = maxc;
      if (s8 === 0) {
        px[i] = px[i + 1] = px[i + 2] = v;
        continue;
      }
      const rc = (maxc - r) / cr, gc = (maxc - g) / cr, bc = (maxc - b) / cr;
      // (h/6 + 1) mod 1 without a float modulo: h/6 + 1 lies in [5/6, 11/6], and x − 1 is exact there.
      let h = (r === maxc ? bc - gc : g === maxc ? 2 + rc - bc : 4 + gc - rc) / 6 + 1;
      if (h >= 1) h -= 1;
      const hNew = shifted[clip8(Math.trunc(h * 255))]!;
      const frac = fracOf[hNew]!;
      const fs = satOf[s8]!;
      const p = clip8(Math.round(v * (1 - fs)));
      const q = clip8(Math.round(v * (1 - fs * frac)));
      const t = clip8(Math.round(v * (1 - fs * (1 - frac))));
      let rr: number, gg: number, bb: number;
      switch (sectorOf[hNew]) {
        case 0: rr = v; gg = t; bb = p; break;
        case 1: rr = q; gg = v; bb = p; break;
        case 2: rr = p; gg = v; bb = t; break;
        case 3: rr = p; gg = q; bb = v; break;
        case 4: rr = t; gg = p; bb = v; break;
        default: rr = v; gg = p; bb = q; break;
      }
      px[i] = rr;
      px[i + 1] = gg;
      px[i + 2] = bb;
    }
  };
}

/**
 * Applies a plan to an RGB copy of `img` (alpha dropped). With `window` (integer pixel bounds,
 * [x0, x1) × [y0, y1), clipped to the image), only the pixels inside it
 * are computed (the others stay 0): every stage is pointwise except contrast's degenerate, the mean
 * of the whole image's L at that point, which is still taken over the whole image — so the window's
 * pixels equal the full result's. When contrast comes last (B, S, H, C) that mean needs B, S and H
 * everywhere, and the whole image is computed.
 */
export function applyPhotometric(img: RgbImage, plan: PhotometricPlan, window?: Region): RgbImage {
  const { width: W, height: H } = img;
  const n = W * H;
  const px = new Uint8Array(n * 3);
  const contrastLast = !plan.contrastSecond && plan.contrast !== null;
  const win = window && !contrastLast ? clampWindow(window, W, H) : { x0: 0, y0: 0, x1: W, y1: H };
  const rgb = img.channels === 3 ? img.data : null;
  for (let y = win.y0; y < win.y1; y++) {
    const a = y * W + win.x0, b = y * W + win.x1;
    if (rgb) px.set(rgb.subarray(a * 3, b * 3), a * 3);
    else for (let p = a; p < b; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = img.data[p * 4 + c]!;
  }
  const bLut = plan.brightness !== null ? blendLut(0, plan.brightness) : null;
  const stages: PixelStage[] = [];
  if (bLut) stages.push(lutStage(bLut));
  if (plan.contrastSecond && plan.contrast !== null) {
    // The mean of L after brightness, over the whole image, read from the source.
    const whole = rgb ?? rgbCopy(img);
    stages.push(lutStage(blendLut(meanLuma(whole, bLut), plan.contrast)));
  }
  if (plan.saturation !== null) stages.push(saturation(plan.saturation));
  if (plan.hue !== null) stages.push(hue(plan.hue));
  for (let y = win.y0; y < win.y1; y++) {
    const row = px.subarray((y * W + win.x0) * 3, (y * W + win.x1) * 3);
    for (const stage of stages) stage(row);
  }
  if (contrastLast) lutStage(blendLut(meanLuma(px, null), plan.contrast!))(px);
  return { width: W, height: H, channels: 3, data: px };
}

function clampWindow(w: Region, W: number, H: number): Region {
  const x0 = Math.max(0, Math.min(W, w.x0)), y0 = Math.max(0, Math.min(H, w.y0));
  return { x0, y0, x1: Math.max(x0, Math.min(W, w.x1)), y1: Math.max(y0, Math.min(H, w.y1)) };
}

function rgbCopy(img: RgbImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) out[p * 3 + c] = img.data[p * 4 + c]!;
  return out;
}
