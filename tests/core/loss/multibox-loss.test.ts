/**
 * MultiBoxLoss against golden/train_step (README §3, "Hard-negative mining details"): the stored
 * train-mode head outputs + priors + targets must give the reference conf_t, loc_t of the
 * positives, mined negatives, loss_l / loss_c (and the eval-mode val_loss_original); gradients wrt
 * loc/conf are not recorded there, so they are checked against the closed form (smooth-L1' and
 * softmax − onehot over the golden masks, / N) and by finite differences on a small batch.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../helpers/tf-gradients.ts';
import { readFileSync } from 'node:fs';
import { HAS_SHARED, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { matchBatch, matchTargets } from '../../../src/core/loss/match.ts';
import { multiboxLoss, multiboxLossFromMatch } from '../../../src/core/loss/multibox-loss.ts';
import { createRng } from '../../../src/core/util/random.ts';

const G = 'golden/train_step';

function npyF32(name: string): Float32Array {
  return readNpy(sharedPath(G, name)).data as Float32Array;
}
function npyU8(name: string): Uint8Array {
  return readNpy(sharedPath(G, name)).data as Uint8Array;
}

interface Summary {
  train_forward: { loss_l: number; loss_c: number; num_pos_per_image: number[]; num_neg_per_image: number[];
    matching: Array<{ per_gt_best_prior: number[]; stage1_positives: number; stage2_added: number }> };
  val_loss_original: { loss_l: number; loss_c: number };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!HAS_SHARED)('multiboxLoss vs golden/train_step', () => {
  let priors: Float32Array;
  let targets: Float32Array[];
  let summary: Summary;
  const B = 2, P = 8550;

  beforeAll(() => {
    priors = npyF32('priors_320.npy');
    targets = [npyF32('targets_img0.npy'), npyF32('targets_img1.npy')];
    // summary.json holds bare NaN tokens (Python json), which JSON.parse rejects.
    summary = JSON.parse(readFileSync(sharedPath(G, 'summary.json'), 'utf8').replace(/\bNaN\b/g, 'null')) as Summary;
  });

  it('matching reproduces conf_t, the positives and their encoded loc_t', () => {
    const goldConf = npyU8('conf_t.npy');
    const goldLocPos = npyF32('loc_t_pos.npy');
    const m = matchBatch(priors, targets);
    expect(m.numPosPerImage).toEqual(summary.train_forward.num_pos_per_image);
    let mismatches = 0;
    for (let i = 0; i < B * P; i++) if (m.confT[i] !== goldConf[i]) mismatches++;
    expect(mismatches).toBe(0);
    let k = 0;
    let maxErr = 0;
    for (let i = 0; i < B * P; i++) {
      if (m.confT[i]! === 0) continue;
      for (let c = 0; c < 4; c++) maxErr = Math.max(maxErr, Math.abs(m.locT[i * 4 + c]! - goldLocPos[k * 4 + c]!));
      k++;
    }
    expect(k).toBe(32);
    expect(maxErr).toBeLessThanOrEqual(2e-6);
    targets.forEach((t, b) => {
      const one = matchTargets(priors, t);
      const ref = summary.train_forward.matching[b]!;
      expect(Array.from(one.bestPriorPerTruth)).toEqual(ref.per_gt_best_prior);
      expect(one.stage1Positives).toBe(ref.stage1_positives);
      expect(one.stage2Added).toBe(ref.stage2_added);
    });
  });

  it('mines the golden negatives and reproduces loss_l / loss_c (train-mode outputs)', () => {
    const loc = tf.tensor3d(npyF32('train_loc.npy'), [B, P, 4]);
    const conf = tf.tensor3d(npyF32('train_conf.npy'), [B, P, 2]);
    const r = multiboxLoss(loc, conf, priors, targets, { keepNegMask: true });
    const neg = r.negMask!.dataSync();
    const gold = npyU8('neg_mask.npy');
    const diff: number[] = [];
    for (let i = 0; i < B * P; i++) if ((neg[i]! > 0 ? 1 : 0) !== gold[i]) diff.push(i);
    expect(diff).toEqual([]);
    expect(r.numPos).toBe(32);
    expect(r.numNegPerImage).toEqual(summary.train_forward.num_neg_per_image);
    const lossL = r.lossL.dataSync()[0]!;
    const lossC = r.lossC.dataSync()[0]!;
    expect(Math.abs(lossL - summary.train_forward.loss_l) / summary.train_forward.loss_l).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(lossC - summary.train_forward.loss_c) / summary.train_forward.loss_c).toBeLessThanOrEqual(1e-5);
    tf.dispose([loc, conf, r.lossL, r.lossC, r.negMask!]);
  });

  it('reproduces val_loss_original and its mined negatives (eval-mode outputs)', () => {
    const loc = tf.tensor3d(npyF32('eval_original_loc.npy'), [B, P, 4]);
    const conf = tf.tensor3d(npyF32('eval_original_conf.npy'), [B, P, 2]);
    const r = multiboxLoss(loc, conf, priors, targets, { keepNegMask: true });
    const neg = r.negMask!.dataSync();
    const gold = npyU8('eval_original_neg_mask.npy');
    let mismatches = 0;
    for (let i = 0; i < B * P; i++) if ((neg[i]! > 0 ? 1 : 0) !== gold[i]) mismatches++;
    expect(mismatches).toBe(0);
    const ref = summary.val_loss_original;
    expect(Math.abs(r.lossL.dataSync()[0]! - ref.loss_l) / ref.loss_l).toBeLessThanOrEqual(1e-5);
    expect(Math.abs(r.lossC.dataSync()[0]! - ref.loss_c) / ref.loss_c).toBeLessThanOrEqual(1e-5);
    tf.dispose([loc, conf, r.lossL, r.lossC, r.negMask!]);
  });

  it('gradients wrt loc and conf equal the closed form over the golden masks', () => {
    const locH = npyF32('train_loc.npy');
    const confH = npyF32('train_conf.npy');
    const goldConf = npyU8('conf_t.npy');
    const goldNeg = npyU8('neg_mask.npy');
    const match = matchBatch(priors, targets);
    const loc = tf.tensor3d(locH, [B, P, 4]);
    const conf = tf.tensor3d(confH, [B, P, 2]);
    const [gLoc, gConf] = tf.grads((l: tf.Tensor, c: tf.Tensor) => {
      const r = multiboxLossFromMatch(l, c, match);
      return tf.add(r.lossL, r.lossC);
    })([loc, conf]);
    const gl = gLoc!.dataSync();
    const gc = gConf!.dataSync();
    const N = 32;
    let errL = 0, refL = 0, errC = 0, refC = 0;
    for (let i = 0; i < B * P; i++) {
      const pos = goldConf[i]! > 0;
      for (let c = 0; c < 4; c++) {
        const d = locH[i * 4 + c]! - match.locT[i * 4 + c]!;
        const ref = pos ? Math.max(-1, Math.min(1, d)) / N : 0;
        errL = Math.max(errL, Math.abs(gl[i * 4 + c]! - ref));
        refL = Math.max(refL, Math.abs(ref));
      }
      const sel = pos || goldNeg[i]! > 0;
      const c0 = confH[i * 2]!, c1 = confH[i * 2 + 1]!;
      const m = Math.max(c0, c1);
      const e0 = Math.exp(c0 - m), e1 = Math.exp(c1 - m);
      const p1 = e1 / (e0 + e1);
      const t = goldConf[i]!;
      const r1 = sel ? (p1 - t) / N : 0;
      const r0 = sel ? (1 - p1 - (1 - t)) / N : 0;
      errC = Math.max(errC, Math.abs(gc[i * 2]! - r0), Math.abs(gc[i * 2 + 1]! - r1));
      refC = Math.max(refC, Math.abs(r0), Math.abs(r1));
    }
    expect(errL / refL).toBeLessThanOrEqual(1e-5);
    expect(errC / refC).toBeLessThanOrEqual(1e-5);
    tf.dispose([loc, conf, gLoc!, gConf!]);
  });

  it('an injected golden negatives mask gives the same loss as mining', () => {
    const loc = tf.tensor3d(npyF32('train_loc.npy'), [B, P, 4]);
    const conf = tf.tensor3d(npyF32('train_conf.npy'), [B, P, 2]);
    const r = multiboxLoss(loc, conf, priors, targets, { negMask: npyU8('neg_mask.npy') });
    expect(Math.abs(r.lossC.dataSync()[0]! - summary.train_forward.loss_c) / summary.train_forward.loss_c).toBeLessThanOrEqual(1e-5);
    tf.dispose([loc, conf, r.lossL, r.lossC]);
  });
});

/** A small synthetic problem: priors on a 6×6 grid, random faces and logits. */
function synthetic(seed: number, B = 2) {
  const rng = createRng(seed);
  const priorsA: number[] = [];
  for (const [n, s] of [[6, 0.3], [3, 0.6]] as const) {
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) priorsA.push((j + 0.5) / n, (i + 0.5) / n, s, s);
  }
  const priors = Float32Array.from(priorsA);
  const P = priors.length / 4;
  const targets = Array.from({ length: B }, () => {
    const n = 1 + Math.floor(rng() * 2);
    const t: number[] = [];
    for (let k = 0; k < n; k++) {
      const w = 0.2 + rng() * 0.4, h = 0.2 + rng() * 0.4;
      const x = rng() * (1 - w), y = rng() * (1 - h);
      t.push(x, y, x + w, y + h, 1);
    }
    return Float32Array.from(t);
  });
  const loc = Float32Array.from({ length: B * P * 4 }, () => (rng() - 0.5) * 4);
  const conf = Float32Array.from({ length: B * P * 2 }, () => (rng() - 0.5) * 3);
  return { priors, P, targets, loc, conf, B };
}

describe('multiboxLoss (synthetic)', () => {
  it('matches finite differences of the loss value', async () => {
    const s = synthetic(7);
    const match = matchBatch(s.priors, s.targets);
    expect(match.numPosPerImage.every((n) => n > 0)).toBe(true);
    const lossAt = (locA: Float32Array, confA: Float32Array): number => tf.tidy(() => {
      const r = multiboxLossFromMatch(tf.tensor3d(locA, [s.B, s.P, 4]), tf.tensor3d(confA, [s.B, s.P, 2]), match);
      return tf.add(r.lossL, r.lossC).dataSync()[0]!;
    });
    const loc = tf.tensor3d(s.loc, [s.B, s.P, 4]);
    const conf = tf.tensor3d(s.conf, [s.B, s.P, 2]);
    const [gl, gc] = tf.grads((l: tf.Tensor, c: tf.Tensor) => {
      const r = multiboxLossFromMatch(l, c, match);
      return tf.add(r.lossL, r.lossC);
    })([loc, conf]);
    const gLoc = await gl!.data();
    const gConf = await gc!.data();
    const eps = 1e-2;
    const rng = createRng(3);
    let checked = 0;
    for (let trial = 0; trial < 40; trial++) {
      const which = rng() < 0.5 ? 'loc' : 'conf';
      const arr = which === 'loc' ? s.loc : s.conf;
      const i = Math.floor(rng() * arr.length);
      const plus = arr.slice(); plus[i]! += eps;
      const minus = arr.slice(); minus[i]! -= eps;
      const fd = which === 'loc'
        ? (lossAt(plus, s.conf) - lossAt(minus, s.conf)) / (2 * eps)
        : (lossAt(s.loc, plus) - lossAt(s.loc, minus)) / (2 * eps);
      const an = (which === 'loc' ? gLoc : gConf)[i]!;
      // Kinks (|d| = 1 for smooth L1) and a negative entering/leaving the mined set are the only
      // non-smooth spots; with random data none lies within ±eps of a sample here.
      expect(Math.abs(fd - an)).toBeLessThanOrEqual(2e-3 + 2e-2 * Math.abs(an));
      checked++;
    }
    expect(checked).toBe(40);
    tf.dispose([loc, conf, gl!, gc!]);
  });

  it('keeps exactly min(3·num_pos, P−1) negatives per image, also on exact ties', () => {
    const s = synthetic(11);
    const match = matchBatch(s.priors, s.targets);
    const conf = new Float32Array(s.B * s.P * 2); // all logits equal: every negative ties
    const r = multiboxLossFromMatch(tf.tensor3d(s.loc, [s.B, s.P, 4]), tf.tensor3d(conf, [s.B, s.P, 2]), match, { keepNegMask: true });
    const neg = r.negMask!.dataSync();
    for (let b = 0; b < s.B; b++) {
      let count = 0;
      let negOnPos = 0;
      for (let p = 0; p < s.P; p++) {
        if (neg[b * s.P + p]! > 0) {
          count++;
          if (match.confT[b * s.P + p]! > 0) negOnPos++;
        }
      }
      expect(count).toBe(r.numNegPerImage[b]);
      // Negatives rank by lc (positives have lc = 0), so ties among negatives come first.
      expect(negOnPos).toBe(Math.max(0, r.numNegPerImage[b]! - (s.P - match.numPosPerImage[b]!)));
    }
    tf.dispose([r.lossL, r.lossC, r.negMask!]);
  });

  it('a batch without faces gives zero losses and zero gradients', () => {
    const s = synthetic(5);
    const targets = [new Float32Array(0), new Float32Array(0)];
    const loc = tf.tensor3d(s.loc, [s.B, s.P, 4]);
    const conf = tf.tensor3d(s.conf, [s.B, s.P, 2]);
    const r = multiboxLoss(loc, conf, s.priors, targets);
    expect(r.numPos).toBe(0);
    expect(r.lossL.dataSync()[0]).toBe(0);
    expect(r.lossC.dataSync()[0]).toBe(0);
    const [gl, gc] = tf.grads((l: tf.Tensor, c: tf.Tensor) => {
      const q = multiboxLoss(l, c, s.priors, targets);
      return tf.add(q.lossL, q.lossC);
    })([loc, conf]);
    expect(gl!.dataSync().every((v) => v === 0)).toBe(true);
    expect(gc!.dataSync().every((v) => v === 0)).toBe(true);
    tf.dispose([loc, conf, r.lossL, r.lossC, gl!, gc!]);
  });

  it('leaks no tensors over repeated loss + gradient evaluations', () => {
    const s = synthetic(9);
    const match = matchBatch(s.priors, s.targets);
    const loc = tf.tensor3d(s.loc, [s.B, s.P, 4]);
    const conf = tf.tensor3d(s.conf, [s.B, s.P, 2]);
    const run = () => {
      const { value, grads } = tf.valueAndGrads((l: tf.Tensor, c: tf.Tensor) => {
        const r = multiboxLossFromMatch(l, c, match);
        return tf.add(r.lossL, r.lossC);
      })([loc, conf]);
      tf.dispose([value, ...grads]);
    };
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) run();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([loc, conf]);
  });
});
