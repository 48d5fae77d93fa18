/**
 * Gradient kernels the TF.js WASM backend (4.22) lacks, so `tf.grads` through the EResFD graph
 * can run on WASM. Found missing by differentiating every op the model and loss use on WASM:
 *
 *   Conv2DBackpropFilter                 conv2d / fused conv2d weight gradient     (needed by EResFD)
 *   DepthwiseConv2dNativeBackpropInput   depthwise/separable conv input gradient  (not used by EResFD)
 *   DepthwiseConv2dNativeBackpropFilter  depthwise/separable conv weight gradient (not used by EResFD)
 *   UnsortedSegmentSum                   gradient of tf.gather                    (not used by EResFD)
 *
 * WASM 4.22 already has ResizeNearestNeighborGrad (correct, unlike CPU's: cpu-kernel-fixes.ts, but
 * slow, so the FPN's exact 2× case is replaced: see resizeNearestNeighborGrad), MaxPoolGrad,
 * AvgPoolGrad, ResizeBilinearGrad; the gradients of relu, max, maximum, moments/batchNorm,
 * logSumExp, concat, slice, pad, transpose and the loss ops are compositions of kernels WASM has. It also has Conv2DBackpropInput, but as a scalar loop 4–8× slower than a
 * convolution on the stride-1/2 3×3 layers that dominate EResFD, so that one is replaced there
 * (and kept for the strided cases where it wins). Its OneHot writes int32 whatever dtype is asked
 * for, so callers must cast (the loss does).
 *
 * Each kernel is composed from WASM kernels (looked up with `tf.getKernel(name, 'wasm')` and called
 * with the backend, the way tfjs-backend-wasm composes its own kernels), and frees every
 * intermediate with `backend.disposeData`; the engine never sees the intermediates.
 *
 *   Conv2DBackpropFilter: a direct WASM-SIMD kernel on TF.js's own heap (kernels/wasm/train_kernels.c)
 *     when the output channels are a multiple of 4 — 2–4× the XNNPACK formulations below, which stay
 *     for the other widths and where the module cannot be instantiated. Those: on small maps, a stride-1 convolution of the transposed input with the
 *     transposed, s-dilated dy — one XNNPACK Conv2D plus three transposes (backpropFilterByConv); on
 *     large stride-1 or 1×1 ones, one XNNPACK GEMM per filter tap over slices of the transposed
 *     input, all with dy as the packed operand (backpropFilterByTaps). Both avoid WASM's transposed
 *     BatchMatMul and StridedSlice, which are slow.
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
import { nearestSourceIndex } from './cpu-kernel-fixes.ts';
import { directKernels, heapOffset } from './kernels/wasm/direct-kernels.ts';

const BACKEND = 'wasm';

/** The part of BackendWasm these kernels use. */
interface WasmBackendLike {
  disposeData(dataId: DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): TensorInfo;
  /** A view of a tensor's data on the WASM heap (valid until the next allocation). */
  typedArrayFromHeap(info: TensorInfo): Float32Array;
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

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/**
 * dW as one convolution: dW[kh,kw,ci,co] = Σ_{b,oy,ox} x_pad[b, s·oy+kh, s·ox+kw, ci] · dy[b, oy, ox, co]
 * is a convolution with input xᵀ `[Ci, H, W, B]` (ci as batch, b as channels), filter dyᵀ
 * `[OH, OW, B, Co]` dilated by s, stride 1, the forward's padding; output `[Ci, ≥KH, ≥KW, Co]`
 * (cropped when the forward ignored trailing rows/cols). Few kernels: the better choice for small maps.
 */
function backpropFilterByConv(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
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

/**
 * dW one tap at a time: dW[kh,kw] = X_khkwᵀ · dY with dY = dy as `[B·OH·OW, Co]` and
 * X_khkw[ci, (b, oy, ox)] = x_pad[b, s·oy+kh, s·ox+kw, ci], a slice of the transposed, padded x viewed
 * as `[Ci, B, Hp/s, s, Wp/s, s]`. Each tap is a WASM BatchMatMul (XNNPACK fully-connected) with dY
 * as its weights — the same tensor for every tap, so packed once. The single convolution above has
 * dy as its filter instead, with inner products of only B values per tap, which XNNPACK runs 1.2–4×
 * slower on large maps (measured at [8,160,160,16]: 3×3 94 → 77 ms, 1×1 53 → 15 ms).
 */
function backpropFilterByTaps(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo {
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const owned: TensorInfo[] = [];
  const keep = (t: TensorInfo) => (owned.push(t), t);
  try {
    const top = padInfo.top, left = padInfo.left;
    // Padded extent: every row/col a tap reads, and x itself, rounded up to a multiple of the stride.
    const Hp = sh * Math.ceil(Math.max(sh * (OH - 1) + KH, top + H) / sh);
    const Wp = sw * Math.ceil(Math.max(sw * (OW - 1) + KW, left + W) / sw);
    const xT = keep(run(backend, 'Transpose', { x }, { perm: [3, 0, 1, 2] })); // [Ci, B, H, W]
    const xP = Hp === H && Wp === W ? xT : keep(run(backend, 'PadV2', { x: xT }, {
      paddings: [[0, 0], [0, 0], [top, Hp - H - top], [left, Wp - W - left]], constantValue: 0 }));
    const x6 = keep(reshape(backend, xP, [Ci, B, Hp / sh, sh, Wp / sw, sw]));
    const m = B * OH * OW;
    const dY = keep(reshape(backend, dy, [1, m, Co]));
    const taps: TensorInfo[] = [];
    for (let kh = 0; kh < KH; kh++) {
      for (let kw = 0; kw < KW; kw++) {
        const slice = keep(run(backend, 'Slice', { x: x6 }, {
          begin: [0, 0, Math.floor(kh / sh), kh % sh, Math.floor(kw / sw), kw % sw], size: [Ci, B, OH, 1, OW, 1] }));
        const a = keep(reshape(backend, slice, [1, Ci, m]));
        taps.push(keep(run(backend, 'BatchMatMul', { a, b: dY }, { transposeA: false, transposeB: false }))); // [1, Ci, Co]
      }
    }
    const stacked = taps.length === 1 ? taps[0]! : keep(run(backend, 'Concat', taps as unknown as NamedTensorInfoMap, { axis: 0 }));
    return reshape(backend, stacked, [KH, KW, Ci, Co]);
  } finally {
    free(backend, ...owned);
  }
}

/**
 * Per-tap GEMMs from this many output pixels per image on, for stride-1 or 1×1 convs. Measured on
 * WASM: they win from 80×80 at batch 8 and from 40×40 at batch 2 (the single convolution's inner
 * products grow with the batch), and 1×1 ones 3–4× on large maps; below, the single convolution's
 * few kernels win. Strided k×k taps are element-wise gathers, slower than the convolution.
 */
const TAPS_MIN_PIXELS = 2048;
let backpropFilterMode: 'auto' | 'xnnpack' | 'conv' | 'taps' | 'direct' = 'auto';

/**
 * dW by the direct kernel: one pass over dy row by row, every tap and input channel reading the row
 * while it is in L1 (XNNPACK's GEMMs stream the whole reduction from memory once per output tile).
 */
function backpropFilterDirect(backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, info: Conv2DInfo): TensorInfo | null {
  const kernels = directKernels(backend);
  if (!kernels || info.outChannels % 4 !== 0 || x.dtype !== 'float32' || dy.dtype !== 'float32') return null;
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const dw = backend.makeOutput([KH, KW, Ci, Co], 'float32');
  const at = (t: TensorInfo) => heapOffset(backend, t); // after the allocation (see heapOffset)
  kernels.convFilterGrad(at(x), at(dy), at(dw), B, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, padInfo.top, padInfo.left);
  return dw;
}

/** dW `[KH, KW, Ci, Co]` of a stride-s NHWC conv from x `[B, H, W, Ci]` and dy `[B, OH, OW, Co]`. */
function backpropFilter(
  backend: WasmBackendLike, x: TensorInfo, dy: TensorInfo, filterShape: [number, number, number, number],
  strides: number | [number, number], pad: ConvPad, dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filterShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const { batchSize: B, outHeight: OH, outWidth: OW, outChannels: Co, filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  if (dy.shape[0] !== B || dy.shape[1] !== OH || dy.shape[2] !== OW || dy.shape[3] !== Co) {
    throw new Error(`conv-grad: dy [${dy.shape.join(', ')}] does not fit conv output [${B}, ${OH}, ${OW}, ${Co}]`);
  }
  if (backpropFilterMode === 'auto' || backpropFilterMode === 'direct') {
    const direct = backpropFilterDirect(backend, x, dy, info);
    if (direct) return direct;
    if (backpropFilterMode === 'direct') throw new Error('conv-grad: the direct filter-gradient kernel is unavailable for this backend or shape');
  }
  const byTaps = backpropFilterMode === 'taps'
    || ((backpropFilterMode === 'auto' || backpropFilterMode === 'xnnpack') && (sh * sw === 1 || KH * KW === 1) && OH * OW >= TAPS_MIN_PIXELS);
  return byTaps ? backpropFilterByTaps(backend, x, dy, info) : backpropFilterByConv(backend, x, dy, info);
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
  if (backpropInputMode === 'auto' || backpropInputMode === 'direct') {
    const direct = backpropInputDirect(backend, dy, filter, info);
    if (direct) return direct;
    if (backpropInputMode === 'direct') throw new Error('conv-grad: the direct input-gradient kernel is unavailable for this backend or shape');
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
    const wT = keep(transposedFilter(backend, filter, true)); // [KH, KW, Co, Ci], flipped
    return run(backend, 'Conv2D', { x: dyd, filter: wT }, {
      strides: [1, 1], pad: [[0, 0], [padT, padB], [padL, padR], [0, 0]], dataFormat: 'NHWC', dilations: [1, 1],
    });
  } finally {
    free(backend, ...owned);
  }
}

/**
 * f'[kh, kw, co, ci] = f[KH−1−kh, KW−1−kw, ci, co] (flip) or f[kh, kw, ci, co], written on the host:
 * filters are a few thousand values, and WASM's Reverse + Transpose kernels cost ~50 µs per backward
 * conv for them.
 */
function transposedFilter(backend: WasmBackendLike, filter: TensorInfo, flip: boolean): TensorInfo {
  const [KH, KW, Ci, Co] = filter.shape as [number, number, number, number];
  const f = backend.typedArrayFromHeap(filter);
  const out = new Float32Array(f.length);
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      const tap = flip ? (KH - 1 - kh) * KW + (KW - 1 - kw) : kh * KW + kw;
      const src = tap * Ci * Co, dst = (kh * KW + kw) * Co * Ci;
      for (let ci = 0; ci < Ci; ci++) for (let co = 0; co < Co; co++) out[dst + co * Ci + ci] = f[src + ci * Co + co]!;
    }
  }
  return backend.makeOutput([KH, KW, Co, Ci], 'float32', undefined, out);
}

/** The direct kernels when they can take this input gradient: float32, input channels a multiple of 4. */
function directInputKernels(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo) {
  return filter.shape[2]! % 4 === 0 && dy.dtype === 'float32' && filter.dtype === 'float32' ? directKernels(backend) : null;
}

/**
 * dx by the direct kernel: each dx row gathers its taps from the dy rows that reach it, at any
 * stride — no zero-dilated dy (s² the work) and no per-call XNNPACK operator for a new filter.
 */
function backpropInputDirect(backend: WasmBackendLike, dy: TensorInfo, filter: TensorInfo, info: Conv2DInfo): TensorInfo | null {
  const kernels = directInputKernels(backend, dy, filter);
  if (!kernels) return null;
  const { batchSize: B, inHeight: H, inWidth: W, inChannels: Ci, outHeight: OH, outWidth: OW, outChannels: Co,
    filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, padInfo } = info;
  const wt = transposedFilter(backend, filter, false);
  const dx = backend.makeOutput([B, H, W, Ci], 'float32');
  const at = (t: TensorInfo) => heapOffset(backend, t);
  try {
    kernels.convInputGrad(at(dy), at(wt), at(dx), B, H, W, Ci, OH, OW, Co, KH, KW, sh, sw, padInfo.top, padInfo.left);
  } finally {
    free(backend, wt);
  }
  return dx;
}

/** WASM's own Conv2DBackpropInput, kept for the strided cases where it beats the zero-dilated conv. */
let nativeBackpropInput: KernelFunc | undefined;
let backpropInputMode: 'auto' | 'xnnpack' | 'conv' | 'direct' = 'auto';

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
  // The direct kernel (where it applies) beats both at every stride.
  const direct = backpropInputMode === 'direct' || (backpropInputMode === 'auto' && directInputKernels(backend as unknown as WasmBackendLike, dy, filter) !== null);
  const useConv = direct || backpropInputMode === 'conv' || !nativeBackpropInput || sh * sw === 1 || (sh * sw <= 4 && taps >= 9);
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

const isPowerOfTwo = (n: number): boolean => n >= 1 && Number.isInteger(n) && (n & (n - 1)) === 0;

/** Whether the forward nearest resize copied source pixel i to output pixels f·i … f·i + f − 1. */
function isBlockUpsample(inSize: number, outSize: number, alignCorners: boolean, halfPixelCenters: boolean): boolean {
  const f = outSize / inSize;
  if (!Number.isInteger(f)) return false;
  return nearestSourceIndex(inSize, outSize, alignCorners, halfPixelCenters).every((src, o) => src === Math.floor(o / f));
}

let nativeResizeNearestNeighborGrad: KernelFunc | undefined;

/**
 * ResizeNearestNeighborGrad when the forward was a block upsampling (the FPN's exact 2×, SPEC §1.4):
 * each source pixel's gradient is the sum of its fy×fx block of dy, i.e. an average pool times fy·fx
 * — exact up to summation order for power-of-two blocks. Every other case goes to WASM's own kernel,
 * which searches each pixel's window in a scalar loop (10 ms for an [8,160,160,16] dy, the pool 1 ms).
 */
const resizeNearestNeighborGrad: KernelFunc = (args) => {
  const { inputs, backend: b, attrs } = args;
  const backend = b as unknown as WasmBackendLike;
  const { images, dy } = inputs as { images: TensorInfo; dy: TensorInfo };
  const { alignCorners = false, halfPixelCenters = false } = attrs as { alignCorners?: boolean; halfPixelCenters?: boolean };
  const [, inH, inW] = images.shape as [number, number, number, number];
  const [, outH, outW] = dy.shape as [number, number, number, number];
  const fy = outH / inH, fx = outW / inW;
  const blocks = dy.dtype === 'float32' && isPowerOfTwo(fy * fx)
    && isBlockUpsample(inH, outH, alignCorners, halfPixelCenters) && isBlockUpsample(inW, outW, alignCorners, halfPixelCenters);
  if (!blocks) {
    if (!nativeResizeNearestNeighborGrad) throw new Error('conv-grad: WASM ResizeNearestNeighborGrad is not registered');
    return nativeResizeNearestNeighborGrad(args);
  }
  if (fy * fx === 1) return run(backend, 'Identity', { x: dy });
  const pooled = run(backend, 'AvgPool', { x: dy }, { filterSize: [fy, fx], strides: [fy, fx], pad: 'valid' });
  const scale = backend.makeOutput([], 'float32', undefined, Float32Array.of(fy * fx));
  try {
    return run(backend, 'Multiply', { a: pooled, b: scale });
  } finally {
    free(backend, pooled, scale);
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
   * Conv2DBackpropInput on WASM: 'auto' (default) runs the direct kernel where it applies (input
   * channels a multiple of 4), else the XNNPACK-conv formulation where it is faster and WASM's native
   * kernel elsewhere; 'xnnpack' the same without the direct kernel; 'conv' / 'direct' force one
   * (tests, benchmarks; 'direct' throws where it does not apply); 'native' keeps WASM's kernel untouched.
   */
  backpropInput?: 'auto' | 'xnnpack' | 'conv' | 'direct' | 'native';
  /**
   * Conv2DBackpropFilter on WASM: 'auto' (default) runs the direct kernel where it applies, else
   * per-tap GEMMs on large maps and the single convolution on small ones; 'xnnpack' the same without
   * the direct kernel; 'direct' / 'conv' / 'taps' force one (tests, benchmarks; 'direct' throws where
   * it does not apply).
   */
  backpropFilter?: 'auto' | 'xnnpack' | 'conv' | 'taps' | 'direct';
}

/**
 * Registers the missing WASM gradient kernels, the faster ResizeNearestNeighborGrad and (unless
 * `backpropInput: 'native'`) the faster Conv2DBackpropInput; `backpropFilter` picks how
 * Conv2DBackpropFilter computes. Idempotent; a missing kernel that WASM (a later TF.js) already
 * provides is left alone. Returns the names registered by this call. ('native' after an earlier call
 * does not restore WASM's kernel; it only skips the replacement.) Call it from an entry point after
 * importing `@tensorflow/tfjs-backend-wasm`; the backend need not be initialised yet.
 */
export function registerWasmTrainingKernels(options: WasmTrainingKernelOptions = {}): string[] {
  const added: string[] = [];
  for (const { kernelName, kernelFunc } of KERNELS) {
    if (tf.getKernel(kernelName, BACKEND)) continue;
    tf.registerKernel({ kernelName, backendName: BACKEND, kernelFunc });
    added.push(kernelName);
  }
  const resizeGrad = tf.getKernel('ResizeNearestNeighborGrad', BACKEND);
  if (resizeGrad && resizeGrad.kernelFunc !== resizeNearestNeighborGrad) {
    nativeResizeNearestNeighborGrad = resizeGrad.kernelFunc;
    tf.unregisterKernel('ResizeNearestNeighborGrad', BACKEND);
    tf.registerKernel({ ...resizeGrad, kernelFunc: resizeNearestNeighborGrad });
    added.push('ResizeNearestNeighborGrad');
  }
  backpropFilterMode = options.backpropFilter ?? 'auto';
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
export const WASM_TRAINING_KERNELS: readonly string[] = [...KERNELS, ...REPLACEMENTS].map((k) => k.kernelName).concat('ResizeNearestNeighborGrad');
