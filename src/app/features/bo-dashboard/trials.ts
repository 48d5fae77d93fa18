/**
 * Derived views of a pipeline run's trials for the BO dashboard (pure, unit-tested): which trials were
 * skipped (penalty ≥ 10, never trained), the best trial, the best objective so far, and the value a
 * trial is judged on against the target (parameter sparsity or MACs removed).
 */
import type { TrialRecord, TargetKind } from '../../../core/data/index.ts';

/** B-FPGM's sparsity tolerance (SPEC §3.4): no penalty in [target, target + 0.04], skipped outside ± 0.04. */
export const TARGET_TOLERANCE = 0.04;

/** A trial that was not trained: out of the target band (objective −500). Duplicates reuse an earlier result. */
export function isSkippedTrial(t: TrialRecord): boolean {
  return !t.trained && !t.duplicate;
}

/** The trial with the highest objective (the first of equals, as bayes_opt's `max`); null when none. */
export function bestTrial(trials: readonly TrialRecord[]): TrialRecord | null {
  let best: TrialRecord | null = null;
  for (const t of trials) if (!best || t.objective > best.objective) best = t;
  return best;
}

/** Running maximum of the objective, per trial. */
export function bestSoFar(trials: readonly TrialRecord[]): number[] {
  let m = -Infinity;
  return trials.map((t) => (m = Math.max(m, t.objective)));
}

/** What the target constrains: parameter sparsity or the MACs removed, as a fraction. */
export function targetValue(t: TrialRecord, kind: TargetKind): number {
  return kind === 'macs' ? t.macsRemoved : t.sparsity;
}

/** 'in' = no penalty, 'near' = inside ± 0.04 but below the target (small penalty), 'out' = skipped. */
export function bandOf(value: number, target: number): 'in' | 'near' | 'out' {
  if (Math.abs(value - target) >= TARGET_TOLERANCE) return 'out';
  return value >= target ? 'in' : 'near';
}
