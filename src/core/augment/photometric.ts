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

function brightness(px: Uint8Array, f: number): void {
  const lut = blendLut(0, f);
  for (let i = 0; i < px.length; i++) px[i] = lut[px[i]!]!;
}

function contrast(px: Uint8Array, f: number): void {
  let sum = 0;
  for (let i = 0; i < px.length; i += 3) sum += luma(px[i]!, px[i + 1]!, px[i + 2]!);
  const mean = Math.trunc(sum / (px.length / 3) + 0.5);
  const lut = blendLut(mean, f);
  for (let i = 0; i < px.length; i++) px[i] = lut[px[i]!]!;
}

function saturation(px: Uint8Array, f: number): void {
  for (let i = 0; i < px.length; i += 3) {
    const l = luma(px[i]!, px[i + 1]!, px[i + 2]!);
    px[i] = blend(l, px[i]!, f);
    px[i + 1] = blend(l, px[i + 1]!, f);
    px[i + 2] = blend(l, px[i + 2]!, f);
  }
}

const clip8 = (v: number) => (v <= 0 ? 0 : v >= 255 ? 255 : v);

/**
 * Pillow's rgb2hsv → H += delta (wrapping uint8) → hsv2rgb, per pixel. Everything that depends on one
 * uint8 channel of HSV alone (the shifted hue, its sector and fraction, S/255) is looked up in
 * 256-entry tables built with the same arithmetic, so every pixel gets exactly the per-pixel result
 * in two thirds of the time.
 */
function hue(px: Uint8Array, delta: number): void {
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
}

/** Applies a plan to an RGB copy of `img` (alpha dropped). */
export function applyPhotometric(img: RgbImage, plan: PhotometricPlan): RgbImage {
  const n = img.width * img.height;
  const px = new Uint8Array(n * 3);
  if (img.channels === 3) px.set(img.data);
  else for (let p = 0; p < n; p++) for (let c = 0; c < 3; c++) px[p * 3 + c] = img.data[p * 4 + c]!;
  if (plan.brightness !== null) brightness(px, plan.brightness);
  if (plan.contrastSecond && plan.contrast !== null) contrast(px, plan.contrast);
  if (plan.saturation !== null) saturation(px, plan.saturation);
  if (plan.hue !== null) hue(px, plan.hue);
  if (!plan.contrastSecond && plan.contrast !== null) contrast(px, plan.contrast);
  return { width: img.width, height: img.height, channels: 3, data: px };
}
