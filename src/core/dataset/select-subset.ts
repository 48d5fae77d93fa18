/**
 * Seeded subset selection for importing part of WIDER FACE: stratified by event so a small subset
 * keeps the event mix of the full list (WIDER's 61 events differ a lot in face size and density).
 *
 * Quotas are proportional to each event's share, rounded by largest remainder (ties: the event that
 * appears first in the file). Within an event the images are drawn uniformly with a seeded
 * Fisher–Yates. The result keeps file order. Same entries + same options ⇒ same subset.
 */
import { StudioError } from '../errors.ts';
import { createRng } from '../util/random.ts';

export interface SelectSubsetOptions {
  /** Number of images, or 'all'. A size ≥ the number of entries selects everything. */
  size: number | 'all';
  /** Any finite number; folded to 32 bits. */
  seed: number;
}

export function selectSubset<T extends { event: string }>(entries: readonly T[], options: SelectSubsetOptions): T[] {
  const { size, seed } = options;
  if (size !== 'all' && (!Number.isInteger(size) || size < 0)) {
    throw new StudioError('CONFIG_INVALID', `subset size must be a non-negative integer or 'all', got ${String(size)}`);
  }
  if (!Number.isFinite(seed)) throw new StudioError('CONFIG_INVALID', `subset seed must be a finite number, got ${seed}`);
  if (size === 'all' || size >= entries.length) return entries.slice();

  // Event → indices into entries, events in order of first appearance.
  const groups = new Map<string, number[]>();
  entries.forEach((e, i) => {
    const group = groups.get(e.event);
    if (group) group.push(i);
    else groups.set(e.event, [i]);
  });
  const events = [...groups.values()];
  const quotas = largestRemainder(events.map((g) => g.length), size, entries.length);

  const rng = createRng(seed);
  const chosen: number[] = [];
  events.forEach((indices, e) => {
    const pool = indices.slice();
    const take = quotas[e]!;
    // Partial Fisher–Yates: the first `take` slots end up a uniform sample.
    for (let k = 0; k < take; k++) {
      const j = k + Math.floor(rng() * (pool.length - k));
      [pool[k], pool[j]] = [pool[j]!, pool[k]!];
      chosen.push(pool[k]!);
    }
  });
  chosen.sort((a, b) => a - b);
  return chosen.map((i) => entries[i]!);
}

/** Integer quotas summing to `size`, proportional to `counts` (Hamilton's method). */
function largestRemainder(counts: number[], size: number, total: number): number[] {
  // Integer arithmetic: remainders compare exactly, and the leftover equals the number of bumps.
  const quotas = counts.map((c) => Math.floor((c * size) / total));
  const remainders = counts.map((c) => (c * size) % total);
  let left = size - quotas.reduce((a, b) => a + b, 0);
  const byRemainder = remainders.map((r, i) => ({ i, r })).sort((a, b) => b.r - a.r || a.i - b.i);
  for (const { i } of byRemainder) {
    if (left === 0) break;
    // Only events with a positive remainder get here (they sum to `left`·total), and for those
    // floor(c·size/total) < c, so a quota never exceeds its event's size.
    quotas[i] = quotas[i]! + 1;
    left--;
  }
  return quotas;
}
