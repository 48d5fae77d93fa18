/**
 * Training benchmark, isomorphic (runs in Node and in a Chromium page): median images/s of full
 * optimiser steps — train-mode forward, MultiBoxLoss, backward, Adam (the trainer's own step,
 * createTrainStep) — on one fixed S×S batch, which is what the reference PyTorch CPU throughput
 * measures (golden/train_step README §5: 8.3 images/s at 8×640², 21.8 at 2×320², one thread). The
 * host-side batch preparation the trainer adds per batch (SPEC §8 augmentation, normalisation) is
 * timed separately: in a worker or in Node it runs on the same thread as the step.
 *
 * `runTrainEpochBench` measures whole training epochs (the trainer, batch preparation included) with
 * preparation on the training thread against the training source's own preparer (Node: a pool of
 * worker_threads, issue 14), interleaved epoch by epoch so that a change in machine load hits both.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createRng, createTrainableEResFD, createTrainer, loadEResFDCheckpoint, selectBackend, type BackendName, type RgbImage, type SampleSource, type StateDict } from '../src/core/index.ts';
// Internals this benchmark measures, by path (like tests): they are not part of the core's public entries.
import { EXPECTED_KEYS } from '../src/core/checkpoint/state-dict-map.ts';
import { median } from '../src/core/detect/time-forwards.ts';
import { augmentTrain } from '../src/core/augment/augment-train.ts';
import { createTorchAdam } from '../src/core/train/adam.ts';
import { createTrainStep, type TrainBatch } from '../src/core/train/train-step.ts';
import { normalizeImage } from '../src/core/image/normalize-image.ts';
import { setDirectTrainingKernels } from '../src/core/backend/kernels/wasm/direct-kernels.ts';

/** PyTorch CPU reference, one thread (golden/train_step README §5), images/s. */
export const TRAIN_REFERENCE: Readonly<Record<string, number>> = { '8x640': 8.3, '2x320': 21.8 };

export interface TrainBenchOptions {
  batch: number;
  /** Input side S. */
  size: number;
  /** Timed steps (the median is reported). */
  steps: number;
  /** Untimed steps first (XNNPACK operator setup, heap growth); default 2. */
  warmup?: number;
  /** Checkpoint bytes; default a seeded random state dict (speed does not depend on the values). */
  model?: Uint8Array;
  /** Also count the TF.js kernels one step launches (one extra step under tf.profile). */
  countKernels?: boolean;
}

export interface TrainBenchResult {
  backend: BackendName;
  batch: number;
  size: number;
  steps: number;
  /** batch / median step time. */
  imagesPerSec: number;
  stepMs: number;
  stepMsMin: number;
  /** Median host time to augment and normalise one batch (not part of `stepMs`). */
  prepMs: number;
  /** Kernels (GPU dispatches on WebGPU) per step, when asked for. */
  kernelsPerStep?: number;
}

const now = (): number => performance.now();


/** Seeded random weights of the full EResFD layout, with positive BN variances. */
function syntheticStateDict(seed: number): StateDict {
  const rng = createRng(seed);
  const sd: StateDict = new Map();
  for (const k of EXPECTED_KEYS) {
    if (k.dtype === 'int64') {
      sd.set(k.key, { dtype: 'int64', shape: [...k.shape], data: BigInt64Array.of(0n) });
      continue;
    }
    const positive = k.key.endsWith('.running_var');
    const data = Float32Array.from({ length: k.numel }, () => (positive ? 0.5 + rng() : (rng() * 2 - 1) * 0.3));
    sd.set(k.key, { dtype: 'float32', shape: [...k.shape], data });
  }
  return sd;
}

/** A 1024×768 photo stand-in (smooth colour ramps) with three faces, boxes in pixels. */
function sourceSample(): { image: RgbImage; boxes: Float32Array } {
  const width = 1024, height = 768;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (3 * y + 7 * x + 50 * c) % 256;
  }
  return { image: { width, height, channels: 3, data }, boxes: Float32Array.of(300, 120, 420, 280, 620, 200, 700, 310, 150, 400, 190, 450) };
}

/** One augmented, normalised batch, as the trainer builds it (a sample without faces is redrawn). */
export function buildBatch(batch: number, size: number, seed: number): TrainBatch {
  const { image, boxes } = sourceSample();
  const pixels = size * size * 3;
  const x = new Float32Array(batch * pixels);
  const targets: Float32Array[] = [];
  const rng = createRng(seed);
  for (let i = 0; i < batch; i++) {
    let out = augmentTrain(image, boxes, rng, { size });
    while (out.targets.length === 0) out = augmentTrain(image, boxes, rng, { size });
    normalizeImage(out.image, x.subarray(i * pixels, (i + 1) * pixels));
    targets.push(out.targets);
  }
  return { x, targets, count: batch };
}

export async function runTrainBench(backend: BackendName, options: TrainBenchOptions): Promise<TrainBenchResult> {
  const { batch, size, steps, warmup = 2 } = options;
  await selectBackend([backend]);
  const prep: number[] = [];
  let data: TrainBatch | null = null;
  for (let i = 0; i < 3; i++) {
    const t0 = now();
    data = buildBatch(batch, size, i + 1);
    prep.push(now() - t0);
  }
  const model = createTrainableEResFD(options.model ? loadEResFDCheckpoint(options.model).stateDict : syntheticStateDict(1));
  const adam = createTorchAdam(model.params, { lr: 1e-3, weightDecay: 5e-4 });
  const step = createTrainStep(model, adam, size);
  const times: number[] = [];
  let kernelsPerStep: number | undefined;
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = now();
      const pair = step(data!);
      await pair.data(); // waits for the device too: the time covers the whole step
      pair.dispose();
      if (i >= warmup) times.push(now() - t0);
    }
    if (options.countKernels) {
      const profile = await tf.profile(async () => {
        const pair = step(data!);
        await pair.data();
        pair.dispose();
      });
      kernelsPerStep = profile.kernels.length;
    }
  } finally {
    adam.dispose();
    model.dispose();
  }
  const stepMs = median(times);
  return { backend, batch, size, steps, imagesPerSec: (1000 * batch) / stepMs, stepMs, stepMsMin: Math.min(...times), prepMs: median(prep), ...(kernelsPerStep === undefined ? {} : { kernelsPerStep }) };
}

export interface StudioStep {
  /** [lossL, lossC] of the opening step: the checkpoint's weights, comparable with another framework's. */
  lossPair: [number, number];
  /** One full step; ms until its loss pair is on the host (so device work counts). */
  once(): Promise<number>;
  dispose(): void;
}

/** The trainer's step (createTrainStep, Adam as in runTrainBench) on one fixed batch, after one untimed step. */
export async function openStudioStep(backend: BackendName, data: TrainBatch, size: number, model?: Uint8Array): Promise<StudioStep> {
  await selectBackend([backend]);
  const net = createTrainableEResFD(model ? loadEResFDCheckpoint(model).stateDict : syntheticStateDict(1));
  const adam = createTorchAdam(net.params, { lr: 1e-3, weightDecay: 5e-4 });
  const step = createTrainStep(net, adam, size);
  const run = async (): Promise<Float32Array | Int32Array | Uint8Array> => {
    const pair = step(data);
    try {
      return await pair.data();
    } finally {
      pair.dispose();
    }
  };
  const dispose = (): void => {
    adam.dispose();
    net.dispose();
  };
  try {
    const first = await run();
    return {
      lossPair: [first[0]!, first[1]!],
      once: async () => {
        const t0 = now();
        await run();
        return now() - t0;
      },
      dispose,
    };
  } catch (e) {
    dispose();
    throw e;
  }
}

export interface DirectKernelsAB {
  batch: number;
  size: number;
  /** Median ms of a step with the direct WASM kernels, and with XNNPACK only. */
  directMs: number;
  xnnpackMs: number;
  /** Median of the per-round ratios xnnpack / direct. */
  ratio: number;
}

/**
 * The trainer's step on WASM with the direct kernels (backend/kernels/wasm) on and off, alternating
 * step by step (on/off, off/on, …) so that machine load hits both; round 0 warms both paths up.
 */
export async function runDirectKernelsAB(batch: number, size: number, rounds: number, model: Uint8Array): Promise<DirectKernelsAB> {
  const studio = await openStudioStep('wasm', buildBatch(batch, size, 1), size, model);
  const on: number[] = [], off: number[] = [];
  try {
    for (let r = 0; r <= rounds; r++) {
      for (const direct of r % 2 ? [false, true] : [true, false]) {
        setDirectTrainingKernels(direct);
        const ms = await studio.once();
        if (r > 0) (direct ? on : off).push(ms);
      }
    }
  } finally {
    setDirectTrainingKernels(true);
    studio.dispose();
  }
  return { batch, size, directMs: median(on), xnnpackMs: median(off), ratio: median(off.map((v, i) => v / on[i]!)) };
}

export function formatDirectKernelsAB(r: DirectKernelsAB, where: string): string {
  return `${r.batch}×${r.size}²  ${where}: direct ${r.directMs.toFixed(0)} ms/step, XNNPACK only ${r.xnnpackMs.toFixed(0)} ms/step (per-round ratio ×${r.ratio.toFixed(2)})`;
}

/** One result line with the ratio to the PyTorch reference. */
export function formatTrainBench(r: TrainBenchResult): string {
  const ref = TRAIN_REFERENCE[`${r.batch}x${r.size}`];
  const vs = ref ? ` (${(r.imagesPerSec / ref).toFixed(2)}× PyTorch ${ref} images/s)` : '';
  return `${r.backend.padEnd(7)} ${r.batch}×${r.size}²  ${r.imagesPerSec.toFixed(2)} images/s${vs}  step ${r.stepMs.toFixed(0)} ms (min ${r.stepMsMin.toFixed(0)}), batch prep ${r.prepMs.toFixed(0)} ms${r.kernelsPerStep === undefined ? '' : `, ${r.kernelsPerStep} kernels/step`}`;
}

export interface TrainEpochBenchOptions {
  batch: number;
  /** Input side S. */
  size: number;
  /** Training images; one epoch = ⌈images / batch⌉ steps. Must have its own `openPreparer`. */
  train: SampleSource;
  /** Validation source (its loss is computed after every epoch, outside the timed part). */
  val: SampleSource;
  /** Timed rounds; each trains one epoch per mode, the order alternating (AB, BA, …). */
  rounds: number;
  model?: Uint8Array;
  /** CPU seconds this process has used, all threads (Node: process.cpuUsage); adds CPU/wall to the result. */
  cpuSeconds?: () => number;
}

export interface TrainEpochBenchResult {
  batch: number;
  size: number;
  imagesPerEpoch: number;
  rounds: number;
  /** Median training images/s of an epoch (the trainer's own measure: steps and batch preparation, no validation). */
  inThread: number;
  offThread: number;
  /** Median of the per-round ratios offThread / inThread. */
  ratio: number;
  /** Median CPU seconds per wall second of an epoch (> 1: threads ran side by side), when `cpuSeconds` was given. */
  cpuPerWall?: { inThread: number; offThread: number };
}

export async function runTrainEpochBench(backend: BackendName, options: TrainEpochBenchOptions): Promise<TrainEpochBenchResult> {
  if (!options.train.openPreparer) throw new Error('runTrainEpochBench: the training source has no preparer of its own to compare with');
  await selectBackend([backend]);
  const model = createTrainableEResFD(options.model ? loadEResFDCheckpoint(options.model).stateDict : syntheticStateDict(1));
  // One model, one trainer per mode (each with its own Adam): the same work, only preparation differs.
  const config = { size: options.size, batchSize: options.batch, seed: 1 };
  const inThread = createTrainer(model, options.train, options.val, config, { preparer: 'in-thread' });
  const offThread = createTrainer(model, options.train, options.val, config);
  const a: number[] = [], b: number[] = [];
  const cpuA: number[] = [], cpuB: number[] = [];
  try {
    // Untimed first epochs: XNNPACK setup, heap growth, worker start-up and the decoded-image caches.
    await inThread.runEpoch(0);
    await offThread.runEpoch(0);
    for (let r = 0; r < options.rounds; r++) {
      const order = r % 2 === 0 ? [false, true] : [true, false];
      for (const off of order) {
        const cpu0 = options.cpuSeconds?.() ?? 0;
        const rec = await (off ? offThread : inThread).runEpoch(r + 1);
        // CPU over the epoch's training part and its validation; the validation is one small batch.
        if (options.cpuSeconds) (off ? cpuB : cpuA).push((options.cpuSeconds() - cpu0) / rec.seconds);
        (off ? b : a).push(rec.imagesPerSec);
      }
    }
  } finally {
    inThread.dispose();
    offThread.dispose();
    model.dispose();
  }
  return {
    batch: options.batch, size: options.size, imagesPerEpoch: options.train.size, rounds: options.rounds,
    inThread: median(a), offThread: median(b), ratio: median(a.map((x, i) => b[i]! / x)),
    ...(options.cpuSeconds ? { cpuPerWall: { inThread: median(cpuA), offThread: median(cpuB) } } : {}),
  };
}

export function formatTrainEpochBench(r: TrainEpochBenchResult, offThreadLabel: string): string {
  return `${r.batch}×${r.size}²  epochs of ${r.imagesPerEpoch} images, ${r.rounds} interleaved rounds: in-thread preparation ${r.inThread.toFixed(2)} images/s, ${offThreadLabel} ${r.offThread.toFixed(2)} images/s (×${r.ratio.toFixed(2)})${r.cpuPerWall ? `; CPU/wall ${r.cpuPerWall.inThread.toFixed(2)} vs ${r.cpuPerWall.offThread.toFixed(2)}` : ''}`;
}
