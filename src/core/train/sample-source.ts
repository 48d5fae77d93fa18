/**
 * Where training and validation images come from: a port the platforms implement (IndexedDB blobs in
 * the browser worker, a WIDER folder in Node). Boxes follow the reference loader (`data/widerface.py`):
 * WIDER `x y w h` rows with w ≤ 0 or h ≤ 0 dropped, as pixel corners x1, y1, x1+w, y1+h.
 */
import type { RgbImage } from '../types.ts';
import type { TrainAugmentConfig } from '../augment/augment-train.ts';

export interface FaceSample {
  image: RgbImage;
  /** [n·4] x1, y1, x2, y2 in pixels. */
  boxes: Float32Array;
}

export interface SampleSource {
  /** Number of samples; indices 0..size−1. */
  readonly size: number;
  load(index: number): Promise<FaceSample>;
  /**
   * Optional: prepares this source's training samples elsewhere (a worker pool), bit-identical to
   * `prepareTrainSample(source, spec, index, epoch)` (sample-preparer.ts) where `source` is this one or,
   * given `indices`, its subset (sample i is this source's sample indices[i]). The trainer uses it
   * instead of preparing on its own thread.
   */
  openPreparer?(spec: PrepareSpec, indices?: readonly number[]): SamplePreparer;
}

/** What preparation depends on besides the source: plain data, so it can be posted to a worker. */
export interface PrepareSpec {
  /** The trainer's seed (TrainConfig.seed). */
  seed: number;
  /** Output side S. */
  size: number;
  /** Training augmentation; false = the deterministic val preprocessing. */
  augment: boolean;
  augmentConfig?: Partial<TrainAugmentConfig>;
}

/** One training sample: the S×S image and its targets (as `augmentTrain` / `preprocessVal` give them). */
export interface PreparedSample {
  image: RgbImage;
  targets: Float32Array;
}

export interface SamplePreparer {
  prepare(index: number, epoch: number): Promise<PreparedSample>;
  /**
   * Batches the trainer keeps in flight ahead of the step (default 1). More only pays when
   * preparation runs beside the step (a worker pool), not on the training thread.
   */
  readonly prefetchBatches?: number;
  /** Releases what the preparer holds (not the source). */
  dispose?(): void;
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
  const subset: SampleSource = { size: indices.length, load: (i) => source.load(indices[i]!) };
  const open = source.openPreparer?.bind(source);
  if (open) subset.openPreparer = (spec, sub) => open(spec, sub ? sub.map((i) => indices[i]!) : indices);
  return subset;
}
