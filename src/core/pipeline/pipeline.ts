/**
 * The B-FPGM pipeline (SPEC §3.4): pretrained model → Bayesian search of one pruning rate per layer
 * group (each trial: FPGM-prune a copy, train one epoch, −val_loss − 5·penalty) → SFP with the best
 * rates (re-pruned on schedule, weights regrow in between) → hard prune + fine-tune → WIDER AP before
 * and after → final weights. Every trial and epoch is recorded and the state is saved after each, so
 * a run resumes where it stopped (`runPipeline` with the same run id).
 */
import { StudioError } from '../errors.ts';
import type { RgbImage, StateDict } from '../types.ts';
import { createTrainableEResFD } from '../model/eresfd/trainable.ts';
import { createEResFD } from '../model/eresfd/eresfd.ts';
import { describeModel } from '../prune/describe-model.ts';
import { createTrainer, type StepProgress } from '../train/trainer.ts';
import { subsetSource, type SampleSource } from '../train/sample-source.ts';
import { createFpgmPlanner, planFpgm } from '../prune/pruner.ts';
import { applyPlanToStateDict, convOfWeightKey } from '../prune/plan.ts';
import { createSparsityPredictor, macsRemoved } from '../prune/sparsity.ts';
import type { StepDistillation } from '../train/train-step.ts';
import { createHardMask, isSoftPruneEpoch, softPrune } from '../prune/masks.ts';
import { groupIndexOfKey } from '../prune/layer-groups.ts';
import { bayesianOptimizerFromJSON, createBayesianOptimizer, maximize } from '../search/bayes-opt.ts';
import { firstProbe, groupBounds } from '../search/penalty.ts';
import { predictWider, type WiderImageRef } from '../eval/predict-wider.ts';
import { evaluateWider } from '../eval/evaluate-wider.ts';
import { widerImageKey, type WiderGroundTruth } from '../dataset/wider-ground-truth.ts';
import { createRng } from '../util/random.ts';
import { pipelineConfigDifferences, validatePipelineConfig, type PipelineConfig, type PipelineConfigInput } from './config.ts';
import { STAGES, type EpochRow, type EvaluationRecord, type RunState, type StageName, type TrialRecord } from './records.ts';
import { checkRunRecord, loadRunWeights, type RunStore } from './run-store.ts';
import { poolSplitSizes } from './budget.ts';
import { runTrial, type TrialOutcome } from './trial.ts';

export interface PipelineData {
  /** The training pool (a WIDER train subset); split train/val by `config.data.valFraction`, seeded. */
  pool: SampleSource;
  /** WIDER val images and ground truth for the AP before/after (optional). */
  evaluation?: { gt: WiderGroundTruth; refs: readonly WiderImageRef[]; loadImage: (ref: WiderImageRef) => Promise<RgbImage> };
}

export type PipelineEvent =
  | { type: 'stage'; stage: StageName }
  | { type: 'trial'; trial: TrialRecord; best: TrialRecord | null }
  | { type: 'step'; stage: 'bo' | 'sfp' | 'finetune'; progress: StepProgress }
  | { type: 'epoch'; row: EpochRow }
  | { type: 'evaluation'; which: 'before' | 'after'; record: EvaluationRecord; done: number; total: number }
  | { type: 'evaluation-progress'; which: 'before' | 'after'; done: number; total: number };

export type { TrialOutcome };

/** One BO trial to run: `index` is its number in the run (it also seeds the trial's training). */
export interface TrialRequest {
  index: number;
  rates: number[];
  source: TrialRecord['source'];
}

/**
 * Runs BO trials for the search stage: in this process (`createTrialRunner`, the default) or
 * elsewhere, e.g. on workers behind a job queue. The q trials of a batch are asked for together;
 * an executor may run them in parallel, and must give each request exactly one outcome.
 */
export interface TrialExecutor {
  run(
    trial: TrialRequest,
    options: { signal?: AbortSignal; onProgress?: (p: StepProgress) => void; onImages?: (kind: 'train' | 'forward', images: number) => void },
  ): Promise<TrialOutcome>;
}

export interface RunPipelineOptions {
  runId: string;
  pretrained: StateDict;
  /**
   * The settings of a new run. Given for a stored run, they must equal its stored settings
   * (RUN_CONFIG_MISMATCH otherwise); omitted, a stored run resumes with its own.
   */
  config?: PipelineConfigInput;
  /** How a setting is called where the caller took it from (the CLI: `data.images` → `--images`). */
  settingName?: (path: string) => string;
  data: PipelineData;
  store: RunStore;
  signal?: AbortSignal;
  onEvent?: (e: PipelineEvent) => void;
  /**
   * Where BO trials run, given the run's own config (a resumed run keeps its stored one); default:
   * here, one after another (`createTrialRunner`).
   */
  trialExecutor?: (run: { runId: string; config: PipelineConfig }) => TrialExecutor;
}

const nowIso = (): string => new Date().toISOString();

function newState(runId: string, config: PipelineConfig, pretrainedDigest: string): RunState {
  const t = nowIso();
  return {
    format: 'bfpgm-run', version: 1, id: runId, createdAt: t, updatedAt: t, config, pretrainedDigest,
    stage: 'bo', status: 'running',
    bo: { optimizer: null, trials: [], bestRates: null },
    epochs: [], sfpEpochsDone: 0, finetuneEpochsDone: 0, plan: null,
    evaluation: { before: null, after: null }, result: null,
    budget: { trainImagePasses: 0, forwardImagePasses: 0 },
  };
}

/** Seeded 80/20 split of the pool (SPEC §3.4: BO trains on 80 % of WIDER train, validates on 20 %). */
export function splitPool(size: number, valFraction: number, seed: number): { train: number[]; val: number[] } {
  const rng = createRng(seed ^ 0x5bd1e995);
  const order = Array.from({ length: size }, (_, i) => i);
  for (let i = size - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const nVal = poolSplitSizes(size, valFraction).val;
  return { train: order.slice(nVal).sort((a, b) => a - b), val: order.slice(0, nVal).sort((a, b) => a - b) };
}

/** The run's fixed train/val split of the pool (the same for every trial and stage). */
function trainValSets(pool: SampleSource, cfg: PipelineConfig): { trainSet: SampleSource; valSet: SampleSource } {
  const split = splitPool(pool.size, cfg.data.valFraction, cfg.seed);
  return { trainSet: subsetSource(pool, split.train), valSet: subsetSource(pool, split.val) };
}

/**
 * The BO trials of SPEC §3.4 (see trial.ts: FPGM-prune a copy of the pretrained weights with the
 * candidate rates, score as the config says, skip without compute when far off the target) as a
 * self-contained function of (pretrained, config, pool, request), so that the sequential search and a
 * queue worker on another machine compute the same outcome. Trials run one at a time; trial `index`
 * seeds its epoch or its BN images.
 */
export function createTrialRunner(pretrained: StateDict, cfg: PipelineConfig, pool: SampleSource): TrialExecutor {
  const context = { pretrained, planner: createFpgmPlanner(pretrained), sparsityOf: createSparsityPredictor(pretrained), ...trainValSets(pool, cfg) };
  let previous: Promise<unknown> = Promise.resolve();
  return {
    run({ index, rates }, { signal, onProgress, onImages }) {
      const outcome = previous.then(() => {
        abortIfNeeded(signal);
        return runTrial(cfg, { ...context, signal, onProgress, onImages }, rates, cfg.seed + index);
      });
      previous = outcome.catch(() => undefined);
      return outcome;
    },
  };
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

function sparsityFraction(sd: StateDict): number {
  return describeModel(sd).sparsity / 100;
}

/** FNV-1a over names, shapes and bytes: tells whether a resumed run got the model it started from. */
export function stateDictDigest(sd: StateDict): string {
  let h = 0x811c9dc5;
  const mix = (bytes: Uint8Array) => {
    for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i]!, 0x01000193);
  };
  const text = new TextEncoder();
  for (const [key, t] of [...sd].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    mix(text.encode(`${key}:${t.dtype}:${t.shape.join('x')};`));
    mix(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/** A stored run resumes only with its own settings and pretrained model, and only from a record this code reads. */
async function loadOrCreateState(options: RunPipelineOptions, digest: string): Promise<RunState> {
  const { runId, store } = options;
  const stored = await store.loadState(runId);
  if (!stored) return newState(runId, validatePipelineConfig(options.config), digest);
  const state = checkRunRecord<RunState>(stored, 'bfpgm-run', 1, runId);
  if (!STAGES.includes(state.stage)) throw new StudioError('RUN_STATE', `run ${runId}: the saved state names an unknown stage ${JSON.stringify(state.stage)}`);
  const name = options.settingName ?? ((p: string) => p);
  const differences = options.config ? pipelineConfigDifferences(state.config, validatePipelineConfig(options.config)) : [];
  if (state.pretrainedDigest && state.pretrainedDigest !== digest) differences.push({ path: 'pretrained', stored: `model ${state.pretrainedDigest}`, requested: `model ${digest}` });
  if (differences.length > 0) {
    const list = differences.map((d) => `${name(d.path)} ${JSON.stringify(d.stored)} (now ${JSON.stringify(d.requested)})`).join(', ');
    throw new StudioError('RUN_CONFIG_MISMATCH', `run ${runId} was started (${state.status}, stage ${state.stage}) with other settings: ${list}. It was not resumed.`);
  }
  return state;
}

export async function runPipeline(options: RunPipelineOptions): Promise<RunState> {
  const { runId, pretrained, data, store, signal, onEvent } = options;
  const emit = (e: PipelineEvent) => onEvent?.(e);
  const state = await loadOrCreateState(options, stateDictDigest(pretrained));
  if (state.stage === 'done') return state; // finished: its record stays as it is
  const cfg = state.config;
  const save = async () => {
    state.updatedAt = nowIso();
    await store.saveState(state);
  };
  state.status = 'running';
  delete state.error;
  await save();
  const { trainSet, valSet } = trainValSets(data.pool, cfg);
  const trainConfig = { size: cfg.data.size, batchSize: cfg.data.batchSize, seed: cfg.seed };
  // The budget meter: every batch through a training step or a forward, as it happens.
  const counted = (state.budget ??= { trainImagePasses: 0, forwardImagePasses: 0 });
  const meter = (kind: 'train' | 'forward', images: number): void => {
    if (kind === 'train') counted.trainImagePasses += images;
    else counted.forwardImagePasses += images;
  };
  const recalibrateImages = cfg.recalibrate?.images ?? 0;

  try {
    if (state.stage === 'bo') {
      emit({ type: 'stage', stage: 'bo' });
      await runSearch();
      state.stage = 'sfp';
      await save();
    }
    if (state.stage === 'sfp') {
      emit({ type: 'stage', stage: 'sfp' });
      await runSfp();
      state.stage = 'finetune';
      await save();
    }
    if (state.stage === 'finetune') {
      emit({ type: 'stage', stage: 'finetune' });
      await runFinetune();
      state.stage = 'evaluate';
      await save();
    }
    if (state.stage === 'evaluate') {
      emit({ type: 'stage', stage: 'evaluate' });
      await runEvaluation();
      state.stage = 'export';
      await save();
    }
    if (state.stage === 'export') {
      emit({ type: 'stage', stage: 'export' });
      const final = await loadRunWeights(store, runId, 'finetune');
      await store.saveWeights(runId, 'final', final);
      const info = describeModel(final);
      state.result = { sparsity: info.sparsity / 100, macsRemoved: state.plan ? macsRemoved(state.plan, ...cfg.macsSize).fraction : 0, parameters: info.parameters };
      state.stage = 'done';
      state.status = 'done';
      await save();
      emit({ type: 'stage', stage: 'done' });
    }
    return state;
  } catch (e) {
    const aborted = signal?.aborted || (e instanceof Error && e.name === 'AbortError');
    state.status = aborted ? 'paused' : 'failed';
    if (!aborted) state.error = e instanceof Error ? e.message : String(e);
    await save();
    throw e;
  }

  async function runSearch(): Promise<void> {
    const groups = cfg.grouping.groups.length;
    const executor = options.trialExecutor?.({ runId, config: cfg }) ?? createTrialRunner(pretrained, cfg, data.pool);
    const fresh = state.bo.optimizer === null;
    const optimizer = fresh
      ? createBayesianOptimizer({ bounds: groupBounds(cfg.target, groups), seed: cfg.seed, initPoints: cfg.bo.initPoints, batchStrategy: cfg.bo.batchStrategy })
      : bayesianOptimizerFromJSON(state.bo.optimizer!);
    const pending = new Map<number, TrialOutcome>();
    const offset = state.bo.trials.length;
    try {
      await maximize({
        optimizer,
        probes: fresh ? [firstProbe(cfg.target, groups)] : [],
        initPoints: fresh ? cfg.bo.initPoints : 0,
        nIter: Math.max(0, cfg.bo.iterations - optimizer.suggestionCount()),
        batchSize: cfg.bo.batch,
        signal,
        // The batch is on record (in flight) before any of it runs, so a killed run re-issues the same trials.
        onBatch: async () => {
          state.bo.optimizer = optimizer.toJSON();
          await save();
        },
        objective: async (rates, info) => {
          const outcome = await executor.run({ index: offset + info.index, rates, source: info.source }, {
            signal,
            onProgress: (progress) => emit({ type: 'step', stage: 'bo', progress }),
            onImages: meter,
          });
          pending.set(info.index, outcome);
          return outcome.objective;
        },
        onTrial: async (trial) => {
          const rec = pending.get(trial.index);
          pending.delete(trial.index);
          const earlier = state.bo.trials.find((t) => t.rates.every((r, i) => r === trial.x[i]));
          const record: TrialRecord = rec
            ? { index: offset + trial.index, source: trial.source, duplicate: false, ...rec }
            : { ...earlier!, index: offset + trial.index, source: trial.source, duplicate: true, seconds: 0 };
          state.bo.trials.push(record);
          state.bo.optimizer = optimizer.toJSON();
          const best = optimizer.best();
          const bestRecord = best ? state.bo.trials.find((t) => t.objective === best.y && t.rates.every((r, i) => r === best.x[i])) ?? null : null;
          // With bo.project the optimiser's point is a direction; what gets pruned is its projection.
          state.bo.bestRates = best ? (bestRecord?.appliedRates ?? best.x).slice() : null;
          await save();
          emit({ type: 'trial', trial: record, best: bestRecord });
        },
      });
    } finally {
      state.bo.optimizer = optimizer.toJSON();
      optimizer.dispose();
    }
    if (!state.bo.bestRates) throw new StudioError('CONFIG_INVALID', 'the search produced no trial');
  }

  function rates(): number[] {
    if (!state.bo.bestRates) throw new StudioError('NOT_FOUND', 'no rates: the search stage has not finished');
    return state.bo.bestRates;
  }

  async function runSfp(): Promise<void> {
    let weights = state.sfpEpochsDone > 0 ? await loadRunWeights(store, runId, 'sfp') : pretrained;
    const E = cfg.sfp.epochs;
    const teacher = createTeacher();
    try {
      for (let e = state.sfpEpochsDone; e < E; e++) {
        abortIfNeeded(signal);
        // Each reference epoch reloads the previous epoch's file and recreates Adam (SPEC §3.4).
        const model = createTrainableEResFD(weights);
        const trainer = createTrainer(model, trainSet, valSet, { ...trainConfig, lr: cfg.sfp.lr, weightDecay: cfg.sfp.weightDecay, seed: cfg.seed + 1000 + e }, {
          signal,
          distill: teacher?.distill,
          onImages: meter,
          onProgress: (progress) => emit({ type: 'step', stage: 'sfp', progress }),
        });
        try {
          const rec = await trainer.runEpoch(e);
          const pruned = isSoftPruneEpoch(e, E, cfg.sfp.every);
          if (pruned) {
            await softPrune(model.params, cfg.grouping, sfpRates(e));
            if (recalibrateImages > 0) await trainer.recalibrate(recalibrateImages, e);
            // Record the loss of the model this epoch hands on, i.e. after the re-pruning.
            const v = await trainer.validate();
            Object.assign(rec, { valLoss: v.loss, valLossL: v.lossL, valLossC: v.lossC });
          }
          weights = await model.toStateDict();
          const row: EpochRow = { stage: 'sfp', epoch: e, trainLoss: rec.trainLoss, valLoss: rec.valLoss, valLossL: rec.valLossL, valLossC: rec.valLossC, imagesPerSec: rec.imagesPerSec, seconds: rec.seconds, lr: rec.lr, sparsity: sparsityFraction(weights), pruned };
          await store.saveWeights(runId, 'sfp', weights);
          state.epochs.push(row);
          state.sfpEpochsDone = e + 1;
          await save();
          emit({ type: 'epoch', row });
        } finally {
          trainer.dispose();
          model.dispose();
        }
      }
    } finally {
      teacher?.dispose();
    }
  }

  /**
   * Rates of SFP's re-pruning after epoch `e`: the best rates, or with `sfp.rampEpochs` a linear ramp
   * up to them (gradual pruning: the network loses filters a few at a time, not all at once).
   */
  function sfpRates(e: number): number[] {
    const ramp = cfg.sfp.rampEpochs ?? 0;
    const f = ramp > 0 ? Math.min(1, (e + 1) / ramp) : 1;
    return rates().map((r) => r * f);
  }

  /** The unpruned model as distillation teacher (eval mode), when the config distils. */
  function createTeacher(): { distill: StepDistillation; dispose: () => void } | null {
    const weight = cfg.distill?.weight ?? 0;
    if (!(weight > 0)) return null;
    const model = createTrainableEResFD(pretrained);
    return { distill: { teacher: (x) => model.forwardEval(x), weight }, dispose: () => model.dispose() };
  }

  async function runFinetune(): Promise<void> {
    // Fine-tuning starts from SFP's weights; from the pretrained ones only when the run has no SFP epochs.
    const start = state.finetuneEpochsDone > 0 ? await loadRunWeights(store, runId, 'finetune') : state.sfpEpochsDone > 0 ? await loadRunWeights(store, runId, 'sfp') : pretrained;
    // Prune once with the best rates (hard), then train (`main_finetune.py`).
    state.plan ??= planFpgm(start, cfg.grouping, rates());
    const weights = applyPlanToStateDict(start, state.plan);
    await save();
    const model = createTrainableEResFD(weights);
    const mask = cfg.finetune.mode === 'masked' ? createHardMask(state.plan) : null;
    const frozen = (key: string) => convOfWeightKey(key) !== undefined && groupIndexOfKey(cfg.grouping, key) >= 0;
    const teacher = createTeacher();
    const trainer = createTrainer(model, trainSet, valSet, {
      ...trainConfig, lr: cfg.finetune.lr, weightDecay: cfg.finetune.weightDecay, lrMilestones: [cfg.finetune.lrStepEpoch], seed: cfg.seed + 2000,
    }, {
      signal,
      distill: teacher?.distill,
      onImages: meter,
      trainable: cfg.finetune.mode === 'reference' ? (key) => !frozen(key) : undefined,
      afterStep: mask ? () => mask.apply(model.params) : undefined,
      onProgress: (progress) => emit({ type: 'step', stage: 'finetune', progress }),
    });
    try {
      // The hard prune leaves BN with statistics of filters that are gone: re-estimate them first.
      if (state.finetuneEpochsDone === 0 && recalibrateImages > 0) await trainer.recalibrate(recalibrateImages, 0);
      for (let e = state.finetuneEpochsDone; e < cfg.finetune.epochs; e++) {
        abortIfNeeded(signal);
        const rec = await trainer.runEpoch(e);
        const sd = await model.toStateDict();
        const row: EpochRow = { stage: 'finetune', epoch: e, trainLoss: rec.trainLoss, valLoss: rec.valLoss, valLossL: rec.valLossL, valLossC: rec.valLossC, imagesPerSec: rec.imagesPerSec, seconds: rec.seconds, lr: rec.lr, sparsity: sparsityFraction(sd), pruned: false };
        await store.saveWeights(runId, 'finetune', sd);
        state.epochs.push(row);
        state.finetuneEpochsDone = e + 1;
        await save();
        emit({ type: 'epoch', row });
      }
      if (cfg.finetune.epochs === 0) await store.saveWeights(runId, 'finetune', await model.toStateDict());
    } finally {
      trainer.dispose();
      mask?.dispose();
      model.dispose();
      teacher?.dispose();
    }
  }

  async function runEvaluation(): Promise<void> {
    const ev = data.evaluation;
    if (!ev || cfg.evaluate.images === 0) return;
    const refs = ev.refs.slice(0, cfg.evaluate.images);
    const score = async (which: 'before' | 'after', sd: StateDict): Promise<EvaluationRecord> => {
      const model = createEResFD(sd);
      try {
        const preds = await predictWider(model, refs, ev.loadImage, {
          protocol: cfg.evaluate.protocol,
          signal,
          onProgress: (p) => emit({ type: 'evaluation-progress', which, done: p.done, total: p.total }),
        });
        meter('forward', refs.length);
        const r = evaluateWider(ev.gt, preds, { restrictTo: refs.map((x) => widerImageKey(x.event, x.name)) });
        return { easy: r.easy, medium: r.medium, hard: r.hard, images: r.images, protocol: cfg.evaluate.protocol };
      } finally {
        model.dispose();
      }
    };
    if (!state.evaluation.before) {
      state.evaluation.before = await score('before', pretrained);
      await save();
      emit({ type: 'evaluation', which: 'before', record: state.evaluation.before, done: refs.length, total: refs.length });
    }
    if (!state.evaluation.after) {
      const final = await loadRunWeights(store, runId, 'finetune');
      state.evaluation.after = await score('after', final);
      await save();
      emit({ type: 'evaluation', which: 'after', record: state.evaluation.after, done: refs.length, total: refs.length });
    }
  }
}
