/**
 * EResFD for inference: the state dict's convs with their BatchNorms folded in (eval-mode BN is an
 * affine map per channel, SPEC §2 "TF.js mapping"), run as fused conv + bias + ReLU — one kernel per
 * conv instead of four on every backend — and the FPN fusion weights folded into host coefficients.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor, StateDict } from '../../types.ts';
import { CONVS, type ConvSpec } from './architecture.ts';
import { BN_EPS } from './constants.ts';
import { flushDenormals } from '../../util/denormals.ts';
import { tapeIsRecording } from '../../backend/reshape-view.ts';
import { fusionCoefficients, fusionConvScales, runGraph, type GraphOptions, type GraphOutput, type LayerOps } from './graph.ts';

export interface EResFDModel {
  /** The weights the model was built from (host copy, PyTorch layout). */
  readonly stateDict: StateDict;
  /** Forward on a normalised NHWC batch; the caller owns (and disposes) the returned tensors. */
  predict(x: tf.Tensor4D, options?: GraphOptions): GraphOutput;
  dispose(): void;
}

function tensorOf(sd: StateDict, key: string): HostTensor {
  const t = sd.get(key);
  if (!t) throw new Error(`state dict has no ${key}`);
  return t;
}

/** [out, in, kh, kw] → HWIO, each output filter scaled (BN folding). */
export function toHwio(w: Float32Array, spec: ConvSpec, scale?: Float64Array): Float32Array {
  const { outChannels: O, inChannels: I, kernel: K } = spec;
  const out = new Float32Array(O * I * K * K);
  for (let o = 0; o < O; o++) {
    const s = scale ? scale[o]! : 1;
    for (let i = 0; i < I; i++) {
      for (let y = 0; y < K; y++) {
        for (let x = 0; x < K; x++) {
          out[((y * K + x) * I + i) * O + o] = w[((o * I + i) * K + y) * K + x]! * s;
        }
      }
    }
  }
  return out;
}

/** Explicit symmetric padding; TF's 'same' is asymmetric for strided convs. */
export function convPad(spec: ConvSpec): 'valid' | [[0, 0], [number, number], [number, number], [0, 0]] {
  return spec.pad === 0 ? 'valid' : [[0, 0], [spec.pad, spec.pad], [spec.pad, spec.pad], [0, 0]];
}

/**
 * Conv + bias + activation as one FusedConv2D kernel. `tf.fused.conv2d` wraps the kernel in a
 * customGrad (for its gradient) even when nothing records one: an extra engine scope per conv, which
 * tf.profile lists as a second "kernel" (82 of an inference's 231). Inference runs the kernel
 * directly; under a gradient tape the public op keeps the gradient.
 */
export function inferenceConv(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, spec: ConvSpec, activation: 'relu' | 'linear'): tf.Tensor4D {
  const pad = convPad(spec);
  if (tapeIsRecording()) {
    return tf.fused.conv2d({ x, filter, strides: spec.stride, pad, bias, activation });
  }
  return tf.engine().runKernel('FusedConv2D', { x, filter, bias }, {
    strides: [spec.stride, spec.stride], pad, dataFormat: 'NHWC', dilations: [1, 1], activation,
  } as unknown as tf.NamedAttrMap) as tf.Tensor4D;
}

interface FoldedConv {
  filter: tf.Tensor4D;
  bias: tf.Tensor1D;
}

/** BN folded into the conv, HWIO; subnormals zeroed (they only slow WASM down, see util/denormals.ts). */
export function foldConv(sd: StateDict, spec: ConvSpec): { filter: Float32Array; bias: Float32Array } {
  const w = tensorOf(sd, `${spec.name}.weight`).data as Float32Array;
  if (!spec.bn) {
    const b = spec.bias ? (tensorOf(sd, `${spec.name}.bias`).data as Float32Array) : new Float32Array(spec.outChannels);
    return { filter: flushDenormals(toHwio(w, spec)), bias: flushDenormals(Float32Array.from(b)) };
  }
  const gamma = tensorOf(sd, `${spec.bn}.weight`).data as Float32Array;
  const beta = tensorOf(sd, `${spec.bn}.bias`).data as Float32Array;
  const mean = tensorOf(sd, `${spec.bn}.running_mean`).data as Float32Array;
  const variance = tensorOf(sd, `${spec.bn}.running_var`).data as Float32Array;
  const scale = new Float64Array(spec.outChannels);
  const bias = new Float32Array(spec.outChannels);
  for (let o = 0; o < spec.outChannels; o++) {
    scale[o] = gamma[o]! / Math.sqrt(variance[o]! + BN_EPS);
    bias[o] = beta[o]! - mean[o]! * scale[o]!;
  }
  return { filter: flushDenormals(toHwio(w, spec, scale)), bias: flushDenormals(bias) };
}

/** BN-folded convs of the whole network: HWIO filter [k, k, in, out] and bias, bit-identical to the dense model's. */
export type FoldedNetwork = Map<string, { filter: Float32Array; bias: Float32Array }>;

/** Every conv folded as the dense model folds it; channel analysis and compaction start from this. */
export function foldNetwork(stateDict: StateDict): FoldedNetwork {
  const out: FoldedNetwork = new Map();
  for (const spec of CONVS) out.set(spec.name, foldConv(stateDict, spec));
  return out;
}

export function createEResFD(stateDict: StateDict): EResFDModel {
  const coefficients = fusionCoefficients(tensorOf(stateDict, 'base.m0.layer6.w1').data as Float32Array);
  const scales = fusionConvScales(coefficients);
  const folded = new Map<string, FoldedConv>();
  for (const spec of CONVS) {
    const { filter, bias } = foldConv(stateDict, spec);
    const scale = scales.get(spec.name);
    if (scale) {
      const f = scale.input * scale.output;
      for (let i = 0; i < filter.length; i++) filter[i]! *= f;
      for (let i = 0; i < bias.length; i++) bias[i]! *= scale.output;
    }
    folded.set(spec.name, {
      filter: tf.tensor4d(filter, [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels]),
      bias: tf.tensor1d(bias),
    });
  }

  // Each level's loc and conf filters side by side (HWIO: out is the last axis): one conv per level.
  const heads = new Map<string, FoldedConv>();
  for (let i = 0; i < 6; i++) {
    const loc = folded.get(`loc.${i}`)!, conf = folded.get(`conf.${i}`)!;
    heads.set(`loc.${i}`, { filter: tf.concat([loc.filter, conf.filter], 3), bias: tf.concat([loc.bias, conf.bias]) });
    // Only the combined head conv runs: the separate filters would sit unused on the device.
    tf.dispose([loc.filter, loc.bias, conf.filter, conf.bias]);
    folded.delete(`loc.${i}`);
    folded.delete(`conf.${i}`);
  }

  const apply = (spec: ConvSpec, x: tf.Tensor4D, activation: 'relu' | 'linear'): tf.Tensor4D => {
    const f = folded.get(spec.name)!;
    return inferenceConv(x, f.filter, f.bias, spec, activation);
  };
  const ops: LayerOps = {
    convBn: (spec, x) => apply(spec, x, spec.relu ? 'relu' : 'linear'),
    heads: (loc, _conf, x) => {
      const h = heads.get(loc.name)!;
      return inferenceConv(x, h.filter, h.bias, loc, 'linear');
    },
    fusionCoefficients: coefficients,
  };
  let disposed = false;
  return {
    stateDict,
    predict(x, options) {
      if (disposed) throw new Error('EResFD model used after dispose()');
      return runGraph(ops, x, options);
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const f of [...folded.values(), ...heads.values()]) tf.dispose([f.filter, f.bias]);
    },
  };
}
