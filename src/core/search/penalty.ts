/**
 * The B-FPGM search objective pieces (SPEC §3.4, `BayesianPruner` in the reference):
 * one variable per layer group in [0, min(0.98, target + 0.2)], a first probe at target + 0.04
 * for every group, then init_points = 60 random + n_iter = 940 GP steps with random_state = 0.
 * A candidate whose sparsity is ≥ 0.04 away from the target scores −500 without training;
 * otherwise it is trained one epoch and scores −val_loss − 5·penalty.
 */
import { StudioError } from '../errors.ts';

/** Penalty at or above which a candidate is not trained (its objective is SKIPPED_OBJECTIVE). */
export const PENALTY_SKIP_THRESHOLD = 10;
/** Objective of a skipped candidate. */
export const SKIPPED_OBJECTIVE = -500;
/** Weight of the penalty in the objective. */
export const PENALTY_WEIGHT = 5;
/** Half-width of the accepted sparsity band. */
export const SPARSITY_TOLERANCE = 0.04;

/** The reference run's optimiser settings (SPEC §3.4). */
export const B_FPGM_SEARCH = Object.freeze({ initPoints: 60, nIter: 940, seed: 0 });

/**
 * Sparsity as a fraction the way the reference forms it: `calc_sparsity` returns
 * `100 * zeros / params` and the pruner divides by 100, so the rounding matches it.
 */
export function sparsityFraction(zeros: number, parameters: number): number {
  return (100 * zeros) / parameters / 100;
}

/**
 * SPEC §3.4 penalty, conditions checked in the reference's order:
 * 100 if |s − target| ≥ 0.04; else 0 if target ≤ s ≤ target + 0.04; else |s − target| if
 * target − 0.04 ≤ s < target. Floating point can leave a sliver none of the three covers
 * (|s − target| rounds just below 0.04 while s is just past target ± 0.04) and NaN matches
 * nothing; both count as out of band (100) rather than leaving the penalty undefined.
 */
export function sparsityPenalty(s: number, target: number): number {
  const gap = Math.abs(s - target);
  if (gap >= SPARSITY_TOLERANCE) return 100;
  if (target <= s && s <= target + SPARSITY_TOLERANCE) return 0;
  if (target - SPARSITY_TOLERANCE <= s && s < target) return gap;
  return 100;
}

/** True when the reference would skip training for this penalty. */
export function isSkipped(penalty: number): boolean {
  return !(penalty < PENALTY_SKIP_THRESHOLD);
}

/** −val_loss − 5·penalty for a trained candidate; SKIPPED_OBJECTIVE when the penalty says skip. */
export function objectiveValue(valLoss: number, penalty: number): number {
  if (isSkipped(penalty)) return SKIPPED_OBJECTIVE;
  return -valLoss - PENALTY_WEIGHT * penalty;
}

/**
 * Scores one candidate: the penalty decides whether `train` (one epoch + validation loss) runs
 * at all, exactly as the reference which never trains a skipped candidate.
 */
export async function evaluateCandidate(args: {
  sparsity: number;
  target: number;
  train: () => Promise<number>;
}): Promise<{ objective: number; penalty: number; skipped: boolean; valLoss: number | null }> {
  const penalty = sparsityPenalty(args.sparsity, args.target);
  if (isSkipped(penalty)) return { objective: SKIPPED_OBJECTIVE, penalty, skipped: true, valLoss: null };
  const valLoss = await args.train();
  return { objective: objectiveValue(valLoss, penalty), penalty, skipped: false, valLoss };
}

function checkTarget(target: number): void {
  if (!Number.isFinite(target) || target < 0 || target >= 1) {
    throw new StudioError('CONFIG_INVALID', `target sparsity must be a fraction in [0, 1), got ${target}`);
  }
}

function checkGroups(nGroups: number): void {
  if (!Number.isInteger(nGroups) || nGroups < 1) {
    throw new StudioError('CONFIG_INVALID', `nGroups must be a positive integer, got ${nGroups}`);
  }
}

/** Highest rate a group may get (SPEC §3.4: `x_i ∈ [0, min(0.98, target + 0.2)]`). */
export const MAX_RATE = 0.98;

/** Upper bound of every rate: MAX_RATE, or min(MAX_RATE, target + 0.2) when a target sparsity (fraction) is set. */
export function maxRate(target: number | null): number {
  return target === null ? MAX_RATE : Math.min(MAX_RATE, target + 0.2);
}

/** Per-group pruning-rate bounds: [0, maxRate(target)] for each group. */
export function groupBounds(target: number, nGroups: number): Array<[number, number]> {
  checkTarget(target);
  checkGroups(nGroups);
  const hi = maxRate(target);
  return Array.from({ length: nGroups }, () => [0, hi] as [number, number]);
}

/** The reference's first probe: target + 0.04 for every group. */
export function firstProbe(target: number, nGroups: number): number[] {
  checkTarget(target);
  checkGroups(nGroups);
  return new Array<number>(nGroups).fill(target + SPARSITY_TOLERANCE);
}
