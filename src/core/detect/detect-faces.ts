/**
 * Face detection on one image with the single-pass protocol of `wider_test.py` (SPEC §6.2 steps 1–4):
 * shrink = min(1, sqrt(1700·1200/(H·W))), cv2-style bilinear resize when shrink ≠ 1, one forward,
 * `Detect`, boxes mapped back to original pixels as x·W_resized/shrink.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DetectResult, Detection, RgbImage } from '../types.ts';
import type { EResFDModel } from '../model/eresfd/eresfd.ts';
import { WIDER_MAX_PIXELS } from '../model/eresfd/constants.ts';
import { priorBoxes } from '../model/eresfd/priors.ts';
import { normalizeImage } from '../image/normalize-image.ts';
import { resizeLinearCv } from '../image/resize-linear.ts';
import { DEFAULT_DETECT_CONFIG, detectRows, type DetectConfig } from './detect.ts';
import { StudioError } from '../errors.ts';

export interface DetectFacesOptions {
  /** Keep detections with score ≥ this (the reference keeps ≥ 0.05, a no-op after Detect). */
  scoreThreshold?: number;
  /** Override the shrink (default: the WIDER single-pass rule). */
  shrink?: number;
  detect?: Partial<DetectConfig>;
}

export function widerShrink(height: number, width: number): { shrink: number; maxShrink: number } {
  const maxShrink = Math.sqrt(WIDER_MAX_PIXELS / (height * width));
  return { shrink: Math.min(maxShrink, 1), maxShrink };
}

/** What detection needs from a model: the dense EResFDModel and the compacted model both fit. */
export type FaceModel = Pick<EResFDModel, 'predict'>;

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/** Forward + softmax; reads loc and face scores back asynchronously (no dataSync). */
export async function runHeads(model: FaceModel, input: RgbImage): Promise<{ loc: Float32Array; scores: Float32Array; forwardMs: number }> {
  const t0 = now();
  const [locT, scoreT] = tf.tidy(() => {
    const x = tf.tensor4d(normalizeImage(input), [1, input.height, input.width, 3]);
    const out = model.predict(x);
    const face = tf.slice(tf.softmax(out.conf, -1), [0, 0, 1], [-1, -1, 1]);
    return [out.loc, face];
  });
  try {
    const [loc, scores] = (await Promise.all([locT.data(), scoreT.data()])) as [Float32Array, Float32Array];
    return { loc, scores, forwardMs: now() - t0 };
  } finally {
    tf.dispose([locT, scoreT]);
  }
}

/** Detect at one scale: rows [x1, y1, x2, y2, score] in original pixels, unclipped. */
export async function detectAtScale(
  model: FaceModel,
  image: RgbImage,
  shrink: number,
  config: DetectConfig = DEFAULT_DETECT_CONFIG,
): Promise<{ detections: Detection[]; forwardMs: number }> {
  const input = shrink !== 1 ? resizeLinearCv(image, shrink) : image;
  if (input.width < 1 || input.height < 1) return { detections: [], forwardMs: 0 };
  const { loc, scores, forwardMs } = await runHeads(model, input);
  const rows = detectRows(loc, scores, priorBoxes(input.height, input.width), config);
  const sx = input.width / shrink;
  const sy = input.height / shrink;
  const detections: Detection[] = [];
  for (let r = 0; r < rows.length / 5; r++) {
    detections.push([rows[r * 5 + 1]! * sx, rows[r * 5 + 2]! * sy, rows[r * 5 + 3]! * sx, rows[r * 5 + 4]! * sy, rows[r * 5]!]);
  }
  return { detections, forwardMs };
}

export async function detectFaces(model: FaceModel, image: RgbImage, options: DetectFacesOptions = {}): Promise<DetectResult> {
  if (!(image.width > 0 && image.height > 0) || image.data.length < image.width * image.height * image.channels) {
    throw new StudioError('MODEL_INPUT', `image of ${image.width}×${image.height}×${image.channels} has ${image.data.length} bytes`);
  }
  const t0 = now();
  const shrink = options.shrink ?? widerShrink(image.height, image.width).shrink;
  const config = { ...DEFAULT_DETECT_CONFIG, ...options.detect };
  const { detections, forwardMs } = await detectAtScale(model, image, shrink, config);
  const threshold = options.scoreThreshold ?? config.confThresh;
  return {
    width: image.width,
    height: image.height,
    shrink,
    detections: detections.filter((d) => d[4] >= threshold),
    forwardMs,
    totalMs: now() - t0,
  };
}
