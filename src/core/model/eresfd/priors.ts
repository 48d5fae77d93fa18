/**
 * Prior boxes (`layers/functions/prior_box._get_prior_box`, SPEC §5): one square prior per location,
 * computed in float64 from the actual head map sizes and stored as float32 (cx, cy, w, h), normalised.
 * They depend only on the input size, so they are cached per size.
 */
import { headSizes } from './architecture.ts';
import { PRIOR_MIN_SIZES, PRIOR_STEPS } from './constants.ts';

const cache = new Map<string, Float32Array>();

export function priorCount(height: number, width: number): number {
  return headSizes(height, width).reduce((s, [h, w]) => s + h * w, 0);
}

/** [P·4] priors for an input of H×W. The returned array is shared: do not mutate it. */
export function priorBoxes(height: number, width: number): Float32Array {
  const key = `${height}x${width}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const sizes = headSizes(height, width);
  const out = new Float32Array(priorCount(height, width) * 4);
  let p = 0;
  sizes.forEach(([fh, fw], k) => {
    const fkw = width / PRIOR_STEPS[k]!;
    const fkh = height / PRIOR_STEPS[k]!;
    const sw = PRIOR_MIN_SIZES[k]! / width;
    const sh = PRIOR_MIN_SIZES[k]! / height;
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        out[p++] = (j + 0.5) / fkw;
        out[p++] = (i + 0.5) / fkh;
        out[p++] = sw;
        out[p++] = sh;
      }
    }
  });
  if (cache.size > 32) cache.delete(cache.keys().next().value!);
  cache.set(key, out);
  return out;
}

/** Row offsets of each level in the concatenated outputs. */
export function levelOffsets(height: number, width: number): number[] {
  const offsets: number[] = [];
  let acc = 0;
  for (const [h, w] of headSizes(height, width)) {
    offsets.push(acc);
    acc += h * w;
  }
  return offsets;
}
