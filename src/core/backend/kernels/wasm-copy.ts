/**
 * Faster data-movement kernels for the TF.js WASM backend (4.22), registered over its own:
 *
 *   Identity  WASM copies the whole buffer; here the output shares the input's data, as the CPU
 *             backend's Identity and WASM's own Reshape do (no WASM kernel writes into an input).
 *             The engine clones every tensor it saves for a gradient, so a training step ran
 *             ~2,300 full copies through this kernel.
 *   Slice     WASM first copies the whole input out of the heap (`readSync`), then copies each
 *   SplitV    innermost row with `set(subarray(..))`, one typed-array allocation per row — for a
 *   Concat    channel slice of an NHWC map that is one allocation per pixel (3 ms for the FEM
 *             concat at 120×160). Here rows are copied straight inside the heap: short rows
 *             element by element, long rows with `copyWithin`. Concat and SplitV (the gradient
 *             of concat) move data the same way.
 *   ResizeNearestNeighbor  by integer factors (the FPN's 2×) is a copy too: 4× faster than
 *             WASM's index-computing loop (0.5 → 0.1 ms at [1,60,80,16] → 120×160).
 *
 * Values are copied bit for bit (4-byte types through an Int32Array view, bool bytes as bytes), so
 * the results equal WASM's own kernels exactly. String tensors go to WASM's original kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, KernelFunc, TensorInfo } from '@tensorflow/tfjs-core';
import { nearestSourceIndex } from '../cpu-kernel-fixes.ts';

const BACKEND = 'wasm';

/** The part of BackendWasm these kernels use. */
interface WasmBackendLike {
  wasm: { HEAPU8: Uint8Array };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } | undefined };
  incRef(dataId: DataId): void;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
}

/** Rows shorter than this are copied in a JS loop; longer ones with `copyWithin` (a native memmove). */
const LOOP_MAX = 32;

type Heap = Int32Array | Uint8Array;

/** A view of the whole WASM heap in units of `dtype`'s element size. */
function heapOf(backend: WasmBackendLike, dtype: tf.DataType): Heap {
  const buffer = backend.wasm.HEAPU8.buffer;
  return dtype === 'bool' ? new Uint8Array(buffer) : new Int32Array(buffer);
}

function offsetOf(backend: WasmBackendLike, info: TensorInfo, heap: Heap): number {
  return backend.dataIdMap.get(info.dataId)!.memoryOffset / heap.BYTES_PER_ELEMENT;
}

function copyRun(heap: Heap, src: number, dst: number, n: number): void {
  if (n >= LOOP_MAX) {
    heap.copyWithin(dst, src, src + n);
    return;
  }
  let j = 0;
  for (; j + 4 <= n; j += 4) {
    heap[dst + j] = heap[src + j]!; heap[dst + j + 1] = heap[src + j + 1]!; heap[dst + j + 2] = heap[src + j + 2]!; heap[dst + j + 3] = heap[src + j + 3]!;
  }
  for (; j < n; j++) heap[dst + j] = heap[src + j]!;
}

/**
 * Copies `count` rows of `n` elements, row r from `src + r·srcStride` to `dst + r·dstStride`. The
 * channel counts of EResFD's maps (1–4, 8) get unrolled loops: about twice the speed of the
 * generic loop, which V8 does not unroll for a run-time n.
 */
function copyRows(heap: Heap, src: number, srcStride: number, dst: number, dstStride: number, count: number, n: number): void {
  const end = src + count * srcStride;
  switch (n) {
    case 1:
      for (; src < end; src += srcStride, dst += dstStride) heap[dst] = heap[src]!;
      return;
    case 2:
      for (; src < end; src += srcStride, dst += dstStride) {
        heap[dst] = heap[src]!; heap[dst + 1] = heap[src + 1]!;
      }
      return;
    case 3:
      for (; src < end; src += srcStride, dst += dstStride) {
        heap[dst] = heap[src]!; heap[dst + 1] = heap[src + 1]!; heap[dst + 2] = heap[src + 2]!;
      }
      return;
    case 4:
      for (; src < end; src += srcStride, dst += dstStride) {
        heap[dst] = heap[src]!; heap[dst + 1] = heap[src + 1]!; heap[dst + 2] = heap[src + 2]!; heap[dst + 3] = heap[src + 3]!;
      }
      return;
    case 8:
      for (; src < end; src += srcStride, dst += dstStride) {
        heap[dst] = heap[src]!; heap[dst + 1] = heap[src + 1]!; heap[dst + 2] = heap[src + 2]!; heap[dst + 3] = heap[src + 3]!;
        heap[dst + 4] = heap[src + 4]!; heap[dst + 5] = heap[src + 5]!; heap[dst + 6] = heap[src + 6]!; heap[dst + 7] = heap[src + 7]!;
      }
      return;
    default:
      for (; src < end; src += srcStride, dst += dstStride) copyRun(heap, src, dst, n);
  }
}

/** Whether the nearest resize maps output pixel o to source pixel ⌊o·in/out⌋ = ⌊o/f⌋ for an integer f. */
function isBlockUpsample(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): boolean {
  const f = outSize / inSize;
  return Number.isInteger(f) && nearestSourceIndex(inSize, outSize, alignCorners, halfPixelCenters).every((s, o) => s === Math.floor(o / f));
}

/** Kernels replaced here, kept for the string dtype (and ResizeNearestNeighbor's general case). */
const originals = new Map<string, KernelFunc>();

function fallback(kernelName: string): KernelFunc {
  const f = originals.get(kernelName);
  if (!f) throw new Error(`wasm-copy: no original WASM ${kernelName} kernel`);
  return f;
}

const identity: KernelFunc = (args) => {
  const { inputs: { x }, backend } = args as unknown as { inputs: { x: TensorInfo }; backend: WasmBackendLike };
  if (x.dtype === 'string') return fallback('Identity')(args);
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
};

/** The slice `[begin, begin + size)` of x into a new tensor (sizes already resolved, no −1). */
function sliceInfo(backend: WasmBackendLike, x: TensorInfo, begin: number[], size: number[]): TensorInfo {
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  // Normalised view: unit axes dropped and every fully kept axis merged into the one before it, so
  // only the last axis is a contiguous run and every earlier one is partial (e.g. a tap window
  // [Ci, B, 80, 1, 80, 1] of [Ci, B, 82, 1, 82, 1] becomes rows of 80 in [Ci·B, 82, 82]).
  const dims: Array<{ extent: number; begin: number; size: number }> = [];
  x.shape.forEach((extent, i) => {
    if (extent === 1) return;
    const last = dims[dims.length - 1];
    if (last && begin[i] === 0 && size[i] === extent) {
      last.extent *= extent;
      last.begin *= extent;
      last.size *= extent;
    } else {
      dims.push({ extent, begin: begin[i]!, size: size[i]! });
    }
  });
  // Views after makeOutput: allocating may grow (and so detach) the heap.
  const heap = heapOf(backend, x.dtype);
  let src = offsetOf(backend, x, heap);
  let dst = offsetOf(backend, out, heap);
  if (dims.length === 0) {
    heap[dst] = heap[src]!;
    return out;
  }
  const strides = [...tf.util.computeStrides(dims.map((d) => d.extent)), 1];
  dims.forEach((d, i) => (src += d.begin * strides[i]!));
  const run = dims[dims.length - 1]!.size;
  if (dims.length === 1) {
    copyRun(heap, src, dst, run);
    return out;
  }
  // Rows along the second-to-last axis are evenly spaced; the axes before it step like an odometer.
  const inner = dims.length - 2;
  const rowCount = dims[inner]!.size;
  const outer = dims.slice(0, inner).reduce((n, d) => n * d.size, 1);
  const index = new Array<number>(inner).fill(0);
  for (let o = 0; o < outer; o++) {
    copyRows(heap, src, strides[inner]!, dst, run, rowCount, run);
    dst += rowCount * run;
    for (let k = inner - 1; k >= 0; k--) {
      src += strides[k]!;
      if (++index[k]! < dims[k]!.size) break;
      src -= dims[k]!.size * strides[k]!;
      index[k] = 0;
    }
  }
  return out;
}

const slice: KernelFunc = (args) => {
  const { inputs: { x }, attrs, backend } = args as unknown as {
    inputs: { x: TensorInfo }; attrs: { begin: number | number[]; size: number | number[] }; backend: WasmBackendLike;
  };
  if (x.dtype === 'string') return fallback('Slice')(args);
  const [begin, size] = tf.slice_util.parseSliceParams(x as tf.Tensor, attrs.begin, attrs.size);
  return sliceInfo(backend, x, begin, size);
};

const splitV: KernelFunc = (args) => {
  const { inputs: { x }, attrs, backend } = args as unknown as {
    inputs: { x: TensorInfo }; attrs: { numOrSizeSplits: number | number[]; axis: number | number[] }; backend: WasmBackendLike;
  };
  if (x.dtype === 'string') return fallback('SplitV')(args);
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0]!;
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
  const begin = new Array<number>(x.shape.length).fill(0);
  return sizes.map((s) => {
    const size = x.shape.slice();
    size[axis] = s;
    const part = sliceInfo(backend, x, begin.slice(), size);
    begin[axis]! += s;
    return part;
  });
};

const concat: KernelFunc = (args) => {
  const { inputs, attrs, backend } = args as unknown as { inputs: TensorInfo[]; attrs: { axis: number | number[] }; backend: WasmBackendLike };
  if (inputs[0]!.dtype === 'string') return fallback('Concat')(args);
  const axis = tf.util.parseAxisParam(attrs.axis, inputs[0]!.shape)[0]!;
  tf.backend_util.assertParamsConsistent(inputs.map((t) => t.shape), axis);
  const outShape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const parts = inputs.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
  if (parts.length === 1) return identity({ inputs: { x: parts[0]! }, backend: backend as unknown as tf.KernelBackend, attrs: {} });
  const out = backend.makeOutput(outShape, inputs[0]!.dtype);
  if (parts.length === 0) return out;
  const heap = heapOf(backend, out.dtype);
  const outer = tf.util.sizeFromShape(outShape.slice(0, axis));
  const rowLength = tf.util.sizeFromShape(outShape.slice(axis));
  let dst = offsetOf(backend, out, heap);
  for (const t of parts) {
    const n = tf.util.sizeFromShape(t.shape.slice(axis));
    copyRows(heap, offsetOf(backend, t, heap), n, dst, rowLength, outer, n);
    dst += n;
  }
  return out;
};

/**
 * Nearest upsampling by integer factors (the FPN's 2×, SPEC §1.4) when the forward rule maps output
 * pixel o to source pixel ⌊o/f⌋: each source pixel's channels copied f_x times along its output row,
 * the row then copied f_y − 1 times. Other cases go to WASM's own kernel.
 */
const resizeNearestNeighbor: KernelFunc = (args) => {
  const { inputs: { images }, attrs, backend } = args as unknown as {
    inputs: { images: TensorInfo }; attrs: { size: [number, number]; alignCorners?: boolean; halfPixelCenters?: boolean }; backend: WasmBackendLike;
  };
  const { size: [outH, outW], alignCorners = false, halfPixelCenters = false } = attrs;
  const [batch, inH, inW, depth] = images.shape as [number, number, number, number];
  const fy = outH / inH, fx = outW / inW;
  const blocks = images.dtype !== 'string' && isBlockUpsample(inH, outH, alignCorners, halfPixelCenters) && isBlockUpsample(inW, outW, alignCorners, halfPixelCenters);
  if (!blocks) return fallback('ResizeNearestNeighbor')(args);
  const out = backend.makeOutput([batch, outH, outW, depth], images.dtype);
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  const heap = heapOf(backend, images.dtype);
  let src = offsetOf(backend, images, heap);
  let dst = offsetOf(backend, out, heap);
  const outRow = outW * depth;
  for (let r = 0; r < batch * inH; r++, src += inW * depth) {
    for (let k = 0; k < fx; k++) copyRows(heap, src, depth, dst + k * depth, fx * depth, inW, depth);
    for (let k = 1; k < fy; k++) heap.copyWithin(dst + k * outRow, dst, dst + outRow);
    dst += fy * outRow;
  }
  return out;
};

const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: KernelFunc }> = [
  { kernelName: 'Identity', kernelFunc: identity },
  { kernelName: 'ResizeNearestNeighbor', kernelFunc: resizeNearestNeighbor },
  { kernelName: 'Slice', kernelFunc: slice },
  { kernelName: 'SplitV', kernelFunc: splitV },
  { kernelName: 'Concat', kernelFunc: concat },
];

/** Kernel names this module replaces on WASM. */
export const WASM_COPY_KERNELS: readonly string[] = KERNELS.map((k) => k.kernelName);

/**
 * Registers the copy kernels over WASM's own. Idempotent; returns the names registered by this call.
 * Call it from an entry point after importing `@tensorflow/tfjs-backend-wasm` (the backend need not
 * be initialised yet).
 */
export function registerWasmCopyKernels(): string[] {
  const added: string[] = [];
  for (const { kernelName, kernelFunc } of KERNELS) {
    const existing = tf.getKernel(kernelName, BACKEND);
    if (existing?.kernelFunc === kernelFunc) continue;
    if (!existing) throw new Error(`wasm-copy: register @tensorflow/tfjs-backend-wasm before the copy kernels (${kernelName} is missing)`);
    originals.set(kernelName, existing.kernelFunc);
    // registerKernel on a taken name only warns and overwrites; unregister first to stay quiet.
    tf.unregisterKernel(kernelName, BACKEND);
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, ...(existing.setupFunc ? { setupFunc: existing.setupFunc } : {}) });
    added.push(kernelName);
  }
  return added;
}
