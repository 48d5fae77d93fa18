/**
 * MultiBoxLoss of EResFD (`layers/modules/multibox_loss.py`, dataset 'face'; SPEC §7).
 *
 *   loss_l = Σ_pos smoothL1(loc − loc_t) / N
 *   loss_c = Σ_{pos ∪ neg} CE(conf, conf_t) / N,    N = Σ_images num_pos
 *
 * Matching is integer bookkeeping known before the forward, so it runs on the host (match.ts).
 * Hard-negative mining depends on the predicted conf, so it runs as tf ops on the device — no
 * readback: per image the `num_neg = min(3·num_pos, P−1)` largest mining losses are found with
 * `tf.topk` (only the k-th value is used), then `lc > thr`, plus the first `k − #greater` priors
 * with `lc == thr` (cumsum) so exactly k are kept even on exact ties (ties broken by ascending prior
 * index). The mask is built inside a `tf.customGrad` with a zero gradient: comparisons and topk have
 * no gradients in TF.js, and the mask is a constant of the loss in the reference too.
 *
 * Mining loss `lc = logsumexp(conf) − conf[conf_t]` uses the batch-global max as stabiliser like the
 * reference `log_sum_exp` (it decides near-ties at the cut). The differentiable CE is the same
 * quantity written for two classes as softplus(c_other − c_target) (logsumexp form for C ≠ 2);
 * the two differ only by float rounding (golden loss_c: 7e-8 relative).
 *
 * A batch without any positive (reference: crash) gives lossL = lossC = 0 with zero gradients.
 */
import * as tf from '@tensorflow/tfjs-core';
import { matchBatch, OVERLAP_THRESH, type BatchMatch } from './match.ts';

export interface MultiboxLossConfig {
  /** `cfg.NEG_POS_RATIOS`. */
  negPosRatio: number;
  /** IoU thresholds of the matching (only used when the loss matches itself). */
  overlapThresh: readonly [number, number, number];
  /** Return the mined negatives mask `[B, P]` (float32 0/1); the caller disposes it. */
  keepNegMask: boolean;
  /**
   * Use this negatives mask `[B·P]` (0/1) instead of mining, e.g. a golden mask to take the
   * near-tie question out of a gradient comparison.
   */
  negMask?: Uint8Array | Float32Array;
}

export const DEFAULT_MULTIBOX_LOSS_CONFIG: MultiboxLossConfig = {
  negPosRatio: 3,
  overlapThresh: OVERLAP_THRESH,
  keepNegMask: false,
};

export interface MultiboxLossResult {
  lossL: tf.Scalar;
  lossC: tf.Scalar;
  /** N, the normaliser (0 ⇒ both losses are 0). */
  numPos: number;
  numPosPerImage: number[];
  /** Negatives asked for per image, `min(ratio·num_pos, P−1)`. */
  numNegPerImage: number[];
  negMask?: tf.Tensor2D;
}

/** Matches `targets` (one `[n,5]` array per image) against `priors`, then {@link multiboxLossFromMatch}. */
export function multiboxLoss(
  loc: tf.Tensor, conf: tf.Tensor, priors: Float32Array,
  targets: ReadonlyArray<Float32Array | ArrayLike<number>>, config: Partial<MultiboxLossConfig> = {},
): MultiboxLossResult {
  const cfg = { ...DEFAULT_MULTIBOX_LOSS_CONFIG, ...config };
  return multiboxLossFromMatch(loc, conf, matchBatch(priors, targets, cfg.overlapThresh), cfg);
}

/**
 * The loss from a precomputed matching. `loc [B,P,4]`, `conf [B,P,2]` (raw logits) may come from
 * inside a `tf.grads` / `tf.variableGrads` closure; the returned scalars are differentiable in both.
 * Everything else is disposed; the caller owns lossL, lossC (and negMask).
 */
export function multiboxLossFromMatch(
  loc: tf.Tensor, conf: tf.Tensor, match: BatchMatch, config: Partial<MultiboxLossConfig> = {},
): MultiboxLossResult {
  const cfg = { ...DEFAULT_MULTIBOX_LOSS_CONFIG, ...config };
  const { batch: B, numPriors: P } = match;
  if (loc.rank !== 3 || loc.shape[0] !== B || loc.shape[1] !== P || loc.shape[2] !== 4) {
    throw new RangeError(`multiboxLoss: loc must be [${B}, ${P}, 4], got [${loc.shape.join(', ')}]`);
  }
  if (conf.rank !== 3 || conf.shape[0] !== B || conf.shape[1] !== P) {
    throw new RangeError(`multiboxLoss: conf must be [${B}, ${P}, C], got [${conf.shape.join(', ')}]`);
  }
  const numClasses = conf.shape[2]!;
  const numPosPerImage = match.numPosPerImage.slice();
  const numNegPerImage = numPosPerImage.map((n) => Math.min(cfg.negPosRatio * n, P - 1));
  const N = numPosPerImage.reduce((a, b) => a + b, 0);

  // Offsets of non-positive priors are never used; zero them so a degenerate face (log 0 = −∞)
  // cannot turn 0·∞ into NaN in the masked sum.
  const posHost = new Float32Array(B * P);
  const pos4Host = new Float32Array(B * P * 4);
  const locTHost = new Float32Array(B * P * 4);
  for (let i = 0; i < B * P; i++) {
    if (match.confT[i]! > 0) {
      posHost[i] = 1;
      pos4Host.fill(1, i * 4, i * 4 + 4);
      locTHost.set(match.locT.subarray(i * 4, i * 4 + 4), i * 4);
    }
  }

  const out = tf.tidy(() => {
    const pos = tf.tensor2d(posHost, [B, P]);
    // Full-shape mask: the CPU backend's broadcasting binary ops cost ~100 ns per element.
    const pos4 = tf.tensor3d(pos4Host, [B, P, 4]);
    const confT = tf.tensor2d(match.confT, [B, P], 'int32');
    const locT = tf.tensor3d(locTHost, [B, P, 4]);
    const denom = Math.max(N, 1);

    // Smooth L1 (β = 1) as ½q² + (|d| − q), q = min(|d|, 1): same values, and its gradient
    // (d inside, sign(d) outside) comes from ops every backend differentiates.
    const d = tf.sub(loc, locT);
    const ad = tf.abs(d);
    const q = tf.minimum(ad, 1);
    const sl1 = tf.add(tf.mul(tf.square(q), 0.5), tf.sub(ad, q));
    const lossL = tf.div(tf.sum(tf.mul(sl1, pos4)), denom) as tf.Scalar;

    // int32 then cast: WASM's OneHot ignores a float32 dtype and writes int32 bit patterns.
    const oneHot = tf.cast(tf.oneHot(confT, numClasses), 'float32'); // [B,P,C]
    let neg: tf.Tensor2D;
    if (cfg.negMask) {
      if (cfg.negMask.length !== B * P) throw new RangeError(`multiboxLoss: negMask must have ${B * P} entries`);
      neg = tf.tensor2d(Float32Array.from(cfg.negMask), [B, P]);
    } else {
      neg = mineHardNegatives(conf, oneHot, pos, numNegPerImage);
    }
    const selected = tf.maximum(pos, neg);
    let ce: tf.Tensor; // [B,P]
    if (numClasses === 2) {
      // Two classes: CE = log(1 + e^(c_other − c_target)) = softplus((c1 − c0)·(1 − 2t)). Same
      // value as logsumexp − c_t, with only same-shape ops (cheap gradients on every backend).
      const sign = new Float32Array(B * P);
      for (let i = 0; i < B * P; i++) sign[i] = match.confT[i]! > 0 ? -1 : 1;
      // c1 − c0 as a [B·P,2]·[2,1] matMul: exact (one rounding), and cheaper than unstack/slice.
      const diff = tf.reshape(tf.matMul(tf.reshape(conf, [B * P, 2]), tf.tensor2d([-1, 1], [2, 1])), [B, P]);
      ce = tf.softplus(tf.mul(diff, tf.tensor2d(sign, [B, P])));
    } else {
      ce = tf.sub(tf.logSumExp(conf, -1), tf.sum(tf.mul(conf, oneHot), -1));
    }
    const lossC = tf.div(tf.sum(tf.mul(ce, selected)), denom) as tf.Scalar;
    return cfg.keepNegMask ? { lossL, lossC, neg } : { lossL, lossC };
  });
  return {
    lossL: out.lossL,
    lossC: out.lossC,
    numPos: N,
    numPosPerImage,
    numNegPerImage,
    ...(out.neg ? { negMask: out.neg as tf.Tensor2D } : {}),
  };
}

/**
 * Mined negatives `[B, P]` (float32 0/1) with a zero gradient. `kPerImage[b]` priors are kept in
 * image b, ranked by `lc` (positives forced to 0, as in the reference).
 */
export function mineHardNegatives(conf: tf.Tensor, oneHot: tf.Tensor, pos: tf.Tensor2D, kPerImage: readonly number[]): tf.Tensor2D {
  const [B, P] = pos.shape;
  const kMax = Math.max(0, ...kPerImage);
  // customGrad hands the inputs over typed as Tensor | GradSaveFunc; these three are tensors.
  const mine = tf.customGrad((cIn, ohIn, psIn) => {
    const c = cIn as tf.Tensor, oh = ohIn as tf.Tensor, ps = psIn as tf.Tensor;
    const value = tf.tidy(() => {
      if (kMax === 0) return tf.zeros([B, P]);
      const cT = c as tf.Tensor3D;
      // Reference log_sum_exp: x_max = x.data.max() over the whole batch.
      const gmax = tf.max(cT);
      const lse = tf.add(tf.log(tf.sum(tf.exp(tf.sub(cT, gmax)), -1)), gmax);
      const raw = tf.sub(lse, tf.sum(tf.mul(cT, oh), -1));
      const lc = tf.where(tf.cast(ps, 'bool'), tf.zerosLike(raw), raw) as tf.Tensor2D; // [B,P]

      const { values } = tf.topk(lc, kMax, true); // [B,kMax], descending
      const pick = new Float32Array(B * kMax);
      const noNeg = new Float32Array(B);
      kPerImage.forEach((k, b) => {
        if (k > 0) pick[b * kMax + k - 1] = 1;
        else noNeg[b] = Infinity;
      });
      // Per-image [B,1] columns spread over the P priors by a k=1 matMul (exact: x·1), because
      // broadcasting comparisons are slow on the CPU backend.
      const ones = tf.ones([1, P]);
      const spread = (col: tf.Tensor) => tf.matMul(col as tf.Tensor2D, ones);
      // k-th largest per image; +∞ where k = 0 so nothing passes.
      const thr = spread(tf.add(tf.sum(tf.mul(values, tf.tensor2d(pick, [B, kMax])), 1, true), tf.tensor2d(noNeg, [B, 1])));
      const greater = tf.cast(tf.greater(lc, thr), 'float32');
      const equal = tf.cast(tf.equal(lc, thr), 'float32');
      const room = spread(tf.sub(tf.tensor2d(Float32Array.from(kPerImage), [B, 1]), tf.sum(greater, 1, true)));
      const takeEqual = tf.mul(equal, tf.cast(tf.lessEqual(tf.cumsum(equal, 1), room), 'float32'));
      return tf.add(greater, takeEqual);
    });
    return {
      value,
      gradFunc: () => [tf.zerosLike(c), tf.zerosLike(oh), tf.zerosLike(ps)],
    };
  });
  return mine(conf, oneHot, pos) as tf.Tensor2D;
}
