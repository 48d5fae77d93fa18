/**
 * `cv2.resize(img, None, fx=s, fy=s, interpolation=INTER_LINEAR)` on uint8 images, bit-exact with
 * OpenCV's fixed-point path (imgproc/src/resize.cpp): 11-bit coefficients, horizontal pass into
 * ints, vertical pass `((b0·(S0>>4))>>16 + (b1·(S1>>4))>>16 + 2) >> 2`. OpenCV swaps in the fast
 * INTER_AREA path when the scale is exactly 1/2 both ways, so that case is a 2×2 mean.
 * Used by the WIDER protocols (SPEC §6.2) where the reference resizes with cv2.
 */
import type { RgbImage } from '../types.ts';

const COEF_SCALE = 2048;

/** Output size as cv2 computes it from fx/fy: saturate_cast<int>(size·f), i.e. round half to even. */
export function cvScaledSize(size: number, factor: number): number {
  return roundHalfEven(size * factor);
}

function roundHalfEven(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - Math.trunc(v)) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

interface Taps {
  index: Int32Array;
  alpha0: Int16Array;
  alpha1: Int16Array;
}

function linearTaps(dst: number, src: number, scale: number): Taps {
  const index = new Int32Array(dst);
  const alpha0 = new Int16Array(dst);
  const alpha1 = new Int16Array(dst);
  for (let d = 0; d < dst; d++) {
    let fx = Math.fround((d + 0.5) * scale - 0.5);
    let sx = Math.floor(fx);
    fx = Math.fround(fx - sx);
    if (sx < 0) {
      fx = 0;
      sx = 0;
    }
    if (sx >= src - 1) {
      fx = 0;
      sx = src - 1;
    }
    index[d] = sx;
    const a0 = roundHalfEven(Math.fround(1 - fx) * COEF_SCALE);
    alpha0[d] = a0;
    alpha1[d] = COEF_SCALE - a0;
  }
  return { index, alpha0, alpha1 };
}

export function resizeLinearCv(image: RgbImage, fx: number, fy = fx): RgbImage {
  const { width: sw, height: sh, channels: cn, data: src } = image;
  const dw = cvScaledSize(sw, fx);
  const dh = cvScaledSize(sh, fy);
  if (dw <= 0 || dh <= 0) throw new RangeError(`resize to ${dw}x${dh} from ${sw}x${sh}`);
  const out = new Uint8Array(dw * dh * cn);
  if (dw * 2 === sw && dh * 2 === sh && fx === 0.5 && fy === 0.5) {
    for (let y = 0; y < dh; y++) {
      for (let x = 0; x < dw; x++) {
        for (let k = 0; k < cn; k++) {
          const a = ((2 * y) * sw + 2 * x) * cn + k;
          const b = a + sw * cn;
          out[(y * dw + x) * cn + k] = (src[a]! + src[a + cn]! + src[b]! + src[b + cn]! + 2) >> 2;
        }
      }
    }
    return { width: dw, height: dh, channels: cn, data: out };
  }
  const xt = linearTaps(dw, sw, 1 / fx);
  const yt = linearTaps(dh, sh, 1 / fy);
  // Horizontal pass per source row (cached: consecutive output rows share source rows).
  const rowCache = new Map<number, Int32Array>();
  const hrow = (sy: number): Int32Array => {
    let r = rowCache.get(sy);
    if (r) return r;
    r = new Int32Array(dw * cn);
    const base = sy * sw * cn;
    for (let x = 0; x < dw; x++) {
      const sx = xt.index[x]! * cn;
      const sx1 = Math.min(xt.index[x]! + 1, sw - 1) * cn;
      const a0 = xt.alpha0[x]!, a1 = xt.alpha1[x]!;
      for (let k = 0; k < cn; k++) r[x * cn + k] = src[base + sx + k]! * a0 + src[base + sx1 + k]! * a1;
    }
    if (rowCache.size > 4) rowCache.delete(rowCache.keys().next().value!);
    rowCache.set(sy, r);
    return r;
  };
  for (let y = 0; y < dh; y++) {
    const sy = yt.index[y]!;
    const s0 = hrow(sy);
    const s1 = hrow(Math.min(sy + 1, sh - 1));
    const b0 = yt.alpha0[y]!, b1 = yt.alpha1[y]!;
    const o = y * dw * cn;
    for (let i = 0; i < dw * cn; i++) {
      const v = (((b0 * (s0[i]! >> 4)) >> 16) + ((b1 * (s1[i]! >> 4)) >> 16) + 2) >> 2;
      out[o + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return { width: dw, height: dh, channels: cn, data: out };
}
