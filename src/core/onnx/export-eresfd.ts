/**
 * EResFD as an ONNX model, dense or compacted: the inference graph of compact/inference-graph.ts (the
 * same wiring as runGraph, minus the dead layer5) over BN-folded conv weights (CompactWeights), written
 * with our own ONNX builder. This is how a pruned model leaves the studio for mobile and server runtimes.
 *
 * Input `input` [N, 3, H, W]: RGB float minus the mean [123, 117, 104], no scaling — PyTorch's net
 * input (SPEC §1.7). Outputs: the raw heads, flattened like the studio's (row = offset_k + y·W_k + x):
 * `loc` [N, P, 4] and `conf` [N, P, 2] (logits; level 0 after the background max-out).
 */
import { CONV_BY_NAME, type ConvSpec } from '../model/eresfd/architecture.ts';
import { INPUT_MEAN_RGB } from '../model/eresfd/constants.ts';
import { fusionCoefficients } from '../model/eresfd/graph.ts';
import { analyzeChannels } from '../compact/channel-dependencies.ts';
import { foldCompaction, type CompactConv, type CompactWeights } from '../compact/fold.ts';
import { foldNetwork } from '../model/eresfd/eresfd.ts';
import { inferenceGraph } from '../compact/inference-graph.ts';
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import { OnnxGraphBuilder } from './onnx-graph.ts';

export const ONNX_INPUT = 'input';
export const ONNX_OUTPUTS = ['loc', 'conf'] as const;

/** The dense network as CompactWeights with every channel kept (BN folded, as the studio's inference). */
export function denseWeights(stateDict: StateDict, source: string): CompactWeights {
  const folded = foldNetwork(stateDict);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const convs: CompactConv[] = [];
  for (const name of inferenceGraph().convs.keys()) {
    const s = CONV_BY_NAME.get(name)!;
    const f = folded.get(name)!;
    convs.push({ name, dead: false, keptIn: range(s.inChannels), keptOut: range(s.outChannels), filter: f.filter, bias: f.bias, border: null });
  }
  const w1 = stateDict.get('base.m0.layer6.w1');
  if (!w1) throw new StudioError('CHECKPOINT_ARCHITECTURE', 'state dict has no base.m0.layer6.w1');
  return { source, strategy: 'keep', convs, w1: Float32Array.from(w1.data as Float32Array) };
}

/** HWIO [k, k, in, out] → OIHW [out, in, k, k]. */
function toOihw(hwio: Float32Array, k: number, nIn: number, nOut: number): Float32Array {
  const out = new Float32Array(hwio.length);
  for (let t = 0; t < k * k; t++) for (let i = 0; i < nIn; i++) for (let o = 0; o < nOut; o++) out[(o * nIn + i) * k * k + t] = hwio[(t * nIn + i) * nOut + o]!;
  return out;
}

/** Serialized ONNX ModelProto of a dense or compacted EResFD. */
export function exportEResFDOnnx(weights: CompactWeights, options: { producerVersion?: string } = {}): Uint8Array {
  const g = new OnnxGraphBuilder();
  const graph = inferenceGraph();
  const convs = new Map(weights.convs.map((c) => [c.name, c]));
  const coefficients = fusionCoefficients(weights.w1);
  const x = g.input(ONNX_INPUT, ['N', 3, 'H', 'W']);
  /** ONNX name of each graph value; null for values nothing computes (dead convs). */
  const names: Array<string | null> = graph.values.map(() => null);
  names[0] = x;
  const axes1 = g.int64s('axis_c', [1]);
  const sliceChannels = (v: string, from: number, to: number): string => g.op('Slice', [v, g.int64s('start', [from]), g.int64s('end', [to]), axes1]);

  /** Value whose spatial size equals value v's (through size-preserving convs), for nearest resizes. */
  const sameSize = (v: number): number => {
    if (names[v]) return v;
    const producer = graph.nodes[graph.values[v]!.producer];
    if (producer?.kind === 'conv' && producer.spec.stride === 1 && producer.spec.kernel === 2 * producer.spec.pad + 1) return sameSize(producer.input);
    throw new StudioError('COMPACT_FORMAT', `ONNX export: no computed value has the size of ${graph.values[v]!.id}`);
  };

  /** [N, 1, h, w] of ones with the spatial size of v: x·0 + 1, no shape ops. */
  const onesLike = (v: string): string => g.op('Add', [g.op('Mul', [sliceChannels(v, 0, 1), g.scalar('zero', 0)]), g.scalar('one', 1)]);

  const conv = (spec: ConvSpec, c: CompactConv, inputValue: number): string => {
    const k = spec.kernel;
    const nIn = c.keptIn.length, nOut = c.keptOut.length;
    const attrs = { kernel_shape: [k, k], strides: [spec.stride, spec.stride], pads: [spec.pad, spec.pad, spec.pad, spec.pad] };
    const b = g.floats(`${spec.name}.bias`, c.bias, [nOut]);
    // Bias map (fold.ts): the removed constants' taps convolved with an all-ones image of the input's
    // size reproduce zero padding exactly.
    const border = (ones: string): string =>
      g.op('Conv', [ones, g.floats(`${spec.name}.border`, c.border ? toOihw(c.border, k, 1, nOut) : new Float32Array(nOut * k * k), [nOut, 1, k, k]), b], attrs);
    let y: string;
    if (nIn === 0) {
      // Every input channel was a folded constant: the output is the bias (map) alone.
      y = border(onesLike(names[sameSize(inputValue)]!));
    } else {
      const input = names[inputValue];
      if (!input) throw new StudioError('COMPACT_FORMAT', `ONNX export: ${spec.name} reads a value that is not computed`);
      const w = g.floats(`${spec.name}.weight`, toOihw(c.filter, k, nIn, nOut), [nOut, nIn, k, k]);
      y = c.border ? g.op('Add', [g.op('Conv', [input, w], attrs), border(onesLike(input))]) : g.op('Conv', [input, w, b], attrs);
    }
    return spec.relu ? g.op('Relu', [y]) : y;
  };

  const flatLoc: string[] = [];
  const flatConf: string[] = [];
  const flatten = (v: string, channels: number, into: string[]): void => {
    into.push(g.op('Reshape', [g.op('Transpose', [v], { perm: [0, 2, 3, 1] }), g.int64s('shape', [0, -1, channels])]));
  };

  for (const node of graph.nodes) {
    if (node.kind === 'conv') {
      const c = convs.get(node.spec.name);
      if (!c) throw new StudioError('COMPACT_FORMAT', `ONNX export: weights have no conv ${node.spec.name}`);
      if (c.dead || c.keptOut.length === 0) continue; // only ever reaches an FPN term of weight 0
      names[node.output] = conv(node.spec, c, node.input);
    } else if (node.kind === 'sum') {
      const [a, b] = node.inputs.map((i) => names[i]!);
      if (node.fuse === null) {
        names[node.output] = g.op('Add', [a!, b!]);
        continue;
      }
      // FPN fusion j = ca·a + cb·b with host coefficients (graph.ts constantFusion); a dead conv's
      // term has weight 0 and is left out.
      const [ca, cb] = coefficients[node.fuse]!;
      const terms: string[] = [];
      for (const [v, coef] of [[a, ca], [b, cb]] as const) {
        if (v) terms.push(g.op('Mul', [v, g.scalar(`fpn.w${node.fuse}`, coef)]));
        else if (coef !== 0) throw new StudioError('COMPACT_FORMAT', `ONNX export: FPN fusion ${node.fuse} reads a removed value with weight ${coef}`);
      }
      if (terms.length === 0) throw new StudioError('COMPACT_FORMAT', `ONNX export: FPN fusion ${node.fuse} has no computed input`);
      names[node.output] = terms.length === 2 ? g.op('Add', terms) : terms[0]!;
    } else if (node.kind === 'concat') {
      // A branch with no kept channel (its filters all removed) contributes none.
      names[node.output] = g.op('Concat', node.inputs.map((i) => names[i]).filter((n): n is string => !!n), { axis: 1 });
    } else if (node.op === 'relu') {
      // The heads' ReLU is the identity: every FEM branch ends in a ReLU (graph.ts does not run it either).
      names[node.output] = names[node.input];
    } else {
      // Nearest resize to the other summand's size with PyTorch's src = floor(dst·in/out) (graph.ts nearestTo).
      const sum = graph.nodes.find((n) => n.kind === 'sum' && n.inputs[1] === node.output);
      if (sum?.kind !== 'sum') throw new StudioError('COMPACT_FORMAT', `ONNX export: resize ${graph.values[node.output]!.id} has no target`);
      const like = names[sameSize(sum.inputs[0])]!;
      const size = g.op('Shape', [like], { start: 2, end: 4 });
      names[node.output] = g.op('Resize', [names[node.input]!, '', '', size], { axes: [2, 3], mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
    }
    if (node.kind === 'conv' && node.spec.name.startsWith('conf.')) {
      const level = Number(node.spec.name.slice(5));
      const loc = names[graph.valueIndex.get(`loc.${level}`)!]!;
      let conf = names[node.output]!;
      if (level === 0) {
        // maxout_bg_size = 3: [max(c0, c1, c2), face].
        const bg = g.op('Max', [0, 1, 2].map((i) => sliceChannels(conf, i, i + 1)));
        conf = g.op('Concat', [bg, sliceChannels(conf, 3, 4)], { axis: 1 });
      }
      flatten(loc, 4, flatLoc);
      flatten(conf, 2, flatConf);
    }
  }
  g.node('Concat', flatLoc, { axis: 1 }, [ONNX_OUTPUTS[0]]);
  g.node('Concat', flatConf, { axis: 1 }, [ONNX_OUTPUTS[1]]);
  g.output(ONNX_OUTPUTS[0], ['N', 'P', 4]);
  g.output(ONNX_OUTPUTS[1], ['N', 'P', 2]);
  return g.model({
    graphName: 'EResFD',
    producer: 'B-FPGM Pruning Studio',
    producerVersion: options.producerVersion ?? '0.1.0',
    doc: 'EResFD face detector (B-FPGM). input: [N,3,H,W] RGB float minus mean [123,117,104], no scaling. outputs: loc [N,P,4] box regressions (variances 0.1, 0.2), conf [N,P,2] logits (background, face); rows ordered level by level, row-major per level.',
    metadata: { source: weights.source, compaction: weights.strategy, input_mean_rgb: INPUT_MEAN_RGB.join(','), input_layout: 'NCHW RGB' },
  });
}

/** A normalised NHWC image (the studio's layout) as the ONNX model's NCHW input. */
export function nhwcToNchw(nhwc: Float32Array, height: number, width: number, channels = 3): Float32Array {
  const out = new Float32Array(nhwc.length);
  const plane = height * width;
  for (let p = 0; p < plane; p++) for (let c = 0; c < channels; c++) out[c * plane + p] = nhwc[p * channels + c]!;
  return out;
}

/**
 * The ONNX file of a checkpoint: compacted (zeroed filters physically removed, same outputs to float
 * rounding) or dense (every channel kept). Host-only: no tensors, so any thread can call it.
 */
export function checkpointToOnnx(stateDict: StateDict, options: { compact: boolean; source: string }): Uint8Array {
  if (!options.compact) return exportEResFDOnnx(denseWeights(stateDict, options.source));
  return exportEResFDOnnx(foldCompaction(stateDict, analyzeChannels(stateDict), options.source));
}
