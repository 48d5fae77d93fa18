/**
 * Where training and validation images come from: a port the platforms implement (IndexedDB blobs in
 * the browser worker, a WIDER folder in Node). Boxes follow the reference loader (`data/widerface.py`):
 * WIDER `x y w h` rows with w ≤ 0 or h ≤ 0 dropped, as pixel corners x1, y1, x1+w, y1+h.
 */
import type { RgbImage } from '../types.ts';

export interface FaceSample {
  image: RgbImage;
  /** [n·4] x1, y1, x2, y2 in pixels. */
  boxes: Float32Array;
}

export interface SampleSource {
  /** Number of samples; indices 0..size−1. */
  readonly size: number;
  load(index: number): Promise<FaceSample>;
}

/** WIDER `x y w h` rows → corner boxes, dropping non-positive sizes like the reference loader. */
export function widerBoxes(faces: ReadonlyArray<{ x: number; y: number; w: number; h: number }>): Float32Array {
  const kept = faces.filter((f) => f.w > 0 && f.h > 0);
  const out = new Float32Array(kept.length * 4);
  kept.forEach((f, i) => out.set([f.x, f.y, f.x + f.w, f.y + f.h], i * 4));
  return out;
}

/** A source over a subset of another's indices (e.g. the 80/20 split of BO). */
export function subsetSource(source: SampleSource, indices: readonly number[]): SampleSource {
  return { size: indices.length, load: (i) => source.load(indices[i]!) };
}
