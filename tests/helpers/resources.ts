/** Time and memory a failing parse costs: the acceptance bar for hostile inputs (< 1 s, RSS + < 200 MB). */
import { expect } from 'vitest';

export const BOMB_TIME_MS = 1000;
export const BOMB_RSS_BYTES = 200 * 2 ** 20;

export interface Cost {
  ms: number;
  rssGrowth: number;
  error: unknown;
}

/** Runs `fn` (which must throw), measuring wall time and process RSS before/after. */
export async function costOfFailure(fn: () => unknown): Promise<Cost> {
  const rss0 = process.memoryUsage().rss;
  const t0 = performance.now();
  let error: unknown = null;
  try {
    await fn();
  } catch (e) {
    error = e;
  }
  const ms = performance.now() - t0;
  const rssGrowth = process.memoryUsage().rss - rss0;
  expect(error, 'expected the input to be refused').not.toBeNull();
  return { ms, rssGrowth, error };
}

export function expectCheap(cost: Cost): void {
  expect(cost.ms, `took ${cost.ms.toFixed(0)} ms`).toBeLessThan(BOMB_TIME_MS);
  expect(cost.rssGrowth, `RSS grew by ${(cost.rssGrowth / 2 ** 20).toFixed(0)} MB`).toBeLessThan(BOMB_RSS_BYTES);
}
