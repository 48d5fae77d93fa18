/**
 * Recipes: where a pipeline spends its budget.
 *
 * - 'paper': B-FPGM's recipe (`main_bayesian_prune.py`, `main_sfp.py`, `main_finetune.py`) at a small
 *   budget: one-epoch BO trials, SFP, fine-tuning with the grouped convs frozen (the reference quirk).
 * - 'laptop' (default): the same search space and objective, but the budget goes where a short run
 *   pays (measured in bench/outcome/NOTES.md): trials scored by adaptive BN (forward passes only, so
 *   many more of them), distillation from the unpruned model during SFP and fine-tuning, BN
 *   re-estimated after every hard prune, every weight fine-tuned under a hard mask.
 */
import { CODE_GROUPING } from '../prune/layer-groups.ts';
import type { PipelineConfig } from './config.ts';

export type RecipeName = 'laptop' | 'paper';

/** B-FPGM's recipe at the studio's small budget (the pipeline's behaviour before recipes existed). */
export const PAPER_RECIPE: PipelineConfig = {
  recipe: 'paper',
  target: 0.3,
  targetKind: 'parameters',
  macsSize: [480, 640],
  grouping: CODE_GROUPING,
  seed: 0,
  data: { images: 200, valFraction: 0.2, size: 320, batchSize: 8 },
  bo: { initPoints: 5, iterations: 15, lr: 1e-3, weightDecay: 1e-5, score: 'epoch', batch: 1, batchStrategy: 'constant-liar' },
  sfp: { epochs: 3, every: 1, lr: 1e-3, weightDecay: 5e-4 },
  finetune: { epochs: 2, lr: 1e-3, lrStepEpoch: 1, weightDecay: 5e-4, mode: 'reference' },
  evaluate: { protocol: 'single', images: 100 },
};

/** The laptop recipe: ≤ 10,000 training image passes at 320² (see planPipelineBudget). */
export const LAPTOP_RECIPE: PipelineConfig = {
  ...PAPER_RECIPE,
  recipe: 'laptop',
  data: { images: 400, valFraction: 0.2, size: 320, batchSize: 8 },
  bo: { initPoints: 15, iterations: 30, lr: 1e-3, weightDecay: 1e-5, score: 'adaptive-bn', bnImages: 32, batch: 1, batchStrategy: 'constant-liar', band: 'at-or-above', project: true },
  sfp: { epochs: 12, every: 2, lr: 5e-4, weightDecay: 5e-4 },
  finetune: { epochs: 16, lr: 5e-4, lrStepEpoch: 8, weightDecay: 5e-4, mode: 'masked' },
  distill: { weight: 1 },
  recalibrate: { images: 64 },
};

export const RECIPES: Readonly<Record<RecipeName, PipelineConfig>> = { laptop: LAPTOP_RECIPE, paper: PAPER_RECIPE };

export function isRecipeName(name: unknown): name is RecipeName {
  return name === 'laptop' || name === 'paper';
}
