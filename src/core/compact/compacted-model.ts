/**
 * A physically smaller EResFD: each conv keeps only its live input/output channels (fold.ts), and
 * the unchanged forward graph (`runGraph`, mirroring eresfd_16 / FullySepFPN / the heads) runs over
 * a LayerOps whose convs take and return those channel subsets. Because coupled channels are removed
 * together and every tensor keeps its channels in ascending original order, the residual adds, FPN
 * fusions, FEM concat and head max-out line up without runGraph knowing about channel lists.
 * Same predict/dispose contract as EResFDModel (eresfd.ts), so detectFaces runs it unchanged.
 */
import * as tf from '@tensorflow/tfjs-core';
import { CONV_BY_NAME, convMacs, type ConvSpec } from '../model/eresfd/architecture.ts';
import { convPad, inferenceConv } from '../model/eresfd/eresfd.ts';
import { fusionConvScales, runGraph, type GraphOptions, type GraphOutput, type LayerOps } from '../model/eresfd/graph.ts';
import type { StateDict } from '../types.ts';
import { analyzeChannels, type BorderStrategy, type ChannelAnalysis } from './channel-dependencies.ts';
import { foldCompaction, type CompactConv, type CompactWeights } from './fold.ts';
import { convOutputSize, fusionCoefficients } from './inference-graph.ts';

export interface CompactConvInfo {
  name: string;
  inChannels: number;
  outChannels: number;
  keptIn: number;
  keptOut: number;
  dead: boolean;
  biasMap: boolean;
  macs480x640: number;
}

export interface CompactDescription {
  source: string;
  strategy: BorderStrategy;
  /**
   * Parameters counted like the checkpoint's (SPEC §3.4): conv weights, BN γ and β (or head bias)
   * per kept output channel, bias-map taps, FPN `w1`. Folding added no parameters: absorbed
   * constants shift β. The dead layer5 is not part of the compacted network.
   */
  parameters: number;
  /** Floats in the weights blob (BN folded: one bias per kept channel). */
  storedFloats: number;
  /** Conv MACs per frame at 480×640 (bias maps are computed once per input size, not counted). */
  macs480x640: number;
  /** Convs that add a per-size bias map (removed non-zero constants into padded convs). */
  biasMaps: number;
  convs: CompactConvInfo[];
}

export interface CompactedModel {
  readonly kind: 'compacted';
  /** Host copy of what the model runs (serializeCompacted writes it). */
  readonly weights: CompactWeights;
  /** Forward on a normalised NHWC batch; the caller owns the returned tensors. `sources` holds only kept channels. */
  predict(x: tf.Tensor4D, options?: GraphOptions): GraphOutput;
  describe(): CompactDescription;
  dispose(): void;
}

/** Input sizes whose bias maps stay cached (a webcam or one image size in practice). */
const BIAS_MAP_SIZES = 4;

interface DeviceConv {
  conv: CompactConv;
  spec: ConvSpec;
  filter: tf.Tensor4D | null;
  bias: tf.Tensor1D | null;
  border: tf.Tensor4D | null;
}

export function describeCompacted(weights: CompactWeights): CompactDescription {
  let parameters = 18; // w1 [2, 9]
  let storedFloats = weights.w1.length;
  let macs = 0;
  let biasMaps = 0;
  const convs: CompactConvInfo[] = [];
  for (const c of weights.convs) {
    const spec = CONV_BY_NAME.get(c.name)!;
    const nIn = c.keptIn.length, nOut = c.keptOut.length;
    const m = c.dead ? 0 : convMacs(spec, 480, 640, nIn, nOut);
    if (!c.dead) {
      parameters += spec.kernel * spec.kernel * nIn * nOut + (spec.bn ? 2 : 1) * nOut + (c.border ? c.border.length : 0);
      storedFloats += c.filter.length + c.bias.length + (c.border ? c.border.length : 0);
      macs += m;
      if (c.border) biasMaps++;
    }
    convs.push({ name: c.name, inChannels: spec.inChannels, outChannels: spec.outChannels, keptIn: nIn, keptOut: nOut, dead: c.dead, biasMap: !!c.border, macs480x640: m });
  }
  return { source: weights.source, strategy: weights.strategy, parameters, storedFloats, macs480x640: macs, biasMaps, convs };
}

export function createCompactedModel(weights: CompactWeights): CompactedModel {
  const coefficients = fusionCoefficients(weights.w1);
  // The FPN fusion coefficients go into the convs' weights, as in the dense model (graph.ts).
  const scales = fusionConvScales(coefficients);
  const scaled = (values: Float32Array, factor: number): Float32Array => (factor === 1 ? values : values.map((v) => v * factor));
  const device = new Map<string, DeviceConv>();
  for (const conv of weights.convs) {
    const spec = CONV_BY_NAME.get(conv.name)!;
    const k = spec.kernel;
    const live = !conv.dead && conv.keptOut.length > 0;
    const { input = 1, output = 1 } = scales.get(conv.name) ?? {};
    device.set(conv.name, {
      conv,
      spec,
      filter: live && conv.keptIn.length > 0 ? tf.tensor4d(scaled(conv.filter, input * output), [k, k, conv.keptIn.length, conv.keptOut.length]) : null,
      bias: live ? tf.tensor1d(scaled(conv.bias, output)) : null,
      border: live && conv.border ? tf.tensor4d(scaled(conv.border, input * output), [k, k, 1, conv.keptOut.length]) : null,
    });
  }
  // A level's loc and conf convs as one (filters side by side) where both are plain fused convs.
  const combinedHeads = new Map<string, { filter: tf.Tensor4D; bias: tf.Tensor1D }>();
  for (let i = 0; i < 6; i++) {
    const loc = device.get(`loc.${i}`), conf = device.get(`conf.${i}`);
    if (loc?.filter && conf?.filter && !loc.border && !conf.border && loc.conv.keptIn.length === conf.conv.keptIn.length) {
      combinedHeads.set(`loc.${i}`, { filter: tf.concat([loc.filter, conf.filter], 3), bias: tf.concat([loc.bias!, conf.bias!]) });
    }
  }
  // Per network input size (not per conv input size: the pyramid has six of those): conv name →
  // [1, h', w', out] bias + exact contribution of the removed constants.
  const biasMaps = new Map<string, Map<string, tf.Tensor4D>>();
  let current: Map<string, tf.Tensor4D> | null = null;

  const selectInputSize = (x: tf.Tensor4D): void => {
    const key = `${x.shape[1]}x${x.shape[2]}`;
    current = biasMaps.get(key) ?? null;
    if (current) {
      biasMaps.delete(key); // re-insert: the Map's order is the LRU order
    } else {
      if (biasMaps.size >= BIAS_MAP_SIZES) {
        const [oldest, maps] = biasMaps.entries().next().value!;
        tf.dispose([...maps.values()]);
        biasMaps.delete(oldest);
      }
      current = new Map();
    }
    biasMaps.set(key, current);
  };

  const biasMap = (d: DeviceConv, h: number, w: number): tf.Tensor4D => {
    let m = current!.get(d.spec.name);
    if (!m) {
      // Convolving an all-ones image reproduces zero padding: border outputs sum only in-bounds taps.
      m = tf.keep(tf.tidy(() => tf.add(tf.conv2d(tf.ones([1, h, w, 1]) as tf.Tensor4D, d.border!, d.spec.stride, convPad(d.spec)), d.bias!) as tf.Tensor4D));
      current!.set(d.spec.name, m);
    }
    return m;
  };

  const apply = (spec: ConvSpec, x: tf.Tensor4D, relu: boolean): tf.Tensor4D => {
    const d = device.get(spec.name);
    if (!d) throw new Error(`compacted EResFD has no conv ${spec.name}`);
    const { keptIn, keptOut } = d.conv;
    const [batch, h, w] = x.shape;
    const [ho, wo] = convOutputSize(spec, h, w);
    if (d.conv.dead || keptOut.length === 0) {
      // Dead: runGraph multiplies it by a zero fusion weight, so only its shape matters.
      return tf.zeros([batch, ho, wo, keptOut.length]);
    }
    const map = d.border ? biasMap(d, h, w) : null;
    let y: tf.Tensor4D;
    if (keptIn.length === 0) {
      // Every input channel was a folded constant: the output is the bias (map) alone.
      y = tf.add(tf.zeros([batch, ho, wo, keptOut.length]), map ?? d.bias!);
    } else {
      if (x.shape[3] !== keptIn.length) throw new Error(`${spec.name}: input has ${x.shape[3]} channels, compacted conv expects ${keptIn.length}`);
      if (!map) {
        return inferenceConv(x, d.filter!, d.bias!, spec, relu ? 'relu' : 'linear');
      }
      // WASM's fused conv takes only a rank-1 bias, so the map is a separate add.
      y = tf.add(tf.conv2d(x, d.filter!, spec.stride, convPad(spec)), map);
    }
    return relu ? tf.relu(y) : y;
  };

  const ops: LayerOps = {
    convBn: (spec, x) => apply(spec, x, spec.relu),
    heads: (loc, conf, x) => {
      const both = combinedHeads.get(loc.name);
      if (both) return inferenceConv(x, both.filter, both.bias, loc, 'linear');
      return tf.concat([apply(loc, x, false), apply(conf, x, false)], 3);
    },
    fusionCoefficients: coefficients,
  };
  let disposed = false;
  return {
    kind: 'compacted',
    weights,
    predict(x, options) {
      if (disposed) throw new Error('compacted EResFD used after dispose()');
      selectInputSize(x);
      // The dead layer5 is not part of the compacted network.
      return runGraph(ops, x, { ...options, runDeadLayer5: false });
    },
    describe: () => describeCompacted(weights),
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const d of device.values()) for (const t of [d.filter, d.bias, d.border]) t?.dispose();
      for (const h of combinedHeads.values()) tf.dispose([h.filter, h.bias]);
      for (const maps of biasMaps.values()) tf.dispose([...maps.values()]);
      biasMaps.clear();
      current = null;
    },
  };
}

export interface CompactOptions {
  strategy?: BorderStrategy;
  /** See AnalyzeOptions.outputTile. */
  outputTile?: number;
  /** Checkpoint name recorded in the manifest. */
  source?: string;
}

/** Analysis + folding + model in one call. */
export function compactEResFD(stateDict: StateDict, options: CompactOptions = {}): { model: CompactedModel; analysis: ChannelAnalysis } {
  const analysis = analyzeChannels(stateDict, { strategy: options.strategy, outputTile: options.outputTile });
  const weights = foldCompaction(stateDict, analysis, options.source ?? 'checkpoint');
  return { model: createCompactedModel(weights), analysis };
}
