/**
 * The pruning rates the studio is working with: one rate per layer group of a grouping. Shared through
 * the studio context, so every feature reads and writes the same vector — the rate editor (drag, type),
 * the BO dashboard ("apply best rates"), the pipeline runner (start from these rates).
 *
 * Rates are fractions in [0, 1) in group order, exactly what `planFpgm` and the CLI (`--rates`) take:
 * a percent typed in the UI becomes `percent / 100`, as `parseRates` in src/cli/commands/fpgm.ts does,
 * so the same numbers give the same plan and the same sparsity everywhere.
 */
import { BUILTIN_GROUP_COUNTS, maxRate, type BuiltinGroupingId, type LayerGroup } from '../../../core/data/index.ts';

/** Built-in grouping ids (GROUPINGS in core), plus `custom` for a user-defined grouping. */
export type GroupingId = BuiltinGroupingId | 'custom';

export class RatesState {
  /** Which grouping the rates refer to. */
  groupingId = $state<GroupingId>('code');
  /** One rate per group of the grouping, fractions in [0, 1). */
  rates = $state.raw<number[]>(new Array(BUILTIN_GROUP_COUNTS.code).fill(0));
  /** The groups when `groupingId` is `custom` (canonical module paths), else null. */
  custom = $state.raw<LayerGroup[] | null>(null);
  /** Target sparsity as a fraction (SPEC §3.4), or null: bounds every rate by min(0.98, target + 0.2). */
  target = $state<number | null>(null);
  /** Who set the rates last (`editor`, `bo-dashboard`, …), for a "rates from …" note. */
  source = $state('');

  /** Replaces grouping and rates at once (e.g. BO "apply best rates"). `custom` is required for `custom`. */
  set(groupingId: GroupingId, rates: readonly number[], options: { custom?: LayerGroup[] | null; source?: string } = {}): void {
    if (groupingId === 'custom' && !options.custom) throw new Error('A custom grouping needs its groups.');
    const expected = groupingId === 'custom' ? options.custom!.length : BUILTIN_GROUP_COUNTS[groupingId];
    if (rates.length !== expected) throw new Error(`${rates.length} rates given for ${expected} groups of "${groupingId}".`);
    this.custom = groupingId === 'custom' ? options.custom!.map((g) => ({ name: g.name, modules: [...g.modules] })) : null;
    this.groupingId = groupingId;
    this.rates = [...rates];
    this.source = options.source ?? '';
  }

  /** Sets the rate of group `index` (a fraction; clamped to [0, maxRate(target)]). */
  setRate(index: number, rate: number, source = 'editor'): void {
    if (!(index >= 0 && index < this.rates.length) || !Number.isFinite(rate)) return;
    const next = [...this.rates];
    next[index] = Math.min(maxRate(this.target), Math.max(0, rate));
    this.rates = next;
    this.source = source;
  }
}
