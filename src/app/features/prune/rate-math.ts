/**
 * The rate editor's plain helpers (no runes, no worker): percent ↔ fraction exactly as the CLI parses
 * rates, carrying rates from one grouping to another, and the group colours.
 */
import type { Grouping } from '../../../core/data/index.ts';

/** Group colours (fills with dark text, readable in light and dark themes), by group index. */
export const GROUP_COLORS = ['#9ec5ff', '#ffcf8f', '#a8e0a0', '#f7a8c4', '#cdb8f7', '#99e0da', '#efe08a', '#f6b899', '#c3d49a', '#b8c4d9', '#e8b0e8', '#a6d8f0'];

export function groupColor(index: number): string {
  return index < 0 ? 'transparent' : GROUP_COLORS[index % GROUP_COLORS.length]!;
}

/** A fraction as the editor shows it: percent with one decimal (0.213 → 21.3). */
export function toPercent(rate: number): number {
  return Math.round(rate * 1000) / 10;
}

/** Percent typed or slid → fraction exactly as the CLI's parseRates forms it (`v / 100`). */
export function fromPercent(percent: number): number {
  return percent / 100;
}

/**
 * Rates for `to` from rates under `from`: each new group gets the mean rate its modules had
 * (modules in no old group count 0), rounded to 0.1 %.
 */
export function carryRates(from: Grouping, rates: readonly number[], to: Grouping): number[] {
  const byModule = new Map<string, number>();
  from.groups.forEach((g, i) => g.modules.forEach((m) => byModule.set(m, rates[i] ?? 0)));
  return to.groups.map((g) => {
    const mean = g.modules.reduce((s, m) => s + (byModule.get(m) ?? 0), 0) / Math.max(1, g.modules.length);
    return fromPercent(toPercent(mean));
  });
}
