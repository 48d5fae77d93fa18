/**
 * The pipeline runner's budget form: the two presets (laptop, reference), the form ↔ config
 * conversion and its validation with the core's own rules (TF.js-free, unit-tested).
 */
import { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig, GROUPINGS, type PipelineConfig, type PipelineConfigInput, type TargetKind, type RecipeName } from '../../../core/data/index.ts';

export interface PipelineForm {
  /** Which recipe the other fields refine (its LRs, trial score, distillation, BN re-estimation). */
  recipe: RecipeName;
  /** Target sparsity in percent. */
  targetPercent: number;
  targetKind: TargetKind;
  groupingId: string;
  boInit: number;
  boIter: number;
  images: number;
  size: number;
  batch: number;
  sfpEpochs: number;
  sfpEvery: number;
  finetuneEpochs: number;
  finetuneMode: 'reference' | 'masked';
  evalImages: number;
  protocol: 'single' | 'full';
  seed: number;
}

export type Preset = 'laptop' | 'reference';

export const PRESETS: Record<Preset, { label: string; config: PipelineConfig }> = {
  laptop: { label: 'Laptop budget', config: DEFAULT_PIPELINE_CONFIG },
  reference: { label: 'Reference budget (paper)', config: REFERENCE_PIPELINE_CONFIG },
};

export function formFromConfig(c: PipelineConfig): PipelineForm {
  return {
    recipe: c.recipe ?? 'paper',
    targetPercent: Math.round(c.target * 1000) / 10,
    targetKind: c.targetKind,
    groupingId: c.grouping.id,
    boInit: c.bo.initPoints,
    boIter: c.bo.iterations,
    images: c.data.images,
    size: c.data.size,
    batch: c.data.batchSize,
    sfpEpochs: c.sfp.epochs,
    sfpEvery: c.sfp.every,
    finetuneEpochs: c.finetune.epochs,
    finetuneMode: c.finetune.mode,
    evalImages: c.evaluate.images,
    protocol: c.evaluate.protocol,
    seed: c.seed,
  };
}

/** The form as a pipeline config input; the fine-tune LR steps at half its epochs, as both presets do. */
export function configFromForm(f: PipelineForm): PipelineConfigInput {
  return {
    recipe: f.recipe,
    target: f.targetPercent / 100,
    targetKind: f.targetKind,
    grouping: GROUPINGS[f.groupingId] ?? DEFAULT_PIPELINE_CONFIG.grouping,
    seed: f.seed,
    data: { images: f.images, size: f.size, batchSize: f.batch },
    bo: { initPoints: f.boInit, iterations: f.boIter },
    sfp: { epochs: f.sfpEpochs, every: f.sfpEvery },
    finetune: { epochs: f.finetuneEpochs, mode: f.finetuneMode, lrStepEpoch: Math.max(1, Math.round(f.finetuneEpochs / 2)) },
    evaluate: { images: f.evalImages, protocol: f.protocol },
  };
}

/** The form validated by the core's rules: a config, or the first problem as text. */
export function validateForm(f: PipelineForm): { config: PipelineConfig | null; error: string | null } {
  try {
    return { config: validatePipelineConfig(configFromForm(f)), error: null };
  } catch (e) {
    return { config: null, error: e instanceof Error ? e.message.replace(/^pipeline: /, '') : String(e) };
  }
}
