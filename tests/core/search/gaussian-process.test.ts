import { describe, expect, it } from 'vitest';
import { fitGp, LmlEvaluator, normalizeTargets } from '../../../src/core/search/gaussian-process.ts';
import { RandomState } from '../../../src/core/util/mt19937.ts';

// sklearn 1.2.1 GaussianProcessRegressor(Matern(nu=2.5), alpha=1e-6, normalize_y=True,
// n_restarts_optimizer=5, random_state=RandomState(0)) on X = RandomState(1).uniform(0, 1, (12, 3)),
// y = sin(3·x0) + x1² − 0.5·x2 (tests/core/search/reference/generate.py).
const N = 12;
const D = 3;
const Y = [
  1.4681304066163414, 0.7630255405114451, 0.4511811682752044, 0.8320723335424356, 1.333012015787141,
  0.7992916747542889, 0.04769202178986498, -0.01332575397741681, 1.2480913629842245, -0.29333240864825927,
  -0.01083453143152957, 1.320524322114879,
];
const SK = {
  lengthScale: 0.5722601102127021,
  lml: -11.143519781059439,
  mean: [1.4453564234697256, 0.870229316491255, 1.3537453734695475, 1.3750676279663911],
  std: [0.14358176745311693, 0.4492920188790654, 0.09310519777052603, 0.20178770508644786],
  lmlAt: [
    [-2.0, -15.68412800740308, 2.5231215831344036],
    [-0.5, -11.178626610267449, -1.2538438852745788],
    [0.0, -17.83903044146713, -34.72220144276502],
    [0.7, -137.34717825871243, -474.3988765833617],
    [2.0, -16286.133202158313, -59966.98837259825],
  ],
  nextDrawAfterFit: 0.6458941130666561,
};

function data(): { x: Float64Array; xs: Float64Array } {
  const gen = RandomState.fromSeed(1);
  const x = gen.fillUniform(new Float64Array(N * D), [0, 0, 0], [1, 1, 1], N);
  const xs = gen.fillUniform(new Float64Array(4 * D), [0, 0, 0], [1, 1, 1], 4);
  return { x, xs };
}

const FIT = { alpha: 1e-6, lengthScale: 1, lengthScaleBounds: [1e-5, 1e5] as [number, number], nRestarts: 5 };

function distances(x: Float64Array, n: number, d: number): Float64Array {
  const r = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < i; j++) {
      let s = 0;
      for (let c = 0; c < d; c++) s += (x[i * d + c]! - x[j * d + c]!) ** 2;
      r[i * n + j] = Math.sqrt(s);
    }
  }
  return r;
}

describe('GP (sklearn GaussianProcessRegressor as bayes_opt configures it)', () => {
  it('fits the same length scale and LML as sklearn and draws the same 5 restart numbers', () => {
    const { x } = data();
    const rng = RandomState.fromSeed(0);
    const gp = fitGp(x, Y, N, D, FIT, rng);
    expect(gp.lengthScale).toBeCloseTo(SK.lengthScale, 7);
    expect(gp.info.logMarginalLikelihood).toBeCloseTo(SK.lml, 9);
    // The shared RandomState is where sklearn leaves it: exactly n_restarts draws consumed.
    expect(rng.randomSample()).toBe(SK.nextDrawAfterFit);
  });

  it('predicts sklearn’s mean and std', () => {
    const { x, xs } = data();
    const gp = fitGp(x, Y, N, D, FIT, RandomState.fromSeed(0));
    const mean = new Float64Array(4);
    const std = new Float64Array(4);
    gp.predict(xs, 4, mean, std);
    for (let i = 0; i < 4; i++) {
      expect(mean[i]).toBeCloseTo(SK.mean[i]!, 7);
      expect(std[i]).toBeCloseTo(SK.std[i]!, 7);
    }
  });

  it('log marginal likelihood and its θ-gradient equal sklearn’s', () => {
    const { x } = data();
    const ev = new LmlEvaluator(distances(x, N, D), normalizeTargets(Y).yn, N, 1e-6);
    for (const [theta, lml, grad] of SK.lmlAt) {
      const [v, g] = ev.evaluate(theta!);
      expect(Math.abs(v - lml!) / Math.abs(lml!)).toBeLessThan(1e-10);
      expect(Math.abs(g - grad!) / Math.abs(grad!)).toBeLessThan(1e-9);
    }
  });

  it('analytic θ-gradient agrees with central differences', () => {
    const { x } = data();
    const ev = new LmlEvaluator(distances(x, N, D), normalizeTargets(Y).yn, N, 1e-6);
    for (const theta of [-1.3, -0.4, 0.25, 1.1]) {
      const h = 1e-5;
      const fd = (ev.evaluate(theta + h, false)[0] - ev.evaluate(theta - h, false)[0]) / (2 * h);
      const g = ev.evaluate(theta)[1];
      expect(Math.abs(g - fd)).toBeLessThan(1e-5 * Math.max(1, Math.abs(g)));
    }
  });

  it('interpolates the observations with alpha 1e-6 and has ~0 variance there', () => {
    const { x } = data();
    const gp = fitGp(x, Y, N, D, FIT, RandomState.fromSeed(0));
    const mean = new Float64Array(N);
    const std = new Float64Array(N);
    gp.predict(x, N, mean, std);
    const yStd = normalizeTargets(Y).std;
    for (let i = 0; i < N; i++) {
      expect(Math.abs(mean[i]! - Y[i]!)).toBeLessThan(1e-3);
      expect(std[i]!).toBeLessThan(1e-2 * yStd);
    }
    // Far from the data the posterior reverts to the prior: std → yStd, mean → ȳ.
    const far = new Float64Array([50, 50, 50]);
    gp.predict(far, 1, mean, std);
    expect(std[0]).toBeCloseTo(yStd, 9);
    expect(mean[0]).toBeCloseTo(normalizeTargets(Y).mean, 9);
  });

  it('predictWithGradient matches predict and central differences', () => {
    const { x, xs } = data();
    const gp = fitGp(x, Y, N, D, FIT, RandomState.fromSeed(0));
    const gm = new Float64Array(D);
    const gs = new Float64Array(D);
    const m1 = new Float64Array(1);
    const s1 = new Float64Array(1);
    for (let p = 0; p < 4; p++) {
      const xq = Array.from(xs.subarray(p * D, p * D + D));
      const { mean, std } = gp.predictWithGradient(xq, gm, gs);
      gp.predict(Float64Array.from(xq), 1, m1, s1);
      expect(mean).toBeCloseTo(m1[0]!, 12);
      expect(std).toBeCloseTo(s1[0]!, 12);
      for (let c = 0; c < D; c++) {
        const h = 1e-6;
        const up = xq.slice();
        const dn = xq.slice();
        up[c] = up[c]! + h;
        dn[c] = dn[c]! - h;
        const a = gp.predictWithGradient(up, new Float64Array(D), new Float64Array(D));
        const b = gp.predictWithGradient(dn, new Float64Array(D), new Float64Array(D));
        expect(gm[c]).toBeCloseTo((a.mean - b.mean) / (2 * h), 5);
        expect(gs[c]).toBeCloseTo((a.std - b.std) / (2 * h), 5);
      }
    }
  });

  it('argmaxUcb (pruned) returns the same first argmax as the full UCB sweep', () => {
    const { x } = data();
    const gp = fitGp(x, Y, N, D, FIT, RandomState.fromSeed(0));
    const m = 3001;
    const xs = RandomState.fromSeed(11).fillUniform(new Float64Array(m * D), [0, 0, 0], [1, 1, 1], m);
    for (const kappa of [0, 2.576, 10]) {
      const u = gp.ucb(xs, m, kappa, new Float64Array(m));
      let best = 0;
      for (let i = 1; i < m; i++) if (u[i]! > u[best]!) best = i;
      // Put an exact copy of the winner later on: the earlier index must still win the tie.
      const withTie = new Float64Array((m + 1) * D);
      withTie.set(xs);
      withTie.set(xs.subarray(best * D, best * D + D), m * D);
      const am = gp.argmaxUcb(withTie, m + 1, kappa);
      expect(am.index).toBe(best);
      expect(am.value).toBe(u[best]);
    }
  });

  it('handles constant targets (std → 1) and a single observation', () => {
    const one = fitGp(new Float64Array([0.2, 0.4]), [3], 1, 2, FIT, RandomState.fromSeed(0));
    expect(one.info.yStd).toBe(1);
    expect(one.lengthScale).toBe(1); // zero gradient everywhere: the first start (l = 1) is kept
    const mean = new Float64Array(1);
    const std = new Float64Array(1);
    one.predict(new Float64Array([0.2, 0.4]), 1, mean, std);
    expect(mean[0]).toBeCloseTo(3, 12);
    expect(std[0]).toBeLessThan(2e-3);
  });
});
