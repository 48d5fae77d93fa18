/**
 * WGSL programs of the fused train-mode BatchNorm (batch-norm-train.ts) on TF.js's WebGPU backend:
 * per-channel reductions with one workgroup per channel (a strided walk over the N·H·W rows and a
 * tree in workgroup memory, like tfjs's ReduceProgram), and elementwise programs over the map.
 *
 *   forward   mean → variance (centred) → apply: y = act((x − μ)·γ/√(σ² + eps) + β)
 *   backward  statistics (μ and σ² in one workgroup pass, the same sums as forward) → dβ = Σg →
 *             dγ = Σg·x̂ → dx = (s/M)·(M·g − dβ − x̂·dγ)
 *             with g = dy·[s·(x − μ) + β > 0] (ReLU), x̂ = (x − μ)/√(σ² + eps), s = γ/√(σ² + eps)
 *
 * 3 dispatches forward and 4 backward where TF.js ops took ~30. A program binds exactly the inputs
 * its shader reads (WGSL's automatic layout drops unread bindings, and binding them anyway fails
 * validation), at most 7 besides the output (WebGPU's default of 8 storage buffers per stage). Only the package's types are
 * imported (a run-time import would register the backend, which is the entry point's job).
 */
import type { TensorInfo } from '@tensorflow/tfjs-core';
import type { WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

/** Attributes of both fused kernels (batch-norm-train.ts registers them). */
export interface BatchNormTrainAttrs {
  epsilon: number;
  relu: boolean;
}

const REDUCE_WORKGROUP = 256;
const MAP_WORKGROUP = 64;

interface ProgramRunner {
  runWebGPUProgram(program: WebGPUProgram, inputs: TensorInfo[], outputDtype: 'float32', uniforms?: Array<{ type: string; data: number[] }>): TensorInfo;
  disposeData(dataId: unknown): boolean;
}

/**
 * WGSL helpers over the program's inputs: μ and σ² of channel ch (from `mean`/`variance`, or from
 * `stats` = [μ; σ²]), 1/√(σ² + eps), and g = dy through the ReLU's mask — the pre-activation
 * recomputed exactly as the forward's apply computes it.
 */
function helpers(variables: readonly string[], relu: boolean): string {
  const out: string[] = [];
  if (variables.includes('stats')) {
    out.push('fn mu(ch : i32) -> f32 { return stats[ch]; }');
    out.push('fn sigma2(ch : i32) -> f32 { return stats[uniforms.channels + ch]; }');
  } else {
    if (variables.includes('mean')) out.push('fn mu(ch : i32) -> f32 { return mean[ch]; }');
    if (variables.includes('variance')) out.push('fn sigma2(ch : i32) -> f32 { return variance[ch]; }');
  }
  if (variables.includes('variance') || variables.includes('stats')) {
    out.push('fn invStd(ch : i32) -> f32 { return 1.0 / sqrt(sigma2(ch) + uniforms.eps); }');
  }
  if (variables.includes('dy')) {
    out.push(`fn grad(i : i32, ch : i32) -> f32 {
      ${relu ? 'return select(0.0, dy[i], (x[i] - mu(ch)) * (gamma[ch] * invStd(ch)) + beta[ch] > 0.0);' : 'return dy[i];'}
    }`);
  }
  return out.join('\n');
}

/** Σ over the M rows of channel ch of `term` (WGSL using `i`, the element, and `ch`): a strided walk and a tree. */
function channelSum(term: string): string {
  return `
        acc = 0.0;
        if (ch < uniforms.channels) {
          for (var r = i32(localId.x); r < uniforms.m; r = r + ${REDUCE_WORKGROUP}) {
            let i = r * uniforms.channels + ch;
            acc = acc + ${term};
          }
        }
        partial[localId.x] = acc;
        workgroupBarrier();
        for (var half = ${REDUCE_WORKGROUP / 2}u; half > 0u; half = half / 2u) {
          if (localId.x < half) {
            partial[localId.x] = partial[localId.x] + partial[localId.x + half];
          }
          workgroupBarrier();
        }
        total = partial[0];
        workgroupBarrier();`;
}

type ReduceKind = 'mean' | 'variance' | 'stats' | 'sumGrad' | 'sumGradXhat';

const MASK_INPUTS = ['x', 'stats', 'gamma', 'beta'];

function reduceInputs(kind: ReduceKind, relu: boolean): string[] {
  switch (kind) {
    case 'mean': return ['x'];
    case 'variance': return ['x', 'mean'];
    case 'stats': return ['x'];
    case 'sumGrad': return relu ? ['dy', ...MASK_INPUTS] : ['dy'];
    case 'sumGradXhat': return relu ? ['dy', ...MASK_INPUTS] : ['dy', 'x', 'stats'];
  }
}

/**
 * Per-channel sums over the M = N·H·W rows, one workgroup per channel. Output [C], or [2, C] for
 * `stats` (μ, then σ² about it: the same two sums as the `mean` and `variance` programs).
 */
class ChannelReduceProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout = { x: [0] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [REDUCE_WORKGROUP, 1, 1];
  uniforms = 'm : i32, channels : i32, eps : f32,';
  size = true;

  constructor(private readonly kind: ReduceKind, channels: number, private readonly relu: boolean) {
    this.outputShape = kind === 'stats' ? [2, channels] : [channels];
    this.dispatchLayout = { x: kind === 'stats' ? [0, 1] : [0] };
    this.dispatch = [channels, 1, 1];
    this.variableNames = reduceInputs(kind, relu);
    this.shaderKey = `studioBnTrainReduce_${kind}_${relu}`;
  }

  getUserCode(): string {
    const m = 'f32(uniforms.m)';
    const body: Record<ReduceKind, string> = {
      mean: `${channelSum('x[i]')}
        if (localId.x == 0u && ch < uniforms.channels) { setOutputAtIndex(ch, total / ${m}); }`,
      variance: `${channelSum('(x[i] - mu(ch)) * (x[i] - mu(ch))')}
        if (localId.x == 0u && ch < uniforms.channels) { setOutputAtIndex(ch, total / ${m}); }`,
      stats: `${channelSum('x[i]')}
        let centre = total / ${m};
        ${channelSum('(x[i] - centre) * (x[i] - centre)')}
        if (localId.x == 0u && ch < uniforms.channels) {
          setOutputAtIndex(ch, centre);
          setOutputAtIndex(uniforms.channels + ch, total / ${m});
        }`,
      sumGrad: `${channelSum('grad(i, ch)')}
        if (localId.x == 0u && ch < uniforms.channels) { setOutputAtIndex(ch, total); }`,
      sumGradXhat: `${channelSum('grad(i, ch) * (x[i] - mu(ch))')}
        if (localId.x == 0u && ch < uniforms.channels) { setOutputAtIndex(ch, total * invStd(ch)); }`,
    };
    return `
      ${helpers(this.variableNames, this.relu)}
      var<workgroup> partial : array<f32, ${REDUCE_WORKGROUP}>;
      fn main(index : i32) {
        let ch = index / ${REDUCE_WORKGROUP};
        var acc = 0.0;
        var total = 0.0;
        ${body[this.kind]}
      }
    `;
  }
}

type MapKind = 'apply' | 'dx';

function mapInputs(kind: MapKind, relu: boolean): string[] {
  if (kind === 'apply') return ['x', 'mean', 'variance', 'gamma', 'beta'];
  return relu ? ['dy', ...MASK_INPUTS, 'sumGrad', 'sumGradXhat'] : ['dy', 'x', 'stats', 'gamma', 'sumGrad', 'sumGradXhat'];
}

/** Output of x's shape, one invocation per element. */
class ChannelMapProgram implements WebGPUProgram {
  outputShape: number[];
  shaderKey: string;
  dispatchLayout: { x: number[] };
  dispatch: [number, number, number];
  variableNames: string[];
  workgroupSize: [number, number, number] = [MAP_WORKGROUP, 1, 1];
  uniforms = 'm : i32, channels : i32, eps : f32,';
  size = true;

  constructor(private readonly kind: MapKind, shape: number[], private readonly relu: boolean) {
    this.outputShape = shape;
    this.dispatchLayout = { x: shape.map((_, i) => i) };
    const elements = shape.reduce((a, b) => a * b, 1);
    this.dispatch = [Math.ceil(elements / MAP_WORKGROUP), 1, 1]; // the backend reshapes dispatches over its limit
    this.variableNames = mapInputs(kind, relu);
    this.shaderKey = `studioBnTrainMap_${kind}_${relu}`;
  }

  getUserCode(): string {
    const body = this.kind === 'apply'
      ? `let v = (x[index] - mu(ch)) * (gamma[ch] * invStd(ch)) + beta[ch];
          setOutputAtIndex(index, ${this.relu ? 'max(v, 0.0)' : 'v'});`
      : `let s = gamma[ch] * invStd(ch);
          let xhat = (x[index] - mu(ch)) * invStd(ch);
          let m = f32(uniforms.m);
          setOutputAtIndex(index, (s / m) * (m * grad(index, ch) - sumGrad[ch] - xhat * sumGradXhat[ch]));`;
    return `
      ${helpers(this.variableNames, this.relu)}
      fn main(index : i32) {
        if (index < uniforms.size) {
          let ch = index % uniforms.channels;
          ${body}
        }
      }
    `;
  }
}

function uniformsOf(x: TensorInfo, epsilon: number): Array<{ type: string; data: number[] }> {
  const [n, h, w, c] = x.shape as [number, number, number, number];
  return [{ type: 'int32', data: [n * h * w] }, { type: 'int32', data: [c] }, { type: 'float32', data: [epsilon] }];
}

function asRunner(backend: unknown): ProgramRunner {
  const b = backend as Partial<ProgramRunner> | null;
  if (typeof b?.runWebGPUProgram !== 'function') throw new Error('batch-norm-train: the WebGPU kernels need a WebGPU backend');
  return b as ProgramRunner;
}

/** Runs a program on the named tensors, in the order of its variableNames. */
function runOn(b: ProgramRunner, program: ChannelReduceProgram | ChannelMapProgram, tensors: Record<string, TensorInfo>, x: TensorInfo, epsilon: number): TensorInfo {
  return b.runWebGPUProgram(program, program.variableNames.map((name) => tensors[name]!), 'float32', uniformsOf(x, epsilon));
}

/** Outputs y, batch mean, biased batch variance. */
export function batchNormTrainWebGpuForward(backend: unknown, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, attrs: BatchNormTrainAttrs): TensorInfo[] {
  const b = asRunner(backend);
  const { epsilon, relu } = attrs;
  const c = x.shape[3]!;
  const mean = runOn(b, new ChannelReduceProgram('mean', c, relu), { x }, x, epsilon);
  const variance = runOn(b, new ChannelReduceProgram('variance', c, relu), { x, mean }, x, epsilon);
  const y = runOn(b, new ChannelMapProgram('apply', x.shape, relu), { x, mean, variance, gamma, beta }, x, epsilon);
  return [y, mean, variance];
}

/** Outputs dx, dgamma, dbeta. */
export function batchNormTrainWebGpuBackward(
  backend: unknown, dy: TensorInfo, x: TensorInfo, gamma: TensorInfo, beta: TensorInfo, attrs: BatchNormTrainAttrs,
): TensorInfo[] {
  const b = asRunner(backend);
  const { epsilon, relu } = attrs;
  const c = x.shape[3]!;
  const stats = runOn(b, new ChannelReduceProgram('stats', c, relu), { x }, x, epsilon);
  try {
    const tensors = { dy, x, stats, gamma, beta };
    const sumGrad = runOn(b, new ChannelReduceProgram('sumGrad', c, relu), tensors, x, epsilon); // = dβ
    const sumGradXhat = runOn(b, new ChannelReduceProgram('sumGradXhat', c, relu), tensors, x, epsilon); // = dγ
    const dx = runOn(b, new ChannelMapProgram('dx', x.shape, relu), { ...tensors, sumGrad, sumGradXhat }, x, epsilon);
    return [dx, sumGradXhat, sumGrad];
  } finally {
    b.disposeData(stats.dataId);
  }
}
