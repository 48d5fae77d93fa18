/**
 * The planned budget of a pipeline config, against figures worked out by hand from the config
 * (the pipeline's own counted passes are pinned against this plan in pipeline.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig } from '../../../src/core/pipeline/config.ts';
import { planPipelineBudget, planPipelineBudgetByStage, poolSplitSizes } from '../../../src/core/pipeline/budget.ts';

describe('planPipelineBudget', () => {
  it('splits the pool as splitPool does', () => {
    expect(poolSplitSizes(200, 0.2)).toEqual({ train: 160, val: 40 });
    expect(poolSplitSizes(3, 0.1)).toEqual({ train: 2, val: 1 });
    expect(poolSplitSizes(2, 0.9)).toEqual({ train: 1, val: 1 });
  });

  it('counts one-epoch trials, SFP, fine-tuning and evaluation of the paper recipe', () => {
    // 200 images → 160 train / 40 val; 21 trials; 3 SFP epochs all re-pruning (validated twice); 2 fine-tune epochs; 2 × 100 eval.
    const c = validatePipelineConfig({
      data: { images: 200, valFraction: 0.2 }, bo: { initPoints: 5, iterations: 15, score: 'epoch' },
      sfp: { epochs: 3, every: 1 }, finetune: { epochs: 2 }, evaluate: { images: 100 }, distill: { weight: 0 }, recalibrate: { images: 0 },
    });
    expect(planPipelineBudget(c)).toEqual({ trainImagePasses: 21 * 160 + 3 * 160 + 2 * 160, forwardImagePasses: 21 * 40 + 3 * 40 + 3 * 40 + 2 * 40 + 200 });
    // The paper's own budget: 1,001 trials over 10,304 train images, 200 SFP epochs re-pruning 41 times, 10 fine-tune epochs.
    expect(planPipelineBudget(REFERENCE_PIPELINE_CONFIG)).toEqual({
      trainImagePasses: 1001 * 10304 + 200 * 10304 + 10 * 10304,
      forwardImagePasses: 1001 * 2576 + 200 * 2576 + 41 * 2576 + 10 * 2576 + 2 * 3226,
    });
  });

  it('counts adaptive-BN trials as forwards only, distillation teachers and BN recalibrations', () => {
    const c = validatePipelineConfig({
      data: { images: 400, valFraction: 0.2 }, bo: { initPoints: 10, iterations: 20, score: 'adaptive-bn', bnImages: 64 },
      sfp: { epochs: 4, every: 2 }, finetune: { epochs: 3 }, evaluate: { images: 100 },
      distill: { weight: 1 }, recalibrate: { images: 64 },
    });
    const b = planPipelineBudgetByStage(c);
    expect(b.stages.bo).toEqual({ trainImagePasses: 0, forwardImagePasses: 31 * (64 + 80) });
    // SFP re-prunes after epochs 0, 2 and the last (3).
    expect(b.stages.sfp).toEqual({ trainImagePasses: 4 * 320, forwardImagePasses: 4 * (80 + 320) + 3 * (64 + 80) });
    expect(b.stages.finetune).toEqual({ trainImagePasses: 3 * 320, forwardImagePasses: 3 * (80 + 320) + 64 });
    expect(b.stages.evaluate).toEqual({ trainImagePasses: 0, forwardImagePasses: 200 });
    expect(planPipelineBudget(c)).toEqual({ trainImagePasses: 7 * 320, forwardImagePasses: 4464 + 2032 + 1264 + 200 });
    // A BN re-estimation never uses more images than the training split holds.
    const small = validatePipelineConfig({ ...c, data: { images: 10, valFraction: 0.2 }, bo: { ...c.bo, bnImages: 1000 } });
    expect(planPipelineBudgetByStage(small).stages.bo.forwardImagePasses).toBe(31 * (8 + 2));
  });

  it('keeps the default config under the laptop cap of 10,000 training passes', () => {
    expect(planPipelineBudget(DEFAULT_PIPELINE_CONFIG).trainImagePasses).toBeLessThanOrEqual(10_000);
  });
});
