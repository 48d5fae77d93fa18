/**
 * The pipeline worker: B-FPGM pipeline runs (BO → SFP → fine-tune → evaluate → export) and plain
 * training runs, apart from the compute worker so inference stays responsive while a run trains.
 * One run at a time; each run holds a Web Lock named after it, so two tabs never run the same one.
 * Every trial and epoch is saved in IndexedDB (idb-run-store.ts), so a reload or a crashed worker
 * resumes from there (`resumeRun`). Plain data in and out; progress goes through a `Comlink.proxy`
 * callback. The UI reaches it only through src/app/pipeline-client.ts.
 */
import * as Comlink from 'comlink';
// tfjs-core alone registers no gradients; training needs them.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '../src/platform/browser/register-backends.ts';
import { softwareAdapterReason } from '../src/platform/browser/software-adapter.ts';
import {
  createTrainableEResFD,
  createTrainer,
  describeModel,
  epochsCsv,
  loadEResFDCheckpoint,
  registerCpuKernelFixes,
  registerWasmCopyKernels,
  registerWasmTrainingKernels,
  registerBatchNormTrainKernels,
  runPipeline,
  trainingRun,
  selectBackend,
  splitPool,
  StudioError,
  samples,
  trialsCsv,
  modelNames,
  runFile,
  validatePipelineConfig,
  writeCheckpoint,
  type BackendName,
  type BackendSelection,
  type PipelineConfig,
  type PipelineConfigInput,
  type PipelineEvent,
  type RgbImage,
  type RunState,
  type SampleSource,
  type StateDict,
  type TrainingEvent,
  type TrainingRunState,
} from '../src/core/index.ts';
import { getModel, openStudioDb, rethrowQuota, saveModel, type ModelOrigin, type RunKind, type StoredRun } from '../src/platform/browser/idb-store.ts';
import { createIdbRunStore, createRun, deleteRun, dropRunWeights, findRun, getRun, listRuns, updateRunMeta } from '../src/platform/browser/idb-run-store.ts';
import { datasetSampleSource, storedValEvaluation } from '../src/platform/browser/dataset-samples.ts';
import { withWorkerPreparer, type DatasetSampleKey, type WorkerPreparedSource } from '../src/platform/browser/worker-preparer.ts';
import { datasetLabel, getDataset } from '../src/platform/browser/wider-store.ts';

// WASM lacks conv backprop kernels in 4.22 (and its copy kernels are slow); CPU's nearest-resize gradient is wrong for batch > 1.
registerWasmTrainingKernels();
registerBatchNormTrainKernels();
registerWasmCopyKernels();
registerCpuKernelFixes();

export interface PipelineRunRequest {
  /** Chosen by the caller so it can pause/cancel before the call returns; generated when absent. */
  runId?: string;
  modelId: string;
  /** Training pool (WIDER train). */
  datasetId: string;
  /** WIDER val with ground truth, for the AP before/after. */
  valDatasetId?: string;
  config: PipelineConfigInput;
}

export interface TrainingRunRequest {
  runId?: string;
  modelId: string;
  datasetId: string;
  epochs: number;
  /** Images drawn from the dataset, split 80 % train / 20 % validation. */
  images: number;
  size: number;
  batch: number;
  lr: number;
  seed?: number;
}

export type RunEvent =
  | { runId: string; kind: 'pipeline'; event: PipelineEvent }
  | { runId: string; kind: 'training'; event: TrainingEvent };

export interface RunOutcome {
  runId: string;
  kind: RunKind;
  status: 'done' | 'paused' | 'cancelled';
  /** The model the finished run stored in `models`. */
  resultModelId?: string;
}

export interface RunExport {
  /** Base file name: the result model's file name without `.pth`, e.g. `B-FPGM-30pct-4-Dec-14-05-abcdef01`. */
  name: string;
  /** The run's weights as a PyTorch checkpoint (final, or the last epoch of an unfinished training). */
  checkpoint: ArrayBuffer;
  /** Pipeline only ('' for training). */
  trialsCsv: string;
  epochsCsv: string;
  stateJson: string;
}

export interface SpeedRequest {
  modelId: string;
  size: number;
  batchSize: number;
  /** Timed steps after one warm-up step (default 2). */
  steps?: number;
}

export interface SpeedMeasurement {
  backend: BackendName;
  size: number;
  batchSize: number;
  /** Training throughput (forward, backward, Adam) on augmented batches. */
  imagesPerSec: number;
}

type Emit = (e: RunEvent) => void;

interface Job {
  runId: string;
  kind: RunKind;
  controller: AbortController;
  cancelled: boolean;
  settled: Promise<unknown>;
}

let selection: Promise<BackendSelection> | null = null;
let job: Job | null = null;
let measuring: Promise<unknown> | null = null;

/** The default order passes over software GPU adapters; an explicit order (`?backend=`) is obeyed as is. */
function pick(order?: BackendName[]): Promise<BackendSelection> {
  return order ? selectBackend(order) : selectBackend(undefined, { skip: softwareAdapterReason });
}

function requireBackend(): Promise<BackendSelection> {
  selection ??= pick();
  return selection;
}

const isAbort = (e: unknown): boolean => (e instanceof DOMException || e instanceof Error) && e.name === 'AbortError';

function safeEmit(onEvent?: (e: RunEvent) => void): Emit {
  return (e) => {
    try {
      const r = onEvent?.(e) as unknown;
      if (r instanceof Promise) r.catch(() => {});
    } catch {
      // The page went away; the run carries on and is saved as it goes.
    }
  };
}

const toArrayBuffer = (u8: Uint8Array): ArrayBuffer => u8.buffer.slice(u8.byteOffset, u8.byteOffset + u8.byteLength) as ArrayBuffer;

const baseName = (name: string): string => name.replace(/\.(pth|pt)$/i, '');

async function loadModelWeights(modelId: string): Promise<StateDict> {
  const model = await getModel(modelId);
  return loadEResFDCheckpoint(new Uint8Array(model.bytes)).stateDict;
}

/** Holds the run's Web Lock while `body` runs; waits up to 10 s for a closing tab to let go of it. */
async function withRunLock<T>(runId: string, body: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
  if (!locks) return body();
  try {
    return await locks.request(`bfpgm-run:${runId}`, { signal: AbortSignal.timeout(10_000) }, body);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'TimeoutError') {
      throw new StudioError('RUN_BUSY', 'This run is running in another tab of the studio.');
    }
    throw e;
  }
}

/** Runs one job at a time; pause → 'paused', cancel → the run is deleted → 'cancelled'. */
async function exclusive(runId: string, kind: RunKind, body: (signal: AbortSignal) => Promise<RunOutcome>): Promise<RunOutcome> {
  await requireBackend();
  if (measuring) await measuring.catch(() => {});
  if (job) throw new StudioError('RUN_BUSY', `A ${job.kind} run is in progress in this tab: pause or cancel it first.`);
  const controller = new AbortController();
  let settle!: () => void;
  const current: Job = { runId, kind, controller, cancelled: false, settled: new Promise<void>((r) => (settle = r)) };
  job = current;
  try {
    const outcome = await withRunLock(runId, () => body(controller.signal));
    if (!current.cancelled) return outcome;
  } catch (e) {
    if (!current.cancelled && !isAbort(e)) throw e;
    if (!current.cancelled) return { runId, kind, status: 'paused' };
  } finally {
    if (current.cancelled) await deleteRun(runId).catch(() => {});
    job = null;
    settle();
  }
  return { runId, kind, status: 'cancelled' };
}

function prunedName(run: StoredRun, c: PipelineConfig): string {
  return modelNames.prunedModelName(c.target, c.targetKind, new Date(run.createdAt));
}

/** A run's download base name: its stored model's file name (unique per model), else the run id. */
async function runFileStem(run: StoredRun): Promise<string> {
  const model = run.meta.resultModelId ? await getModel(run.meta.resultModelId).catch(() => null) : null;
  return model ? baseName(modelNames.modelFileName(model.name, model.id, true)) : `${run.kind}-run-${run.id.slice(0, 8)}`;
}

/** Stores a finished run's model in `models` (once), keeps only its final weights. */
async function publishResult(run: StoredRun, weights: StateDict, name: string, origin: ModelOrigin): Promise<string> {
  const archiveName = origin.kind === 'pruned' ? 'bfpgm-pruned' : 'bfpgm-trained';
  const bytes = writeCheckpoint(weights, { archiveName });
  const saved = await saveModel({ name, bytes: toArrayBuffer(bytes), info: { ...describeModel(weights), archiveName }, origin, markUsed: false });
  await updateRunMeta(run.id, { resultModelId: saved.id });
  await dropRunWeights(run.id, [origin.kind === 'pruned' ? 'final' : trainingRun.FINAL_TRAINING_TAG]);
  return saved.id;
}

async function pipelineJob(runId: string, input: PipelineConfigInput | undefined, signal: AbortSignal, emit: Emit): Promise<RunOutcome> {
  const run = await getRun(runId);
  if (run.kind !== 'pipeline') throw new StudioError('NOT_FOUND', `Run ${runId} is not a pipeline run.`);
  const store = createIdbRunStore('pipeline');
  let state: RunState | null = run.state;
  if (state?.status !== 'done') {
    const { active } = await requireBackend();
    await updateRunMeta(runId, { backend: active });
    let pretrained = await store.loadWeights(runId, 'pretrained');
    if (!pretrained) {
      pretrained = await loadModelWeights(run.meta.modelId);
      await store.saveWeights(runId, 'pretrained', pretrained);
    }
    const cfg = state?.config ?? validatePipelineConfig(input);
    const prepared = await preparedDatasetSource({ datasetId: run.meta.datasetId, images: cfg.data.images, seed: cfg.seed });
    try {
      const evaluation = run.meta.valDatasetId && cfg.evaluate.images > 0 ? await storedValEvaluation(run.meta.valDatasetId) : undefined;
      state = await runPipeline({
        runId, pretrained, config: input, data: { pool: prepared.source, evaluation }, store, signal,
        onEvent: (event) => emit({ runId, kind: 'pipeline', event }),
      });
    } finally {
      prepared.close();
    }
  }
  const fresh = await getRun(runId);
  let resultModelId = fresh.meta.resultModelId;
  if (!resultModelId) {
    const final = await store.loadWeights(runId, 'final');
    if (!final) throw new StudioError('NOT_FOUND', `Run ${runId} finished but its final weights are missing.`);
    const after = state.evaluation.after;
    resultModelId = await publishResult(fresh, final, prunedName(run, state.config), {
      kind: 'pruned', runId, sourceModelId: run.meta.modelId, sourceModelName: run.meta.modelName,
      ...(after ? { ap: { easy: after.easy, medium: after.medium, hard: after.hard, images: after.images, protocol: after.protocol } } : {}),
    });
  }
  return { runId, kind: 'pipeline', status: 'done', resultModelId };
}

/**
 * A stored dataset subset whose training samples a preparation worker prepares while this worker
 * steps (workers/prep.worker.ts); `close()` ends that worker.
 */
async function preparedDatasetSource(key: DatasetSampleKey): Promise<WorkerPreparedSource> {
  const { source } = await datasetSampleSource(key.datasetId, { images: key.images, seed: key.seed });
  return withWorkerPreparer(source, key, () => new Worker(new URL('./prep.worker.ts', import.meta.url), { type: 'module', name: 'bfpgm-prep' }));
}

async function trainingSources(datasetId: string, images: number, seed: number): Promise<{ train: SampleSource; val: SampleSource; close(): void }> {
  const { source, close } = await preparedDatasetSource({ datasetId, images, seed });
  const split = splitPool(source.size, 0.2, seed);
  return { train: samples.subsetSource(source, split.train), val: samples.subsetSource(source, split.val), close };
}

async function trainingJob(runId: string, request: TrainingRunRequest | undefined, signal: AbortSignal, emit: Emit): Promise<RunOutcome> {
  const run = await getRun(runId);
  if (run.kind !== 'training') throw new StudioError('NOT_FOUND', `Run ${runId} is not a training run.`);
  const store = createIdbRunStore('training');
  let state: TrainingRunState | null = run.state;
  if (state?.status !== 'done') {
    const { active } = await requireBackend();
    await updateRunMeta(runId, { backend: active });
    const config = state?.config ?? trainingRun.validateTrainingRunConfig(request && { epochs: request.epochs, size: request.size, batchSize: request.batch, lr: request.lr, seed: request.seed ?? 0 });
    // The initial weights matter only until the first epoch is checkpointed.
    const initial: StateDict = state?.checkpoint ? new Map() : await loadModelWeights(run.meta.modelId);
    const data = await trainingSources(run.meta.datasetId, run.meta.images ?? 2, config.seed);
    try {
      state = await trainingRun.runTraining({ runId, initial, config, data, store, signal, onEvent: (event) => emit({ runId, kind: 'training', event }) });
    } finally {
      data.close();
    }
  }
  const fresh = await getRun(runId);
  let resultModelId = fresh.meta.resultModelId;
  if (!resultModelId) {
    const final = await store.loadWeights(runId, trainingRun.FINAL_TRAINING_TAG);
    if (!final) throw new StudioError('NOT_FOUND', `Run ${runId} finished but its final weights are missing.`);
    resultModelId = await publishResult(fresh, final, modelNames.trainedModelName(state.epochsDone, new Date(run.createdAt)), {
      kind: 'trained', runId, sourceModelId: run.meta.modelId, sourceModelName: run.meta.modelName,
    });
  }
  return { runId, kind: 'training', status: 'done', resultModelId };
}

async function newRunMeta(modelId: string, datasetId: string, valDatasetId?: string) {
  const [model, dataset, val] = await Promise.all([getModel(modelId), getDataset(datasetId), valDatasetId ? getDataset(valDatasetId) : undefined]);
  return {
    modelId, modelName: model.name, datasetId, datasetName: datasetLabel(dataset),
    ...(val ? { valDatasetId: val.id, valDatasetName: datasetLabel(val) } : {}),
  };
}

/** A training image stand-in for the speed probe: a 640×480 ramp with four 120-px "faces". */
function probeSource(count: number): SampleSource {
  const width = 640, height = 480;
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) for (let c = 0; c < 3; c++) data[(y * width + x) * 3 + c] = (3 * y + 7 * x + 50 * c) % 256;
  const image: RgbImage = { width, height, channels: 3, data };
  const boxes = Float32Array.of(60, 60, 180, 180, 400, 80, 520, 200, 120, 280, 240, 400, 420, 300, 540, 420);
  return { size: count, load: async () => ({ image, boxes }) };
}

const api = {
  /** Picks the backend (once). `order` forces the candidates, e.g. `['wasm']` from `?backend=wasm`. */
  async init(order?: BackendName[]): Promise<BackendSelection> {
    selection ??= pick(order);
    try {
      return await selection;
    } catch (e) {
      selection = null;
      throw e;
    }
  },

  /** Starts a B-FPGM pipeline run; resolves when it ends (done, paused or cancelled). */
  async startRun(request: PipelineRunRequest, onEvent?: (e: RunEvent) => void): Promise<RunOutcome> {
    const config = validatePipelineConfig(request.config); // fail before anything is stored
    const runId = request.runId ?? crypto.randomUUID();
    if (job) throw new StudioError('RUN_BUSY', `A ${job.kind} run is in progress in this tab: pause or cancel it first.`);
    await createRun(runId, 'pipeline', await newRunMeta(request.modelId, request.datasetId, request.valDatasetId));
    return exclusive(runId, 'pipeline', (signal) => pipelineJob(runId, config, signal, safeEmit(onEvent)));
  },

  /** Starts a plain training run; resolves when it ends (done, paused or cancelled). */
  async startTraining(request: TrainingRunRequest, onEvent?: (e: RunEvent) => void): Promise<RunOutcome> {
    trainingRun.validateTrainingRunConfig({ epochs: request.epochs, size: request.size, batchSize: request.batch, lr: request.lr, seed: request.seed ?? 0 });
    if (!Number.isInteger(request.images) || request.images < 2) throw new StudioError('CONFIG_INVALID', `training: images ${request.images} must be an integer ≥ 2`);
    const runId = request.runId ?? crypto.randomUUID();
    if (job) throw new StudioError('RUN_BUSY', `A ${job.kind} run is in progress in this tab: pause or cancel it first.`);
    await createRun(runId, 'training', { ...(await newRunMeta(request.modelId, request.datasetId)), images: request.images });
    return exclusive(runId, 'training', (signal) => trainingJob(runId, request, signal, safeEmit(onEvent)));
  },

  /** Continues a paused or interrupted run (either kind) from its last saved trial/epoch. */
  async resumeRun(runId: string, onEvent?: (e: RunEvent) => void): Promise<RunOutcome> {
    const run = await getRun(runId);
    const emit = safeEmit(onEvent);
    return run.kind === 'pipeline'
      ? exclusive(runId, 'pipeline', (signal) => pipelineJob(runId, undefined, signal, emit))
      : exclusive(runId, 'training', (signal) => trainingJob(runId, undefined, signal, emit));
  },

  /** Stops the run at its next step; its state is saved as 'paused'. Resolves once it has stopped. */
  async pause(runId: string): Promise<void> {
    const current = job;
    if (current?.runId !== runId) return;
    current.controller.abort(new DOMException('The run was paused.', 'AbortError'));
    await current.settled;
  },

  /** Stops the run (if running here) and deletes it with its weights. */
  async cancel(runId: string): Promise<void> {
    const current = job;
    if (current?.runId === runId) {
      current.cancelled = true;
      current.controller.abort(new DOMException('The run was cancelled.', 'AbortError'));
      await current.settled;
      return;
    }
    await withRunLock(runId, () => deleteRun(runId));
  },

  /** The run this worker is executing, if any. */
  active(): { runId: string; kind: RunKind } | null {
    return job ? { runId: job.runId, kind: job.kind } : null;
  },

  listRuns(kind?: RunKind): Promise<StoredRun[]> {
    return listRuns(kind);
  },

  /** The run's model as a .pth plus its records (CSV, JSON). */
  async exportRun(runId: string): Promise<RunExport> {
    const run = await getRun(runId);
    if (!run.state) throw new StudioError('NOT_FOUND', 'The run has not saved anything yet.');
    let weights: StateDict | null = null;
    if (run.meta.resultModelId) weights = await loadModelWeights(run.meta.resultModelId).catch(() => null);
    const name = await runFileStem(run);
    let trials = '';
    let epochs: string;
    if (run.kind === 'pipeline') {
      const store = createIdbRunStore('pipeline');
      weights ??= await store.loadWeights(runId, 'final');
      trials = trialsCsv(run.state);
      epochs = epochsCsv(run.state);
    } else {
      const store = createIdbRunStore('training');
      weights ??= (await store.loadWeights(runId, trainingRun.FINAL_TRAINING_TAG)) ?? (run.state.checkpoint ? await store.loadWeights(runId, run.state.checkpoint) : null);
      epochs = trainingRun.trainingEpochsCsv(run.state);
    }
    if (!weights) throw new StudioError('NOT_FOUND', run.kind === 'pipeline' ? 'The run has no final model yet: let it finish first.' : 'The run has no finished epoch yet.');
    const checkpoint = toArrayBuffer(writeCheckpoint(weights));
    const out: RunExport = { name, checkpoint, trialsCsv: trials, epochsCsv: epochs, stateJson: JSON.stringify({ meta: run.meta, kind: run.kind, state: run.state }, null, 1) };
    return Comlink.transfer(out, [checkpoint]);
  },

  /** A finished pipeline run as one file (run.json, model.pth, CSVs) to open in another browser. */
  async exportRunFile(runId: string): Promise<{ name: string; bytes: ArrayBuffer }> {
    const run = await getRun(runId);
    if (run.kind !== 'pipeline' || !run.state) throw new StudioError('NOT_FOUND', 'Only pipeline runs can be shared.');
    if (!run.meta.resultModelId) throw new StudioError('NOT_FOUND', 'The run has no stored model yet: let it finish first.');
    const model = await getModel(run.meta.resultModelId);
    const bytes = runFile.packRunFile({
      exportedAt: new Date().toISOString(),
      run: {
        id: run.id, createdAt: run.createdAt, state: run.state,
        source: { modelName: run.meta.modelName, datasetName: run.meta.datasetName, ...(run.meta.valDatasetName ? { valDatasetName: run.meta.valDatasetName } : {}) },
      },
      model: { name: model.name, checkpoint: new Uint8Array(model.bytes) },
    });
    const out = { name: `${await runFileStem(run)}${runFile.RUN_FILE_SUFFIX}`, bytes: toArrayBuffer(bytes) };
    return Comlink.transfer(out, [out.bytes]);
  },

  /**
   * Opens a run file from another browser: validated first (openRunFile), then its model is stored
   * with the others and the run is listed as finished. Opening the same run again changes nothing.
   */
  async importRunFile(bytes: ArrayBuffer): Promise<{ runId: string; modelId: string; existed: boolean }> {
    const opened = runFile.openRunFile(new Uint8Array(bytes));
    const { run, model } = opened;
    const existing = await findRun(run.id);
    if (existing?.meta.resultModelId) {
      const stored = await getModel(existing.meta.resultModelId).catch(() => null);
      if (stored) return { runId: run.id, modelId: stored.id, existed: true };
    }
    if (existing && existing.kind !== 'pipeline') throw new StudioError('RUN_FILE_INVALID', 'A training run with the same id exists in this browser.');
    const after = run.state.evaluation.after;
    const saved = await saveModel({
      name: model.name,
      bytes: toArrayBuffer(model.checkpoint),
      info: { ...opened.modelInfo, archiveName: loadEResFDCheckpoint(model.checkpoint).archiveName },
      origin: {
        kind: 'pruned', runId: run.id, sourceModelName: run.source.modelName,
        ...(after ? { ap: { easy: after.easy, medium: after.medium, hard: after.hard, images: after.images, protocol: after.protocol } } : {}),
      },
      markUsed: false,
    });
    const record: StoredRun = {
      id: run.id, kind: 'pipeline', state: run.state, createdAt: run.createdAt, updatedAt: Date.now(),
      meta: {
        // The source model and datasets live in the exporting browser: kept by name only.
        modelId: '', modelName: run.source.modelName, datasetId: '', datasetName: run.source.datasetName,
        ...(run.source.valDatasetName ? { valDatasetName: run.source.valDatasetName } : {}),
        resultModelId: saved.id, importedAt: Date.now(),
      },
    };
    try {
      await (await openStudioDb()).put('runs', record);
    } catch (e) {
      rethrowQuota(e, 'The run');
    }
    return { runId: run.id, modelId: saved.id, existed: false };
  },

  /** Training throughput on this backend: one warm-up step, then `steps` timed steps. */
  async measureSpeed(request: SpeedRequest): Promise<SpeedMeasurement> {
    const { active } = await requireBackend();
    if (job) throw new StudioError('RUN_BUSY', 'A run is in progress: its own speed is shown instead.');
    const steps = request.steps ?? 2;
    const run = async (): Promise<SpeedMeasurement> => {
      const model = createTrainableEResFD(await loadModelWeights(request.modelId));
      const stamps: number[] = [];
      const trainer = createTrainer(model, probeSource(request.batchSize * (steps + 1)), probeSource(1), { size: request.size, batchSize: request.batchSize, seed: 0 }, {
        onProgress: () => stamps.push(performance.now()),
      });
      try {
        await trainer.runEpoch(0);
      } finally {
        trainer.dispose();
        model.dispose();
      }
      const seconds = (stamps[stamps.length - 1]! - stamps[0]!) / 1000;
      return { backend: active, size: request.size, batchSize: request.batchSize, imagesPerSec: (steps * request.batchSize) / seconds };
    };
    const p = run();
    measuring = p;
    try {
      return await p;
    } finally {
      if (measuring === p) measuring = null;
    }
  },
};

export type PipelineApi = typeof api;

Comlink.expose(api);
