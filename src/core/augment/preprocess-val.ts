/**
 * Validation preprocessing (`preprocess(mode='val')`, SPEC §8): no augmentation, a plain stretch of
 * the whole image to S×S. The reference draws a random Pillow filter here too (SPEC §11.6, which
 * makes its val loss non-deterministic); this uses one fixed filter, Pillow-style antialiased
 * 'bilinear' by default — what golden/train_step used to build its inputs (`Image.BILINEAR`).
 * Targets are the boxes normalised by the original size, as the loader writes them (no clipping,
 * no size filter: a stretch moves no face out of the image).
 */
import type { RgbImage } from '../types.ts';
import { resampleRegion, type ResampleFilter } from './resample.ts';

export interface ValPreprocessConfig {
  size: number;
  filter: ResampleFilter;
}

export const DEFAULT_VAL_PREPROCESS_CONFIG: ValPreprocessConfig = { size: 640, filter: 'bilinear' };

/**
 * @param boxes `[n, 4]` face boxes in source pixels (x1, y1, x2, y2).
 * @returns the S×S RGB image and `[n, 5]` targets (x1, y1, x2, y2 normalised, label 1).
 */
export function preprocessVal(image: RgbImage, boxes: ArrayLike<number>, config: Partial<ValPreprocessConfig> = {}): { image: RgbImage; targets: Float32Array } {
  const { size, filter } = { ...DEFAULT_VAL_PREPROCESS_CONFIG, ...config };
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`preprocessVal: invalid size ${size}`);
  if (boxes.length % 4 !== 0) throw new RangeError(`preprocessVal: boxes length ${boxes.length} is not a multiple of 4`);
  const { width: W, height: H } = image;
  const n = boxes.length / 4;
  const targets = new Float32Array(n * 5);
  for (let i = 0; i < n; i++) {
    // float64 division then float32, like the reference loader + torch.from_numpy(...).float().
    targets[i * 5] = boxes[i * 4]! / W;
    targets[i * 5 + 1] = boxes[i * 4 + 1]! / H;
    targets[i * 5 + 2] = boxes[i * 4 + 2]! / W;
    targets[i * 5 + 3] = boxes[i * 4 + 3]! / H;
    targets[i * 5 + 4] = 1;
  }
  const out = W === size && H === size && image.channels === 3
    ? { width: W, height: H, channels: 3 as const, data: Uint8Array.from(image.data) }
    : resampleRegion(image, { x0: 0, y0: 0, x1: W, y1: H }, size, size, filter);
  return { image: out, targets };
}
