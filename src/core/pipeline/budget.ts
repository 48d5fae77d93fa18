/**
 * A pipeline's planned budget as image passes, before it runs: how many images go through a training
 * step (every BO trial's epoch, SFP, fine-tuning) and how many through a forward pass only (the
 * validation loss after each of those epochs, the AP before/after). The duration estimate multiplies
 * these by measured speeds; the studio shows both. Pure and TF.js-free.
 */
import type { PipelineConfig } from './config.ts';

export interface PlannedBudget {
  /** Trials the search may run: the probe, the random points, the GP iterations (skipped ones cost ~0). */
  trials: number;
  /** Training epochs: one per trial, plus SFP and fine-tuning. */
  epochs: number;
  /** Images through a training step (forward + backward), all stages, BO trials included. */
  trainImagePasses: number;
  /** Images through a forward pass only: validation after every epoch, and the AP before and after. */
  forwardImagePasses: number;
  /** Training images per epoch (the pool minus its validation share). */
  trainImagesPerEpoch: number;
}

/** The most a config can cost (every trial trained). */
export function plannedBudget(c: PipelineConfig): PlannedBudget {
  // The pool's split as splitPool makes it: at least one image on each side.
  const valImagesPerEpoch = Math.min(c.data.images - 1, Math.max(1, Math.round(c.data.images * c.data.valFraction)));
  const trainImagesPerEpoch = c.data.images - valImagesPerEpoch;
  const trials = 1 + c.bo.initPoints + c.bo.iterations;
  const epochs = trials + c.sfp.epochs + c.finetune.epochs;
  // An SFP epoch that re-prunes validates again after the prune (isSoftPruneEpoch: every k-th and the last).
  const sfpPrunes = c.sfp.epochs === 0 ? 0 : Math.ceil(c.sfp.epochs / c.sfp.every) + ((c.sfp.epochs - 1) % c.sfp.every === 0 ? 0 : 1);
  return {
    trials,
    epochs,
    trainImagePasses: epochs * trainImagesPerEpoch,
    forwardImagePasses: (epochs + sfpPrunes) * valImagesPerEpoch + 2 * c.evaluate.images,
    trainImagesPerEpoch,
  };
}
