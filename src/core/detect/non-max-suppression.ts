/**
 * Greedy NMS exactly as `bbox_utils.nms` (SPEC §6.1): candidates = the top_k highest scores, repeatedly
 * keep the best, drop every remaining box whose IoU (no +1) is above the threshold. Float32 arithmetic
 * as in the reference tensors, so near-threshold decisions agree.
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
  // Ascending sort, then keep the last topK — the reference's `idx[-top_k:]`; ties in index order.
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]! || a - b);
  let idx = order.slice(Math.max(0, n - topK));
  const area = new Float32Array(n);
  for (let i = 0; i < n; i++) area[i] = f(f(boxes[i * 4 + 2]! - boxes[i * 4]!) * f(boxes[i * 4 + 3]! - boxes[i * 4 + 1]!));
  const keep: number[] = [];
  const thr = f(iouThreshold);
  while (idx.length > 0 && keep.length < maxKeep) {
    const i = idx[idx.length - 1]!;
    keep.push(i);
    const x1 = boxes[i * 4]!, y1 = boxes[i * 4 + 1]!, x2 = boxes[i * 4 + 2]!, y2 = boxes[i * 4 + 3]!;
    const next: number[] = [];
    for (let k = 0; k < idx.length - 1; k++) {
      const j = idx[k]!;
      const w = Math.max(f(Math.min(boxes[j * 4 + 2]!, x2) - Math.max(boxes[j * 4]!, x1)), 0);
      const h = Math.max(f(Math.min(boxes[j * 4 + 3]!, y2) - Math.max(boxes[j * 4 + 1]!, y1)), 0);
      const inter = f(w * h);
      const union = f(f(area[j]! - inter) + area[i]!);
      if (f(inter / union) <= thr) next.push(j);
    }
    idx = next;
  }
  return keep;
}
