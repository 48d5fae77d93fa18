import { describe, expect, it } from 'vitest';
import { minimizeBox, type ValueAndGradient } from '../../../src/core/search/bounded-lbfgs.ts';

const rosenbrock: ValueAndGradient = (x, g) => {
  const a = x[0]!;
  const b = x[1]!;
  if (g) {
    g[0] = -2 * (1 - a) - 400 * a * (b - a * a);
    g[1] = 200 * (b - a * a);
  }
  return (1 - a) ** 2 + 100 * (b - a * a) ** 2;
};

describe('minimizeBox (projected L-BFGS, scipy L-BFGS-B defaults)', () => {
  it('finds the Rosenbrock minimum inside the box', () => {
    const res = minimizeBox(rosenbrock, [-1.2, 1], [-2, -2], [2, 2]);
    expect(res.success).toBe(true);
    expect(res.x[0]).toBeCloseTo(1, 4);
    expect(res.x[1]).toBeCloseTo(1, 4);
  });

  it('stops on an active bound with the projected gradient at zero', () => {
    // min (x − 3)² + (y + 1)² on [0, 2]×[0, 5] is at (2, 0), both on bounds.
    const f: ValueAndGradient = (x, g) => {
      if (g) {
        g[0] = 2 * (x[0]! - 3);
        g[1] = 2 * (x[1]! + 1);
      }
      return (x[0]! - 3) ** 2 + (x[1]! + 1) ** 2;
    };
    const res = minimizeBox(f, [0.5, 4], [0, 0], [2, 5]);
    expect(res.success).toBe(true);
    expect(Array.from(res.x)).toEqual([2, 0]);
  });

  it('projects the start into the box and reports non-finite starts as failures', () => {
    const f: ValueAndGradient = (x, g) => {
      if (g) g[0] = 2 * x[0]!;
      return x[0]! < 0 ? Number.POSITIVE_INFINITY : x[0]! ** 2;
    };
    const res = minimizeBox(f, [7], [0.5], [3]);
    expect(res.x[0]).toBe(0.5);
    expect(minimizeBox(f, [-1], [-2], [3]).success).toBe(false);
  });

  it('crosses a long monotone stretch quickly (line-search extrapolation)', () => {
    // f(x) = x on [−30, 10] from 9: no curvature to learn, so without extrapolation every
    // iteration would move by the unit first step (39 iterations).
    let calls = 0;
    const f: ValueAndGradient = (x, g) => {
      calls++;
      if (g) g[0] = 1;
      return x[0]!;
    };
    const res = minimizeBox(f, [9], [-30], [10]);
    expect(res.success).toBe(true);
    expect(res.x[0]).toBe(-30);
    expect(calls).toBeLessThan(20);
  });
});
