/**
 * One Bayesian-optimisation trial: candidate rates + config → objective record. FPGM-prunes the
 * pretrained weights with the rates, then scores the candidate as the config says:
 * 'epoch' (the paper) trains one epoch on the BO train split and takes −val_loss − 5·penalty;
 * 'adaptive-bn' (EagleEye) only re-estimates the BN statistics on `bo.bnImages` training images
 * (forward passes) before the same validation score. Candidates out of the sparsity band are skipped
 * (−500, no compute), as in the reference. Self-contained, so a queue worker can run trials too.
 */
import type { StateDict } from '../types.ts';
import { createTrainableEResFD } from '../model/eresfd/trainable.ts';
import { createTrainer, type StepProgress } from '../train/trainer.ts';
import type { SampleSource } from '../train/sample-source.ts';
import type { FpgmPlanner } from '../prune/pruner.ts';
import type { PruningPlan } from '../prune/plan.ts';
import { applyPlanToStateDict } from '../prune/plan.ts';
import { macsRemoved } from '../prune/sparsity.ts';
import { objectiveValue, sparsityPenalty, isSkipped, SKIPPED_OBJECTIVE, groupBounds } from '../search/penalty.ts';
import { projectRatesToTarget } from '../search/project.ts';

import type { PipelineConfig } from './config.ts';
import type { TrialRecord } from './records.ts';

/** The reference's penalty for a candidate 4 pt or more from the target. */
const OUT_OF_BAND_PENALTY = 100;

/** What a trial yields (the search adds index, source and duplicate). */
export type TrialOutcome = Omit<TrialRecord, 'index' | 'source' | 'duplicate'>;

export interface TrialContext {
  pretrained: StateDict;
  planner: FpgmPlanner;
  /** Percent of parameters zero after a plan (createSparsityPredictor). */
  sparsityOf: (plan: PruningPlan) => number;
  trainSet: SampleSource;
  valSet: SampleSource;
  signal?: AbortSignal;
  onProgress?: (p: StepProgress) => void;
  /** Budget meter (see TrainerHooks.onImages). */
  onImages?: (kind: 'train' | 'forward', images: number) => void;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/** Scores one candidate; `seed` seeds its epoch or its BN images. */
export async function runTrial(cfg: PipelineConfig, ctx: TrialContext, rates: readonly number[], seed: number): Promise<TrialOutcome> {
  const t0 = performance.now();
  const score = cfg.bo.score ?? 'epoch';
  const measure = (r: readonly number[]) => {
    const p = ctx.planner.plan(cfg.grouping, r);
    return cfg.targetKind === 'parameters' ? ctx.sparsityOf(p) / 100 : macsRemoved(p, ...cfg.macsSize).fraction;
  };
  const applied = cfg.bo.project ? projectRatesToTarget(rates, groupBounds(cfg.target, rates.length).map((b) => b[1]), cfg.target, measure) : rates.slice();
  const plan = ctx.planner.plan(cfg.grouping, applied);
  const sparsity = ctx.sparsityOf(plan) / 100;
  const macs = macsRemoved(plan, ...cfg.macsSize).fraction;
  const measured = cfg.targetKind === 'parameters' ? sparsity : macs;
  // Under 'at-or-above' a candidate below the target is out of band (skipped), like one 4 pt away.
  const penalty = cfg.bo.band === 'at-or-above' && measured < cfg.target ? OUT_OF_BAND_PENALTY : sparsityPenalty(measured, cfg.target);
  const base = { rates: rates.slice(), ...(cfg.bo.project ? { appliedRates: applied } : {}), sparsity, macsRemoved: macs, penalty, score };
  if (isSkipped(penalty)) {
    return { ...base, trained: false, valLoss: null, valLossL: null, valLossC: null, trainLoss: null, objective: SKIPPED_OBJECTIVE, seconds: seconds(t0) };
  }
  const model = createTrainableEResFD(applyPlanToStateDict(ctx.pretrained, plan));
  const trainer = createTrainer(model, ctx.trainSet, ctx.valSet, { size: cfg.data.size, batchSize: cfg.data.batchSize, lr: cfg.bo.lr, weightDecay: cfg.bo.weightDecay, seed }, {
    signal: ctx.signal, onProgress: ctx.onProgress, onImages: ctx.onImages,
  });
  try {
    if (score === 'adaptive-bn') {
      await trainer.recalibrate(cfg.bo.bnImages ?? 0, 0);
      const v = await trainer.validate();
      return { ...base, trained: true, valLoss: v.loss, valLossL: v.lossL, valLossC: v.lossC, trainLoss: null, objective: objectiveValue(v.loss, penalty), seconds: seconds(t0) };
    }
    const rec = await trainer.runEpoch(0);
    return { ...base, trained: true, valLoss: rec.valLoss, valLossL: rec.valLossL, valLossC: rec.valLossC, trainLoss: rec.trainLoss, objective: objectiveValue(rec.valLoss, penalty), seconds: seconds(t0) };
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
