/**
 * Outcome benchmark (issue 10): what a user takes home. For each target, the laptop-recipe run's
 * sparsity, AP (single protocol) on the shared val images and wall time, next to B-FPGM's released
 * checkpoint of that sparsity and the unpruned model on the same images, and next to the paper
 * recipe at the same training budget; plus an AP-vs-budget curve of the laptop recipe.
 * Slow (each run is a full pipeline): it lives here, never in `npm test`.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createEResFD, describeModel, evaluateWider, planPipelineBudget, predictWider, loadEResFDCheckpoint, runPipeline, validatePipelineConfig, widerImageKey,
  type PipelineConfig, type PipelineConfigInput, type StateDict,
} from '../../src/core/index.ts';
import { createFsRunStore } from '../../src/platform/node/fs-run-store.ts';
import { widerEntries, widerSampleSource } from '../../src/platform/node/wider-samples.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../src/platform/node/wider-folder.ts';

export interface OutcomeRow {
  what: string;
  target: number | null;
  sparsity: number;
  easy: number;
  medium: number;
  hard: number;
  trainImagePasses: number | null;
  forwardImagePasses: number | null;
  seconds: number | null;
}

export interface OutcomeBenchOptions {
  shared: string;
  targets: number[];
  /** Val images scored (the first N present). */
  evalImages: number;
  /** Fractions of the laptop budget for the AP-vs-budget curve (empty = skip). */
  budgets: number[];
  /** Scale every run's training budget (e.g. 0.1 for a quick look). */
  scale: number;
  log: (line: string) => void;
}

/** The laptop recipe with its SFP and fine-tune epochs scaled by `f` (the LR step kept at ¾ of fine-tuning). */
export function scaledLaptop(f: number): PipelineConfigInput {
  const c = validatePipelineConfig({ recipe: 'laptop' });
  const ft = Math.max(1, Math.round(c.finetune.epochs * f));
  return { recipe: 'laptop', sfp: { epochs: Math.max(1, Math.round(c.sfp.epochs * f)) }, finetune: { epochs: ft, lrStepEpoch: Math.max(1, Math.round(ft * 0.75)) } };
}

/** The paper recipe spending about the same training passes as `laptop`: the trials use what SFP and fine-tuning leave. */
export function paperAtBudget(laptop: PipelineConfig): PipelineConfigInput {
  const budget = planPipelineBudget(laptop).trainImagePasses;
  const paper = validatePipelineConfig({ recipe: 'paper', data: laptop.data });
  const epoch = planPipelineBudget({ ...paper, bo: { ...paper.bo, initPoints: 0, iterations: 0 }, sfp: { ...paper.sfp, epochs: 0 }, finetune: { ...paper.finetune, epochs: 0 } }).trainImagePasses;
  const sfp = Math.max(1, Math.round((budget / epoch) * 0.15));
  const finetune = Math.max(1, Math.round((budget / epoch) * 0.15));
  const trials = Math.max(1, Math.floor(budget / epoch) - sfp - finetune);
  const initPoints = Math.min(trials - 1, Math.max(0, Math.round((trials - 1) / 4)));
  return { recipe: 'paper', data: laptop.data, bo: { initPoints, iterations: trials - 1 - initPoints }, sfp: { epochs: sfp, every: 1 }, finetune: { epochs: finetune, lrStepEpoch: Math.max(1, Math.round(finetune / 2)) } };
}

export async function runOutcomeBench(o: OutcomeBenchOptions): Promise<OutcomeRow[]> {
  const dir = join(o.shared, 'widerface');
  const gt = await readValGroundTruth(dir);
  const refs = (await presentValImages(dir, gt)).slice(0, o.evalImages);
  const loadImage = loadValImage(dir);
  const ap = async (sd: StateDict) => {
    const model = createEResFD(sd);
    try {
      const preds = await predictWider(model, refs, loadImage, { protocol: 'single' });
      return evaluateWider(gt, preds, { restrictTo: refs.map((r) => widerImageKey(r.event, r.name)) });
    } finally {
      model.dispose();
    }
  };
  const checkpoint = async (name: string) => loadEResFDCheckpoint(new Uint8Array(await readFile(join(o.shared, 'models', name)))).stateDict;
  const sparsityOf = (sd: StateDict) => describeModel(sd).sparsity / 100;
  const rows: OutcomeRow[] = [];
  const push = (r: OutcomeRow) => {
    rows.push(r);
    o.log(formatOutcomeRow(r));
  };
  const pretrained = await checkpoint('EResFD-original.pth');
  o.log(OUTCOME_HEADER);
  const orig = await ap(pretrained);
  push({ what: 'unpruned EResFD-original', target: null, sparsity: sparsityOf(pretrained), ...orig, trainImagePasses: null, forwardImagePasses: null, seconds: null });

  const work = await mkdtemp(join(tmpdir(), 'bfpgm-outcome-'));
  const store = createFsRunStore(work);
  let n = 0;
  const prune = async (what: string, target: number, input: PipelineConfigInput) => {
    const config = validatePipelineConfig({ ...input, target, evaluate: { images: 0 } });
    const scaled = o.scale === 1 ? config : validatePipelineConfig({ ...config, sfp: { ...config.sfp, epochs: Math.max(1, Math.round(config.sfp.epochs * o.scale)) }, finetune: { ...config.finetune, epochs: Math.max(1, Math.round(config.finetune.epochs * o.scale)) } });
    const pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: scaled.data.images, seed: scaled.seed }));
    const t0 = performance.now();
    const runId = `run${n++}`;
    const state = await runPipeline({ runId, pretrained, config: scaled, data: { pool }, store });
    const seconds = (performance.now() - t0) / 1000;
    const final = (await store.loadWeights(runId, 'final'))!;
    push({ what, target, sparsity: state.result!.sparsity, ...(await ap(final)), trainImagePasses: state.budget!.trainImagePasses, forwardImagePasses: state.budget!.forwardImagePasses, seconds });
  };
  try {
    for (const target of o.targets) {
      const released = `EResFD-${Math.round(target * 100)}-pruned.pth`;
      const sd = await checkpoint(released);
      push({ what: `released ${released}`, target, sparsity: sparsityOf(sd), ...(await ap(sd)), trainImagePasses: null, forwardImagePasses: null, seconds: null });
      await prune('laptop recipe (default)', target, { recipe: 'laptop' });
      await prune('paper recipe, same budget', target, paperAtBudget(validatePipelineConfig({ recipe: 'laptop', target })));
    }
    for (const f of o.budgets) await prune(`laptop recipe × ${f} budget`, o.targets[0]!, scaledLaptop(f));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return rows;
}

export const OUTCOME_HEADER = `${'what'.padEnd(34)} target  sparsity   easy   medium  hard   train passes  forward passes  seconds`;

export function formatOutcomeRow(r: OutcomeRow): string {
  const f = (v: number) => v.toFixed(3).padStart(6);
  return `${r.what.padEnd(34)} ${(r.target === null ? '—' : `${Math.round(r.target * 100)} %`).padStart(6)}  ${(100 * r.sparsity).toFixed(1).padStart(6)} %  ${f(r.easy)}  ${f(r.medium)}  ${f(r.hard)}  ${String(r.trainImagePasses ?? '—').padStart(12)}  ${String(r.forwardImagePasses ?? '—').padStart(14)}  ${r.seconds === null ? '—' : r.seconds.toFixed(0)}`;
}
