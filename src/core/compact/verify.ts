/**
 * Checks a compacted model against its dense source on a deterministic input (CLI `compact`, bench),
 * usually the ramp image (image/ramp-image.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FaceModel } from '../detect/detect-faces.ts';

/** Max |diff| over every head map (loc and conf, levels 0..5) of two models on one normalised input. */
export async function maxHeadDiff(a: FaceModel, b: FaceModel, input: Float32Array, height = 480, width = 640): Promise<number> {
  const x = tf.tensor4d(input, [1, height, width, 3]);
  const oa = a.predict(x, { levels: true });
  const ob = b.predict(x, { levels: true });
  const ta = [...oa.locLevels!, ...oa.confLevels!];
  const tb = [...ob.locLevels!, ...ob.confLevels!];
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
