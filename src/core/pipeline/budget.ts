/**
 * The planned compute budget of a pipeline config, in image passes at the training size: how many
 * images go through a training step (forward + backward + optimiser) and how many through a forward
 * only (trial scoring, BN re-estimation, validation, distillation teachers, WIDER evaluation).
 * Pure and TF-free, so the studio can show a budget before a run; the pipeline counts the same
 * quantities as it runs (`RunState.budget`) and never exceeds this plan (skipped or duplicate trials
 * cost nothing, so they make the count smaller, never larger).
 */
import type { PipelineConfig } from './config.ts';
import { isSoftPruneEpoch } from '../prune/sfp-schedule.ts';

export interface PipelineBudget {
  /** Images through a training step, all stages, BO trials included. */
  trainImagePasses: number;
  /** Images through a forward pass only (no gradient). */
  forwardImagePasses: number;
}

/** Per-stage breakdown of the same figures. */
export interface PipelineBudgetBreakdown extends PipelineBudget {
  stages: { bo: PipelineBudget; sfp: PipelineBudget; finetune: PipelineBudget; evaluate: PipelineBudget };
}

/** Sizes of the seeded train/val split of the pool (the same rule as `splitPool`). */
export function poolSplitSizes(images: number, valFraction: number): { train: number; val: number } {
  const val = Math.min(images - 1, Math.max(1, Math.round(images * valFraction)));
  return { train: images - val, val };
}

/** Number of trials the search plans: the probe at target + 0.04, the random points, the GP trials. */
export function plannedTrials(c: Pick<PipelineConfig, 'bo'>): number {
  return 1 + c.bo.initPoints + c.bo.iterations;
}

/** Images a BN re-estimation of `images` uses: never more than the training split holds. */
export function bnImagesUsed(images: number | undefined, train: number): number {
  return Math.max(0, Math.min(images ?? 0, train));
}

export function planPipelineBudgetByStage(c: PipelineConfig): PipelineBudgetBreakdown {
  const { train, val } = poolSplitSizes(c.data.images, c.data.valFraction);
  const trials = plannedTrials(c);
  const recal = bnImagesUsed(c.recalibrate?.images, train);
  const teacher = (c.distill?.weight ?? 0) > 0 ? train : 0;
  const bo: PipelineBudget = (c.bo.score ?? 'epoch') === 'adaptive-bn'
    ? { trainImagePasses: 0, forwardImagePasses: trials * (bnImagesUsed(c.bo.bnImages, train) + val) }
    : { trainImagePasses: trials * train, forwardImagePasses: trials * val };
  // SFP: every epoch trains and validates; a re-pruning epoch also re-estimates BN (when on) and
  // validates again the model it hands on.
  const pruneEpochs = Array.from({ length: c.sfp.epochs }, (_, e) => isSoftPruneEpoch(e, c.sfp.epochs, c.sfp.every)).filter(Boolean).length;
  const sfp: PipelineBudget = {
    trainImagePasses: c.sfp.epochs * train,
    forwardImagePasses: c.sfp.epochs * (val + teacher) + pruneEpochs * (recal + val),
  };
  // Fine-tuning: one hard prune at the start (BN re-estimated when on), then epochs.
  const finetune: PipelineBudget = {
    trainImagePasses: c.finetune.epochs * train,
    forwardImagePasses: c.finetune.epochs * (val + teacher) + recal,
  };
  const evaluate: PipelineBudget = { trainImagePasses: 0, forwardImagePasses: 2 * c.evaluate.images };
  const parts = [bo, sfp, finetune, evaluate];
  return {
    trainImagePasses: parts.reduce((s, p) => s + p.trainImagePasses, 0),
    forwardImagePasses: parts.reduce((s, p) => s + p.forwardImagePasses, 0),
    stages: { bo, sfp, finetune, evaluate },
  };
}

/** The planned budget of a config: `{ trainImagePasses, forwardImagePasses }`. */
export function planPipelineBudget(c: PipelineConfig): PipelineBudget {
  const { trainImagePasses, forwardImagePasses } = planPipelineBudgetByStage(c);
  return { trainImagePasses, forwardImagePasses };
}

/**
 * A rough duration estimate (seconds) from measured training throughput (images/s at the run's
 * size) so the studio can show what a budget costs before it starts: the planned budget, a forward
 * pass costing half a training pass. Skipped BO trials cost ~0, so this is an upper bound there.
 */
export function estimatePipelineSeconds(c: PipelineConfig, imagesPerSecond: number, evalImagesPerSecond = imagesPerSecond * 2): number {
  const b = planPipelineBudgetByStage(c);
  const evalPasses = b.stages.evaluate.forwardImagePasses;
  return b.trainImagePasses / imagesPerSecond + (b.forwardImagePasses - evalPasses) / (2 * imagesPerSecond) + evalPasses / evalImagesPerSecond;
}
