/**
 * `fpgm --model X.pth --rates r1,…,rN [--groups code|released|coarse|fine] [--out Y.pth] [--json]`:
 * one-shot FPGM pruning of a checkpoint (SPEC §3.2, §3.3) on the host path, written with the core
 * checkpoint writer. Without --out it only reports.
 *
 * Rates: one per group. Bare numbers are fractions (0.3) unless some entry of the list is > 1, in
 * which case the whole list is read as percents, like the README table (`20,0,7.9,20,20,17.2` and
 * `0.8,5.2,47.2,60,24.4,46.4` are both README rows). A trailing `%` forces percent for one entry
 * (`0.8%,0,0,0,0,0`). Fractions must lie in [0, 1).
 *
 * JSON: `{"grouping", "sparsity" (percent, SPEC §3.4, what `info` reports for the written file),
 * "groups": [{"name", "rate", "filters", "zeroed_filters"}], "zeroed": {"<conv weight key>": [filters]}}`,
 * `zeroed` listing only convs with at least one zeroed filter.
 */
import { writeFile } from 'node:fs/promises';
import { applyPlanToStateDict, describeModel, planFpgm, planGroupSummary, StudioError, writeCheckpoint } from '../../core/index.ts';
import { checkOutputFile, GROUPS_FLAG, groupingOf, loadStateDict, parseFlags, print, requireFlag } from './common.ts';

/** Parses `--rates` into fractions (see the file header for the percent rule). */
export function parseRates(text: string, groups: number): number[] {
  const items = text.split(',').map((s) => s.trim());
  const parsed = items.map((s) => {
    const percent = s.endsWith('%');
    const v = Number(percent ? s.slice(0, -1) : s);
    if (s === '' || s === '%' || !Number.isFinite(v)) throw new StudioError('CONFIG_INVALID', `--rates: "${s}" is not a number.`);
    return { v, percent };
  });
  if (parsed.length !== groups) throw new StudioError('CONFIG_INVALID', `--rates needs ${groups} comma-separated values (one per group), got ${parsed.length}.`);
  const listIsPercent = parsed.some((p) => !p.percent && p.v > 1);
  return parsed.map(({ v, percent }) => {
    const r = percent || listIsPercent ? v / 100 : v;
    if (r < 0 || r >= 1) throw new StudioError('CONFIG_INVALID', `--rates: ${v}${percent || listIsPercent ? ' %' : ''} is outside [0, 1) (write 30 or 0.3 for 30 %).`);
    return r;
  });
}

export interface FpgmCliResult {
  grouping: string;
  sparsity: number;
  groups: Array<{ name: string; rate: number; filters: number; zeroed_filters: number }>;
  zeroed: Record<string, number[]>;
  out?: string;
}

export async function fpgm(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { model: { type: 'string' }, rates: { type: 'string' }, groups: GROUPS_FLAG, out: { type: 'string' } });
  const grouping = groupingOf(flags.groups);
  const rates = parseRates(requireFlag(flags, 'rates'), grouping.groups.length);
  const out = flags.out;
  if (out !== undefined) await checkOutputFile('out', out);
  const sd = await loadStateDict(requireFlag(flags, 'model'));
  const plan = planFpgm(sd, grouping, rates);
  const pruned = applyPlanToStateDict(sd, plan);
  if (out) await writeFile(out, writeCheckpoint(pruned));
  const result: FpgmCliResult = {
    grouping: grouping.id,
    sparsity: describeModel(pruned, grouping).sparsity,
    groups: planGroupSummary(plan).map((g) => ({ name: g.name, rate: g.rate, filters: g.filters, zeroed_filters: g.zeroedFilters })),
    zeroed: Object.fromEntries(plan.convs.filter((c) => c.pruned.length).map((c) => [c.key, c.pruned])),
    ...(out ? { out } : {}),
  };
  print(!!flags.json, result, () =>
    [
      `FPGM, ${grouping.label}`,
      ...result.groups.map((g, i) => `  ${i + 1}. ${g.name.padEnd(14)} rate ${(100 * g.rate).toFixed(1).padStart(5)} %  ${String(g.zeroed_filters).padStart(3)} / ${g.filters} filters zeroed`),
      `sparsity    ${result.sparsity.toFixed(3)} % (zero parameters)`,
      out ? `written     ${out}` : 'not written (no --out)',
    ].join('\n'),
  );
}
