/**
 * Box decoding (`bbox_utils.decode`, SPEC §6.1): centre-size offsets with variances [0.1, 0.2] →
 * normalised corners, not clipped. Float32 arithmetic mirrors the reference tensors.
 */
import { PRIOR_VARIANCE } from '../model/eresfd/constants.ts';

const f = Math.fround;

/** Decodes the rows `rows` (or all) of loc [P·4] against priors [P·4] into x1,y1,x2,y2 [n·4]. */
export function decodeBoxes(loc: Float32Array, priors: Float32Array, rows?: ArrayLike<number>): Float32Array {
  const n = rows ? rows.length : loc.length / 4;
  const out = new Float32Array(n * 4);
  const [v0, v1] = [f(PRIOR_VARIANCE[0]), f(PRIOR_VARIANCE[1])];
  for (let k = 0; k < n; k++) {
    const r = rows ? rows[k]! : k;
    const pcx = priors[r * 4]!, pcy = priors[r * 4 + 1]!, pw = priors[r * 4 + 2]!, ph = priors[r * 4 + 3]!;
    const cx = f(pcx + f(f(loc[r * 4]! * v0) * pw));
    const cy = f(pcy + f(f(loc[r * 4 + 1]! * v0) * ph));
    const w = f(pw * f(Math.exp(f(loc[r * 4 + 2]! * v1))));
    const h = f(ph * f(Math.exp(f(loc[r * 4 + 3]! * v1))));
    const x1 = f(cx - f(w / 2));
    const y1 = f(cy - f(h / 2));
    out[k * 4] = x1;
    out[k * 4 + 1] = y1;
    out[k * 4 + 2] = f(w + x1);
    out[k * 4 + 3] = f(h + y1);
  }
  return out;
}
