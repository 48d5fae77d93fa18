/**
 * The compute worker: registers the TF.js backends, then exposes a thin API over the core with Comlink.
 * Plain structured-cloneable data goes in and out; tensors and the model never leave this worker.
 * The UI reaches it only through src/app/compute-client.ts.
 */
import * as Comlink from 'comlink';
import '../src/platform/browser/register-backends.ts';
import { softwareAdapterReason } from '../src/platform/browser/software-adapter.ts';
import {
  createEResFD,
  describeModel,
  detectFaces,
  readCheckpoint,
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

/** What `loadModel` returns: the model card data plus the checkpoint's archive name. */
export interface LoadedModelInfo extends ModelInfo {
  archiveName: string;
}

export type DetectOptions = Pick<DetectFacesOptions, 'scoreThreshold'>;

let selection: Promise<BackendSelection> | null = null;
let model: EResFDModel | null = null;

/** The default order passes over software GPU adapters; an explicit order (`?backend=`) is obeyed as is. */
function pick(order?: BackendName[]): Promise<BackendSelection> {
  return order ? selectBackend(order) : selectBackend(undefined, { skip: softwareAdapterReason });
}

function requireBackend(): Promise<BackendSelection> {
  selection ??= pick();
  return selection;
}

const api = {
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
    const { stateDict, archiveName } = readCheckpoint(new Uint8Array(bytes));
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
};

export type ComputeApi = typeof api;

Comlink.expose(api);
