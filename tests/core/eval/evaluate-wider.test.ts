import { beforeAll, describe, expect, it } from 'vitest';
import { evaluateWider, imageOutcomeAt, matchImage, vocAp, WIDER_THRESHOLD_COUNT, type WiderEvaluation, type WiderPredictions } from '../../../src/core/eval/evaluate-wider.ts';
import { pairwiseSum } from '../../../src/core/util/pairwise-sum.ts';
import { readWiderGroundTruth, type WiderGroundTruth, type WiderGtImage, type WiderSetting } from '../../../src/core/dataset/wider-ground-truth.ts';
import { imageKeyFromPath, parseBbxGt } from '../../../src/core/dataset/parse-bbx-gt.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, readShared, readSharedJson } from '../../helpers/shared.ts';

const SETTINGS: WiderSetting[] = ['easy', 'medium', 'hard'];

function evalError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isStudioError(e, 'EVAL_INPUT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an EVAL_INPUT error');
}

describe('numpy summation order', () => {
  it('pairwiseSum reproduces np.sum (values from numpy 2.4), not a left-to-right sum', () => {
    const scores = [0.55, 0.72, 0.6, 0.54, 0.42, 0.65, 0.44, 0.89, 0.96, 0.38, 0.79];
    expect(pairwiseSum(scores)).toBe(6.94);
    expect(scores.reduce((a, b) => a + b, 0)).toBe(6.9399999999999995);
    const harmonic = (n: number): number[] => Array.from({ length: n }, (_, i) => 1 / (i + 3));
    expect(pairwiseSum(harmonic(10))).toBe(1.6032106782106779);
    expect(pairwiseSum(harmonic(50))).toBe(3.038043950697449);
    expect(pairwiseSum(harmonic(129))).toBe(3.956224926052236);
    expect(pairwiseSum(harmonic(300))).toBe(4.789297397713862);
    expect(pairwiseSum(harmonic(1001))).toBe(5.988464874514443);
    expect(pairwiseSum([])).toBe(0);
  });

  it('vocAp integrates the right-to-left precision envelope where recall changes', () => {
    // recall 0.5 @ p 1, 0.5 @ p 0.5, 1 @ p 0.5  →  0.5·1 + 0.5·0.5
    expect(vocAp([0.5, 0.5, 1], [1, 0.5, 0.5])).toBe(0.75);
    // NaN precision where nothing is proposed yet (recall 0) does not leak into the area.
    expect(vocAp([0, 0.5, 1], [Number.NaN, 1, 0.25])).toBe(0.5 + 0.5 * 0.25);
  });
});

/** One image: faces g0, g1, g2 (g1 does not count in easy), five predictions in score order. */
function tinyGt(): WiderGroundTruth {
  const image: WiderGtImage = {
    event: 'ev',
    file: 'im',
    boxes: new Int32Array([0, 0, 10, 10, 100, 100, 10, 10, 200, 200, 10, 10]),
    easy: new Int32Array([1, 3]),
    medium: new Int32Array([1, 3]),
    hard: new Int32Array([1, 2, 3]),
  };
  const empty: WiderGtImage = { event: 'ev', file: 'nofaces', boxes: new Int32Array(0), easy: new Int32Array(0), medium: new Int32Array(0), hard: new Int32Array(0) };
  return { events: [{ event: 'ev', images: [image, empty] }] };
}
const tinyPreds = [
  [0, 0, 10, 10, 0.9], // p0: g0, first → TP
  [1, 0, 10, 10, 0.8], // p1: g0 again → FP (duplicate)
  [100, 101, 10, 10, 0.7], // p2: g1 → easy: ignored (dropped from proposals); hard: TP
  [400, 400, 10, 10, 0.6], // p3: nothing → FP
  [200, 200, 9, 9, 0.5], // p4: g2 (IoU 100/121) → TP
];

describe('the protocol on a hand-checked image', () => {
  it('matchImage: greedy matching in prediction order, ignored faces swallow their predictions', () => {
    const [image] = tinyGt().events[0]!.images;
    const easy = matchImage(image!, tinyPreds, 'easy');
    expect(easy.outcomes).toEqual(['tp', 'fp', 'ignored', 'fp', 'tp']);
    expect(easy.matchedGt).toEqual([0, 0, 1, -1, 2]);
    expect(easy.bestIou[0]).toBe(1);
    expect(easy.bestIou[4]).toBe(100 / 121);
    // Hand-computed +1 IoU of p1 with g0: inter 10·11, union 121 + 121 − 110.
    expect(easy.bestIou[1]).toBe(110 / 132);
    expect(easy.counted).toEqual([true, false, true]);
    expect(easy.hitBy).toEqual([0, -1, 4]);
    expect(matchImage(image!, tinyPreds, 'hard').outcomes).toEqual(['tp', 'fp', 'tp', 'fp', 'tp']);

    const scores = tinyPreds.map((p) => p[4]!);
    expect(imageOutcomeAt(easy, scores, 0.65)).toEqual({ tp: [0], fp: [1], ignored: [2], below: [3, 4], hit: [0], missed: [2] });
    expect(imageOutcomeAt(easy, scores, 0.5)).toEqual({ tp: [0, 4], fp: [1, 3], ignored: [2], below: [], hit: [0, 2], missed: [] });
    expect(imageOutcomeAt(easy, scores, 0.95)).toEqual({ tp: [], fp: [], ignored: [], below: [0, 1, 2, 3, 4], hit: [], missed: [0, 2] });
    // img_pr_info cuts at the LAST index reaching the threshold, even for unsorted scores.
    expect(imageOutcomeAt(easy, [0.9, 0.1, 0.1, 0.1, 0.7], 0.65).below).toEqual([]);
  });

  it('evaluateWider: normalised scores, PR sums and AP by hand', () => {
    const preds: WiderPredictions = { ev: { im: tinyPreds, nofaces: [[5, 5, 5, 5, 0.95]] } };
    const r = evaluateWider(tinyGt(), preds, { perImage: 'easy' });
    // norm_score: max(0.95, 0) = 0.95, min(0.5, 1) = 0.5; the face-less image still takes part.
    expect(r.scoreRange).toEqual({ min: 0.5, max: 0.95 });
    expect(r.faces).toEqual({ easy: 2, medium: 2, hard: 3 });
    expect(r.images).toBe(2);
    const last = WIDER_THRESHOLD_COUNT - 1;
    // At the lowest threshold everything is in: easy 4 proposals / 2 TP, hard 5 / 3.
    expect(r.curves.easy[last]).toEqual([0.5, 1]);
    expect(r.curves.hard[last]).toEqual([0.6, 1]);
    // At 0.999 nothing qualifies (p0 normalises to 0.4/0.45; the 0.95 box sits on a face-less image, skipped): 0/0.
    expect(Number.isNaN(r.curves.easy[0]![0])).toBe(true);
    expect(r.curves.easy[0]![1]).toBe(0);
    expect(r.easy).toBe(0.75);
    expect(r.medium).toBe(0.75);
    expect(r.hard).toBeCloseTo(1 / 3 + (1 / 3) * (2 / 3) + (1 / 3) * 0.6, 14);
    expect(r.perImage?.map((m) => m.outcomes)).toEqual([['tp', 'fp', 'ignored', 'fp', 'tp'], ['ignored']]);
  });

  it('restrictTo limits count_face and scores; unknown keys and missing predictions are errors', () => {
    const gt = tinyGt();
    const only = evaluateWider(gt, { ev: { im: tinyPreds } }, { restrictTo: ['ev/im'] });
    expect(only.images).toBe(1);
    expect(only.scoreRange).toEqual({ min: 0.5, max: 0.9 });
    expect(evalError(() => evaluateWider(gt, { ev: { im: tinyPreds } }))).toMatch(/no predictions for 1 of 2 images, e\.g\. ev\/nofaces/);
    expect(evaluateWider(gt, { ev: { im: tinyPreds } }, { onMissing: 'empty' }).images).toBe(2);
    expect(evalError(() => evaluateWider(gt, {}, { restrictTo: ['ev/im.jpg'] }))).toMatch(/not in the ground truth, e\.g\. ev\/im\.jpg/);
    expect(evalError(() => evaluateWider(gt, { ev: { im: [[1, 2, 3, 4]], nofaces: [] } }))).toMatch(/^ev\/im: prediction 1 has 4 values/);
    // No faces counted at all: recall 0/0 → AP NaN, as numpy would give.
    const none = evaluateWider(gt, { ev: { nofaces: [] } }, { restrictTo: ['ev/nofaces'] });
    expect(none.faces.easy).toBe(0);
    expect(Number.isNaN(none.easy)).toBe(true);
  });
});

describe.skipIf(!HAS_SHARED)('evaluateWider against the reference evaluation.py', () => {
  type Aps = { aps_easy_medium_hard: number[]; 'pr_curves[precision,recall]': Record<WiderSetting, Array<[number | null, number | null]>> };
  let gt: WiderGroundTruth;
  let preds: Record<string, Record<string, number[][]>>;
  let golden: Aps;
  let subset: string[];
  const mat = (name: string): Uint8Array => readShared('widerface', 'eval_tools', 'ground_truth', name);
  const mapScores = (f: (s: number) => number, keep?: Set<string>): WiderPredictions =>
    Object.fromEntries(Object.entries(preds).map(([event, images]) => [event, Object.fromEntries(Object.entries(images).filter(([name]) => !keep || keep.has(`${event}/${name}`)).map(([name, boxes]) => [name, boxes.map((b) => [b[0]!, b[1]!, b[2]!, b[3]!, f(b[4]!)])]))]));

  beforeAll(() => {
    gt = readWiderGroundTruth({ faceVal: mat('wider_face_val.mat'), easy: mat('wider_easy_val.mat'), medium: mat('wider_medium_val.mat'), hard: mat('wider_hard_val.mat') });
    preds = readSharedJson('golden', 'eval_synth', 'preds.json');
    golden = readSharedJson('golden', 'eval_synth', 'aps.json');
    subset = parseBbxGt(new TextDecoder().decode(readShared('widerface', 'wider_face_split', 'wider_face_val_bbx_gt.txt'))).map((e) => imageKeyFromPath(e.path));
  });

  it('reproduces golden/eval_synth: APs and all three PR curves, in a few seconds', () => {
    const t0 = performance.now();
    const r = evaluateWider(gt, preds);
    const ms = performance.now() - t0;
    expect(ms).toBeLessThan(5000);
    const [easy, medium, hard] = golden.aps_easy_medium_hard;
    expect(Math.abs(r.easy - easy!)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(r.medium - medium!)).toBeLessThanOrEqual(1e-9);
    expect(Math.abs(r.hard - hard!)).toBeLessThanOrEqual(1e-9);
    // The arithmetic order mirrors numpy's, so the APs are in fact bit-identical.
    expect([r.easy, r.medium, r.hard]).toEqual([0.6216701464879361, 0.6494741356461565, 0.6765547802838648]);
    expect(r.images).toBe(3226);
    expect(r.faces).toEqual({ easy: 7211, medium: 13319, hard: 31958 });
    for (const setting of SETTINGS) {
      const want = golden['pr_curves[precision,recall]'][setting];
      expect(r.curves[setting]).toHaveLength(1000);
      expect(want).toHaveLength(1000);
      r.curves[setting].forEach((pair, t) => {
        for (const c of [0, 1] as const) {
          const w = want[t]![c];
          // JSON has no NaN: numpy's NaN would arrive as null (or NaN with a lenient writer).
          if (w === null || Number.isNaN(w)) expect(Number.isNaN(pair[c]), `${setting}[${t}][${c}]`).toBe(true);
          else expect(Math.abs(pair[c] - w), `${setting}[${t}][${c}]`).toBeLessThanOrEqual(1e-9);
        }
      });
    }
  });

  // Expected values below come from the reference evaluation.py logic run with numpy 2.4 on the
  // same inputs (the golden covers scores already in [0, 1]; these exercise norm_score and subsets).
  it('normalises scores like norm_score (affine-shifted scores, full set)', () => {
    const r = evaluateWider(gt, mapScores((s) => 0.3 + 0.5 * s));
    expect(r.scoreRange).toEqual({ min: 0.3, max: 0.8 });
    expect([r.easy, r.medium, r.hard]).toEqual([0.6216255660306964, 0.6494406570266031, 0.6765379937312659]);
  });

  it('restricts to the 200-image val subset in official order', () => {
    const keep = new Set(subset);
    const r = evaluateWider(gt, mapScores((s) => s, keep), { restrictTo: subset });
    expect(r.images).toBe(200);
    expect([r.easy, r.medium, r.hard]).toEqual([0.6528503170482789, 0.6709471757169532, 0.6833547970196423]);
    expect([r.curves.hard[0], r.curves.hard[500], r.curves.hard[999]]).toEqual([
      [1.0, 0.0004992511233150275],
      [0.933271547729379, 0.5027458811782326],
      [0.7786930258099946, 0.707938092860709],
    ]);
    // Extra predictions for images outside the subset do not change anything.
    const withAll = evaluateWider(gt, preds, { restrictTo: subset });
    expect([withAll.easy, withAll.medium, withAll.hard]).toEqual([r.easy, r.medium, r.hard]);
  });

  it('keeps the initial min of 1 when every score exceeds it (scores 3s² + 2, subset)', () => {
    const r = evaluateWider(gt, mapScores((s) => s * s * 3 + 2, new Set(subset)), { restrictTo: subset });
    expect(r.scoreRange).toEqual({ min: 1, max: 5 });
    expect([r.easy, r.medium, r.hard]).toEqual([0.652682569433974, 0.6708428799905193, 0.683309427535609]);
  });

  it('per-image matches add up to the PR curve at every threshold', () => {
    let r: WiderEvaluation | undefined;
    for (const setting of SETTINGS) {
      r = evaluateWider(gt, preds, { restrictTo: subset, perImage: setting });
      expect(r.perImage).toHaveLength(200);
      const { min, max } = r.scoreRange;
      for (const t of [0, 3, 100, 500, 900, 999]) {
        const thr = 1 - (t + 1) / 1000;
        let tp = 0;
        let proposals = 0;
        let missed = 0;
        r.perImage!.forEach((m) => {
          const [event, name] = m.key.split('/') as [string, string];
          const scores = preds[event]![name]!.map((p) => (p[4]! - min) / (max - min));
          const o = imageOutcomeAt(m, scores, thr);
          tp += o.tp.length;
          proposals += o.tp.length + o.fp.length;
          missed += o.missed.length;
        });
        const [precision, recall] = r.curves[setting][t]!;
        expect(tp / r.faces[setting]).toBe(recall);
        if (proposals > 0) expect(tp / proposals).toBe(precision);
        expect(tp + missed).toBe(r.faces[setting]);
      }
    }
  });
});
