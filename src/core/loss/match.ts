/**
 * Prior ↔ face matching of MultiBoxLoss, mirroring `bbox_utils.match` (SPEC §7 steps 1–6), on the
 * host. Targets are known before the forward pass, so the matching (integer labels + encoded
 * offsets) is computed once per image, outside the gradient tape, and uploaded with the batch.
 *
 * Float32-faithful: IoUs, thresholds (0.1, 0.35, 0.5 rounded to float32 like a PyTorch scalar
 * compared with a float32 tensor) and `encode` round like the reference. Ties follow PyTorch:
 * `max(dim)` keeps the first maximal index; the stage-2 descending sort is treated as stable
 * (equal overlaps ranked by ascending prior index).
 */
import { boxArea, encodeInto, iouWithAreas, pointForm } from './box-utils.ts';

const f = Math.fround;

/** `cfg.FACE.OVERLAP_THRESH`. */
export const OVERLAP_THRESH: readonly [number, number, number] = [0.1, 0.35, 0.5];

export interface MatchResult {
  /** `[P]` matched label per prior: 0 background, else the face label (1). */
  confT: Int32Array;
  /** `[P, 4]` encoded offsets of each prior's matched face (defined for every prior, used on positives). */
  locT: Float32Array;
  numPos: number;
  /** Positives from the IoU ≥ 0.35 rule incl. forced best priors, and from the stage-2 top-up. */
  stage1Positives: number;
  stage2Added: number;
  /** Best prior of every face (forced positive), and its IoU. */
  bestPriorPerTruth: Int32Array;
  bestOverlapPerTruth: Float32Array;
}

/** Matching of a whole batch, flattened image-major: what the loss consumes. */
export interface BatchMatch {
  batch: number;
  numPriors: number;
  /** `[B·P]`. */
  confT: Int32Array;
  /** `[B·P·4]`. */
  locT: Float32Array;
  numPosPerImage: number[];
}

const pointFormCache = new WeakMap<Float32Array, Float32Array>();

function cachedPointForm(priors: Float32Array): Float32Array {
  let pf = pointFormCache.get(priors);
  if (!pf) {
    pf = pointForm(priors);
    pointFormCache.set(priors, pf);
  }
  return pf;
}

/**
 * Matches one image's faces to the priors.
 * @param priors `[P, 4]` (cx, cy, w, h), e.g. `priorBoxes(h, w)`.
 * @param targets `[n, 5]` rows (x1, y1, x2, y2, label), normalised; `n = 0` gives all background
 *   (the reference would crash on such an image; the data pipeline never produces one).
 */
export function matchTargets(priors: Float32Array, targets: Float32Array | ArrayLike<number>, thresholds = OVERLAP_THRESH): MatchResult {
  if (priors.length % 4 !== 0) throw new RangeError(`matchTargets: priors length ${priors.length} is not a multiple of 4`);
  if (targets.length % 5 !== 0) throw new RangeError(`matchTargets: targets length ${targets.length} is not a multiple of 5`);
  const P = priors.length / 4;
  const n = targets.length / 5;
  const confT = new Int32Array(P);
  const locT = new Float32Array(P * 4);
  const bestPriorPerTruth = new Int32Array(n);
  const bestOverlapPerTruth = new Float32Array(n);
  if (n === 0) return { confT, locT, numPos: 0, stage1Positives: 0, stage2Added: 0, bestPriorPerTruth, bestOverlapPerTruth };

  const th1 = f(thresholds[0]);
  const th2 = f(thresholds[1]);
  const th3 = f(thresholds[2]);
  const pf = cachedPointForm(priors);
  const truths = Float32Array.from({ length: n * 4 }, (_, i) => targets[Math.floor(i / 4) * 5 + (i % 4)]!);

  // One pass over (face, prior) pairs keeps both argmaxes; strict `>` keeps the first maximum
  // like torch.max(dim), and no [n, P] matrix is held (n can reach hundreds on WIDER).
  const bestTruthOverlap = new Float32Array(P).fill(-Infinity);
  const bestTruthIdx = new Int32Array(P);
  const priorArea = new Float32Array(P);
  for (let p = 0; p < P; p++) priorArea[p] = boxArea(pf[p * 4]!, pf[p * 4 + 1]!, pf[p * 4 + 2]!, pf[p * 4 + 3]!);
  for (let g = 0; g < n; g++) {
    const x1 = truths[g * 4]!, y1 = truths[g * 4 + 1]!, x2 = truths[g * 4 + 2]!, y2 = truths[g * 4 + 3]!;
    const areaG = boxArea(x1, y1, x2, y2);
    let best = -Infinity;
    let bestP = 0;
    for (let p = 0; p < P; p++) {
      const o = p * 4;
      const iou = iouWithAreas(x1, y1, x2, y2, areaG, pf[o]!, pf[o + 1]!, pf[o + 2]!, pf[o + 3]!, priorArea[p]!);
      if (iou > best) {
        best = iou;
        bestP = p;
      }
      if (iou > bestTruthOverlap[p]!) {
        bestTruthOverlap[p] = iou;
        bestTruthIdx[p] = g;
      }
    }
    bestPriorPerTruth[g] = bestP;
    bestOverlapPerTruth[g] = best;
  }
  // index_fill_(best_prior_idx, 2), then the in-order loop: a later face wins a shared best prior.
  for (let g = 0; g < n; g++) bestTruthOverlap[bestPriorPerTruth[g]!] = 2;
  for (let g = 0; g < n; g++) bestTruthIdx[bestPriorPerTruth[g]!] = g;

  let nStage2 = 0;
  for (let g = 0; g < n; g++) {
    const o = bestOverlapPerTruth[g]!;
    if (o >= th2) nStage2++;
    if (o >= th3) nStage2++;
  }
  nStage2 = Math.floor(nStage2 / 2);

  let stage1 = 0;
  const candidates: number[] = [];
  for (let p = 0; p < P; p++) {
    const o = bestTruthOverlap[p]!;
    if (o < th2) {
      if (o > th1) candidates.push(p);
    } else {
      confT[p] = Math.trunc(targets[bestTruthIdx[p]! * 5 + 4]!);
      if (confT[p] !== 0) stage1++;
    }
  }
  // Stage 2 (S3FD compensation, global over the image): the N best 0.1 < IoU < 0.35 priors.
  let stage2 = 0;
  if (nStage2 > 0 && candidates.length > 0) {
    candidates.sort((a, b) => bestTruthOverlap[b]! - bestTruthOverlap[a]! || a - b);
    const take = Math.min(nStage2, candidates.length);
    for (let i = 0; i < take; i++) confT[candidates[i]!] += 1;
    stage2 = take;
  }

  for (let p = 0; p < P; p++) {
    const g = bestTruthIdx[p]!;
    encodeInto(locT, p * 4, truths[g * 4]!, truths[g * 4 + 1]!, truths[g * 4 + 2]!, truths[g * 4 + 3]!,
      priors[p * 4]!, priors[p * 4 + 1]!, priors[p * 4 + 2]!, priors[p * 4 + 3]!);
  }
  let numPos = 0;
  for (let p = 0; p < P; p++) if (confT[p]! > 0) numPos++;
  return { confT, locT, numPos, stage1Positives: stage1, stage2Added: stage2, bestPriorPerTruth, bestOverlapPerTruth };
}

/** Matches every image of a batch and lays the results out image-major for the loss. */
export function matchBatch(priors: Float32Array, targets: ReadonlyArray<Float32Array | ArrayLike<number>>, thresholds = OVERLAP_THRESH): BatchMatch {
  const P = priors.length / 4;
  const B = targets.length;
  const confT = new Int32Array(B * P);
  const locT = new Float32Array(B * P * 4);
  const numPosPerImage: number[] = [];
  targets.forEach((t, b) => {
    const m = matchTargets(priors, t, thresholds);
    confT.set(m.confT, b * P);
    locT.set(m.locT, b * P * 4);
    numPosPerImage.push(m.numPos);
  });
  return { batch: B, numPriors: P, confT, locT, numPosPerImage };
}
