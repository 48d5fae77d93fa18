/**
 * One training loop for every stage of B-FPGM (BO trials, SFP, fine-tuning, plain training), as the
 * reference trains (`train.py`, `main_sfp.py`, `main_finetune.py`): augmented S×S batches (SPEC §8),
 * train-mode BN, MultiBoxLoss (SPEC §7), torch Adam with L2 weight decay, step LR per epoch.
 * No synchronous read-backs in the step: losses are summed on the device and read with `await data()`
 * once per progress report. Epochs are seeded (shuffle and augmentation), so a run resumed from an
 * epoch boundary continues exactly as an uninterrupted one.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { TrainableEResFD } from '../model/eresfd/trainable.ts';
import { priorBoxes } from '../model/eresfd/priors.ts';
import { normalizeImage } from '../image/normalize-image.ts';
import { matchBatch } from '../loss/match.ts';
import { multiboxLossFromMatch } from '../loss/multibox-loss.ts';
import type { TrainAugmentConfig } from '../augment/augment-train.ts';
import { preprocessVal } from '../augment/preprocess-val.ts';
import { createTorchAdam, type AdamState, type TorchAdam } from './adam.ts';
import { createTrainStep, type StepDistillation, type TrainBatch } from './train-step.ts';
import { createRng } from '../util/random.ts';
import type { RgbImage } from '../types.ts';
import type { PreparedSample, SamplePreparer, SampleSource } from './sample-source.ts';
import { inThreadPreparer, sampleSeed } from './sample-preparer.ts';
import { StudioError } from '../errors.ts';

export interface TrainConfig {
  /** Input side S of the square training batches (reference 640). */
  size: number;
  batchSize: number;
  lr: number;
  weightDecay: number;
  /** Epochs after which the LR is multiplied by `lrGamma` (MultiStepLR on epochs). */
  lrMilestones: number[];
  lrGamma: number;
  seed: number;
  /** Use the training augmentation; false = the deterministic val preprocessing (stretch). */
  augment: boolean;
  augmentConfig?: Partial<TrainAugmentConfig>;
  /** Progress callback period in steps. */
  reportEvery: number;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = {
  size: 640,
  batchSize: 8,
  lr: 1e-3,
  weightDecay: 5e-4,
  lrMilestones: [],
  lrGamma: 0.1,
  seed: 0,
  augment: true,
  reportEvery: 1,
};

export function validateTrainConfig(config: Partial<TrainConfig>): TrainConfig {
  const c = { ...DEFAULT_TRAIN_CONFIG, ...config };
  const bad = (what: string) => new StudioError('CONFIG_INVALID', `training: ${what}`);
  if (!Number.isInteger(c.size) || c.size < 32 || c.size > 2048) throw bad(`size ${c.size} must be an integer in [32, 2048]`);
  if (!Number.isInteger(c.batchSize) || c.batchSize < 1 || c.batchSize > 256) throw bad(`batch size ${c.batchSize} must be in [1, 256]`);
  if (!(c.lr > 0 && c.lr < 1)) throw bad(`learning rate ${c.lr} must be in (0, 1)`);
  if (!(c.weightDecay >= 0 && c.weightDecay < 1)) throw bad(`weight decay ${c.weightDecay} must be in [0, 1)`);
  if (!Number.isInteger(c.seed)) throw bad(`seed ${c.seed} must be an integer`);
  return c;
}

export interface StepProgress {
  epoch: number;
  step: number;
  steps: number;
  lossL: number;
  lossC: number;
  imagesPerSec: number;
  etaSeconds: number;
}

export interface EpochRecord {
  epoch: number;
  trainLossL: number;
  trainLossC: number;
  trainLoss: number;
  valLossL: number;
  valLossC: number;
  valLoss: number;
  imagesPerSec: number;
  seconds: number;
  lr: number;
}

export interface TrainerState {
  epochsDone: number;
  adam: AdamState;
}

export interface TrainerHooks {
  /**
   * Which parameters the optimiser owns (default: all). B-FPGM's fine-tuning freezes the grouped conv
   * weights through a stale optimiser (SPEC §3.4); this reproduces that.
   */
  trainable?: (key: string) => boolean;
  /** After every optimiser step (hard masks keep pruned filters at zero here). */
  afterStep?: () => void;
  onProgress?: (p: StepProgress) => void;
  signal?: AbortSignal;
  /** Distillation from a teacher on every training batch (its forward counts as forward passes). */
  distill?: StepDistillation;
  /**
   * Budget meter: called with the images of every batch that went through a training step
   * ('train') or a forward only ('forward': validation, BN re-estimation, the teacher).
   */
  onImages?: (kind: 'train' | 'forward', images: number) => void;
  /**
   * Where training samples are prepared (decode, augmentation, targets). Default: the training
   * source's own `openPreparer` (e.g. a worker pool) if it has one, else on this thread. `'in-thread'`
   * forces this thread. Either way the samples are the same bytes.
   */
  preparer?: SamplePreparer | 'in-thread';
}

export interface Trainer {
  readonly config: TrainConfig;
  /** Trains one epoch (number `epoch`, 0-based, which seeds its shuffle and augmentation) and validates. */
  runEpoch(epoch: number): Promise<EpochRecord>;
  /** Eval-mode loss over the validation source (deterministic preprocessing). */
  validate(): Promise<{ lossL: number; lossC: number; loss: number }>;
  /**
   * Re-estimates every BN layer's running statistics on `images` augmented training images (forward
   * only, train-mode BN, no gradient; cumulative average over the batches, as EagleEye's adaptive BN).
   * A pruned filter otherwise leaves its BN with statistics of a channel that no longer exists.
   * `epoch` seeds which images and crops. Returns the images used (≤ the training source's size).
   */
  recalibrate(images: number, epoch: number): Promise<number>;
  exportState(epochsDone: number): Promise<TrainerState>;
  importState(state: TrainerState): void;
  dispose(): void;
}

const now = (): number => performance.now();

function shuffled(n: number, seed: number): number[] {
  const rng = createRng(seed);
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

function abortIfNeeded(signal?: AbortSignal): void {
  if (signal?.aborted) throw signal.reason ?? new DOMException('aborted', 'AbortError');
}

export function createTrainer(model: TrainableEResFD, train: SampleSource, val: SampleSource, config: Partial<TrainConfig> = {}, hooks: TrainerHooks = {}): Trainer {
  const cfg = validateTrainConfig(config);
  if (train.size < 1) throw new StudioError('CONFIG_INVALID', 'training needs at least one image');
  const owned = new Map([...model.params].filter(([key]) => hooks.trainable?.(key) ?? true));
  const adam: TorchAdam = createTorchAdam(owned, { lr: cfg.lr, weightDecay: cfg.weightDecay });
  const priors = priorBoxes(cfg.size, cfg.size);
  const step = createTrainStep(model, adam, cfg.size, owned, hooks.distill);
  const count = (kind: 'train' | 'forward', images: number) => hooks.onImages?.(kind, images);
  const pixels = cfg.size * cfg.size * 3;

  const lrAt = (epoch: number): number => cfg.lr * cfg.lrGamma ** cfg.lrMilestones.filter((m) => epoch >= m).length;

  const spec = { seed: cfg.seed, size: cfg.size, augment: cfg.augment, ...(cfg.augmentConfig ? { augmentConfig: cfg.augmentConfig } : {}) };
  const preparer: SamplePreparer =
    hooks.preparer === 'in-thread' ? inThreadPreparer(train, spec) : hooks.preparer ?? train.openPreparer?.(spec) ?? inThreadPreparer(train, spec);
  const prefetch = Math.max(1, Math.floor(preparer.prefetchBatches ?? 1));
  const trainSample = (index: number, epoch: number): Promise<PreparedSample> => preparer.prepare(index, epoch);

  async function buildBatch(samples: Array<Promise<{ image: RgbImage; targets: Float32Array }>>): Promise<TrainBatch> {
    const loaded = await Promise.all(samples);
    const x = new Float32Array(loaded.length * pixels);
    loaded.forEach((s, i) => normalizeImage(s.image, x.subarray(i * pixels, (i + 1) * pixels)));
    return { x, targets: loaded.map((s) => s.targets), count: loaded.length };
  }

  async function validate(): Promise<{ lossL: number; lossC: number; loss: number }> {
    let sumL = 0, sumC = 0, batches = 0;
    for (let start = 0; start < val.size; start += cfg.batchSize) {
      abortIfNeeded(hooks.signal);
      const idx = Array.from({ length: Math.min(cfg.batchSize, val.size - start) }, (_, k) => start + k);
      const batch = await buildBatch(idx.map(async (i) => {
        const s = await val.load(i);
        return preprocessVal(s.image, s.boxes, { size: cfg.size });
      }));
      const match = matchBatch(priors, batch.targets);
      const pair = tf.tidy(() => {
        const out = model.forwardEval(tf.tensor4d(batch.x, [batch.count, cfg.size, cfg.size, 3]));
        const { lossL, lossC } = multiboxLossFromMatch(out.loc, out.conf, match);
        return tf.stack([lossL, lossC]);
      });
      const [l, c] = (await pair.data()) as Float32Array;
      pair.dispose();
      count('forward', batch.count);
      sumL += l!;
      sumC += c!;
      batches++;
    }
    const lossL = batches ? sumL / batches : NaN;
    const lossC = batches ? sumC / batches : NaN;
    return { lossL, lossC, loss: lossL + lossC };
  }

  async function recalibrate(images: number, epoch: number): Promise<number> {
    const order = shuffled(train.size, sampleSeed(cfg.seed, epoch, -2)).slice(0, Math.max(0, Math.min(images, train.size)));
    for (let start = 0, k = 0; start < order.length; start += cfg.batchSize, k++) {
      abortIfNeeded(hooks.signal);
      const batch = await buildBatch(order.slice(start, start + cfg.batchSize).map((i) => trainSample(i, epoch)));
      tf.tidy(() => {
        model.forwardTrain(tf.tensor4d(batch.x, [batch.count, cfg.size, cfg.size, 3]), { momentum: 1 / (k + 1) });
      });
      count('forward', batch.count);
    }
    return order.length;
  }

  return {
    config: cfg,
    validate,
    recalibrate,
    async runEpoch(epoch) {
      const t0 = now();
      adam.lr = lrAt(epoch);
      const order = shuffled(train.size, sampleSeed(cfg.seed, epoch, -1));
      const steps = Math.ceil(order.length / cfg.batchSize);
      let total: tf.Tensor1D | null = null;
      let images = 0;
      // Prefetch: the next batches are asked for before the current step runs, so a preparer off this
      // thread (a worker pool) decodes and augments them during the step (`prefetch` batches ahead).
      const batchAt = (s: number) => buildBatch(order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize).map((i) => trainSample(i, epoch)));
      const queue: Array<Promise<TrainBatch>> = [];
      let asked = 0;
      const fill = () => {
        while (asked < steps && queue.length < prefetch) queue.push(batchAt(asked++));
      };
      fill();
      try {
        for (let s = 0; s < steps; s++) {
          abortIfNeeded(hooks.signal);
          const batch = await queue.shift()!;
          fill();
          const pair = step(batch, hooks.afterStep);
          const prev: tf.Tensor1D | null = total;
          total = prev ? (tf.add(prev, pair) as tf.Tensor1D) : tf.clone(pair);
          prev?.dispose();
          images += batch.count;
          count('train', batch.count);
          if (hooks.distill) count('forward', batch.count);
          try {
            if (hooks.onProgress && ((s + 1) % cfg.reportEvery === 0 || s + 1 === steps)) {
              const [l, c] = (await pair.data()) as Float32Array;
              const elapsed = (now() - t0) / 1000;
              hooks.onProgress({ epoch, step: s + 1, steps, lossL: l!, lossC: c!, imagesPerSec: images / elapsed, etaSeconds: (elapsed / (s + 1)) * (steps - s - 1) });
            }
          } finally {
            pair.dispose();
          }
        }
      } catch (e) {
        // An abort mid-epoch (pause, cancel) must not leak the running loss sum.
        (total as tf.Tensor1D | null)?.dispose();
        for (const pending of queue) pending.catch(() => {});
        throw e;
      }
      const sums = total ? ((await total.data()) as Float32Array) : Float32Array.of(NaN, NaN);
      total?.dispose();
      const seconds = (now() - t0) / 1000;
      const v = await validate();
      const trainLossL = sums[0]! / steps, trainLossC = sums[1]! / steps;
      return {
        epoch,
        trainLossL,
        trainLossC,
        trainLoss: trainLossL + trainLossC,
        valLossL: v.lossL,
        valLossC: v.lossC,
        valLoss: v.loss,
        imagesPerSec: images / seconds,
        seconds,
        lr: adam.lr,
      };
    },
    async exportState(epochsDone) {
      return { epochsDone, adam: await adam.exportState() };
    },
    importState(state) {
      adam.importState(state.adam);
    },
    dispose() {
      adam.dispose();
      if (preparer !== hooks.preparer) preparer.dispose?.();
    },
  };
}
