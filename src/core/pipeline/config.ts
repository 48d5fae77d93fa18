/**
 * B-FPGM pipeline settings (SPEC §3.4): Bayesian search of the group rates, SFP, fine-tuning,
 * evaluation. Two presets: one sized for a laptop browser tab, and the reference budget.
 */
import { StudioError } from '../errors.ts';
import { CODE_GROUPING, validateGrouping, type Grouping } from '../prune/layer-groups.ts';
import { BATCH_STRATEGIES, type BatchStrategy } from '../search/bayes-opt.ts';

export type TargetKind = 'parameters' | 'macs';

/**
 * How a BO trial is scored. 'epoch': the paper — train one epoch, −val_loss − 5·penalty.
 * 'adaptive-bn': EagleEye's adaptive BN — re-estimate the pruned candidate's BN statistics on
 * `bnImages` training images (forward only), then the same score; trials cost forwards, not epochs.
 */
export type TrialScore = 'epoch' | 'adaptive-bn';

export interface PipelineConfig {
  /** Target sparsity as a fraction: of parameters (the paper) or of conv MACs at `macsSize`. */
  target: number;
  targetKind: TargetKind;
  /** Input size [H, W] at which the MACs of a compute target are counted. */
  macsSize: [number, number];
  grouping: Grouping;
  seed: number;
  data: {
    /** Images of the training pool (WIDER train), split `1 − valFraction` / `valFraction` for BO. */
    images: number;
    valFraction: number;
    /** Training resolution S (square); the reference trains at 640. */
    size: number;
    batchSize: number;
  };
  bo: {
    /** Random points after the first probe at target + 0.04 (reference: 60). */
    initPoints: number;
    /** GP-guided trials (reference: 940). */
    iterations: number;
    lr: number;
    weightDecay: number;
    /** Trial score (absent = 'epoch', the paper). */
    score?: TrialScore;
    /** Training images whose forward passes re-estimate BN statistics per 'adaptive-bn' trial. */
    bnImages?: number;
    /** q: trials proposed at once and run in parallel (a job queue's workers); 1 = the sequential search. */
    batch: number;
    /** How a batch's GP points account for the trials still running (see search/bayes-opt.ts). */
    batchStrategy: BatchStrategy;
    /**
     * Which sparsities count as in band. 'reference' (absent): B-FPGM's penalty, which trains and can
     * pick a candidate up to 4 pt below the target; 'at-or-above': only [target, target + 4 pt], the band
     * the released checkpoints are judged by, so the winner never lands under the target.
     */
    band?: 'reference' | 'at-or-above';
    /** Scale each candidate's rates onto the target before scoring it (search/project.ts); absent = false (the paper). */
    project?: boolean;
  };
  sfp: {
    epochs: number; every: number; lr: number; weightDecay: number;
    /** Re-prune with rates ramping linearly up to the best ones over this many epochs (absent or 0 = full rates at once). */
    rampEpochs?: number;
  };
  finetune: {
    epochs: number;
    lr: number;
    /** Epoch at which the LR drops ×0.1 (reference: 5 of 10). */
    lrStepEpoch: number;
    weightDecay: number;
    /**
     * 'reference': the grouped conv weights stay frozen (B-FPGM's stale-optimiser quirk, SPEC §3.4);
     * 'masked': everything trains and a hard mask keeps the pruned filters at zero.
     */
    mode: 'reference' | 'masked';
  };
  evaluate: { protocol: 'single' | 'full'; /** Val images scored before and after (0 = skip). */ images: number };
  /** Which recipe the config came from (informational; absent = 'paper'). */
  recipe?: 'paper' | 'laptop';
  /**
   * Knowledge distillation from the unpruned model during SFP and fine-tuning (absent or weight 0 = off):
   * the teacher's head outputs on the same augmented batch are soft targets next to MultiBoxLoss.
   */
  distill?: { weight: number };
  /** BN statistics re-estimated on `images` training images after every hard prune (absent or 0 = off). */
  recalibrate?: { images: number };
}

/*
 * Recipes: where a pipeline spends its budget.
 *
 * - 'paper': B-FPGM's recipe (`main_bayesian_prune.py`, `main_sfp.py`, `main_finetune.py`) at a small
 *   budget: one-epoch BO trials, SFP, fine-tuning with the grouped convs frozen (the reference quirk).
 * - 'laptop' (default): the same search space and objective, but the budget goes where a short run
 *   pays (measured in bench/outcome/NOTES.md): trials scored by adaptive BN (forward passes only, so
 *   many more of them), distillation from the unpruned model during SFP and fine-tuning, BN
 *   re-estimated after every hard prune, every weight fine-tuned under a hard mask.
 */

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

/**
 * The default: the laptop recipe, ≤ 10,000 training image passes at 320².
 */
export const DEFAULT_PIPELINE_CONFIG: PipelineConfig = LAPTOP_RECIPE;

/** The budget of the paper's runs (`main_bayesian_prune.py`, `main_sfp.py`, `main_finetune.py`). */
export const REFERENCE_PIPELINE_CONFIG: PipelineConfig = {
  ...PAPER_RECIPE,
  data: { images: 12880, valFraction: 0.2, size: 640, batchSize: 16 },
  bo: { initPoints: 60, iterations: 940, lr: 1e-3, weightDecay: 1e-5, score: 'epoch', batch: 1, batchStrategy: 'constant-liar' },
  sfp: { epochs: 200, every: 5, lr: 1e-3, weightDecay: 5e-4 },
  finetune: { epochs: 10, lr: 1e-3, lrStepEpoch: 5, weightDecay: 5e-4, mode: 'reference' },
  evaluate: { protocol: 'full', images: 3226 },
};

export type PipelineConfigInput = Partial<Omit<PipelineConfig, 'data' | 'bo' | 'sfp' | 'finetune' | 'evaluate' | 'distill' | 'recalibrate'>> & {
  distill?: Partial<NonNullable<PipelineConfig['distill']>>;
  recalibrate?: Partial<NonNullable<PipelineConfig['recalibrate']>>;
  data?: Partial<PipelineConfig['data']>;
  bo?: Partial<PipelineConfig['bo']>;
  sfp?: Partial<PipelineConfig['sfp']>;
  finetune?: Partial<PipelineConfig['finetune']>;
  evaluate?: Partial<PipelineConfig['evaluate']>;
};

/**
 * A full, checked config: `input` over `base` — by default the preset of `input.recipe`, else the
 * default (laptop) recipe.
 */
export function validatePipelineConfig(input: PipelineConfigInput = {}, base: PipelineConfig = input.recipe ? RECIPES[input.recipe] ?? DEFAULT_PIPELINE_CONFIG : DEFAULT_PIPELINE_CONFIG): PipelineConfig {
  const c: PipelineConfig = {
    ...base,
    ...input,
    data: { ...base.data, ...input.data },
    bo: { ...base.bo, ...input.bo },
    sfp: { ...base.sfp, ...input.sfp },
    finetune: { ...base.finetune, ...input.finetune },
    evaluate: { ...base.evaluate, ...input.evaluate },
    distill: base.distill,
    recalibrate: base.recalibrate,
  };
  if (!c.distill) delete c.distill;
  if (!c.recalibrate) delete c.recalibrate;
  if (input.distill?.weight !== undefined) c.distill = { ...base.distill, ...input.distill } as { weight: number };
  if (input.recalibrate?.images !== undefined) c.recalibrate = { ...base.recalibrate, ...input.recalibrate } as { images: number };
  const bad = (m: string) => new StudioError('CONFIG_INVALID', `pipeline: ${m}`);
  const int = (v: number, lo: number, name: string) => {
    if (!Number.isInteger(v) || v < lo) throw bad(`${name} must be an integer ≥ ${lo}, got ${v}`);
  };
  if (!(c.target > 0 && c.target < 0.98)) throw bad(`target ${c.target} must be a fraction in (0, 0.98)`);
  if (c.targetKind !== 'parameters' && c.targetKind !== 'macs') throw bad(`targetKind ${String(c.targetKind)}`);
  validateGrouping(c.grouping);
  int(c.data.images, 2, 'data.images');
  if (!(c.data.valFraction > 0 && c.data.valFraction < 1)) throw bad('data.valFraction must be in (0, 1)');
  int(c.data.size, 32, 'data.size');
  int(c.data.batchSize, 1, 'data.batchSize');
  int(c.bo.initPoints, 0, 'bo.initPoints');
  int(c.bo.iterations, 0, 'bo.iterations');
  int(c.bo.batch, 1, 'bo.batch');
  if (c.bo.band !== undefined && c.bo.band !== 'reference' && c.bo.band !== 'at-or-above') throw bad(`bo.band must be 'reference' or 'at-or-above'`);
  if (!BATCH_STRATEGIES.includes(c.bo.batchStrategy)) throw bad(`bo.batchStrategy must be one of ${BATCH_STRATEGIES.join(', ')}`);
  int(c.sfp.epochs, 0, 'sfp.epochs');
  int(c.sfp.every, 1, 'sfp.every');
  int(c.finetune.epochs, 0, 'finetune.epochs');
  int(c.evaluate.images, 0, 'evaluate.images');
  if (c.bo.score !== undefined && c.bo.score !== 'epoch' && c.bo.score !== 'adaptive-bn') throw bad(`bo.score ${String(c.bo.score)} must be epoch or adaptive-bn`);
  if (c.bo.bnImages !== undefined) int(c.bo.bnImages, 0, 'bo.bnImages');
  if (c.bo.score === 'adaptive-bn' && !((c.bo.bnImages ?? 0) > 0)) throw bad('bo.score adaptive-bn needs bo.bnImages ≥ 1');
  if (c.sfp.rampEpochs !== undefined) int(c.sfp.rampEpochs, 0, 'sfp.rampEpochs');
  if (c.distill && !(c.distill.weight >= 0 && Number.isFinite(c.distill.weight))) throw bad(`distill.weight ${c.distill.weight} must be ≥ 0`);
  if (c.recalibrate) int(c.recalibrate.images, 0, 'recalibrate.images');
  if (c.recipe !== undefined && c.recipe !== 'laptop' && c.recipe !== 'paper') throw bad(`recipe ${String(c.recipe)} must be laptop or paper`);
  int(c.seed, 0, 'seed');
  return c;
}

export interface SettingDifference {
  /** Dotted path of the setting (`target`, `data.images`, `grouping`). */
  path: string;
  stored: unknown;
  requested: unknown;
}

/**
 * The settings in which two configs differ, leaf by leaf (a grouping counts as one setting, named by
 * its id). A run resumed with other settings would report new settings next to old results.
 */
export function pipelineConfigDifferences(stored: PipelineConfig, requested: PipelineConfig): SettingDifference[] {
  const out: SettingDifference[] = [];
  const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
  const walk = (a: unknown, b: unknown, path: string) => {
    const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (path !== 'grouping' && isRecord(a) && isRecord(b)) {
      for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[k], b[k], path ? `${path}.${k}` : k);
    } else if (!same(a, b)) {
      const label = (v: unknown) => (path === 'grouping' && isRecord(v) ? v.id : v);
      out.push({ path, stored: label(a), requested: label(b) });
    }
  };
  walk(stored, requested, '');
  return out;
}
