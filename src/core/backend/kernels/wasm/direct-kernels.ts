/**
 * The direct WASM-SIMD kernels of train_kernels.c, instantiated against the TF.js WASM backend's own
 * memory so they read and write tensors where TF.js keeps them (no copies). Plain memory in Node and
 * in single-threaded browsers; the shared variant for TF.js's threaded build (SharedArrayBuffer).
 * `null` when TF.js runs more than two WASM threads, its memory cannot be reached or the module does
 * not instantiate: callers fall back to the XNNPACK formulations.
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import { TRAIN_KERNELS_WASM_PLAIN, TRAIN_KERNELS_WASM_SHARED } from './train-kernels-wasm.generated.ts';

/** dw[KH,KW,Ci,Co] of an NHWC conv; pointers are byte offsets in the backend's heap. Co % 4 === 0. */
export type ConvFilterGradFn = (
  x: number, dy: number, dw: number,
  B: number, H: number, W: number, Ci: number, OH: number, OW: number, Co: number,
  KH: number, KW: number, sh: number, sw: number, pt: number, pl: number,
) => void;

/** dx[B,H,W,Ci] of an NHWC conv from dy and the filter as [KH,KW,Co,Ci] (not flipped). Ci % 4 === 0. */
export type ConvInputGradFn = ConvFilterGradFn;

/**
 * Per-channel float64 sums over M rows of C channels (C % 4 === 0) into `out` (byte offset, 8-aligned):
 * mode 0 Σx, mode 1 Σ(x−μ)², mode 2 Σg and Σg·(x−μ) with g = dy masked by the ReLU of (x−μ)·s + β.
 */
export type BnSumsFn = (x: number, dy: number, M: number, C: number, mean: number, scale: number, shift: number, mode: 0 | 1 | 2, relu: 0 | 1, out: number) => void;
/** mode 0: act((x−μ)·a + b); mode 1: a·g + b + k·(x−μ) with g as in BnSumsFn (s, β). */
export type BnMapFn = (x: number, dy: number, M: number, C: number, mean: number, a: number, b: number, k: number, s: number, beta: number, mode: 0 | 1, relu: 0 | 1, out: number) => void;

export interface DirectKernels {
  convFilterGrad: ConvFilterGradFn;
  convInputGrad: ConvInputGradFn;
  bnSums: BnSumsFn;
  bnMap: BnMapFn;
}

/** A WebAssembly.Memory, as far as these kernels look at it. */
interface MemoryLike {
  readonly buffer: ArrayBufferLike;
}

/** The part of tfjs-backend-wasm's emscripten module that holds its memory (plain and threaded builds). */
interface EmscriptenModuleLike {
  wasmMemory?: MemoryLike;
  asm?: { memory?: MemoryLike };
  tfjs?: { getThreadsCount?: () => number };
}

/**
 * The direct kernels run on one thread. Against XNNPACK on one thread they make a step 1.6–1.7×
 * faster (Node, and Chromium's threaded build running one thread: `npm run bench -- --only browser`);
 * their filter-gradient and BatchNorm kernels are 3–4× faster, which two threads cannot make up.
 * Beyond two threads XNNPACK's multi-threaded kernels may win, and this 2-core machine cannot
 * measure it: there the studio keeps XNNPACK.
 */
const MAX_XNNPACK_THREADS = 2;

/**
 * The global WebAssembly API, typed locally: the core compiles without DOM or Node types, and the
 * Node zone's @types/node does not declare it.
 */
interface WebAssemblyLike {
  Module: new (bytes: Uint8Array<ArrayBuffer>) => object;
  Instance: new (module: object, imports: Record<string, Record<string, unknown>>) => { readonly exports: Record<string, unknown> };
}

/**
 * Byte offset of a tensor on the WASM heap, the pointer the kernels take. Offsets stay valid when the
 * heap grows (views do not): take them after the last allocation before a call.
 */
export function heapOffset(backend: { typedArrayFromHeap(info: TensorInfo): { byteOffset: number } }, t: TensorInfo): number {
  return backend.typedArrayFromHeap(t).byteOffset;
}

const instances = new WeakMap<object, DirectKernels | null>();
let enabled = true;

/**
 * Turns the direct kernels off (every caller takes its XNNPACK path) or back on: for side-by-side
 * benchmarks and tests; the studio leaves them on.
 */
export function setDirectTrainingKernels(on: boolean): void {
  enabled = on;
}

function decode(b64: string): Uint8Array<ArrayBuffer> {
  const s = atob(b64);
  const bytes = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
  return bytes;
}

function instantiate(module: EmscriptenModuleLike): DirectKernels | null {
  if ((module.tfjs?.getThreadsCount?.() ?? 1) > MAX_XNNPACK_THREADS) return null;
  const memory = module.wasmMemory ?? module.asm?.memory;
  const wasm = (globalThis as { WebAssembly?: WebAssemblyLike }).WebAssembly;
  if (!memory || !wasm) return null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  try {
    const instance = new wasm.Instance(new wasm.Module(decode(shared ? TRAIN_KERNELS_WASM_SHARED : TRAIN_KERNELS_WASM_PLAIN)), { env: { memory } });
    const e = instance.exports;
    const names = ['conv_filter_grad', 'conv_input_grad', 'bn_sums', 'bn_map'];
    if (names.some((n) => typeof e[n] !== 'function')) return null;
    return {
      convFilterGrad: e['conv_filter_grad'] as ConvFilterGradFn,
      convInputGrad: e['conv_input_grad'] as ConvInputGradFn,
      bnSums: e['bn_sums'] as BnSumsFn,
      bnMap: e['bn_map'] as BnMapFn,
    };
  } catch {
    // No SIMD, a memory limit the import does not accept, or a CSP without wasm-eval: XNNPACK paths.
    return null;
  }
}

/** The direct kernels bound to this WASM backend's memory, or null (instantiated once per backend). */
export function directKernels(backend: object): DirectKernels | null {
  if (!enabled) return null;
  const module = (backend as { wasm?: EmscriptenModuleLike }).wasm;
  if (!module || typeof module !== 'object') return null;
  let kernels = instances.get(module);
  if (kernels === undefined) {
    kernels = instantiate(module);
    instances.set(module, kernels);
  }
  return kernels;
}
