/**
 * Batch suggestions (q points at once, for parallel trials): q = 1 is the sequential loop, batch
 * members avoid each other through fantasy targets (constant liar / kriging believer), and a batched
 * `maximize` registers in hand-out order whatever order its evaluations finish in.
 */
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/core/errors.ts';
import {
  bayesianOptimizerFromJSON,
  createBayesianOptimizer,
  maximize,
  validateBayesOptConfig,
  type BatchStrategy,
  type BayesianOptimizer,
} from '../../../src/core/search/index.ts';

const bounds = (d: number): Array<[number, number]> => Array.from({ length: d }, () => [0, 1] as [number, number]);
// A smooth objective with its maximum inside the box, so consecutive UCB maxima cluster without fantasies.
const bowl = (x: readonly number[]): number => -x.reduce((a, v, i) => a + (v - 0.3 - 0.1 * i) ** 2, 0);
const dist = (a: readonly number[], b: readonly number[]): number => Math.hypot(...a.map((v, i) => v - b[i]!));

function seeded(strategy: BatchStrategy = 'constant-liar'): BayesianOptimizer {
  const opt = createBayesianOptimizer({ bounds: bounds(3), seed: 7, nWarmup: 2000, batchStrategy: strategy });
  for (let i = 0; i < 6; i++) {
    const x = opt.suggest();
    opt.register(x, bowl(x));
  }
  return opt;
}

describe('nextBatch', () => {
  it('q = 1 hands out exactly what next() does', () => {
    const a = seeded();
    const b = seeded();
    for (let i = 0; i < 3; i++) {
      const [s] = a.nextBatch(1);
      const t = b.next();
      expect(s).toEqual(t);
      a.register(s!.x, bowl(s!.x));
      b.register(t.x, bowl(t.x));
    }
    expect(a.toJSON()).toEqual(b.toJSON());
  });

  it.each(['constant-liar', 'kriging-believer'] as const)('%s spreads a batch where plain UCB repeats itself', (strategy) => {
    // Control: the GP point asked twice with nothing in flight lands on the same UCB maximum.
    const control = seeded(strategy);
    const first = control.next().x;
    control.skip(first);
    const again = control.next().x;
    expect(dist(first, again)).toBeLessThan(0.02);

    const batch = seeded(strategy).nextBatch(3).map((s) => s.x);
    expect(batch[0]).toEqual(first); // nothing in flight yet: the sequential point
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) expect(dist(batch[i]!, batch[j]!)).toBeGreaterThan(0.05);
  });

  it('the two strategies tell different lies', () => {
    const cl = seeded('constant-liar').nextBatch(2);
    const kb = seeded('kriging-believer').nextBatch(2);
    expect(cl[0]).toEqual(kb[0]);
    expect(dist(cl[1]!.x, kb[1]!.x)).toBeGreaterThan(1e-6);
  });

  it('a batch in flight survives toJSON/fromJSON and comes back first, in order', () => {
    const opt = seeded();
    const batch = opt.nextBatch(2).map((s) => s.x);
    const resumed = bayesianOptimizerFromJSON(JSON.stringify(opt.toJSON()));
    expect(resumed.nextBatch(2).map((s) => s.x)).toEqual(batch);
  });

  it('rejects a bad q and an unknown strategy', () => {
    expect(() => seeded().nextBatch(0)).toThrow(/batch size/);
    let err: unknown;
    try {
      validateBayesOptConfig({ bounds: bounds(1), batchStrategy: 'optimist' as BatchStrategy });
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
  });
});

describe('maximize with batchSize', () => {
  const run = async (q: number, delay: (index: number) => number) => {
    const opt = createBayesianOptimizer({ bounds: bounds(3), seed: 3, nWarmup: 1000 });
    let running = 0;
    let peak = 0;
    const batches: number[][] = [];
    const order: number[] = [];
    const res = await maximize({
      optimizer: opt,
      probes: [[0.5, 0.5, 0.5]],
      initPoints: 2,
      nIter: 4,
      batchSize: q,
      onBatch: (b) => void batches.push(b.map((t) => t.index)),
      objective: async (x, info) => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, delay(info.index)));
        running--;
        return bowl(x);
      },
      onTrial: (t) => void order.push(t.index),
    });
    return { res, peak, batches, order, observations: opt.observations() };
  };

  it('scores q points concurrently, registers them in hand-out order, independent of finishing order', async () => {
    const a = await run(2, (i) => (i % 2 === 0 ? 30 : 1)); // the first of each pair finishes last
    const b = await run(2, (i) => (i % 2 === 0 ? 1 : 30));
    expect(a.peak).toBe(2);
    expect(a.batches).toEqual([[0, 1], [2, 3], [4, 5], [6]]);
    expect(a.order).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(a.res.trials).toBe(7);
    expect(a.observations).toEqual(b.observations);
  });

  it('batchSize 1 is the sequential loop', async () => {
    const one = await run(1, () => 0);
    const opt = createBayesianOptimizer({ bounds: bounds(3), seed: 3, nWarmup: 1000 });
    await maximize({ optimizer: opt, probes: [[0.5, 0.5, 0.5]], initPoints: 2, nIter: 4, objective: bowl });
    expect(one.peak).toBe(1);
    expect(one.observations).toEqual(opt.observations());
  });
});
