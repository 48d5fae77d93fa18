/**
 * A sweep of pruning targets (the paper's tables: one B-FPGM run per target sparsity, 10 … 60 %):
 * target list parsing and the table — target, reached sparsity, AP Easy / Medium / Hard after
 * pruning — as CSV and Markdown. Percent values, as the paper prints them.
 */
import { StudioError } from '../errors.ts';
import type { RunState } from './records.ts';

export interface SweepRow {
  /** Target as a fraction. */
  target: number;
  targetKind: RunState['config']['targetKind'];
  /** Parameter sparsity reached, as a fraction. */
  sparsity: number;
  macsRemoved: number;
  /** AP after pruning (null when the run scored no val images). */
  ap: { easy: number; medium: number; hard: number; images: number; protocol: 'single' | 'full' } | null;
}

/** `0.1,0.2,…` or `10,20,…` (percents when any entry is > 1); each a valid pipeline target, no repeats. */
export function parseTargets(text: string): number[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const values = parts.map(Number);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) {
    throw new StudioError('CONFIG_INVALID', `--targets ${text}: a comma-separated list of numbers expected (e.g. 0.1,0.2,0.3)`);
  }
  const percent = values.some((v) => v > 1);
  const targets = values.map((v) => (percent ? v / 100 : v));
  for (const t of targets) if (!(t > 0 && t < 0.98)) throw new StudioError('CONFIG_INVALID', `--targets: ${t} is not a fraction in (0, 0.98)`);
  if (new Set(targets).size !== targets.length) throw new StudioError('CONFIG_INVALID', `--targets ${text} repeats a target`);
  return targets;
}

/** Run id of one target of a sweep: `<base>-t30` for 30 %. */
export function sweepRunId(base: string, target: number): string {
  return `${base}-t${Number((100 * target).toFixed(2))}`;
}

export function sweepRow(state: RunState): SweepRow {
  const after = state.evaluation.after;
  return {
    target: state.config.target,
    targetKind: state.config.targetKind,
    sparsity: state.result?.sparsity ?? Number.NaN,
    macsRemoved: state.result?.macsRemoved ?? Number.NaN,
    ap: after ? { easy: after.easy, medium: after.medium, hard: after.hard, images: after.images, protocol: after.protocol } : null,
  };
}

const pct = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '' : (100 * v).toFixed(digits));
const HEADER = ['target (%)', 'sparsity (%)', 'MACs removed (%)', 'AP Easy (%)', 'AP Medium (%)', 'AP Hard (%)'];
const cells = (r: SweepRow, digits: number): string[] => [
  pct(r.target, 0), pct(r.sparsity, digits), pct(r.macsRemoved, digits), pct(r.ap?.easy, digits), pct(r.ap?.medium, digits), pct(r.ap?.hard, digits),
];

export function sweepCsv(rows: readonly SweepRow[]): string {
  const head = ['target', 'target_kind', 'sparsity', 'macs_removed', 'ap_easy', 'ap_medium', 'ap_hard', 'ap_images', 'protocol'];
  const lines = rows.map((r) => [pct(r.target, 2), r.targetKind, ...cells(r, 4).slice(1), r.ap ? String(r.ap.images) : '', r.ap?.protocol ?? ''].join(','));
  return [head.join(','), ...lines].join('\n') + '\n';
}

export function sweepMarkdown(rows: readonly SweepRow[]): string {
  const line = (c: string[]) => `| ${c.join(' | ')} |`;
  const ap = rows.find((r) => r.ap)?.ap;
  const note = ap ? `AP after pruning on ${ap.images} WIDER val images (${ap.protocol} protocol).` : 'No AP: the runs scored no val images (--eval-images 0).';
  return [line(HEADER), line(HEADER.map((_, i) => (i === 0 ? '---' : '---:'))), ...rows.map((r) => line(cells(r, 2))), '', note].join('\n') + '\n';
}
