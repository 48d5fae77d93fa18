/**
 * Checks a compacted model against its dense source on a deterministic input (CLI `compact`, bench):
 * the ramp image `img[h,w,c] = (3h + 7w + 50c) mod 256`, textured everywhere and needing no file.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FaceModel } from '../detect/detect-faces.ts';
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

/** Max |diff| over every head map (loc and conf, levels 0..5) of two models on one normalised input. */
export async function maxHeadDiff(a: FaceModel, b: FaceModel, input: Float32Array, height = 480, width = 640): Promise<number> {
  const x = tf.tensor4d(input, [1, height, width, 3]);
  const oa = a.predict(x);
  const ob = b.predict(x);
  const ta = [...oa.locLevels, ...oa.confLevels];
  const tb = [...ob.locLevels, ...ob.confLevels];
  try {
    let m = 0;
    for (let i = 0; i < ta.length; i++) {
      const [da, db] = [await ta[i]!.data(), await tb[i]!.data()];
      for (let j = 0; j < da.length; j++) m = Math.max(m, Math.abs(da[j]! - db[j]!));
    }
    return m;
  } finally {
    tf.dispose([x, oa.loc, oa.conf, ob.loc, ob.conf, ...ta, ...tb, ...(oa.sources ?? []), ...(ob.sources ?? [])]);
  }
}
