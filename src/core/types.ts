/**
 * Plain data types shared by every part of the core and by its adapters (worker, CLI, UI).
 * Everything here is structured-cloneable: these are what cross a worker boundary. Tensors never do.
 */

/** A host-side tensor as stored in a PyTorch checkpoint (row-major, PyTorch layout). */
export interface HostTensor {
  dtype: 'float32' | 'int64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

/** Canonical key (SPEC §2, `alias_of: null`) → tensor. Insertion order = checkpoint order. */
export type StateDict = Map<string, HostTensor>;

/** An 8-bit image, row-major, RGB or RGBA (alpha ignored). */
export interface RgbImage {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Uint8Array | Uint8ClampedArray;
}

/** One detection in original-image pixels: x1, y1, x2, y2, face score. */
export type Detection = [number, number, number, number, number];

/** TF.js backends the studio knows, fastest first: the default order `selectBackend` tries them in. */
export const BACKEND_NAMES = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;

export type BackendName = (typeof BACKEND_NAMES)[number];

export interface BackendProbe {
  name: BackendName;
  ok: boolean;
  /** Why the backend was skipped (registration failed, self-test output wrong, ...). */
  error?: string;
  /** Time of the self-test forward in ms. */
  ms?: number;
}

export interface BackendSelection {
  active: BackendName;
  probes: BackendProbe[];
}

export interface GroupInfo {
  name: string;
  parameters: number;
  /** Parameters exactly zero inside the group. */
  zeros: number;
}

export interface ModelInfo {
  /** Unique parameters (SPEC §1.8: 92,208 for EResFD). */
  parameters: number;
  /** 100 · zero parameters / parameters (SPEC §3.4). */
  sparsity: number;
  groups: GroupInfo[];
  /** Parameters outside every group (the detection heads, never pruned). */
  ungrouped: GroupInfo;
  /** Conv-only MACs at 480×640 with zeroed filters still counted (a masked model computes them). */
  macs480x640: number;
}

export interface DetectResult {
  width: number;
  height: number;
  shrink: number;
  detections: Detection[];
  /** Network forward time (ms), and the whole call incl. resize, decode and NMS. */
  forwardMs: number;
  totalMs: number;
}
