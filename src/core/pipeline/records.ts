/**
 * What a pipeline run records — every trial and every epoch — as plain data, plus CSV export.
 */
import type { PipelineConfig, TrialScore } from './config.ts';
import type { PipelineBudget } from './budget.ts';
import type { PruningPlan } from '../prune/plan.ts';
import type { BayesOptState } from '../search/bayes-opt.ts';

export type StageName = 'bo' | 'sfp' | 'finetune' | 'evaluate' | 'export' | 'done';
export const STAGES: readonly StageName[] = ['bo', 'sfp', 'finetune', 'evaluate', 'export', 'done'];

export interface TrialRecord {
  index: number;
  source: 'probe' | 'random' | 'suggest';
  rates: number[];
  /** Rates actually pruned when the search projects candidates onto the band (bo.project); absent = `rates`. */
  appliedRates?: number[];
  /** Fraction of parameters exactly zero after pruning (reference calc_sparsity / 100). */
  sparsity: number;
  /** Fraction of conv MACs whose output filters are zeroed, at config.macsSize. */
  macsRemoved: number;
  penalty: number;
  trained: boolean;
  valLoss: number | null;
  valLossL: number | null;
  valLossC: number | null;
  trainLoss: number | null;
  objective: number;
  seconds: number;
  /** Objective reused from an identical earlier point (no training). */
  duplicate: boolean;
  /** How the trial was scored (absent in older runs = 'epoch'). */
  score?: TrialScore;
}

export interface EpochRow {
  stage: 'sfp' | 'finetune';
  epoch: number;
  trainLoss: number;
  valLoss: number;
  valLossL: number;
  valLossC: number;
  imagesPerSec: number;
  seconds: number;
  lr: number;
  /** Parameter sparsity after the epoch (and after SFP's re-pruning when it ran). */
  sparsity: number;
  pruned: boolean;
}

export interface EvaluationRecord {
  easy: number;
  medium: number;
  hard: number;
  images: number;
  protocol: 'single' | 'full';
}

export interface RunState {
  format: 'bfpgm-run';
  version: 1;
  id: string;
  createdAt: string;
  updatedAt: string;
  config: PipelineConfig;
  /** `stateDictDigest` of the pretrained weights the run started from (absent in records written before it). */
  pretrainedDigest?: string;
  /** Stage to run next (its own progress fields say where inside it). */
  stage: StageName;
  status: 'running' | 'paused' | 'done' | 'failed';
  error?: string;
  bo: { optimizer: BayesOptState | null; trials: TrialRecord[]; bestRates: number[] | null };
  epochs: EpochRow[];
  sfpEpochsDone: number;
  finetuneEpochsDone: number;
  plan: PruningPlan | null;
  evaluation: { before: EvaluationRecord | null; after: EvaluationRecord | null };
  result: { sparsity: number; macsRemoved: number; parameters: number } | null;
  /**
   * Image passes counted as the run went (batches through a training step / a forward only), saved
   * with every trial and epoch; absent in runs older than the counter. Work of an epoch interrupted
   * before its save is redone on resume and counted once, when it completes.
   */
  budget?: PipelineBudget;
}

const csvCell = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  const s = Array.isArray(v) ? v.join(' ') : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

function toCsv<T extends object>(rows: readonly T[], columns: ReadonlyArray<keyof T & string>): string {
  return [columns.join(','), ...rows.map((r) => columns.map((c) => csvCell(r[c])).join(','))].join('\n') + '\n';
}

export function trialsCsv(state: RunState): string {
  const groups = state.config.grouping.groups.map((g) => g.name);
  const rows = state.bo.trials.map((t) => ({ ...t, ...Object.fromEntries(groups.map((g, i) => [`rate_${g}`, t.rates[i]])) }));
  const cols = ['index', 'source', ...groups.map((g) => `rate_${g}`), 'sparsity', 'macsRemoved', 'penalty', 'trained', 'trainLoss', 'valLoss', 'valLossL', 'valLossC', 'objective', 'seconds', 'duplicate'];
  return toCsv(rows as Array<Record<string, unknown>>, cols);
}

export function epochsCsv(state: RunState): string {
  return toCsv(state.epochs, ['stage', 'epoch', 'trainLoss', 'valLoss', 'valLossL', 'valLossC', 'sparsity', 'pruned', 'imagesPerSec', 'seconds', 'lr']);
}
