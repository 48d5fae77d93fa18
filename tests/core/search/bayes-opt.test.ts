import { describe, expect, it, vi } from 'vitest';
import { isStudioError } from '../../../src/core/errors.ts';
import {
  bayesianOptimizerFromJSON,
  createBayesianOptimizer,
  DEFAULT_BAYES_OPT_CONFIG,
  DuplicatePointError,
  firstProbe,
  groupBounds,
  maximize,
  validateBayesOptConfig,
  type BayesianOptimizer,
} from '../../../src/core/search/index.ts';
import { RandomState } from '../../../src/core/util/mt19937.ts';

// bayes_opt 1.4.3 BayesianOptimization(random_state=0) on the B-FPGM space for target 0.3
// (6 groups in [0, 0.5]): probe at 0.34, 60 random points, then the first GP suggestion, with a
// smooth stand-in objective (tests/core/search/reference/generate.py).
const TARGET = [0.1, 0.2, 0.3, 0.35, 0.25, 0.15];
const standIn = (x: readonly number[]): number => -x.reduce((a, v, i) => a + (v - TARGET[i]!) ** 2, 0);
const REF = {
  init0: [
    0.2744067519636624, 0.35759468318620974, 0.30138168803582194, 0.27244159149844843, 0.21182739966945235,
    0.32294705653332806,
  ],
  init1: [
    0.21879360563134626, 0.4458865003910399, 0.48183138025051464, 0.19172075941288885, 0.3958625190413323,
    0.26444745987645224,
  ],
  init59: [
    0.268088747351726, 0.34069625530191894, 0.13879804886588304, 0.0644302827331601, 0.19633783827354717,
    0.4782028613979744,
  ],
  suggestion: [0.0, 0.1291620264705227, 0.46405008040106416, 0.5, 0.33763738865813664, 0.02901993924863877],
  lengthScale: 0.6119306720786666,
  nextOptimizerDraw: 0.44007562202413375,
};

const unitBounds = (d: number): Array<[number, number]> => Array.from({ length: d }, () => [0, 1] as [number, number]);
const sphere = (x: readonly number[]): number => -x.reduce((a, v) => a + (v - 0.4) ** 2, 0);

/** Runs k hand-driven steps (suggest → register) and returns the points handed out. */
function drive(opt: BayesianOptimizer, k: number, f: (x: readonly number[]) => number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < k; i++) {
    const x = opt.suggest();
    out.push(x);
    opt.register(x, f(x));
  }
  return out;
}

describe('bayes_opt 1.4.3 parity', () => {
  it('reproduces the reference init points and first GP suggestion (random_state=0)', () => {
    const opt = createBayesianOptimizer({ bounds: groupBounds(0.3, 6), seed: 0 });
    opt.probe(firstProbe(0.3, 6));
    opt.queueRandom(60);
    const handed = drive(opt, 61, standIn);
    expect(handed[0]).toEqual(new Array(6).fill(0.3 + 0.04)); // 0.33999999999999997, as in Python
    // Init points come from the TargetSpace stream bit for bit.
    expect(handed[1]).toEqual(REF.init0);
    expect(handed[2]).toEqual(REF.init1);
    expect(handed[60]).toEqual(REF.init59);

    const x = opt.suggest();
    expect(opt.lastFit()!.lengthScale).toBeCloseTo(REF.lengthScale, 7);
    // scipy's L-BFGS-B (finite differences) and the projected quasi-Newton land on the same
    // acquisition maximum; only the last digits differ.
    for (let j = 0; j < 6; j++) expect(Math.abs(x[j]! - REF.suggestion[j]!)).toBeLessThan(1e-4);
    // Same number of optimiser-stream draws as sklearn + acq_max: the streams stay aligned.
    const rngAfter = RandomState.fromState(opt.toJSON().rng.optimizer);
    expect(rngAfter.randomSample()).toBe(REF.nextOptimizerDraw);
  });

  it('suggests a TargetSpace random point when nothing is known yet', () => {
    const opt = createBayesianOptimizer({ bounds: groupBounds(0.3, 6) });
    expect(opt.next()).toEqual({ x: REF.init0, source: 'random' });
    expect(opt.suggestionCount()).toBe(0);
  });
});

describe('reproducibility', () => {
  const cfg = { bounds: unitBounds(4), nWarmup: 2000 };

  it('identical seeds give bit-identical suggestion sequences', () => {
    const a = createBayesianOptimizer({ ...cfg, seed: 3 });
    const b = createBayesianOptimizer({ ...cfg, seed: 3 });
    a.queueRandom(4);
    b.queueRandom(4);
    const sa = drive(a, 9, sphere);
    const sb = drive(b, 9, sphere);
    expect(sb).toEqual(sa);
    expect(a.suggestionCount()).toBe(5);
  });

  it('different seeds give different sequences', () => {
    const a = createBayesianOptimizer({ ...cfg, seed: 3 });
    const b = createBayesianOptimizer({ ...cfg, seed: 4 });
    a.queueRandom(4);
    b.queueRandom(4);
    const sa = drive(a, 6, sphere);
    const sb = drive(b, 6, sphere);
    for (let i = 0; i < 6; i++) expect(sb[i]).not.toEqual(sa[i]);
  });

  it('toJSON/fromJSON resumes with the same next suggestions as an uninterrupted run', () => {
    const a = createBayesianOptimizer({ ...cfg, seed: 8 });
    a.probe([0.5, 0.5, 0.5, 0.5]);
    a.queueRandom(3);
    drive(a, 6, sphere);
    const b = bayesianOptimizerFromJSON(JSON.stringify(a.toJSON()));
    expect(b.observations()).toEqual(a.observations());
    expect(b.suggestionCount()).toBe(a.suggestionCount());
    expect(drive(b, 3, sphere)).toEqual(drive(a, 3, sphere));
  });

  it('a point handed out but not registered is evaluated first after resume', () => {
    const a = createBayesianOptimizer({ ...cfg, seed: 2 });
    a.queueRandom(3);
    drive(a, 1, sphere);
    const inFlight = a.suggest();
    const b = bayesianOptimizerFromJSON(a.toJSON());
    expect(b.pending()).toBe(2);
    expect(b.next()).toEqual({ x: inFlight, source: 'random' });
    expect(b.suggest()).toEqual(a.suggest());
  });

  it('rejects a corrupt state', () => {
    const state = createBayesianOptimizer(cfg).toJSON();
    expect(() => bayesianOptimizerFromJSON({ ...state, version: 2 as 1 })).toThrow(/v1/);
    expect(() => bayesianOptimizerFromJSON({ ...state, rng: { ...state.rng, space: { key: [], pos: 0 } } })).toThrow(
      /RNG/,
    );
  });
});

describe('maximize (bayes_opt order)', () => {
  it('evaluates probes, then init points, then nIter GP suggestions', async () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(3), nWarmup: 1000 });
    const sources: string[] = [];
    const objective = vi.fn((x: number[]) => sphere(x));
    const res = await maximize({
      optimizer: opt,
      objective,
      probes: [
        [0.1, 0.2, 0.3],
        [0.9, 0.9, 0.9],
      ],
      initPoints: 3,
      nIter: 4,
      onTrial: (t) => {
        sources.push(t.source);
        expect(t.index).toBe(sources.length - 1);
        expect(t.best.y).toBe(Math.max(...opt.observations().map((o) => o.y)));
      },
    });
    expect(sources).toEqual([
      ...['probe', 'probe'],
      ...['random', 'random', 'random'],
      ...['suggest', 'suggest', 'suggest', 'suggest'],
    ]);
    expect(objective).toHaveBeenCalledTimes(9);
    expect(objective.mock.calls[0]![0]).toEqual([0.1, 0.2, 0.3]);
    expect(res.trials).toBe(9);
    expect(res.best).toEqual(opt.best());
    expect(opt.suggestionCount()).toBe(4);
  });

  it('primes at least one random point on an empty space', async () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2), nWarmup: 500 });
    const sources: string[] = [];
    const onTrial = (t: { source: string }) => void sources.push(t.source);
    await maximize({ optimizer: opt, objective: sphere, initPoints: 0, nIter: 1, onTrial });
    expect(sources).toEqual(['random', 'suggest']);
  });

  it('stops on abort and leaves a resumable optimiser', async () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2), nWarmup: 500 });
    const ctrl = new AbortController();
    let calls = 0;
    const run = maximize({
      optimizer: opt,
      objective: (x) => {
        calls++;
        if (calls === 3) ctrl.abort();
        return sphere(x);
      },
      initPoints: 5,
      nIter: 10,
      signal: ctrl.signal,
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(opt.observations()).toHaveLength(3);
    const resumed = bayesianOptimizerFromJSON(opt.toJSON());
    expect(resumed.pending()).toBe(2);
  });

  it('reuses the cached target of a repeated point instead of re-evaluating', async () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2), nWarmup: 500 });
    const objective = vi.fn(sphere);
    const dup: boolean[] = [];
    await maximize({
      optimizer: opt,
      objective,
      probes: [
        [0.3, 0.3],
        [0.3, 0.3],
      ],
      initPoints: 0,
      nIter: 0,
      onTrial: (t) => void dup.push(t.duplicate),
    });
    expect(dup).toEqual([false, true]);
    expect(objective).toHaveBeenCalledTimes(1);
    expect(opt.observations()).toHaveLength(1);
    expect(opt.toJSON().inFlight).toEqual([]);
  });
});

describe('registration and config', () => {
  it('throws on a duplicate point unless duplicates are allowed', () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2) });
    opt.register([0.1, 0.2], 1);
    expect(() => opt.register([0.1, 0.2], 2)).toThrow(DuplicatePointError);
    const lax = createBayesianOptimizer({ bounds: unitBounds(2), allowDuplicatePoints: true });
    lax.register([0.1, 0.2], 1);
    lax.register([0.1, 0.2], 2);
    expect(lax.observations()).toHaveLength(2);
    expect(lax.best()).toEqual({ x: [0.1, 0.2], y: 2 });
  });

  it('rejects malformed points and targets', () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2) });
    expect(() => opt.register([0.1], 1)).toThrow(/expected 2/);
    expect(() => opt.register([0.1, Number.NaN], 1)).toThrow(/finite/);
    expect(() => opt.register([0.1, 0.2], Number.NEGATIVE_INFINITY)).toThrow(/finite/);
    expect(() => opt.probe([0.1, 0.2, 0.3])).toThrow(/expected 2/);
  });

  it('has bayes_opt’s defaults', () => {
    expect(DEFAULT_BAYES_OPT_CONFIG).toMatchObject({
      seed: 0,
      kappa: 2.576,
      alpha: 1e-6,
      nWarmup: 10000,
      nIter: 10,
      nRestarts: 5,
      lengthScale: 1,
      lengthScaleBounds: [1e-5, 1e5],
      allowDuplicatePoints: false,
    });
    expect(validateBayesOptConfig({ bounds: [[0, 1]] })).toEqual({ ...DEFAULT_BAYES_OPT_CONFIG, bounds: [[0, 1]] });
  });

  it.each([
    [{ bounds: [] }, /bounds/],
    [{ bounds: [[1, 0]] }, /lower/],
    [{ bounds: [[0, Number.POSITIVE_INFINITY]] }, /finite/],
    [{ bounds: [[0, 1]], kappa: -1 }, /kappa/],
    [{ bounds: [[0, 1]], alpha: 0 }, /alpha/],
    [{ bounds: [[0, 1]], seed: -3 }, /seed/],
    [{ bounds: [[0, 1]], nWarmup: 1.5 }, /nWarmup/],
    [{ bounds: [[0, 1]], lengthScale: 1e6 }, /lengthScale/],
    [{ bounds: [[0, 1]], n_iter: 3 }, /unknown/],
  ])('rejects %j', (cfg, msg) => {
    let err: unknown;
    try {
      validateBayesOptConfig(cfg as never);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
    expect((err as Error).message).toMatch(msg);
  });

  it('is unusable after dispose', () => {
    const opt = createBayesianOptimizer({ bounds: unitBounds(2) });
    opt.dispose();
    expect(() => opt.suggest()).toThrow(/disposed/);
  });
});
