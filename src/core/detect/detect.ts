/**
 * `Detect` (layers/functions/detection.py, SPEC §6.1) for one image: face probability = softmax
 * class 1, keep scores > 0.05, NMS over the 5000 best at IoU 0.3, at most 750 rows.
 * Rows are (score, x1, y1, x2, y2) normalised, descending — the reference's class-1 block.
 */
import { DETECT_DEFAULTS } from '../model/eresfd/constants.ts';
import { decodeBoxes } from './decode.ts';
import { nonMaxSuppression } from './non-max-suppression.ts';

export interface DetectConfig {
  confThresh: number;
  nmsTopK: number;
  nmsThresh: number;
  topK: number;
}

export const DEFAULT_DETECT_CONFIG: DetectConfig = { ...DETECT_DEFAULTS };

/**
 * Indices of the scores above `threshold`, cut to the `topK` highest. Almost every prior clears 0.05
 * (SPEC §10.1), so the cut comes from a native numeric sort of the scores rather than sorting indices
 * with a comparator; at a tie on the cut the higher indices win, as in the reference's `idx[-top_k:]` of an index-stable
 * ascending sort (torch's own tie order is unspecified).
 */
export function topCandidates(scores: Float32Array, threshold: number, topK: number): Int32Array {
  let count = 0;
  for (let p = 0; p < scores.length; p++) if (scores[p]! > threshold) count++;
  let cut = threshold;
  let tiesAllowed = Infinity;
  if (count > topK) {
    const above = new Float32Array(count);
    for (let p = 0, k = 0; p < scores.length; p++) if (scores[p]! > threshold) above[k++] = scores[p]!;
    above.sort();
    const kth = above[count - topK]!;
    let greater = 0;
    for (let k = count - topK; k < count; k++) if (above[k]! > kth) greater++;
    tiesAllowed = topK - greater;
    cut = kth;
  }
  const out = new Int32Array(Math.min(count, topK));
  let k = out.length;
  for (let p = scores.length - 1; p >= 0 && k > 0; p--) {
    const s = scores[p]!;
    if (s > cut || (s === cut && s > threshold && tiesAllowed-- > 0)) out[--k] = p;
  }
  return out;
}

/**
 * @param loc [P·4] regressions of one image
 * @param faceScores [P] softmax face probabilities
 * @param priors [P·4]
 * @returns rows [n·5] = score, x1, y1, x2, y2 (normalised)
 */
export function detectRows(
  loc: Float32Array,
  faceScores: Float32Array,
  priors: Float32Array,
  config: DetectConfig = DEFAULT_DETECT_CONFIG,
): Float32Array {
  const candidates = topCandidates(faceScores, config.confThresh, config.nmsTopK);
  if (candidates.length === 0) return new Float32Array(0);
  const boxes = decodeBoxes(loc, priors, candidates);
  const scores = Float32Array.from(candidates, (p) => faceScores[p]!);
  const keep = nonMaxSuppression(boxes, scores, config.nmsThresh, config.nmsTopK, config.topK);
  const rows = new Float32Array(keep.length * 5);
  keep.forEach((k, r) => {
    rows[r * 5] = scores[k]!;
    rows.set(boxes.subarray(k * 4, k * 4 + 4), r * 5 + 1);
  });
  return rows;
}
