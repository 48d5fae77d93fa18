/**
 * The ramp image `img[h,w,c] = (3h + 7w + 50c) mod 256`: textured everywhere and needing no file, the
 * one synthetic input that forward timing, compaction checks, goldens and benchmarks feed the network.
 */
import { INPUT_MEAN_RGB } from '../model/eresfd/constants.ts';

/** The ramp image, normalised like every network input (SPEC §1.7), NHWC row-major. */
export function rampInput(height = 480, width = 640): Float32Array {
  const x = new Float32Array(height * width * 3);
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      for (let c = 0; c < 3; c++) x[(h * width + w) * 3 + c] = ((3 * h + 7 * w + 50 * c) % 256) - INPUT_MEAN_RGB[c]!;
    }
  }
  return x;
}
