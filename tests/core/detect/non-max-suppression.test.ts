/** The grid-bucketed NMS against a literal transcription of `bbox_utils.nms` on random boxes. */
import { describe, expect, it } from 'vitest';
import { nonMaxSuppression } from '../../../src/core/detect/non-max-suppression.ts';
import { topCandidates } from '../../../src/core/detect/detect.ts';

const f = Math.fround;

/** bbox_utils.nms: ascending sort, take idx[-top_k:], pop the last, drop IoU > thr, repeat. */
function referenceNms(boxes: Float32Array, scores: Float32Array, thr: number, topK: number): number[] {
  let idx = Array.from(scores.keys()).sort((a, b) => scores[a]! - scores[b]! || a - b).slice(-topK);
  const area = (i: number) => f(f(boxes[i * 4 + 2]! - boxes[i * 4]!) * f(boxes[i * 4 + 3]! - boxes[i * 4 + 1]!));
  const keep: number[] = [];
  while (idx.length) {
    const i = idx.pop()!;
    keep.push(i);
    idx = idx.filter((j) => {
      const w = Math.max(f(Math.min(boxes[j * 4 + 2]!, boxes[i * 4 + 2]!) - Math.max(boxes[j * 4]!, boxes[i * 4]!)), 0);
      const h = Math.max(f(Math.min(boxes[j * 4 + 3]!, boxes[i * 4 + 3]!) - Math.max(boxes[j * 4 + 1]!, boxes[i * 4 + 1]!)), 0);
      const inter = f(w * h);
      return f(inter / f(f(area(j) - inter) + area(i))) <= f(thr);
    });
  }
  return keep;
}

function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('nonMaxSuppression', () => {
  it.each([1, 2, 3, 4, 5])('matches the reference algorithm on random boxes (seed %i)', (seed) => {
    const rnd = mulberry(seed);
    const n = 1500;
    const boxes = new Float32Array(n * 4);
    const scores = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const cx = rnd() * 1.2 - 0.1, cy = rnd() * 1.2 - 0.1, w = 0.01 + rnd() * (rnd() < 0.1 ? 0.9 : 0.15), h = 0.01 + rnd() * 0.2;
      boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], i * 4);
      scores[i] = Math.round(rnd() * 500) / 500; // many exact ties
    }
    for (const topK of [n, 700]) {
      expect(nonMaxSuppression(boxes, scores, 0.3, topK)).toEqual(referenceNms(boxes, scores, 0.3, topK));
    }
    expect(nonMaxSuppression(boxes, scores, 0.3, n, 20)).toEqual(referenceNms(boxes, scores, 0.3, n).slice(0, 20));
  });

  it('handles empty and single inputs', () => {
    expect(nonMaxSuppression(new Float32Array(0), new Float32Array(0), 0.3, 10)).toEqual([]);
    expect(nonMaxSuppression(Float32Array.of(0, 0, 1, 1), Float32Array.of(0.5), 0.3, 10)).toEqual([0]);
  });
});

describe('topCandidates', () => {
  it('keeps the topK highest above the threshold, higher index at a tie', () => {
    const s = Float32Array.of(0.01, 0.9, 0.5, 0.5, 0.5, 0.7, 0.06);
    expect(Array.from(topCandidates(s, 0.05, 3))).toEqual([1, 4, 5]);
    expect(Array.from(topCandidates(s, 0.05, 4))).toEqual([1, 3, 4, 5]);
    expect(Array.from(topCandidates(s, 0.05, 10))).toEqual([1, 2, 3, 4, 5, 6]);
    expect(Array.from(topCandidates(s, 0.95, 10))).toEqual([]);
  });
});
