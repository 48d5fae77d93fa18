/**
 * What the pipeline runner shows about a run, from its saved state and the live events: the run's
 * status (incl. "interrupted" after a reload), and per stage (BO → SFP → fine-tune → evaluate →
 * export) its progress and an ETA. Pure functions (no Svelte, no TF.js), unit-tested.
 */
import type { PipelineConfig, RunState, StageName, StepProgress } from '../../../core/data/index.ts';

export type RunStage = Exclude<StageName, 'done'>;

export const RUN_STAGES: ReadonlyArray<{ stage: RunStage; label: string }> = [
  { stage: 'bo', label: 'Bayesian search' },
  { stage: 'sfp', label: 'Soft filter pruning' },
  { stage: 'finetune', label: 'Fine-tune' },
  { stage: 'evaluate', label: 'Evaluate' },
  { stage: 'export', label: 'Export' },
];

/** The latest events of the run executing in this tab. */
export interface LiveProgress {
  stage: StageName | null;
  step: { stage: 'bo' | 'sfp' | 'finetune'; progress: StepProgress } | null;
  evaluation: { which: 'before' | 'after'; done: number; total: number } | null;
  /** performance.now() when the current stage started. */
  stageStartedAt: number;
}

export type RunStatus = 'running' | 'paused' | 'interrupted' | 'elsewhere' | 'failed' | 'done' | 'new';

/**
 * `running` only when this tab executes it; a saved 'running' state that no tab executes was
 * interrupted (reload, crash); 'elsewhere' when another tab holds its lock.
 */
export function runStatus(state: { status: string } | null, activeHere: boolean, heldElsewhere: boolean): RunStatus {
  if (activeHere) return 'running';
  if (!state) return heldElsewhere ? 'elsewhere' : 'new';
  if (state.status === 'running') return heldElsewhere ? 'elsewhere' : 'interrupted';
  return state.status as RunStatus;
}

export interface StageView {
  stage: RunStage;
  label: string;
  status: 'done' | 'current' | 'pending' | 'skipped';
  /** Progress in the stage's own unit (trials, epochs, images). */
  done: number;
  total: number;
  unit: string;
  /** Seconds left in this stage; null when there is nothing to go by. */
  etaSeconds: number | null;
}

/** Seconds of one training epoch plus its validation (as estimatePipelineSeconds counts it). */
export function epochSeconds(c: PipelineConfig, imagesPerSec: number): number {
  const train = Math.round(c.data.images * (1 - c.data.valFraction));
  return (train + (c.data.images - train) / 2) / imagesPerSec;
}

/** Training images/s to estimate with: the live step, the last epoch, else `fallback`. */
export function currentSpeed(state: RunState, live: LiveProgress | null, fallback: number | null): number | null {
  const step = live?.step?.progress.imagesPerSec;
  if (step && Number.isFinite(step) && step > 0) return step;
  const last = state.epochs[state.epochs.length - 1];
  if (last && last.imagesPerSec > 0) return last.imagesPerSec;
  return fallback && fallback > 0 ? fallback : null;
}

export function stageViews(state: RunState, live: LiveProgress | null, options: { imagesPerSec: number | null; hasEvaluation: boolean; now?: number }): StageView[] {
  const c = state.config;
  const ips = currentSpeed(state, live, options.imagesPerSec);
  const epoch = ips ? epochSeconds(c, ips) : null;
  const order = RUN_STAGES.map((s) => s.stage);
  const at = state.stage === 'done' ? order.length : order.indexOf(state.stage);
  const stepFraction = (stage: 'bo' | 'sfp' | 'finetune') => {
    const p = live?.step?.stage === stage ? live.step.progress : null;
    return p && p.steps > 0 ? p.step / p.steps : 0;
  };
  const evaluates = options.hasEvaluation && c.evaluate.images > 0;

  return RUN_STAGES.map(({ stage, label }, i) => {
    const status: StageView['status'] = i < at ? (stage === 'evaluate' && !evaluates ? 'skipped' : 'done') : i === at ? 'current' : stage === 'evaluate' && !evaluates ? 'skipped' : 'pending';
    let done = 0, total = 1, unit = '', eta: number | null = null;
    if (stage === 'bo') {
      total = 1 + c.bo.initPoints + c.bo.iterations;
      done = Math.min(total, state.bo.trials.length);
      unit = 'trials';
      const spent = state.bo.trials.reduce((s, t) => s + t.seconds, 0);
      const perTrial = done > 0 ? spent / done : epoch;
      eta = perTrial === null ? null : Math.max(0, (total - done - stepFraction('bo')) * perTrial);
    } else if (stage === 'sfp' || stage === 'finetune') {
      total = stage === 'sfp' ? c.sfp.epochs : c.finetune.epochs;
      done = stage === 'sfp' ? state.sfpEpochsDone : state.finetuneEpochsDone;
      unit = 'epochs';
      eta = epoch === null ? null : Math.max(0, (total - done - stepFraction(stage)) * epoch);
    } else if (stage === 'evaluate') {
      const images = evaluates ? c.evaluate.images : 0;
      total = 2 * images;
      unit = 'images';
      const finished = (state.evaluation.before ? images : 0) + (state.evaluation.after ? images : 0);
      const running = live?.evaluation && status === 'current' ? live.evaluation.done : 0;
      done = Math.min(total, finished + running);
      const elapsed = live && status === 'current' && live.stage === 'evaluate' ? ((options.now ?? performance.now()) - live.stageStartedAt) / 1000 : 0;
      // The forward of the single protocol costs about half a training step per image.
      eta = done > 0 && elapsed > 0 ? (elapsed / done) * (total - done) : ips ? (total - done) / (2 * ips) : null;
    } else {
      total = 1;
      done = state.stage === 'done' ? 1 : 0;
      unit = '';
      eta = status === 'current' ? 1 : 0;
    }
    if (status === 'done' || status === 'skipped') {
      done = total;
      eta = 0;
    }
    return { stage, label, status, done, total, unit, etaSeconds: eta };
  });
}

/** Seconds left in the whole run (sum over the stages not finished), null when unknown. */
export function totalEta(views: readonly StageView[]): number | null {
  let sum = 0;
  for (const v of views) {
    if (v.status === 'done' || v.status === 'skipped') continue;
    if (v.etaSeconds === null) return null;
    sum += v.etaSeconds;
  }
  return sum;
}
