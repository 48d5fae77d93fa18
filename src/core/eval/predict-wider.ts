/**
 * Runs a model over WIDER val images and returns predictions exactly as the official evaluator reads
 * them: each image's detections go through the txt format of `wider_test.py` (x, y, w, h to 0.1, score to
 * 0.001) and back, so scores and boxes carry the same rounding as the reference's files.
 */
import type { Detection, RgbImage } from '../types.ts';
import type { EResFDModel } from '../model/eresfd/eresfd.ts';
import { detectWider, type WiderProtocol } from '../detect/wider-protocol.ts';
import { formatPredictionTxt, parsePredictionTxt } from './prediction-txt.ts';
import type { WiderPrediction, WiderPredictions } from './evaluate-wider.ts';

export interface WiderImageRef {
  event: string;
  /** File name without `.jpg`. */
  name: string;
}

export interface PredictWiderProgress {
  done: number;
  total: number;
  image: WiderImageRef;
  ms: number;
}

export interface PredictWiderOptions {
  protocol: WiderProtocol;
  signal?: AbortSignal;
  onProgress?: (p: PredictWiderProgress) => void;
  /** Receives each image's txt (official format) — for saving a prediction folder. */
  onTxt?: (ref: WiderImageRef, txt: string) => void | Promise<void>;
}

/** Rounds detections through the official txt format. */
export function toWiderPredictionRows(ref: WiderImageRef, detections: readonly Detection[]): { txt: string; rows: WiderPrediction[] } {
  const txt = formatPredictionTxt(`${ref.event}/${ref.name}.jpg`, detections);
  return { txt, rows: parsePredictionTxt(txt).boxes };
}

export async function predictWider(
  model: EResFDModel,
  images: readonly WiderImageRef[],
  loadImage: (ref: WiderImageRef) => Promise<RgbImage>,
  options: PredictWiderOptions,
): Promise<WiderPredictions> {
  const out: Record<string, Record<string, WiderPrediction[]>> = {};
  const now = (): number => performance.now();
  for (let i = 0; i < images.length; i++) {
    if (options.signal?.aborted) throw options.signal.reason ?? new DOMException('aborted', 'AbortError');
    const ref = images[i]!;
    const t0 = now();
    // Load the next image while this one runs would help I/O-bound folders; decoding is CPU-bound here.
    const image = await loadImage(ref);
    const dets = await detectWider(model, image, options.protocol);
    const { txt, rows } = toWiderPredictionRows(ref, dets);
    (out[ref.event] ??= {})[ref.name] = rows;
    await options.onTxt?.(ref, txt);
    options.onProgress?.({ done: i + 1, total: images.length, image: ref, ms: now() - t0 });
  }
  return out;
}
