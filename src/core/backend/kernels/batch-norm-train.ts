/**
 * Train-mode BatchNorm (+ ReLU) as two engine kernels — one forward, one backward — on the backends
 * that train (WASM, WebGPU), where TF.js ops cost ~30 engine kernels per layer (issue 14: on a GPU
 * each is a dispatch; a training step ran 75 such layers). The arithmetic is batch-norm-train.ts's
 * (the op that picks these kernels, and the composite that stays on CPU and WebGL):
 *
 *   forward   μ = mean(x), xc = x − μ, σ² = mean(xc²), s = γ/√(σ² + eps), y = act(s·xc + β)
 *   backward  g = dy·[y > 0], dβ = M·mean(g), dγ = M·mean(g·xc)/√(σ² + eps),
 *             dx = s·g − s·mean(g) − (s·mean(g·xc)/(σ² + eps))·xc                 M = N·H·W
 *
 * The backward recomputes μ, σ² and the ReLU's mask from x, γ and β instead of receiving them: the
 * gradient tape then saves only x (γ and β are variables), one engine clone per layer; every saved
 * tensor costs an Identity kernel, and tensors kept by the op itself would leak whenever a layer's
 * gradient never runs (the dead layer5). The recomputation is bit-identical to the forward's.
 *
 * WASM, channels a multiple of 4: the direct kernels of wasm/train_kernels.c on TF.js's heap — forward
 * 3 passes over x (Σx, Σ(x−μ)², the map), backward 4 (x again for μ and σ², the two sums, dx) — with
 * float64 channel sums, and the per-channel arithmetic on the host as below. Otherwise
 * the same XNNPACK kernels as the composite (full-window average pools for the channel means,
 * 1×1 depthwise convs for the per-channel affine maps), called on the backend directly and freed
 * inside; the per-channel vector arithmetic (a few dozen floats) runs on the host in float32, which
 * spares ~14 tiny kernels per layer. Results equal the composite's up to the last bit of rsqrt.
 * WebGPU: WGSL programs (batch-norm-train-webgpu.ts), 3 dispatches forward and 5 backward.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { DataId, KernelFunc, NamedAttrMap, NamedTensorInfoMap, TensorInfo } from '@tensorflow/tfjs-core';
import { directKernels, heapOffset, type DirectKernels } from './wasm/direct-kernels.ts';
import { batchNormTrainWebGpuBackward, batchNormTrainWebGpuForward, type BatchNormTrainAttrs } from './batch-norm-train-webgpu.ts';

export type { BatchNormTrainAttrs };

/** Inputs x [N,H,W,C], gamma [C], beta [C]; outputs y, batch mean [C], biased batch variance [C]. */
export const BATCH_NORM_TRAIN = 'StudioBatchNormTrain';
/** Inputs dy, x (the forward's input), gamma, beta; outputs dx, dgamma, dbeta. */
export const BATCH_NORM_TRAIN_GRAD = 'StudioBatchNormTrainGrad';

/** The part of BackendWasm these kernels use. */
interface WasmBackendLike {
  disposeData(dataId: DataId, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: tf.backend_util.BackendValues): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

function run(backend: WasmBackendLike, kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
  const kernel = tf.getKernel(kernelName, 'wasm');
  if (!kernel) throw new Error(`batch-norm-train: WASM kernel ${kernelName} is not registered`);
  return kernel.kernelFunc({ inputs, backend: backend as unknown as tf.KernelBackend, attrs }) as TensorInfo;
}

/** Frees kernel intermediates on every exit path, as conv-grad.ts does. */
class Scratch {
  private readonly owned: TensorInfo[] = [];
  constructor(private readonly backend: WasmBackendLike) {}
  keep(t: TensorInfo): TensorInfo {
    this.owned.push(t);
    return t;
  }
  run(kernelName: string, inputs: NamedTensorInfoMap, attrs: NamedAttrMap = {}): TensorInfo {
    return this.keep(run(this.backend, kernelName, inputs, attrs));
  }
  vector(values: Float32Array, shape: number[] = [values.length]): TensorInfo {
    return this.keep(this.backend.makeOutput(shape, 'float32', undefined, values));
  }
  /** A copy of a tensor's values (heap views detach when the heap grows). */
  read(t: TensorInfo): Float32Array {
    return Float32Array.from(this.backend.typedArrayFromHeap(t));
  }
  free(): void {
    for (const t of this.owned) this.backend.disposeData(t.dataId);
    this.owned.length = 0;
  }
}

/** Per-channel means over N·H·W of an NHWC map: one full-window average pool of the batch stacked in height. */
function channelMeans(s: Scratch, x: TensorInfo): Float32Array {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const stacked = s.run('Reshape', { x }, { shape: [1, n * h, w, c] });
  return s.read(s.run('AvgPool', { x: stacked }, { filterSize: [n * h, w], strides: [n * h, w], pad: 'valid' }));
}

/** s·x + b per channel (then ReLU if asked), or s·x without b: a 1×1 depthwise conv. */
function channelAffine(s: Scratch, x: TensorInfo, scale: Float32Array, bias: TensorInfo | Float32Array | null, relu = false): TensorInfo {
  const filter = s.vector(scale, [1, 1, scale.length, 1]);
  const conv = { strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1] };
  if (!bias) return s.run('DepthwiseConv2dNative', { x, filter }, conv);
  const b = bias instanceof Float32Array ? s.vector(bias) : bias;
  return s.run('FusedDepthwiseConv2D', { x, filter, bias: b }, { ...conv, activation: relu ? 'relu' : 'linear' });
}

const f32 = Math.fround;

/** μ, xc = x − μ (one rounding, as x·1 − μ), σ² (biased) and 1/√(σ² + eps), as the composite computes them. */
function centre(s: Scratch, x: TensorInfo, epsilon: number): { mean: Float32Array; xc: TensorInfo; variance: Float32Array; invStd: Float32Array } {
  const c = x.shape[3]!;
  const mean = channelMeans(s, x);
  const xc = channelAffine(s, x, new Float32Array(c).fill(1), mean.map((v) => -v));
  const variance = channelMeans(s, s.run('Square', { x: xc }));
  const eps = f32(epsilon);
  const invStd = variance.map((v) => f32(1 / f32(Math.sqrt(f32(v + eps)))));
  return { mean, xc, variance, invStd };
}

/** The direct kernels when they apply to this map (float32, channels a multiple of 4). */
function directFor(backend: WasmBackendLike, x: TensorInfo): DirectKernels | null {
  return x.dtype === 'float32' && x.shape.length === 4 && x.shape[3]! % 4 === 0 ? directKernels(backend) : null;
}


/** Float64 channel sums by the direct kernel: `count` sums of C channels (Σ over the M rows). */
function directSums(k: DirectKernels, s: Scratch, b: WasmBackendLike, x: TensorInfo, dy: TensorInfo | null, mode: 0 | 1 | 2,
  params: { mean?: TensorInfo; scale?: TensorInfo; shift?: TensorInfo; relu?: boolean } = {}): Float64Array {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  const count = mode === 2 ? 2 : 1;
  // 2 floats per double, one spare for 8-byte alignment.
  const out = s.keep(b.makeOutput([2 * count * c + 1], 'float32'));
  const base = heapOffset(b, out), aligned = base + (base % 8);
  const p = (t: TensorInfo | undefined) => (t ? heapOffset(b, t) : 0);
  k.bnSums(heapOffset(b, x), dy ? heapOffset(b, dy) : 0, n * h * w, c, p(params.mean), p(params.scale), p(params.shift), mode, params.relu ? 1 : 0, aligned);
  const heap = b.typedArrayFromHeap(out);
  return new Float64Array(heap.buffer, aligned, count * c).slice();
}

/** μ, σ² (biased) and 1/√(σ² + eps) in float32 from float64 sums, plus μ on the heap. */
function directCentre(k: DirectKernels, s: Scratch, b: WasmBackendLike, x: TensorInfo, epsilon: number) {
  const [n, h, w] = x.shape as [number, number, number, number];
  const m = n * h * w;
  const mean = Float32Array.from(directSums(k, s, b, x, null, 0), (v) => v / m);
  const meanT = s.vector(mean);
  const variance = Float32Array.from(directSums(k, s, b, x, null, 1, { mean: meanT }), (v) => v / m);
  const eps = f32(epsilon);
  const invStd = variance.map((v) => f32(1 / f32(Math.sqrt(f32(v + eps)))));
  return { m, mean, meanT, variance, invStd };
}

function forwardDirect(k: DirectKernels, b: WasmBackendLike, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, attrs: BatchNormTrainAttrs): TensorInfo[] {
  const s = new Scratch(b);
  try {
    const { m, mean, meanT, variance, invStd } = directCentre(k, s, b, x, attrs.epsilon);
    const g = s.read(gamma);
    const scale = s.vector(invStd.map((v, i) => f32(g[i]! * v)));
    const y = b.makeOutput(x.shape, 'float32');
    k.bnMap(heapOffset(b, x), 0, m, x.shape[3]!, heapOffset(b, meanT), heapOffset(b, scale), heapOffset(b, beta), 0, 0, 0, 0, attrs.relu ? 1 : 0, heapOffset(b, y));
    return [y, b.makeOutput([mean.length], 'float32', undefined, mean), b.makeOutput([variance.length], 'float32', undefined, variance)];
  } finally {
    s.free();
  }
}

function backwardDirect(k: DirectKernels, b: WasmBackendLike, dy: TensorInfo, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, attrs: BatchNormTrainAttrs): TensorInfo[] {
  const s = new Scratch(b);
  try {
    const c = x.shape[3]!;
    const { m, meanT, invStd } = directCentre(k, s, b, x, attrs.epsilon);
    const gm = s.read(gamma);
    const scale = invStd.map((v, i) => f32(gm[i]! * v));
    const scaleT = s.vector(scale);
    const sums = directSums(k, s, b, x, dy, 2, { mean: meanT, scale: scaleT, shift: beta, relu: attrs.relu });
    const sumGrad = sums.subarray(0, c), sumGradXc = sums.subarray(c);
    const meanGrad = Float32Array.from(sumGrad, (v) => v / m), meanGradXc = Float32Array.from(sumGradXc, (v) => v / m);
    const dBeta = Float32Array.from(sumGrad);
    const dGamma = Float32Array.from(sumGradXc, (v, i) => f32(f32(v) * invStd[i]!));
    const offset = s.vector(meanGrad.map((v, i) => -f32(scale[i]! * v)));
    const xcScale = s.vector(meanGradXc.map((v, i) => -f32(f32(scale[i]! * f32(invStd[i]! * invStd[i]!)) * v)));
    const dx = b.makeOutput(x.shape, 'float32');
    k.bnMap(heapOffset(b, x), heapOffset(b, dy), m, c, heapOffset(b, meanT), heapOffset(b, scaleT), heapOffset(b, offset), heapOffset(b, xcScale), heapOffset(b, scaleT), heapOffset(b, beta), 1, attrs.relu ? 1 : 0, heapOffset(b, dx));
    return [dx, b.makeOutput([c], 'float32', undefined, dGamma), b.makeOutput([c], 'float32', undefined, dBeta)];
  } finally {
    s.free();
  }
}

const forwardWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const { epsilon, relu } = attrs as unknown as BatchNormTrainAttrs;
  const b = backend as unknown as WasmBackendLike;
  const direct = directFor(b, x);
  if (direct) return forwardDirect(direct, b, x, gamma, beta, attrs as unknown as BatchNormTrainAttrs);
  const s = new Scratch(b);
  try {
    const { mean, xc, variance, invStd } = centre(s, x, epsilon);
    const g = s.read(gamma);
    const scale = invStd.map((v, i) => f32(g[i]! * v));
    const y = run(b, 'FusedDepthwiseConv2D', { x: xc, filter: s.vector(scale, [1, 1, scale.length, 1]), bias: beta }, {
      strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: relu ? 'relu' : 'linear',
    });
    return [y, b.makeOutput([mean.length], 'float32', undefined, mean), b.makeOutput([variance.length], 'float32', undefined, variance)];
  } finally {
    s.free();
  }
};

const backwardWasm: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, gamma, beta } = inputs as { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  const { epsilon, relu } = attrs as unknown as BatchNormTrainAttrs;
  const b = backend as unknown as WasmBackendLike;
  const direct = directFor(b, x);
  if (direct && dy.dtype === 'float32') return backwardDirect(direct, b, dy, x, gamma, beta, attrs as unknown as BatchNormTrainAttrs);
  const s = new Scratch(b);
  try {
    const [n, h, w] = x.shape as [number, number, number, number];
    const m = f32(n * h * w);
    const { xc, invStd } = centre(s, x, epsilon);
    const gm = s.read(gamma);
    const scale = invStd.map((v, i) => f32(gm[i]! * v));
    // The forward's y again (same kernel, same inputs), for the ReLU's mask.
    const g = relu ? s.run('Multiply', { a: dy, b: s.run('Step', { x: channelAffine(s, xc, scale, beta, true) }, { alpha: 0 }) }) : dy;
    const meanGrad = channelMeans(s, g);
    const meanGradXc = channelMeans(s, s.run('Multiply', { a: g, b: xc }));
    const dBeta = meanGrad.map((v) => f32(v * m));
    const dGamma = meanGradXc.map((v, i) => f32(f32(v * invStd[i]!) * m));
    const offset = meanGrad.map((v, i) => -f32(scale[i]! * v));
    const xcScale = meanGradXc.map((v, i) => -f32(f32(scale[i]! * f32(invStd[i]! * invStd[i]!)) * v));
    const dx = run(b, 'Add', { a: channelAffine(s, g, scale, offset), b: channelAffine(s, xc, xcScale, null) });
    return [dx, b.makeOutput([dGamma.length], 'float32', undefined, dGamma), b.makeOutput([dBeta.length], 'float32', undefined, dBeta)];
  } finally {
    s.free();
  }
};

const webgpuForward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, gamma, beta } = inputs as { x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  return batchNormTrainWebGpuForward(backend, x, gamma, beta, attrs as unknown as BatchNormTrainAttrs);
};

const webgpuBackward: KernelFunc = ({ inputs, backend, attrs }) => {
  const { dy, x, gamma, beta } = inputs as { dy: TensorInfo; x: TensorInfo; gamma: TensorInfo; beta: TensorInfo };
  return batchNormTrainWebGpuBackward(backend, dy, x, gamma, beta, attrs as unknown as BatchNormTrainAttrs);
};

const KERNELS: ReadonlyArray<tf.KernelConfig> = [
  { kernelName: BATCH_NORM_TRAIN, backendName: 'wasm', kernelFunc: forwardWasm },
  { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'wasm', kernelFunc: backwardWasm },
  { kernelName: BATCH_NORM_TRAIN, backendName: 'webgpu', kernelFunc: webgpuForward },
  { kernelName: BATCH_NORM_TRAIN_GRAD, backendName: 'webgpu', kernelFunc: webgpuBackward },
];

/**
 * Registers the fused train-mode BatchNorm kernels for WASM and WebGPU (the backends need not be
 * loaded yet). Idempotent; returns `backend/kernel` of each registered by this call.
 */
export function registerBatchNormTrainKernels(): string[] {
  const added: string[] = [];
  for (const k of KERNELS) {
    if (tf.getKernel(k.kernelName, k.backendName)) continue;
    tf.registerKernel(k);
    added.push(`${k.backendName}/${k.kernelName}`);
  }
  return added;
}

/** Whether the active backend has both fused kernels (else batchNormTrain composes TF.js ops). */
export function hasFusedBatchNormTrain(backendName: string = tf.getBackend()): boolean {
  return Boolean(tf.getKernel(BATCH_NORM_TRAIN, backendName) && tf.getKernel(BATCH_NORM_TRAIN_GRAD, backendName));
}
