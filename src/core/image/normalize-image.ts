/**
 * Network input (SPEC §1.7): RGB float32 minus [123, 117, 104], no scaling; HWC, i.e. one NHWC batch row.
 */
import type { RgbImage } from '../types.ts';
import { INPUT_MEAN_RGB } from '../model/eresfd/constants.ts';

export function normalizeImage(image: RgbImage, out = new Float32Array(image.width * image.height * 3)): Float32Array {
  const { data, channels } = image;
  const n = image.width * image.height;
  const [mr, mg, mb] = INPUT_MEAN_RGB;
  for (let p = 0, s = 0, d = 0; p < n; p++, s += channels, d += 3) {
    out[d] = data[s]! - mr;
    out[d + 1] = data[s + 1]! - mg;
    out[d + 2] = data[s + 2]! - mb;
  }
  return out;
}

/** Drops alpha (and copies), so every stage downstream can assume 3 channels. */
export function toRgb(image: RgbImage): RgbImage {
  if (image.channels === 3) return image;
  const n = image.width * image.height;
  const data = new Uint8Array(n * 3);
  for (let p = 0; p < n; p++) {
    data[p * 3] = image.data[p * 4]!;
    data[p * 3 + 1] = image.data[p * 4 + 1]!;
    data[p * 3 + 2] = image.data[p * 4 + 2]!;
  }
  return { width: image.width, height: image.height, channels: 3, data };
}

/** Horizontal mirror (`cv2.flip(img, 1)`), used by the flip test of the full protocol. */
export function flipHorizontal(image: RgbImage): RgbImage {
  const { width: w, height: h, channels: c } = image;
  const data = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * c;
      const d = (y * w + (w - 1 - x)) * c;
      for (let k = 0; k < c; k++) data[d + k] = image.data[s + k]!;
    }
  }
  return { width: w, height: h, channels: c, data };
}
