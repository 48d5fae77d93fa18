/**
 * Training augmentation of EResFD (`utils/augmentations.preprocess(mode='train')`, SPEC §8):
 * photometric distortion → data-anchor-sampling (p 0.5) or SSD square crop → resize to S×S with a
 * random filter → horizontal flip (p 0.5). Seeded: every random draw comes from the `rng` passed in
 * (`createRng(seed)`), so the same seed gives the same sample; the stream is not numpy's, only the
 * distributions are the reference's.
 *
 * Split in two so the geometry can be checked (and reused) without touching pixels:
 *   planTrainAugmentation(width, height, boxes, rng) → every decision + the output targets
 *   renderTrainAugmentation(image, plan)             → the S×S RGB image
 *
 * Deviations from the reference, each deliberate:
 * - DAS resizes the whole image by up to 12000²/(H·W) and then crops 640×640; here the crop window
 *   is mapped back to the source and the source region is resampled straight to S×S in one pass
 *   (with the final, Pillow-style filter; the reference's cv2 filter draw is kept for the stream
 *   but not used). Same geometry, no 144-Mpixel intermediate in a worker.
 * - DAS keeps faces whose centre is inside the crop without clipping them; with `clipBoxes`
 *   (default) every output box is clipped to [0, 1] so that all targets lie inside the image.
 *   `clipBoxes: false` reproduces the reference targets.
 * - The reference drops tiny faces (area < minFace² output px) only inside the crop paths; here a
 *   final filter applies the same rule (after clipping) to every path, incl. "no crop accepted",
 *   and also drops boxes that clipping left with no area.
 * - The DAS crop is S×S (the reference: cfg.INPUT_SIZE = 640 = S), so anchors keep their meaning
 *   when training at another size.
 * - DAS boxes are rescaled by the image's actual pixel scale round(W·ratio)/W, not by `ratio`
 *   (the reference's half-pixel mismatch between boxes and pixels).
 * An image whose faces all vanish yields `targets` with 0 rows; the reference then draws another
 * image, which is the caller's job.
 */
import type { RgbImage } from '../types.ts';
import { createRng } from '../util/random.ts';
import { applyPhotometric, planPhotometric, type PhotometricPlan } from './photometric.ts';
import { flipHorizontal, PIL_TRAIN_FILTERS, resampleRegion, type Region, type ResampleFilter } from './resample.ts';

export interface TrainAugmentConfig {
  /** Output side S (cfg.resize_width). */
  size: number;
  /** Photometric distortion (cfg.apply_distort). */
  distort: boolean;
  /** Probability of data-anchor-sampling instead of the SSD crop (reference: `U > 0.5`). */
  dasProb: number;
  /** Anchor sizes in px (cfg.ANCHOR_SIZES). */
  anchorSizes: readonly number[];
  /** DAS crop side in px of the rescaled image; default S. */
  dasCropSize?: number;
  /** Faces with (w·S)·(h·S) < minFaceSize² are dropped (cfg.min_face_size = 6). */
  minFaceSize: number;
  /** Clip every output box to [0, 1] (see header). */
  clipBoxes: boolean;
  flipProb: number;
  /** Cap of the DAS rescale: H·W·ratio² ≤ maxRescaledSide² (reference 12000). */
  maxRescaledSide: number;
}

export const DEFAULT_TRAIN_AUGMENT_CONFIG: TrainAugmentConfig = {
  size: 640,
  distort: true,
  dasProb: 0.5,
  anchorSizes: [16, 32, 64, 128, 256, 512],
  minFaceSize: 6,
  clipBoxes: true,
  flipProb: 0.5,
  maxRescaledSide: 12000,
};

export function validateTrainAugmentConfig(config: Partial<TrainAugmentConfig>): TrainAugmentConfig {
  const c = { ...DEFAULT_TRAIN_AUGMENT_CONFIG, ...config };
  if (!Number.isInteger(c.size) || c.size < 8) throw new RangeError(`augment: size must be an integer ≥ 8, got ${c.size}`);
  if (c.dasCropSize !== undefined && !(c.dasCropSize >= 8)) throw new RangeError(`augment: invalid dasCropSize ${c.dasCropSize}`);
  if (!(c.dasProb >= 0 && c.dasProb <= 1) || !(c.flipProb >= 0 && c.flipProb <= 1)) throw new RangeError('augment: probabilities must be in [0, 1]');
  if (c.anchorSizes.length < 2) throw new RangeError('augment: need at least 2 anchor sizes');
  return c;
}

/** DAS padding colour: the reference writes the BGR mean [104, 117, 123] into an RGB array. */
export const DAS_FILL: readonly [number, number, number] = [104, 117, 123];

export interface TrainAugmentPlan {
  size: number;
  photometric: PhotometricPlan | null;
  kind: 'das' | 'ssd' | 'none';
  /** Source-pixel region stretched onto the S×S output (x0/y0 may be negative: fill). */
  region: Region;
  /** Size of the reference's crop in its own pixels (DAS: of the rescaled image), before the stretch to S. */
  cropSize: { width: number; height: number };
  fill: readonly [number, number, number];
  filter: ResampleFilter;
  flip: boolean;
  /** `[n, 5]` normalised (x1, y1, x2, y2, 1) of the output image. */
  targets: Float32Array;
  /** Index into the input boxes of each target row. */
  kept: number[];
}

export interface AugmentResult {
  image: RgbImage;
  targets: Float32Array;
  plan: TrainAugmentPlan;
}

const uniform = (rng: () => number, a: number, b: number) => a + (b - a) * rng();
const randint = (rng: () => number, n: number) => Math.min(n - 1, Math.floor(rng() * n));

interface Candidate {
  region: Region;
  cropSize: { width: number; height: number };
  /** Box coordinates relative to the output, before clipping/filtering, and their input indices. */
  boxes: number[][];
  kept: number[];
}

/** Reference `anchor_crop_image_sampling` (PyramidBox data-anchor-sampling). */
function dataAnchorSampling(rng: () => number, W: number, H: number, boxes: Float64Array, n: number, cfg: TrainAugmentConfig): Candidate {
  const anchors = cfg.anchorSizes;
  const area = (i: number) => (boxes[i * 4 + 2]! - boxes[i * 4]! + 1) * (boxes[i * 4 + 3]! - boxes[i * 4 + 1]! + 1);
  const pick = randint(rng, n);
  const side = Math.sqrt(area(pick));
  let anchorIdx = anchors.length - 1;
  let best = Infinity;
  anchors.forEach((a, i) => {
    if (Math.abs(a - side) < best) {
      best = Math.abs(a - side);
      anchorIdx = i;
    }
  });
  const top = Math.min(anchorIdx + 1, anchors.length - 1);
  const target = anchors[randint(rng, top + 1)]!;
  let ratio = (target / side) * 2 ** uniform(rng, -1, 1);
  const maxPixels = cfg.maxRescaledSide * cfg.maxRescaledSide;
  if (Math.trunc(H * ratio * W * ratio) > maxPixels) ratio = Math.sqrt(maxPixels / (H * W));
  void randint(rng, 5); // cv2 interpolation draw of the reference; the fused resample uses `filter`
  // cv2.resize(fx=ratio): dsize = round(size·ratio). The reference scales the boxes by `ratio`,
  // half a pixel off the actual pixel scale; the actual scale keeps targets on their pixels.
  const rw = Math.max(1, Math.round(W * ratio)), rh = Math.max(1, Math.round(H * ratio));
  const sx = rw / W, sy = rh / H;
  const b = Array.from({ length: n }, (_, i) => [0, 1, 2, 3].map((k) => boxes[i * 4 + k]! * (k % 2 === 0 ? sx : sy)));
  const [xmin, ymin, x2, y2] = b[pick]!;
  const bw = x2! - xmin! + 1, bh = y2! - ymin! + 1;
  const crop = cfg.dasCropSize ?? cfg.size;

  const accepted: number[][] = [];
  for (let t = 0; t < 50; t++) {
    let wOff: number, hOff: number;
    if (crop < Math.max(rh, rw)) {
      wOff = bw <= crop ? uniform(rng, xmin! + bw - crop, xmin!) : uniform(rng, xmin!, xmin! + bw - crop);
      hOff = bh <= crop ? uniform(rng, ymin! + bh - crop, ymin!) : uniform(rng, ymin!, ymin! + bh - crop);
    } else {
      wOff = uniform(rng, rw - crop, 0);
      hOff = uniform(rng, rh - crop, 0);
    }
    const rect = [Math.floor(wOff), Math.floor(hOff), Math.floor(wOff) + crop, Math.floor(hOff) + crop];
    let ok = false;
    for (const [x1b, y1b, x2b, y2b] of b as [number, number, number, number][]) {
      if (rect[0]! <= x1b && rect[1]! <= y1b && rect[2]! >= x2b && rect[3]! >= y2b) { ok = true; break; }
      const iw = Math.max(0, Math.min(x2b, rect[2]!) - Math.max(x1b, rect[0]!));
      const ih = Math.max(0, Math.min(y2b, rect[3]!) - Math.max(y1b, rect[1]!));
      const inter = iw * ih;
      const union = (x2b - x1b) * (y2b - y1b) + crop * crop - inter;
      if (inter / union > 0.7) { ok = true; break; }
    }
    if (ok) accepted.push(rect);
  }
  if (accepted.length === 0) {
    // Whole rescaled image, stretched to S×S by the final resize.
    return {
      region: { x0: 0, y0: 0, x1: W, y1: H },
      cropSize: { width: rw, height: rh },
      boxes: b.map(([x1b, y1b, x2b, y2b]) => [x1b! / rw, y1b! / rh, x2b! / rw, y2b! / rh]),
      kept: b.map((_, i) => i),
    };
  }
  const rect = accepted[randint(rng, accepted.length)]!;
  // Crop = rescaled pixels [rect0, min(rect2, rw)) × …, top/left beyond 0 padded, right/bottom truncated.
  const cw = Math.min(rect[2]!, rw) - rect[0]!, ch = Math.min(rect[3]!, rh) - rect[1]!;
  const out: number[][] = [];
  const kept: number[] = [];
  b.forEach(([x1b, y1b, x2b, y2b], i) => {
    const cx = (x1b! + x2b!) / 2, cy = (y1b! + y2b!) / 2;
    if (!(rect[0]! < cx && rect[1]! < cy && rect[2]! > cx && rect[3]! > cy)) return;
    const bx1 = x1b! - rect[0]!, by1 = y1b! - rect[1]!, bx2 = x2b! - rect[0]!, by2 = y2b! - rect[1]!;
    if (!((bx2 - bx1) * (by2 - by1) > cfg.minFaceSize * cfg.minFaceSize)) return;
    out.push([bx1 / cw, by1 / ch, bx2 / cw, by2 / ch]);
    kept.push(i);
  });
  return {
    region: { x0: rect[0]! / sx, y0: rect[1]! / sy, x1: (rect[0]! + cw) / sx, y1: (rect[1]! + ch) / sy },
    cropSize: { width: cw, height: ch },
    boxes: out,
    kept,
  };
}

/** Reference SSD branch: 5 square samplers (scale 1, then four U(0.3, 1)), 50 trials each. */
function ssdSquareCrop(rng: () => number, W: number, H: number, boxes: Float64Array, n: number, cfg: TrainAugmentConfig): Candidate {
  const norm = Array.from({ length: n }, (_, i) => [boxes[i * 4]! / W, boxes[i * 4 + 1]! / H, boxes[i * 4 + 2]! / W, boxes[i * 4 + 3]! / H]);
  const samples: number[][] = [];
  for (const [minScale, maxScale] of [[1, 1], [0.3, 1], [0.3, 1], [0.3, 1], [0.3, 1]] as const) {
    for (let t = 0; t < 50; t++) {
      const scale = uniform(rng, minScale, maxScale);
      let bw = scale, bh = scale; // aspect ratio drawn from U(1, 1) ⇒ 1
      if (H < W) bw = (bh * H) / W;
      else bh = (bw * W) / H;
      const xmin = uniform(rng, 0, 1 - bw), ymin = uniform(rng, 0, 1 - bh);
      const s = [xmin, ymin, xmin + bw, ymin + bh];
      // min_object_coverage 1: some face lies entirely inside the sample.
      if (norm.some(([x1, y1, x2, y2]) => x2! > x1! && y2! > y1! && x1! >= s[0]! && y1! >= s[1]! && x2! <= s[2]! && y2! <= s[3]!)) {
        samples.push(s);
        break;
      }
    }
  }
  if (samples.length === 0) {
    return { region: { x0: 0, y0: 0, x1: W, y1: H }, cropSize: { width: W, height: H }, boxes: norm, kept: norm.map((_, i) => i) };
  }
  const s = samples[randint(rng, samples.length)]!.map((v) => Math.min(1, Math.max(0, v)));
  const [sx0, sy0, sx1, sy1] = s as [number, number, number, number];
  const region = { x0: Math.trunc(sx0 * W), y0: Math.trunc(sy0 * H), x1: Math.trunc(sx1 * W), y1: Math.trunc(sy1 * H) };
  const sw = sx1 - sx0, sh = sy1 - sy0;
  const out: number[][] = [];
  const kept: number[] = [];
  const S = cfg.size;
  norm.forEach(([x1, y1, x2, y2], i) => {
    const cx = (x1! + x2!) / 2, cy = (y1! + y2!) / 2;
    if (!(cx >= sx0 && cx <= sx1 && cy >= sy0 && cy <= sy1)) return; // meet_emit_constraint
    if (x1! >= sx1 || x2! <= sx0 || y1! >= sy1 || y2! <= sy0) return; // project_bbox: no overlap
    const p = [(x1! - sx0) / sw, (y1! - sy0) / sh, (x2! - sx0) / sw, (y2! - sy0) / sh].map((v) => Math.min(1, Math.max(0, v)));
    const pw = p[2]! - p[0]!, ph = p[3]! - p[1]!;
    if (!(pw >= 0 && ph >= 0 && pw * ph > 0)) return;
    if (pw * S * (ph * S) < cfg.minFaceSize * cfg.minFaceSize) return;
    out.push(p);
    kept.push(i);
  });
  return { region, cropSize: { width: region.x1 - region.x0, height: region.y1 - region.y0 }, boxes: out, kept };
}

/**
 * Draws every random decision for one training sample and computes its targets.
 * @param boxes `[n, 4]` face boxes in source pixels (x1, y1, x2, y2), e.g. WIDER `[x, y, x+w, y+h]`.
 */
export function planTrainAugmentation(
  width: number, height: number, boxes: ArrayLike<number>, rng: () => number, config: Partial<TrainAugmentConfig> = {},
): TrainAugmentPlan {
  const cfg = validateTrainAugmentConfig(config);
  if (boxes.length % 4 !== 0) throw new RangeError(`augment: boxes length ${boxes.length} is not a multiple of 4`);
  // A box with no part inside the image (a bad annotation) is ignored: data-anchor-sampling would
  // centre its crop on it and get an empty region. `inside` maps back to the input's indices.
  const inside: number[] = [];
  for (let i = 0; i < boxes.length / 4; i++) {
    if (boxes[i * 4]! < width && boxes[i * 4 + 1]! < height && boxes[i * 4 + 2]! > 0 && boxes[i * 4 + 3]! > 0) inside.push(i);
  }
  const n = inside.length;
  const b = new Float64Array(n * 4);
  inside.forEach((i, j) => b.set([boxes[i * 4]!, boxes[i * 4 + 1]!, boxes[i * 4 + 2]!, boxes[i * 4 + 3]!], j * 4));
  const photometric = cfg.distort ? planPhotometric(rng) : null;

  let cand: Candidate;
  let kind: TrainAugmentPlan['kind'];
  if (n === 0) {
    kind = 'none';
    cand = { region: { x0: 0, y0: 0, x1: width, y1: height }, cropSize: { width, height }, boxes: [], kept: [] };
  } else if (rng() > 1 - cfg.dasProb) {
    kind = 'das';
    cand = dataAnchorSampling(rng, width, height, b, n, cfg);
  } else {
    kind = 'ssd';
    cand = ssdSquareCrop(rng, width, height, b, n, cfg);
  }
  const filter = PIL_TRAIN_FILTERS[randint(rng, PIL_TRAIN_FILTERS.length)]!;
  const flip = rng() < cfg.flipProb;

  const S = cfg.size;
  const minArea = cfg.minFaceSize * cfg.minFaceSize;
  const rows: number[] = [];
  const kept: number[] = [];
  cand.boxes.forEach((box, j) => {
    let [x1, y1, x2, y2] = box as [number, number, number, number];
    if (flip) [x1, x2] = [1 - x2, 1 - x1];
    if (cfg.clipBoxes) {
      x1 = Math.min(1, Math.max(0, x1)); y1 = Math.min(1, Math.max(0, y1));
      x2 = Math.min(1, Math.max(0, x2)); y2 = Math.min(1, Math.max(0, y2));
    }
    const w = x2 - x1, h = y2 - y1;
    if (!(w > 0 && h > 0) || w * S * (h * S) < minArea) return;
    rows.push(x1, y1, x2, y2, 1);
    kept.push(inside[cand.kept[j]!]!);
  });
  const fill = kind === 'das' ? DAS_FILL : ([0, 0, 0] as const);
  return { size: S, photometric, kind, region: cand.region, cropSize: cand.cropSize, fill, filter, flip, targets: Float32Array.from(rows), kept };
}

/** Renders the S×S RGB image of a plan (photometric on the source, one resample, flip). */
export function renderTrainAugmentation(image: RgbImage, plan: TrainAugmentPlan): RgbImage {
  // The resample reads only the region's pixels (taps outside it are dropped): distort just those.
  const r = plan.region;
  const window = { x0: Math.floor(r.x0), y0: Math.floor(r.y0), x1: Math.ceil(r.x1), y1: Math.ceil(r.y1) };
  const src = plan.photometric ? applyPhotometric(image, plan.photometric, window) : image;
  const out = resampleRegion(src, plan.region, plan.size, plan.size, plan.filter, plan.fill);
  return plan.flip ? flipHorizontal(out) : out;
}

/**
 * One augmented training sample.
 * @param rng a generator from `createRng(seed)`, or a seed.
 */
export function augmentTrain(
  image: RgbImage, boxes: ArrayLike<number>, rng: (() => number) | number, config: Partial<TrainAugmentConfig> = {},
): AugmentResult {
  const r = typeof rng === 'number' ? createRng(rng) : rng;
  const plan = planTrainAugmentation(image.width, image.height, boxes, r, config);
  return { image: renderTrainAugmentation(image, plan), targets: plan.targets, plan };
}
