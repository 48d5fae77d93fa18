import { describe, expect, it } from 'vitest';
import { createBayesianOptimizer, maximize } from '../../../src/core/search/index.ts';

// End-to-end search quality with the bayes_opt defaults (UCB κ 2.576, 10,000 warm-up points,
// 10 refinements, 5 random init points). Budgets are the number of objective evaluations.
const unit6 = (): Array<[number, number]> => Array.from({ length: 6 }, () => [0, 1] as [number, number]);

async function run(f: (x: number[]) => number, seed: number, budget: number) {
  const opt = createBayesianOptimizer({ bounds: unit6(), seed });
  const res = await maximize({ optimizer: opt, objective: f, initPoints: 5, nIter: budget - 5 });
  expect(res.trials).toBe(budget);
  return res.best!;
}

describe('optimiser finds known optima in 6-D', () => {
  const centre = [0.2, 0.4, 0.6, 0.8, 0.3, 0.7];
  const quadratic = (x: number[]) => -x.reduce((a, v, i) => a + (v - centre[i]!) ** 2, 0);

  it('shifted negative quadratic: within 0.05 per coordinate and 1e-2 of the optimum in 60 evaluations', async () => {
    const best = await run(quadratic, 0, 60);
    expect(best.y).toBeGreaterThan(-1e-2);
    for (let j = 0; j < 6; j++) expect(Math.abs(best.x[j]! - centre[j]!)).toBeLessThan(0.05);
  });

  // Hartmann-6 (maximising −H6): optimum 3.32237 at x* ≈ (0.20169, 0.150011, 0.476874,
  // 0.275332, 0.311652, 0.6573). Random search needs thousands of points to pass 3.0.
  const A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
  ];
  const P = [
    [1312, 1696, 5569, 124, 8283, 5886],
    [2329, 4135, 8307, 3736, 1004, 9991],
    [2348, 1451, 3522, 2883, 3047, 6650],
    [4047, 8828, 8732, 5743, 1091, 381],
  ].map((r) => r.map((v) => v * 1e-4));
  const ALPHA = [1.0, 1.2, 3.0, 3.2];
  const hartmann6 = (x: number[]) => {
    let s = 0;
    for (let i = 0; i < 4; i++) {
      let e = 0;
      for (let j = 0; j < 6; j++) e += A[i]![j]! * (x[j]! - P[i]![j]!) ** 2;
      s += ALPHA[i]! * Math.exp(-e);
    }
    return s;
  };
  const xStar = [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573];

  it('Hartmann-6 reference optimum is 3.32237', () => {
    expect(hartmann6(xStar)).toBeCloseTo(3.32237, 5);
  });

  it('Hartmann-6: reaches ≥ 3.2 within 80 evaluations (seeds 0 and 1)', async () => {
    for (const seed of [0, 1]) {
      const best = await run(hartmann6, seed, 80);
      expect(best.y).toBeGreaterThanOrEqual(3.2);
      for (let j = 0; j < 6; j++) expect(Math.abs(best.x[j]! - xStar[j]!)).toBeLessThan(0.05);
    }
  });
});
