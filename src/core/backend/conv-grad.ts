/**
 * Gradient kernels the TF.js WASM backend (4.22) lacks, so `tf.grads` through the EResFD graph
 * can run on WASM. Found missing by differentiating every op the model and loss use on WASM:
 *
 *   Conv2DBackpropFilter                 conv2d / fused conv2d weight gradient     (needed by EResFD)
 *   DepthwiseConv2dNativeBackpropInput   depthwise/separable conv input gradient  (not used by EResFD)
 *   DepthwiseConv2dNativeBackpropFilter  depthwise/separable conv weight gradient (not used by EResFD)
 *   UnsortedSegmentSum                   gradient of tf.gather                    (not used by EResFD)
 *
 * WASM 4.22 already has ResizeNearestNeighborGrad (correct, unlike CPU's: cpu-kernel-fixes.ts),
 * MaxPoolGrad, AvgPoolGrad, ResizeBilinearGrad; the gradients of relu, max, maximum,
 * moments/batchNorm, logSumExp, concat, slice, pad, transpose and the loss ops are compositions of
 * kernels WASM has. It also has Conv2DBackpropInput, but as a scalar loop 4–8× slower than a
 * convolution on the stride-1/2 3×3 layers that dominate EResFD, so that one is replaced there
 * (and kept for the strided cases where it wins). Its OneHot writes int32 whatever dtype is asked
 * for, so callers must cast (the loss does).
 *
 * Each kernel is composed from WASM kernels (looked up with `tf.getKernel(name, 'wasm')` and called
 * with the backend, the way tfjs-backend-wasm composes its own kernels), and frees every
 * intermediate with `backend.disposeData`; the engine never sees the intermediates.
 *
 *   Conv2DBackpropFilter: a stride-1 convolution of the transposed input with the transposed,
 *     s-dilated dy (see backpropFilter) — one XNNPACK Conv2D plus three transposes. (A per-tap
 *     strided-slice + GEMM version measured 7–20× slower: WASM's transposed BatchMatMul and
 *     StridedSlice are slow.)
 *   Conv2DBackpropInput: the stride-1 correlation of the zero-dilated dy with the flipped,
 *     transposed filter (see backpropInput).
 *   Depthwise (multiplier M): the depthwise conv equals a dense conv with the block-diagonal filter
 *     F'[.., c, c·M+m] = f[.., c, m]; input grad = the dense input grad with F', filter grad = the
 *     diagonal blocks of the dense filter grad. C× the work of a native kernel: a correctness
 *     fallback; dilations > 1 are rejected.
 *   UnsortedSegmentSum: oneHot(ids, S)ᵀ · x, out-of-range ids contribute nothing (as in TF).
 *
 * Only NHWC ('channelsLast') is supported, like the WASM forward convolutions.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';

const BACKEND = 'wasm';

/** The part of BackendWasm these kernels use. */
interface WasmBackendLike {
  disposeData(dataId: DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): TensorInfo;
}

type Conv2DDataFormat = 'NHWC' | 'NCHW';
type ConvPad = 'valid' | 'same' | number | tf.backend_util.ExplicitPadding;

function run(backend: WasmBackendLike, kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(kernelName, BACKEND);
  if (!kernel) throw new Error(`conv-grad: WASM kernel ${kernelName} is not registered`);
  return kernel.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs }) as TensorInfo;
}

function free(backend: WasmBackendLike, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

function reshape(backend: WasmBackendLike, x: TensorInfo, shape: number[]): TensorInfo {
  return run(backend, 'Reshape', { x }, { shape });
}

function assertChannelsLast(dataFormat: string | undefined, kernel: string): void {
  if (dataFormat !== undefined && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`conv-grad: ${kernel} on WASM supports NHWC only, got ${dataFormat}`);
  }
}

function assertNoDilation(dilations: number | [number, number] | undefined, kernel: string): void {
  const d = dilations === undefined ? [1, 1] : typeof dilations === 'number' ? [dilations, dilations] : dilations;
  if (d[0] !== 1 || d[1] !== 1) throw new Error(`conv-grad: ${kernel} on WASM supports dilation 1 only`);
}

/**
 * dW `[KH, KW, Ci, Co]` of a stride-s NHWC conv from x `[B, H, W, Ci]` and dy `[B, OH, OW, Co]`.
 *
 * dW[kh,kw,ci,co] = Σ_{b,oy,ox} x_pad[b, s·oy+kh, s·ox+kw, ci] · dy[b, oy, ox, co] is itself a
 * convolution: input xᵀ `[Ci, H, W, B]` (ci as batch, b as channels), filter dyᵀ `[OH, OW, B, Co]`
 * dilated by s, stride 1, the forward's padding. WASM runs it with its fast (XNNPACK) Conv2D; the
 * output is `[Ci, KH, KW, Co]` (cropped when the forward ignored trailing rows/cols).
 */
function backpropFilter(
  backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, filterShape: [number, number, number, number],
  strides: number | [number, number], pad: ConvPad, dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`conv-grad: dy [${dy.shape.join(', ')}] does not fit conv output [${B}, ${OH}, ${OW}, ${Co}]`);
  }
  const top = padInfo.top, left = padInfo.left;
  // Pad the far side just enough for the last tap; rows the forward never read are cropped below.
  const bottom = Math.max(0, KH + (OH - 1) * sh - H - top);
  const right = Math.max(0, KW + (OW - 1) * sw - W - left);
  const xT = run(backend, 'Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = run(backend, 'Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  const conv = run(backend, 'Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1], pad: [[0, 0], [top, bottom], [left, right], [0, 0]], dataFormat: 'NHWC', dilations: [sh, sw],
  }); // [Ci, ≥KH, ≥KW, Co]
  const exact = conv.shape[1] === KH && conv.shape[2] === KW;
  const cropped = exact ? conv : run(backend, 'Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [Ci, KH, KW, Co] });
  try {
    return run(backend, 'Transpose', { x: cropped }, { perm: [1, 2, 0, 3] });
  } finally {
    free(backend, xT, dyT, conv);
    if (!exact) free(backend, cropped);
  }
}

const conv2DBackpropFilter: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number]; pad: ConvPad; dataFormat: Conv2DDataFormat;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  assertChannelsLast(dataFormat, 'Conv2DBackpropFilter');
  return backpropFilter(backend as unknown as WasmBackendLike, x, dy, filterShape, strides, pad, dimRoundingMode);
};

/**
 * dx `[B, H, W, Ci]` of a stride-s NHWC conv from dy `[B, OH, OW, Co]` and filter `[KH, KW, Ci, Co]`:
 * the stride-1 correlation of the zero-dilated dy with the spatially flipped, in/out-transposed
 * filter, padded by KH−1−top (top/left) and whatever makes the output exactly H×W. The zero
 * dilation (s−1 zeros between dy samples) costs s² more multiply-adds on strided convs, still far
 * below WASM's native loop kernel.
 */
function backpropInput(
  backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, inputShape: [number, number, number, number],
  strides: number | [number, number], pad: ConvPad, dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    inputShape, filter.shape as [number, number, number, number], strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`conv-grad: dy [${dy.shape.join(', ')}] does not fit conv output [${B}, ${OH}, ${OW}, ${Co}]`);
  }
  const owned: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (owned.push(t), t);
  try {
    let dyd = dy;
    if (sh > 1 || sw > 1) {
      const d6 = keep(reshape(backend, dy, [B, OH, 1, OW, 1, Co]));
      const padded = keep(run(backend, 'PadV2', { x: d6 }, {
        paddings: [[0, 0], [0, 0], [0, sh - 1], [0, 0], [0, sw - 1], [0, 0]], constantValue: 0 }));
      dyd = keep(reshape(backend, padded, [B, OH * sh, OW * sw, Co])); // trailing s−1 zero rows/cols
    }
    let padT = KH - 1 - padInfo.top, padL = KW - 1 - padInfo.left;
    let rows = dyd.shape[1]!, cols = dyd.shape[2]!;
    let rowStart = 0, colStart = 0;
    // Negative leading pad: the first dy rows only reach input rows above 0; drop them.
    if (padT < 0) { rowStart = -padT; rows -= rowStart; padT = 0; }
    if (padL < 0) { colStart = -padL; cols -= colStart; padL = 0; }
    let padB = H + KH - 1 - rows - padT;
    let padR = W + KW - 1 - cols - padL;
    // Negative trailing pad: those dy rows (incl. the dilation's trailing zeros) only reach rows ≥ H.
    if (padB < 0) { rows += padB; padB = 0; }
    if (padR < 0) { cols += padR; padR = 0; }
    if (rowStart > 0 || colStart > 0 || rows !== dyd.shape[1] || cols !== dyd.shape[2]) {
      dyd = keep(run(backend, 'Slice', { x: dyd }, { begin: [0, rowStart, colStart, 0], size: [B, rows, cols, Co] }));
    }
    const flipped = keep(run(backend, 'Reverse', { x: filter }, { dims: [0, 1] }));
    const wT = keep(run(backend, 'Transpose', { x: flipped }, { perm: [0, 1, 3, 2] })); // [KH, KW, Co, Ci]
    return run(backend, 'Conv2D', { x: dyd, filter: wT }, {
      strides: [1, 1], pad: [[0, 0], [padT, padB], [padL, padR], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1],
    });
  } finally {
    free(backend, ...owned);
  }
}

/** WASM's own Conv2DBackpropInput, kept for the strided cases where it beats the zero-dilated conv. */
let nativeBackpropInput: KernelFunc | undefined;
let backpropInputMode: 'auto' | 'conv' = 'auto';

const conv2DBackpropInput: KernelFunc = (args) => {
  const { inputs, backend, attrs } = args;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: number | [number, number]; pad: ConvPad; dataFormat: Conv2DDataFormat;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
  };
  assertChannelsLast(dataFormat, 'Conv2DBackpropInput');
  const [sh, sw] = typeof strides === 'number' ? [strides, strides] : strides;
  const taps = filter.shape[0]! * filter.shape[1]!;
  // Measured at [4,160,160,16] / [4,640,640,3]: 3×3 s1 268 → 32 ms, 3×3 s2 165 → 40 ms, but
  // 1×1 s2 22 → 46 ms and 5×5 s4 217 → 479 ms (s² zero work dominates), so those stay native.
  const useConv = backpropInputMode === 'conv' || !nativeBackpropInput || sh * sw === 1 || (sh * sw <= 4 && taps >= 9);
  if (!useConv) return nativeBackpropInput!(args);
  return backpropInput(backend as unknown as WasmBackendLike, dy, filter, inputShape, strides, pad, dimRoundingMode);
};

/** `[1, 1, C, C, 1]` identity, the block-diagonal selector of the depthwise ↔ dense mapping. */
function channelEye(backend: WasmBackendLike, C: number): TensorInfo {
  const eye = new Float32Array(C * C);
  for (let c = 0; c < C; c++) eye[c * C + c] = 1;
  return backend.makeOutput([1, 1, C, C, 1], 'float32', undefined, eye);
}

const depthwiseBackpropInput: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as WasmBackendLike;
  const { dy, filter } = inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, inputShape } = attrs as unknown as {
    strides: number | [number, number]; dilations: number | [number, number]; pad: ConvPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number];
  };
  assertNoDilation(dilations, 'DepthwiseConv2dNativeBackpropInput');
  const [KH, KW, C, Mult] = filter.shape as [number, number, number, number];
  const f5 = reshape(backend, filter, [KH, KW, C, 1, Mult]);
  const eye = channelEye(backend, C);
  const blocks = run(backend, 'Multiply', { a: f5, b: eye }); // [KH, KW, C, C, M]
  const dense = reshape(backend, blocks, [KH, KW, C, C * Mult]);
  try {
    return backpropInput(backend, dy, dense, inputShape, strides, pad, dimRoundingMode);
  } finally {
    free(backend, f5, eye, blocks, dense);
  }
};

const depthwiseBackpropFilter: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as WasmBackendLike;
  const { x, dy } = inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, dilations, pad, dimRoundingMode, filterShape } = attrs as unknown as {
    strides: number | [number, number]; dilations: number | [number, number]; pad: ConvPad;
    dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number];
  };
  assertNoDilation(dilations, 'DepthwiseConv2dNativeBackpropFilter');
  const [KH, KW, C, Mult] = filterShape;
  const dense = backpropFilter(backend, x, dy, [KH, KW, C, C * Mult], strides, pad, dimRoundingMode);
  const d5 = reshape(backend, dense, [KH, KW, C, C, Mult]);
  const eye = channelEye(backend, C);
  // The eye is symmetric, so masking the [.., c_in, c_out, m] blocks and summing c_out keeps f[.., c, m].
  const masked = run(backend, 'Multiply', { a: d5, b: eye });
  try {
    return run(backend, 'Sum', { x: masked }, { axis: [3], keepDims: false });
  } finally {
    free(backend, dense, d5, eye, masked);
  }
};

const unsortedSegmentSum: KernelFunc = ({ inputs, backend: b, attrs }) => {
  const backend = b as unknown as WasmBackendLike;
  const { x, segmentIds } = inputs as { x: TensorInfo; segmentIds: TensorInfo };
  const { numSegments } = attrs as unknown as { numSegments: number };
  const n = tf.util.sizeFromShape(segmentIds.shape);
  const rest = x.shape.slice(segmentIds.shape.length);
  const restSize = tf.util.sizeFromShape(rest);
  const ids = reshape(backend, segmentIds, [n]);
  const idsI32 = segmentIds.dtype === 'int32' ? ids : run(backend, 'Cast', { x: ids }, { dtype: 'int32' });
  // WASM's OneHot writes int32 whatever the dtype attr says, so build it as int32 and cast.
  const oneHotI32 = run(backend, 'OneHot', { indices: idsI32 }, { depth: numSegments, onValue: 1, offValue: 0, dtype: 'int32' });
  const oneHot = run(backend, 'Cast', { x: oneHotI32 }, { dtype: 'float32' });
  const a = reshape(backend, oneHot, [1, n, numSegments]);
  const xf = x.dtype === 'float32' ? x : run(backend, 'Cast', { x }, { dtype: 'float32' });
  const x3 = reshape(backend, xf, [1, n, restSize]);
  const prod = run(backend, 'BatchMatMul', { a, b: x3 }, { transposeA: true, transposeB: false }); // [1, S, rest]
  const shaped = reshape(backend, prod, [numSegments, ...rest]);
  try {
    return x.dtype === 'float32' ? shaped : run(backend, 'Cast', { x: shaped }, { dtype: x.dtype });
  } finally {
    free(backend, ids, oneHotI32, oneHot, a, x3, prod);
    if (idsI32 !== ids) free(backend, idsI32);
    if (xf !== x) free(backend, xf);
    if (x.dtype !== 'float32') free(backend, shaped);
  }
};

const KERNELS: ReadonlyArray<{ kernelName: string; kernelFunc: KernelFunc }> = [
  { kernelName: 'Conv2DBackpropFilter', kernelFunc: conv2DBackpropFilter },
  { kernelName: 'DepthwiseConv2dNativeBackpropInput', kernelFunc: depthwiseBackpropInput },
  { kernelName: 'DepthwiseConv2dNativeBackpropFilter', kernelFunc: depthwiseBackpropFilter },
  { kernelName: 'UnsortedSegmentSum', kernelFunc: unsortedSegmentSum },
];

/** WASM has this one natively, but as a scalar loop up to ~8× slower than the XNNPACK conv used here. */
const REPLACEMENTS: ReadonlyArray<{ kernelName: string; kernelFunc: KernelFunc }> = [
  { kernelName: 'Conv2DBackpropInput', kernelFunc: conv2DBackpropInput },
];

export interface WasmTrainingKernelOptions {
  /**
   * Conv2DBackpropInput on WASM: 'auto' (default) uses the XNNPACK-conv formulation where it is
   * faster and WASM's native kernel elsewhere; 'conv' always the former (tests); 'native' keeps
   * WASM's kernel untouched.
   */
  backpropInput?: 'auto' | 'conv' | 'native';
}

/**
 * Registers the missing WASM gradient kernels (and, unless `backpropInput: 'native'`, the faster
 * Conv2DBackpropInput). Idempotent; a missing kernel that WASM (a later TF.js) already provides is
 * left alone. Returns the names registered by this call. ('native' after an earlier call does not
 * restore WASM's kernel; it only skips the replacement.) Call it from an entry point after importing
 * `@tensorflow/tfjs-backend-wasm`; the backend need not be initialised yet.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): string[] {
  const added: string[] = [];
  for (const { kernelName, kernelFunc } of KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    added.push(kernelName);
  }
  const mode = options.backpropInput ?? 'auto';
  if (mode !== 'native') {
    backpropInputMode = mode;
    for (const { kernelName, kernelFunc } of REPLACEMENTS) {
      const existing = tf.getKernel(kernelName, BACKEND);
      if (existing?.kernelFunc === kernelFunc) continue;
      if (existing && kernelName === 'Conv2DBackpropInput') nativeBackpropInput = existing.kernelFunc;
      // registerKernel on a taken name only warns and overwrites; unregister first to stay quiet.
      if (existing) tf.unregisterKernel(kernelName, BACKEND);
      // Keep the native setupFunc: the backend runs it at initialisation to bind the WASM function
      // the native kernel (still called for some strides) needs.
      tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc, ...(existing?.setupFunc ? { setupFunc: existing.setupFunc } : {}) });
      added.push(kernelName);
    }
  }
  return added;
}

/** Kernel names this module provides for WASM (for diagnostics and tests). */
export const WASM_TRAINING_KERNELS: readonly string[] = [...KERNELS, ...REPLACEMENTS].map((k) => k.kernelName);
