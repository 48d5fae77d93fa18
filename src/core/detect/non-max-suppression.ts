/**
 * Greedy NMS exactly as `bbox_utils.nms` (SPEC §6.1): candidates = the top_k highest scores, repeatedly
 * keep the best, drop every remaining box whose IoU (no +1) is above the threshold. Float32 arithmetic
 * as in the reference tensors, so near-threshold decisions agree. Walking a descending order with a
 * suppressed flag is the same algorithm as the reference's shrinking index list, without reallocating.
 */
const f = Math.fround;

/**
 * @param boxes x1,y1,x2,y2 [n·4]
 * @param scores [n]
 * @returns indices into `boxes`, in keep order (descending score), at most `maxKeep`.
 */
export function nonMaxSuppression(
  boxes: Float32Array,
  scores: Float32Array,
  iouThreshold: number,
  topK: number,
  maxKeep = Infinity,
): number[] {
  const n = scores.length;
  // Descending score; among equal scores the higher index first, as the reference pops `idx[-1]`
  // of an ascending (index-stable) sort.
  const order = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[b]! - scores[a]! || b - a);
  const m = Math.min(n, topK);
  const area = new Float32Array(m);
  const x1 = new Float32Array(m), y1 = new Float32Array(m), x2 = new Float32Array(m), y2 = new Float32Array(m);
  for (let k = 0; k < m; k++) {
    const i = order[k]! * 4;
    x1[k] = boxes[i]!;
    y1[k] = boxes[i + 1]!;
    x2[k] = boxes[i + 2]!;
    y2[k] = boxes[i + 3]!;
    area[k] = f(f(x2[k]! - x1[k]!) * f(y2[k]! - y1[k]!));
  }
  // Greedy in descending order; a kept box only needs to look at boxes that can overlap it, so the
  // candidates are bucketed in a coarse grid (a box is listed in every cell it touches) and a stamp
  // array avoids testing a box twice for the same kept box. Same decisions as the O(n²) scan.
  let gx0 = Infinity, gy0 = Infinity, gx1 = -Infinity, gy1 = -Infinity;
  for (let k = 0; k < m; k++) {
    gx0 = Math.min(gx0, x1[k]!); gy0 = Math.min(gy0, y1[k]!);
    gx1 = Math.max(gx1, x2[k]!); gy1 = Math.max(gy1, y2[k]!);
  }
  const G = 24;
  const sx = G / Math.max(gx1 - gx0, 1e-12), sy = G / Math.max(gy1 - gy0, 1e-12);
  const cell = (v: number, v0: number, scale: number): number => Math.min(G - 1, Math.max(0, Math.floor((v - v0) * scale)));
  const cx0 = new Int32Array(m), cx1 = new Int32Array(m), cy0 = new Int32Array(m), cy1 = new Int32Array(m);
  const cellCount = new Int32Array(G * G + 1);
  for (let k = 0; k < m; k++) {
    cx0[k] = cell(x1[k]!, gx0, sx); cx1[k] = cell(x2[k]!, gx0, sx);
    cy0[k] = cell(y1[k]!, gy0, sy); cy1[k] = cell(y2[k]!, gy0, sy);
    for (let cy = cy0[k]!; cy <= cy1[k]!; cy++) for (let cx = cx0[k]!; cx <= cx1[k]!; cx++) cellCount[cy * G + cx + 1]!++;
  }
  for (let c = 0; c < G * G; c++) cellCount[c + 1]! += cellCount[c]!;
  const fill = cellCount.slice(0, G * G);
  const members = new Int32Array(cellCount[G * G]!);
  for (let k = 0; k < m; k++) {
    for (let cy = cy0[k]!; cy <= cy1[k]!; cy++) for (let cx = cx0[k]!; cx <= cx1[k]!; cx++) members[fill[cy * G + cx]!++] = k;
  }
  const suppressed = new Uint8Array(m);
  const stamp = new Int32Array(m).fill(-1);
  const keep: number[] = [];
  const thr = f(iouThreshold);
  for (let k = 0; k < m && keep.length < maxKeep; k++) {
    if (suppressed[k]) continue;
    keep.push(order[k]!);
    const ax1 = x1[k]!, ay1 = y1[k]!, ax2 = x2[k]!, ay2 = y2[k]!, aa = area[k]!;
    for (let cy = cy0[k]!; cy <= cy1[k]!; cy++) {
      for (let cx = cx0[k]!; cx <= cx1[k]!; cx++) {
        const c = cy * G + cx;
        for (let q = cellCount[c]!; q < cellCount[c + 1]!; q++) {
          const j = members[q]!;
          if (j <= k || suppressed[j] || stamp[j] === k) continue;
          stamp[j] = k;
          // A difference of two float32 values keeps its sign when rounded, so the disjoint test needs no fround.
          const iw = Math.min(x2[j]!, ax2) - Math.max(x1[j]!, ax1);
          const ih = Math.min(y2[j]!, ay2) - Math.max(y1[j]!, ay1);
          if (iw <= 0 || ih <= 0) continue;
          const inter = f(f(iw) * f(ih));
          if (f(inter / f(f(area[j]! - inter) + aa)) > thr) suppressed[j] = 1;
        }
      }
    }
  }
  return keep;
}
