/**
 * The compute worker: registers the TF.js backends, then exposes a thin API over the core with Comlink.
 * Plain structured-cloneable data goes in and out; tensors and the model never leave this worker.
 * The UI reaches it only through src/app/compute-client.ts.
 */
import * as Comlink from 'comlink';
import '../src/platform/browser/register-backends.ts';
import { softwareAdapterReason } from '../src/platform/browser/software-adapter.ts';
import {
  onnxExport,
  createEResFD,
  describeModel,
  detectFaces,
  loadEResFDCheckpoint,
  selectBackend,
  StudioError,
  type BackendName,
  type BackendSelection,
  type DetectFacesOptions,
  type DetectResult,
  type EResFDModel,
  type ModelInfo,
} from '../src/core/index.ts';
import type { RgbaFrame } from '../src/platform/browser/image-decoder.ts';
import type { StoredEvaluation } from '../src/platform/browser/idb-store.ts';
import { evaluateStoredDataset, type EvaluationProgress, type EvaluationRequest } from '../src/platform/browser/wider-evaluation.ts';
import { benchmarkStoredModel, loadStoredModel, type ModelBenchmark } from '../src/platform/browser/model-benchmark.ts';
import { getModel } from '../src/platform/browser/idb-store.ts';
import { createFeatureApi } from './features/index.ts';

/** What `loadModel` returns: the model card data plus the checkpoint's archive name. */
export interface LoadedModelInfo extends ModelInfo {
  archiveName: string;
}

export type DetectOptions = Pick<DetectFacesOptions, 'scoreThreshold'>;

let selection: Promise<BackendSelection> | null = null;
let model: EResFDModel | null = null;
/** Long runs by id, so `cancel(runId)` (not queued behind them) can abort them. */
const runs = new Map<string, AbortController>();

/** The default order passes over software GPU adapters; an explicit order (`?backend=`) is obeyed as is. */
function pick(order?: BackendName[]): Promise<BackendSelection> {
  return order ? selectBackend(order) : selectBackend(undefined, { skip: softwareAdapterReason });
}

function requireBackend(): Promise<BackendSelection> {
  selection ??= pick();
  return selection;
}

const api = {
  // Rate editor, side-by-side detection slots and teaching demos (workers/features/), on the loaded model.
  ...createFeatureApi(() => model),

  /** Picks the backend (once). `order` forces the candidates, e.g. `['wasm']` from `?backend=wasm`. */
  async init(order?: BackendName[]): Promise<BackendSelection> {
    selection ??= pick(order);
    try {
      return await selection;
    } catch (e) {
      selection = null; // allow a retry with another order
      throw e;
    }
  },

  async backend(): Promise<BackendSelection> {
    return requireBackend();
  },

  /** Parses and builds the model from checkpoint bytes; replaces (and disposes) the previous model. */
  async loadModel(bytes: ArrayBuffer): Promise<LoadedModelInfo> {
    await requireBackend();
    const { stateDict, archiveName } = loadEResFDCheckpoint(new Uint8Array(bytes));
    const info = describeModel(stateDict);
    const next = createEResFD(stateDict);
    model?.dispose();
    model = next;
    return { ...info, archiveName };
  },

  /** Detects faces in an RGBA frame (RGB accepted too); boxes in the frame's pixels. */
  async detect(frame: RgbaFrame, opts: DetectOptions = {}): Promise<DetectResult> {
    if (!model) throw new StudioError('NOT_FOUND', 'No model is loaded: load a checkpoint first.');
    const { width, height, data } = frame;
    const channels = data.length === width * height * 3 ? 3 : 4;
    return detectFaces(model, { width, height, channels, data }, opts);
  },

  /**
   * Evaluates the loaded model on a stored WIDER val dataset, stores the run and returns it (without
   * per-image data). `stored`: evaluate the stored model `request.model.id` on its own instance
   * instead (the rate editor's before/after), leaving the loaded model as it is.
   */
  async evaluateDataset(runId: string, request: EvaluationRequest, onProgress?: (p: EvaluationProgress) => void, stored = false): Promise<StoredEvaluation> {
    if (!stored && !model) throw new StudioError('NOT_FOUND', 'No model is loaded: load a checkpoint first.');
    const { active } = await requireBackend();
    const controller = new AbortController();
    runs.set(runId, controller);
    const target = stored ? await loadStoredModel(request.model.id) : model!;
    try {
      return await evaluateStoredDataset(target, request, { backend: active, signal: controller.signal, onProgress });
    } finally {
      runs.delete(runId);
      if (stored) target.dispose();
    }
  },

  /** Median 480×640 forward time of a stored model (model zoo), on a separate instance: the loaded model stays. */
  async benchmark(modelId: string, runs = 5): Promise<ModelBenchmark> {
    await requireBackend();
    return benchmarkStoredModel(modelId, runs);
  },

  /**
   * A stored model as an ONNX file (zoo "ONNX" download): compacted — the pruned filters physically
   * removed, the same outputs — unless `compact` is false. The bytes are transferred, not copied.
   */
  async exportOnnx(modelId: string, compact = true): Promise<{ bytes: ArrayBuffer; name: string }> {
    const record = await getModel(modelId);
    const stem = record.name.replace(/\.(pth|pt)$/i, '');
    const onnx = onnxExport.checkpointToOnnx(loadEResFDCheckpoint(new Uint8Array(record.bytes)).stateDict, { compact, source: record.name });
    const bytes = onnx.buffer as ArrayBuffer;
    return Comlink.transfer({ bytes, name: `${stem}${compact ? '-compact' : ''}.onnx` }, [bytes]);
  },

  /** Aborts a long run (its AbortSignal inside core); nothing of it is stored. */
  cancel(runId: string): void {
    runs.get(runId)?.abort(new DOMException('The run was cancelled.', 'AbortError'));
  },
};

export type ComputeApi = typeof api;

Comlink.expose(api);
