/**
 * The inference protocols of EResFD's `wider_test.py` (SPEC §6.2):
 * - `single`: one pass at shrink = min(1, sqrt(1700·1200/(H·W))) (det0);
 * - `full`: det0, the flip test (det1), the multi-scale test (det_s at a small scale keeping big
 *   faces, det_b at enlarged scales keeping small faces) and `bbox_vote` over their union.
 * Every pass resizes with cv2-exact bilinear (resize-linear.ts) like the reference.
 */
import type { Detection, RgbImage } from '../types.ts';
import type { EResFDModel } from '../model/eresfd/eresfd.ts';
import { flipHorizontal } from '../image/normalize-image.ts';
import { bboxVote } from './bbox-vote.ts';
import { detectAtScale, widerShrink } from './detect-faces.ts';
import { DETECT_DEFAULTS } from '../model/eresfd/constants.ts';

export type WiderProtocol = 'single' | 'full';

export interface WiderPasses {
  det0: Detection[];
  det1: Detection[];
  detS: Detection[];
  detB: Detection[];
  /** The scales that ran, in order (for reporting cost). */
  scales: number[];
}

const side = (d: Detection, pick: (w: number, h: number) => number): number => pick(d[2] - d[0] + 1, d[3] - d[1] + 1);

/** det rows with score ≥ 0.05, as `detect_face` keeps them (a no-op after Detect, kept for clarity). */
async function pass(model: EResFDModel, image: RgbImage, scale: number): Promise<Detection[]> {
  const { detections } = await detectAtScale(model, image, scale);
  return detections.filter((d) => d[4] >= DETECT_DEFAULTS.confThresh);
}

export async function widerPasses(model: EResFDModel, image: RgbImage): Promise<WiderPasses> {
  const { shrink, maxShrink } = widerShrink(image.height, image.width);
  const scales: number[] = [shrink, shrink];
  const det0 = await pass(model, image, shrink);
  const W = image.width;
  const det1 = (await pass(model, flipHorizontal(image), shrink)).map((d): Detection => [W - d[2], d[1], W - d[0], d[3], d[4]]);

  const st = maxShrink >= 0.75 ? 0.5 : 0.5 * maxShrink;
  scales.push(st);
  const detS = (await pass(model, image, st)).filter((d) => side(d, Math.max) > 30);
  let bt = maxShrink > 1 ? Math.min(2, maxShrink) : (st + maxShrink) / 2;
  scales.push(bt);
  let detB = await pass(model, image, bt);
  if (maxShrink > 2) {
    bt *= 2;
    while (bt < maxShrink) {
      scales.push(bt);
      detB = detB.concat(await pass(model, image, bt));
      bt *= 2;
    }
    scales.push(maxShrink);
    detB = detB.concat(await pass(model, image, maxShrink));
  }
  detB = bt > 1 ? detB.filter((d) => side(d, Math.min) < 100) : detB.filter((d) => side(d, Math.max) > 30);
  return { det0, det1, detS, detB, scales };
}

/** Detections of one image under a protocol, in original pixels, as written to the txt files. */
export async function detectWider(model: EResFDModel, image: RgbImage, protocol: WiderProtocol): Promise<Detection[]> {
  if (protocol === 'single') return pass(model, image, widerShrink(image.height, image.width).shrink);
  const p = await widerPasses(model, image);
  return bboxVote([...p.det0, ...p.det1, ...p.detS, ...p.detB]) as Detection[];
}
