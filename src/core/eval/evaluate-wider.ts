/**
 * The official WIDER FACE evaluation, `eval_tools/evaluation.py:evaluation()` (SPEC §9), in float64
 * with the reference's arithmetic order: `norm_score` (global min-max, initial max 0 / min 1),
 * `image_eval` (+1-pixel IoU of `box_overlaps.pyx`, greedy matching in prediction order, predictions
 * matched to a not-counted face removed from the proposals), `img_pr_info` over 1000 thresholds,
 * `dataset_pr_info` and `voc_ap` (numpy pairwise summation). Reproduces the reference APs and PR
 * curves of `golden/eval_synth` bit for bit.
 *
 * Deliberate differences, none of which changes a result the reference produces without error:
 * - A prediction entry missing for an image in scope is an EVAL_INPUT error (or, with
 *   `onMissing: 'empty'`, an image without detections); the reference prints "no list" and skips
 *   the rest of that event.
 * - `restrictTo` limits everything (score normalisation, count_face, the PR sums) to the given
 *   images, as if the prediction folder and the ground truth held only those (SPEC §9 subset rule).
 */
import { StudioError } from '../errors.ts';
import { WIDER_SETTINGS, widerImageKey, type WiderGroundTruth, type WiderGtImage, type WiderSetting } from '../dataset/wider-ground-truth.ts';
import { pairwiseSum } from '../util/pairwise-sum.ts';

/** One prediction as written in the txt files: `[x, y, w, h, score]`. */
export type WiderPrediction = readonly number[];

/** `{ [event]: { [imageName without .jpg]: [[x, y, w, h, score], ...] } }` (golden/eval_synth/preds.json). */
export type WiderPredictions = Readonly<Record<string, Readonly<Record<string, readonly WiderPrediction[]>>>>;

export const WIDER_THRESHOLD_COUNT = 1000;
export const WIDER_IOU_THRESHOLD = 0.5;

export interface EvaluateWiderOptions {
  /** Image keys `event/name` (see widerImageKey); only these images are evaluated, in official order. */
  restrictTo?: Iterable<string>;
  /** What an image in scope without a prediction entry means. Default 'error'. */
  onMissing?: 'error' | 'empty';
  /** Also return the per-image matching for this setting. */
  perImage?: WiderSetting;
  /** IoU for a match; the official value is 0.5. */
  iouThreshold?: number;
}

/** `[precision, recall]` at threshold t = 0..999 (score ≥ 1 − (t+1)/1000), as `pr_curve` in evaluation.py. */
export type PrCurve = Array<[number, number]>;

export interface WiderEvaluation {
  easy: number;
  medium: number;
  hard: number;
  curves: Record<WiderSetting, PrCurve>;
  /** Images evaluated (in scope). */
  images: number;
  /** count_face per setting: the faces that count, over the images in scope. */
  faces: Record<WiderSetting, number>;
  /** The raw-score range used by norm_score: normalised = (score − min) / (max − min). */
  scoreRange: { min: number; max: number };
  /** With options.perImage: the matching of every image in scope, in official order. */
  perImage?: ImageMatch[];
}

export type PredictionOutcome = 'tp' | 'fp' | 'ignored';

/**
 * How the protocol judged one image in one setting. Matching is greedy in prediction order and does
 * not depend on the scores, so one match serves every score threshold (see imageOutcomeAt).
 */
export interface ImageMatch {
  /** `event/name`. */
  key: string;
  setting: WiderSetting;
  /**
   * Per prediction, input order. 'tp': first match of a counted face. 'fp': IoU below the threshold,
   * or a counted face already matched. 'ignored': its best face does not count in this setting (the
   * protocol drops it from the proposals), or the image has no face at all (the protocol skips it).
   */
  outcomes: PredictionOutcome[];
  /** Per prediction: index of the face with the best IoU if that IoU reaches the threshold, else −1. */
  matchedGt: number[];
  /** Per prediction: best IoU with any face (first maximum, 0 without faces). */
  bestIou: number[];
  /** Per face: counts in this setting. */
  counted: boolean[];
  /** Per face: the prediction that matched it as a true positive, −1 if none. */
  hitBy: number[];
}

/** Indices into an ImageMatch's predictions and faces at one score threshold. */
export interface ImageOutcome {
  tp: number[];
  fp: number[];
  ignored: number[];
  /** Predictions after the cut (not considered at this threshold). */
  below: number[];
  /** Counted faces hit by a considered true positive. */
  hit: number[];
  /** Counted faces no considered prediction hit. */
  missed: number[];
}

/**
 * Applies a score threshold the way `img_pr_info` does: the predictions considered are
 * 0..r with r the LAST index whose score ≥ minScore (for score-sorted input, exactly those ≥ minScore).
 */
export function imageOutcomeAt(match: ImageMatch, scores: ArrayLike<number>, minScore: number): ImageOutcome {
  let r = -1;
  for (let h = scores.length - 1; h >= 0; h--) {
    if (scores[h]! >= minScore) {
      r = h;
      break;
    }
  }
  const out: ImageOutcome = { tp: [], fp: [], ignored: [], below: [], hit: [], missed: [] };
  match.outcomes.forEach((o, h) => (h > r ? out.below : out[o]).push(h));
  match.counted.forEach((c, g) => {
    if (!c) return;
    const by = match.hitBy[g]!;
    (by >= 0 && by <= r ? out.hit : out.missed).push(g);
  });
  return out;
}

/** The protocol's matching of one image (no score normalisation needed: matching ignores scores). */
export function matchImage(gt: WiderGtImage, predictions: readonly WiderPrediction[], setting: WiderSetting, iouThreshold = WIDER_IOU_THRESHOLD): ImageMatch {
  const key = widerImageKey(gt.event, gt.file);
  const boxes = predictionBoxes(predictions, key);
  const best = bestOverlaps(boxes, predictions.length, gt.boxes);
  const nGt = gt.boxes.length / 4;
  const counted = countedMask(gt[setting], nGt);
  return buildMatch(key, setting, best, iouThreshold, counted, nGt);
}

/** Runs the whole protocol. Throws EVAL_INPUT for unknown keys, missing or malformed predictions. */
export function evaluateWider(gt: WiderGroundTruth, predictions: WiderPredictions, options: EvaluateWiderOptions = {}): WiderEvaluation {
  const iouThreshold = options.iouThreshold ?? WIDER_IOU_THRESHOLD;
  const scope = resolveScope(gt, options.restrictTo);

  // Collect the images in scope, official order, with their predictions.
  interface Item {
    image: WiderGtImage;
    key: string;
    preds: readonly WiderPrediction[];
  }
  const items: Item[] = [];
  const missing: string[] = [];
  for (const event of gt.events) {
    for (const image of event.images) {
      const key = widerImageKey(event.event, image.file);
      if (scope && !scope.has(key)) continue;
      const preds = predictions[event.event]?.[image.file];
      if (preds === undefined) {
        missing.push(key);
        items.push({ image, key, preds: [] });
      } else {
        items.push({ image, key, preds });
      }
    }
  }
  if (missing.length > 0 && (options.onMissing ?? 'error') === 'error') {
    throw new StudioError('EVAL_INPUT', `no predictions for ${missing.length} of ${items.length} images, e.g. ${missing.slice(0, 3).join(', ')}`);
  }

  // norm_score: Python's max()/min() of numpy scalars, starting from max 0 and min 1.
  let maxScore = 0;
  let minScore = 1;
  for (const { preds } of items) {
    if (preds.length === 0) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (const p of preds) {
      const s = p[4]!;
      // np.min / np.max propagate NaN.
      if (Number.isNaN(s) || Number.isNaN(lo)) lo = NaN;
      else if (s < lo) lo = s;
      if (Number.isNaN(s) || Number.isNaN(hi)) hi = NaN;
      else if (s > hi) hi = s;
    }
    maxScore = maxScore > hi ? maxScore : hi;
    minScore = minScore < lo ? minScore : lo;
  }
  const diff = maxScore - minScore;

  const thresholds = new Float64Array(WIDER_THRESHOLD_COUNT);
  for (let t = 0; t < WIDER_THRESHOLD_COUNT; t++) thresholds[t] = 1 - (t + 1) / WIDER_THRESHOLD_COUNT;

  const faces: Record<WiderSetting, number> = { easy: 0, medium: 0, hard: 0 };
  const sums: Record<WiderSetting, { proposals: Float64Array; tp: Float64Array }> = {
    easy: { proposals: new Float64Array(WIDER_THRESHOLD_COUNT), tp: new Float64Array(WIDER_THRESHOLD_COUNT) },
    medium: { proposals: new Float64Array(WIDER_THRESHOLD_COUNT), tp: new Float64Array(WIDER_THRESHOLD_COUNT) },
    hard: { proposals: new Float64Array(WIDER_THRESHOLD_COUNT), tp: new Float64Array(WIDER_THRESHOLD_COUNT) },
  };
  const perImage: ImageMatch[] | undefined = options.perImage ? [] : undefined;
  const lastIndex = new Int32Array(WIDER_THRESHOLD_COUNT);

  for (const { image, key, preds } of items) {
    const nGt = image.boxes.length / 4;
    const n = preds.length;
    for (const setting of WIDER_SETTINGS) faces[setting] += image[setting].length;
    const boxes = predictionBoxes(preds, key);
    const best = bestOverlaps(boxes, n, image.boxes);
    if (perImage && options.perImage) {
      perImage.push(buildMatch(key, options.perImage, best, iouThreshold, countedMask(image[options.perImage], nGt), nGt));
    }
    // evaluation.py: `if len(gt_boxes) == 0 or len(pred_info) == 0: continue`.
    if (nGt === 0 || n === 0) continue;

    // img_pr_info: r(t) = last prediction index whose normalised score ≥ thresholds[t]. Each
    // prediction enters at the first t whose threshold it reaches; r(t) is a running maximum.
    lastIndex.fill(-1);
    for (let h = 0; h < n; h++) {
      const s = (preds[h]![4]! - minScore) / diff;
      const t = firstThresholdReached(thresholds, s);
      if (t < WIDER_THRESHOLD_COUNT && h > lastIndex[t]!) lastIndex[t] = h;
    }
    for (let t = 1; t < WIDER_THRESHOLD_COUNT; t++) if (lastIndex[t - 1]! > lastIndex[t]!) lastIndex[t] = lastIndex[t - 1]!;

    for (const setting of WIDER_SETTINGS) {
      const counted = countedMask(image[setting], nGt);
      const { proposalsUpTo, recallUpTo } = greedy(best, iouThreshold, counted, nGt);
      const acc = sums[setting];
      for (let t = 0; t < WIDER_THRESHOLD_COUNT; t++) {
        const r = lastIndex[t]!;
        if (r < 0) continue;
        acc.proposals[t] += proposalsUpTo[r]!;
        acc.tp[t] += recallUpTo[r]!;
      }
    }
  }

  const curves = {} as Record<WiderSetting, PrCurve>;
  const aps = {} as Record<WiderSetting, number>;
  for (const setting of WIDER_SETTINGS) {
    const { proposals, tp } = sums[setting];
    const curve: PrCurve = [];
    const precision = new Float64Array(WIDER_THRESHOLD_COUNT);
    const recall = new Float64Array(WIDER_THRESHOLD_COUNT);
    for (let t = 0; t < WIDER_THRESHOLD_COUNT; t++) {
      // dataset_pr_info; 0/0 = NaN at the highest thresholds is what numpy produces too.
      precision[t] = tp[t]! / proposals[t]!;
      recall[t] = tp[t]! / faces[setting];
      curve.push([precision[t]!, recall[t]!]);
    }
    curves[setting] = curve;
    aps[setting] = vocAp(recall, precision);
  }

  const result: WiderEvaluation = { ...aps, curves, images: items.length, faces, scoreRange: { min: minScore, max: maxScore } };
  if (perImage) result.perImage = perImage;
  return result;
}

/** `voc_ap` of evaluation.py: precision envelope from the right, area where recall changes. */
export function vocAp(recall: ArrayLike<number>, precision: ArrayLike<number>): number {
  const n = recall.length;
  const mrec = new Float64Array(n + 2);
  const mpre = new Float64Array(n + 2);
  mrec[n + 1] = 1;
  for (let i = 0; i < n; i++) {
    mrec[i + 1] = recall[i]!;
    mpre[i + 1] = precision[i]!;
  }
  // np.maximum propagates NaN, and so does Math.max.
  for (let i = n + 1; i > 0; i--) mpre[i - 1] = Math.max(mpre[i - 1]!, mpre[i]!);
  const terms: number[] = [];
  for (let i = 0; i < n + 1; i++) {
    // NaN != NaN is true in numpy and JS alike.
    if (mrec[i + 1] !== mrec[i]) terms.push((mrec[i + 1]! - mrec[i]!) * mpre[i + 1]!);
  }
  return pairwiseSum(terms);
}

function resolveScope(gt: WiderGroundTruth, restrictTo: Iterable<string> | undefined): Set<string> | undefined {
  if (restrictTo === undefined) return undefined;
  const scope = new Set(restrictTo);
  const known = new Set<string>();
  for (const event of gt.events) for (const image of event.images) known.add(widerImageKey(event.event, image.file));
  const unknown = [...scope].filter((k) => !known.has(k));
  if (unknown.length > 0) {
    throw new StudioError('EVAL_INPUT', `${unknown.length} image(s) to evaluate are not in the ground truth, e.g. ${unknown.slice(0, 3).join(', ')} (keys are event/name without .jpg)`);
  }
  return scope;
}

/** `[x1, y1, x2, y2]` per prediction with x2 = x + w, as image_eval converts them. */
function predictionBoxes(preds: readonly WiderPrediction[], key: string): Float64Array {
  const out = new Float64Array(preds.length * 4);
  preds.forEach((p, h) => {
    if (p.length !== 5) throw new StudioError('EVAL_INPUT', `${key}: prediction ${h + 1} has ${p.length} values, expected [x, y, w, h, score]`);
    for (let k = 0; k < 5; k++) {
      if (typeof p[k] !== 'number') throw new StudioError('EVAL_INPUT', `${key}: prediction ${h + 1} holds a non-number`);
    }
    out[4 * h] = p[0]!;
    out[4 * h + 1] = p[1]!;
    out[4 * h + 2] = p[2]! + p[0]!;
    out[4 * h + 3] = p[3]! + p[1]!;
  });
  return out;
}

interface BestOverlaps {
  /** Per prediction: first argmax over faces (0 without faces). */
  index: Int32Array;
  /** Per prediction: the max IoU (NaN if any IoU is NaN, like ndarray.max). */
  iou: Float64Array;
}

/** Row-wise max/argmax of `bbox_overlaps(pred, gt)` (box_overlaps.pyx, +1-pixel convention). */
function bestOverlaps(pred: Float64Array, n: number, gtBoxes: Int32Array): BestOverlaps {
  const k = gtBoxes.length / 4;
  const index = new Int32Array(n);
  const iou = new Float64Array(n);
  if (k === 0) return { index, iou };
  // Faces as x1, y1, x2 = x + w, y2 = y + h, and their +1 areas.
  const g = new Float64Array(k * 4);
  const gArea = new Float64Array(k);
  for (let j = 0; j < k; j++) {
    g[4 * j] = gtBoxes[4 * j]!;
    g[4 * j + 1] = gtBoxes[4 * j + 1]!;
    g[4 * j + 2] = gtBoxes[4 * j + 2]! + gtBoxes[4 * j]!;
    g[4 * j + 3] = gtBoxes[4 * j + 3]! + gtBoxes[4 * j + 1]!;
    gArea[j] = (g[4 * j + 2]! - g[4 * j]! + 1) * (g[4 * j + 3]! - g[4 * j + 1]! + 1);
  }
  for (let h = 0; h < n; h++) {
    const px1 = pred[4 * h]!;
    const py1 = pred[4 * h + 1]!;
    const px2 = pred[4 * h + 2]!;
    const py2 = pred[4 * h + 3]!;
    const pArea = (px2 - px1 + 1) * (py2 - py1 + 1);
    let bestIndex = 0;
    let bestValue = 0;
    for (let j = 0; j < k; j++) {
      let o = 0;
      const iw = Math.min(px2, g[4 * j + 2]!) - Math.max(px1, g[4 * j]!) + 1;
      if (iw > 0) {
        const ih = Math.min(py2, g[4 * j + 3]!) - Math.max(py1, g[4 * j + 1]!) + 1;
        if (ih > 0) {
          const ua = pArea + gArea[j]! - iw * ih;
          o = (iw * ih) / ua;
        }
      }
      if (Number.isNaN(o)) {
        bestIndex = j;
        bestValue = NaN;
        break;
      }
      if (j === 0 || o > bestValue) {
        bestIndex = j;
        bestValue = o;
      }
    }
    index[h] = bestIndex;
    iou[h] = bestValue;
  }
  return { index, iou };
}

function countedMask(keep: Int32Array, nGt: number): Uint8Array {
  const counted = new Uint8Array(nGt);
  for (const i of keep) counted[i - 1] = 1;
  return counted;
}

/** image_eval's loop: proposal count and matched-face count after each prediction. */
function greedy(best: BestOverlaps, iouThreshold: number, counted: Uint8Array, nGt: number): { proposalsUpTo: Int32Array; recallUpTo: Int32Array } {
  const n = best.index.length;
  const recallList = new Int8Array(nGt);
  const proposalsUpTo = new Int32Array(n);
  const recallUpTo = new Int32Array(n);
  let proposals = 0;
  let matched = 0;
  for (let h = 0; h < n; h++) {
    let isProposal = true;
    if (best.iou[h]! >= iouThreshold) {
      const g = best.index[h]!;
      if (counted[g] === 0) {
        recallList[g] = -1;
        isProposal = false;
      } else if (recallList[g] === 0) {
        recallList[g] = 1;
        matched++;
      }
    }
    if (isProposal) proposals++;
    proposalsUpTo[h] = proposals;
    recallUpTo[h] = matched;
  }
  return { proposalsUpTo, recallUpTo };
}

function buildMatch(key: string, setting: WiderSetting, best: BestOverlaps, iouThreshold: number, counted: Uint8Array, nGt: number): ImageMatch {
  const n = best.index.length;
  const outcomes: PredictionOutcome[] = new Array<PredictionOutcome>(n);
  const matchedGt: number[] = new Array<number>(n);
  const hitBy = new Array<number>(nGt).fill(-1);
  for (let h = 0; h < n; h++) {
    const g = best.index[h]!;
    const hit = nGt > 0 && best.iou[h]! >= iouThreshold;
    matchedGt[h] = hit ? g : -1;
    if (nGt === 0) outcomes[h] = 'ignored';
    else if (!hit) outcomes[h] = 'fp';
    else if (counted[g] === 0) outcomes[h] = 'ignored';
    else if (hitBy[g] === -1) {
      hitBy[g] = h;
      outcomes[h] = 'tp';
    } else outcomes[h] = 'fp';
  }
  return { key, setting, outcomes, matchedGt, bestIou: Array.from(best.iou), counted: Array.from(counted, (c) => c === 1), hitBy };
}

/** Smallest t with s ≥ thresholds[t] (thresholds strictly decreasing); thresholds.length if none (incl. NaN). */
function firstThresholdReached(thresholds: Float64Array, s: number): number {
  let lo = 0;
  let hi = thresholds.length;
  if (!(s >= thresholds[hi - 1]!)) return hi;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s >= thresholds[mid]!) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}
