/**
 * Separable resampling of a rectangular source region to an S×S (any W×H) RGB image, modelled on
 * Pillow's `Image.resize` (libImaging/Resample.c): the filter support widens with the downscale
 * factor (antialiasing), taps outside the region are dropped and the weights renormalised, results
 * are rounded and clamped to uint8. Differences from Pillow, on purpose: the intermediate of the two
 * passes stays float (Pillow rounds it to uint8), and weights are float, not 22-bit fixed point —
 * so values can differ by ±1. The reference draws a random filter per sample anyway (SPEC §8), so
 * bit parity buys nothing.
 *
 * The region may start left of / above the image (x0 < 0): those pixels are `fill`, which is how
 * the data-anchor-sampling crop pads (SPEC §8). Region coordinates are in source pixels, edges
 * included: the region [x0, x1) × [y0, y1) is stretched onto the output.
 */
import type { RgbImage } from '../types.ts';

export type ResampleFilter = 'nearest' | 'box' | 'bilinear' | 'hamming' | 'bicubic' | 'lanczos';

/** Pillow's random training filters (`interp_mode` in utils/augmentations.preprocess). */
export const PIL_TRAIN_FILTERS: readonly ResampleFilter[] = ['bilinear', 'hamming', 'nearest', 'bicubic', 'lanczos'];

export interface Region {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}

const SUPPORT: Record<Exclude<ResampleFilter, 'nearest'>, number> = { box: 0.5, bilinear: 1, hamming: 1, bicubic: 2, lanczos: 3 };

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

function kernel(filter: Exclude<ResampleFilter, 'nearest'>): (x: number) => number {
  switch (filter) {
    case 'box':
      return (x) => (x > -0.5 && x <= 0.5 ? 1 : 0);
    case 'bilinear':
      return (x) => Math.max(0, 1 - Math.abs(x));
    case 'hamming':
      return (x) => {
        const a = Math.abs(x);
        if (a >= 1) return 0;
        return sinc(x) * (0.54 + 0.46 * Math.cos(Math.PI * x));
      };
    case 'bicubic':
      return (x) => {
        const a = Math.abs(x);
        const c = -0.5;
        if (a < 1) return ((c + 2) * a - (c + 3)) * a * a + 1;
        if (a < 2) return (((a - 5) * a + 8) * a - 4) * c;
        return 0;
      };
    case 'lanczos':
      return (x) => (Math.abs(x) < 3 ? sinc(x) * sinc(x / 3) : 0);
  }
}

interface Taps {
  /** First source index of each output sample. */
  start: Int32Array;
  count: Int32Array;
  /** `maxTaps` weights per output sample, zero-padded. */
  weights: Float32Array;
  maxTaps: number;
}

/**
 * Per-output-sample source indices and weights along one axis. Indices lie in [lo, hi); below 0
 * they denote fill pixels.
 */
function computeTaps(filter: ResampleFilter, r0: number, r1: number, outSize: number, lo: number, hi: number): Taps {
  const scale = (r1 - r0) / outSize;
  if (filter === 'nearest') {
    const start = new Int32Array(outSize);
    for (let o = 0; o < outSize; o++) start[o] = Math.min(hi - 1, Math.max(lo, Math.floor(r0 + (o + 0.5) * scale)));
    return { start, count: new Int32Array(outSize).fill(1), weights: new Float32Array(outSize).fill(1), maxTaps: 1 };
  }
  const k = kernel(filter);
  const filterScale = Math.max(scale, 1);
  const support = SUPPORT[filter] * filterScale;
  const maxTaps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * maxTaps);
  for (let o = 0; o < outSize; o++) {
    const center = r0 + (o + 0.5) * scale;
    let a = Math.max(lo, Math.floor(center - support + 0.5));
    let b = Math.min(hi, Math.floor(center + support + 0.5));
    if (b <= a) {
      // Region thinner than one tap: take the nearest valid pixel.
      a = Math.min(hi - 1, Math.max(lo, Math.floor(center)));
      b = a + 1;
    }
    let n = Math.min(b - a, maxTaps);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const w = k((a + i - center + 0.5) / filterScale);
      weights[o * maxTaps + i] = w;
      sum += w;
    }
    if (sum === 0) {
      weights[o * maxTaps] = 1;
      n = Math.max(n, 1);
      sum = 1;
    }
    for (let i = 0; i < n; i++) weights[o * maxTaps + i]! /= sum;
    start[o] = a;
    count[o] = n;
  }
  return { start, count, weights, maxTaps };
}

/**
 * Resamples `region` of `src` to `outWidth × outHeight` RGB with `filter`.
 * @param fill RGB of pixels left of / above the image (x or y < 0), e.g. DAS padding.
 */
export function resampleRegion(
  src: RgbImage, region: Region, outWidth: number, outHeight: number, filter: ResampleFilter,
  fill: readonly [number, number, number] = [0, 0, 0],
): RgbImage {
  const { width: W, height: H, channels: C, data } = src;
  if (!(region.x1 > region.x0 && region.y1 > region.y0)) throw new RangeError('resampleRegion: empty region');
  // Source pixels usable for this region: from its (possibly negative) start to its end, and never
  // past the image's right/bottom edge (the reference crop is truncated there, not padded).
  const loX = Math.floor(region.x0), hiX = Math.min(W, Math.ceil(region.x1));
  const loY = Math.floor(region.y0), hiY = Math.min(H, Math.ceil(region.y1));
  if (loX >= W || loY >= H) throw new RangeError('resampleRegion: region outside the image');
  const tx = computeTaps(filter, region.x0, region.x1, outWidth, loX, hiX);
  const ty = computeTaps(filter, region.y0, region.y1, outHeight, loY, hiY);

  let rowMin = Infinity, rowMax = -Infinity;
  for (let o = 0; o < outHeight; o++) {
    rowMin = Math.min(rowMin, ty.start[o]!);
    rowMax = Math.max(rowMax, ty.start[o]! + ty.count[o]! - 1);
  }
  const rows = rowMax - rowMin + 1;
  // Horizontal pass over the rows the vertical pass will read: [rows, outWidth, 3] float.
  const tmp = new Float32Array(rows * outWidth * 3);
  const [f0, f1, f2] = fill;
  for (let r = 0; r < rows; r++) {
    const y = rowMin + r;
    const dst = r * outWidth * 3;
    if (y < 0) {
      for (let o = 0; o < outWidth; o++) {
        tmp[dst + o * 3] = f0;
        tmp[dst + o * 3 + 1] = f1;
        tmp[dst + o * 3 + 2] = f2;
      }
      continue;
    }
    const rowBase = y * W * C;
    const { start: sx, count: nx, weights: wx } = tx;
    for (let o = 0; o < outWidth; o++) {
      const s = sx[o]!, n = nx[o]!, wb = o * tx.maxTaps;
      let a0 = 0, a1 = 0, a2 = 0;
      for (let i = 0; i < n; i++) {
        const x = s + i;
        const w = wx[wb + i]!;
        if (x < 0) {
          a0 += w * f0;
          a1 += w * f1;
          a2 += w * f2;
        } else {
          const p = rowBase + x * C;
          a0 += w * data[p]!;
          a1 += w * data[p + 1]!;
          a2 += w * data[p + 2]!;
        }
      }
      tmp[dst + o * 3] = a0;
      tmp[dst + o * 3 + 1] = a1;
      tmp[dst + o * 3 + 2] = a2;
    }
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  const rowStride = outWidth * 3;
  const wy = ty.weights;
  for (let o = 0; o < outHeight; o++) {
    const s = ty.start[o]! - rowMin, n = ty.count[o]!, wb = o * ty.maxTaps;
    const dst = o * rowStride;
    for (let j = 0; j < rowStride; j++) {
      let acc = 0;
      for (let i = 0, t = s * rowStride + j; i < n; i++, t += rowStride) acc += wy[wb + i]! * tmp[t]!;
      // Round half up and clamp, as Pillow's clip8 does.
      out[dst + j] = acc <= 0 ? 0 : acc >= 255 ? 255 : Math.floor(acc + 0.5);
    }
  }
  return { width: outWidth, height: outHeight, channels: 3, data: out };
}

/** Mirrors an RGB image left ↔ right (new buffer). */
export function flipHorizontal(img: RgbImage): RgbImage {
  const { width: W, height: H, channels: C, data } = img;
  const out = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const s = (y * W + (W - 1 - x)) * C, d = (y * W + x) * 3;
      out[d] = data[s]!;
      out[d + 1] = data[s + 1]!;
      out[d + 2] = data[s + 2]!;
    }
  }
  return { width: W, height: H, channels: 3, data: out };
}
