/**
 * EResFD with trainable weights: conv weights, BN affine parameters, FPN `w1` and head weights as
 * tf.Variables (conv weights kept in TF's HWIO layout so no transpose runs per step), BN running
 * statistics as non-trainable variables. Train mode normalises with batch statistics and updates the
 * running stats like torch (momentum 0.1, unbiased variance, `num_batches_tracked` += 1), including the
 * dead `layer5`, whose parameters get no gradient (SPEC §1.4, golden/train_step README).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostTensor, StateDict } from '../../types.ts';
import { CONVS, isParameterKey, type ConvSpec } from './architecture.ts';
import { BN_EPS, BN_MOMENTUM } from './constants.ts';
import { convPad, toHwio } from './eresfd.ts';
import { runGraph, type GraphOptions, type GraphOutput, type LayerOps } from './graph.ts';
import { batchNormTrain } from './batch-norm-train.ts';
import { flushDenormalsTf, hasSubnormals } from '../../util/denormals.ts';
import { concatTapeLight } from '../../backend/tape-light.ts';

export interface TrainableEResFD {
  /** Trainable parameters by canonical key; conv weights are HWIO ([kh, kw, in, out]). */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /**
   * Forward in train mode (batch statistics); updates running stats when `updateStats` (default true)
   * with `momentum` (default torch's 0.1; 1/(k+1) on the k-th batch gives the cumulative average
   * BN re-estimation wants).
   */
  forwardTrain(x: tf.Tensor4D, options?: { updateStats?: boolean; momentum?: number; deferStats?: boolean }): GraphOutput;
  /**
   * Applies the running-stat update a `deferStats` forward kept back. A forward under a gradient tape
   * defers it so that the update's ops (four concats over 75 layers' vectors, whose inputs the tape
   * would clone) stay off the tape; the values are the same as updating at once.
   */
  commitStats(): void;
  /** Forward in eval mode (running statistics), unfused so it follows the current variables. */
  forwardEval(x: tf.Tensor4D, options?: GraphOptions): GraphOutput;
  /** Host copy in PyTorch layout, every canonical key (parameters and buffers). */
  toStateDict(): Promise<StateDict>;
  /** Overwrites every parameter and buffer from a state dict of the same architecture. */
  load(sd: StateDict): void;
  dispose(): void;
}

/** HWIO → [out, in, kh, kw] (PyTorch). */
export function fromHwio(hwio: Float32Array, spec: ConvSpec): Float32Array {
  const { outChannels: O, inChannels: I, kernel: K } = spec;
  const out = new Float32Array(O * I * K * K);
  for (let y = 0; y < K; y++) for (let x = 0; x < K; x++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) {
    out[((o * I + i) * K + y) * K + x] = hwio[((y * K + x) * I + i) * O + o]!;
  }
  return out;
}

const CONV_OF_WEIGHT = new Map(CONVS.map((c) => [`${c.name}.weight`, c]));

function hostToTf(key: string, t: HostTensor): { values: Float32Array; shape: number[] } {
  const spec = CONV_OF_WEIGHT.get(key);
  if (spec) return { values: toHwio(t.data as Float32Array, spec), shape: [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels] };
  return { values: Float32Array.from(t.data as Float32Array), shape: t.shape.length ? t.shape : [] };
}

let instances = 0;

export function createTrainableEResFD(stateDict: StateDict): TrainableEResFD {
  // Variable names are global in TF.js; suffix them so several models (BO trials) can coexist.
  const suffix = `#${++instances}`;
  const params = new Map<string, tf.Variable>();
  const buffers = new Map<string, tf.Variable>();
  const batchesTracked = new Map<string, bigint>();
  const template = new Map<string, HostTensor>();
  /**
   * Conv weights loaded with subnormal values (the released checkpoint has whole filters of them,
   * see util/denormals.ts): only these are flushed on the way into their conv — the stored weights
   * keep their values, so sparsity counts and written checkpoints are the checkpoint's. A flush per
   * conv costs two kernels and four saved tensors a step; Adam's steps (≈ lr) leave the subnormal
   * range at once, so weights that load without subnormals practically never get any.
   */
  const subnormal = new Set<string>();
  const noteSubnormals = (key: string, t: HostTensor): void => {
    if (hasSubnormals(t.data as Float32Array)) subnormal.add(key);
    else subnormal.delete(key);
  };
  for (const [key, t] of stateDict) {
    template.set(key, t);
    if (key.endsWith('.num_batches_tracked')) {
      batchesTracked.set(key, (t.data as BigInt64Array)[0] ?? 0n);
    } else if (isParameterKey(key)) {
      if (CONV_OF_WEIGHT.has(key)) noteSubnormals(key, t);
      const { values, shape } = hostToTf(key, t);
      params.set(key, tf.tidy(() => tf.variable(tf.tensor(values, shape), true, key + suffix)));
    } else {
      buffers.set(key, tf.tidy(() => tf.variable(tf.tensor(Float32Array.from(t.data as Float32Array), t.shape), false, key + suffix)));
    }
  }
  const p = (key: string): tf.Variable => {
    const v = params.get(key);
    if (!v) throw new Error(`missing parameter ${key}`);
    return v;
  };
  const weight = (key: string): tf.Tensor4D => {
    const w = p(key) as tf.Tensor4D;
    return subnormal.has(key) ? flushDenormalsTf(w) : w;
  };
  const conv = (spec: ConvSpec, x: tf.Tensor4D): tf.Tensor4D =>
    tf.conv2d(x, weight(`${spec.name}.weight`), spec.stride, convPad(spec));
  // loc.i and conf.i read the same map: one conv with both filters (and one gradient pass).
  const heads = (loc: ConvSpec, conf: ConvSpec, x: tf.Tensor4D): tf.Tensor4D => {
    const filter = concatTapeLight([weight(`${loc.name}.weight`), weight(`${conf.name}.weight`)], 3);
    const bias = concatTapeLight([p(`${loc.name}.bias`), p(`${conf.name}.bias`)], 0);
    return tf.add(tf.conv2d(x, filter, 1, 'valid'), bias) as tf.Tensor4D;
  };

  const evalOps: LayerOps = {
    convBn(spec, x) {
      const bn = spec.bn!;
      const y = tf.batchNorm(conv(spec, x), buffers.get(`${bn}.running_mean`)! as tf.Tensor1D, buffers.get(`${bn}.running_var`)! as tf.Tensor1D,
        p(`${bn}.bias`) as tf.Tensor1D, p(`${bn}.weight`) as tf.Tensor1D, BN_EPS);
      return spec.relu ? tf.relu(y) : y;
    },
    heads,
    fpnWeights: () => p('base.m0.layer6.w1') as tf.Tensor2D,
  };

  interface BatchStats { bn: string; count: number; mean: tf.Tensor1D; variance: tf.Tensor1D }

  /** Train-mode ops; with `stats`, each BN layer's batch statistics are kept there for the running stats. */
  const trainOps = (stats: BatchStats[] | null): LayerOps => ({
    convBn(spec, x) {
      const bn = spec.bn!;
      const y = conv(spec, x);
      const count = y.shape[0] * y.shape[1] * y.shape[2];
      return batchNormTrain(y, p(`${bn}.weight`) as tf.Tensor1D, p(`${bn}.bias`) as tf.Tensor1D, {
        epsilon: BN_EPS,
        relu: spec.relu,
        ...(stats ? { onStats: (mean, variance) => stats.push({ bn, count, mean: tf.keep(mean), variance: tf.keep(variance) }) } : {}),
      });
    },
    heads,
    fpnWeights: () => p('base.m0.layer6.w1') as tf.Tensor2D,
  });

  /**
   * torch's running-stat update (momentum, unbiased variance, `num_batches_tracked` += 1) of every
   * layer of one forward, as one flat update: the same elementwise ops as per layer, a few kernels
   * instead of six per layer. Running stats never reach the loss; under a gradient tape the train
   * step defers this (`deferStats`) so that the tape does not record and clone its inputs.
   */
  function updateRunningStats(stats: BatchStats[], momentum: number): void {
    if (stats.length === 0) return;
    const sizes = stats.map((s) => s.mean.size);
    const means = stats.map((s) => buffers.get(`${s.bn}.running_mean`)!);
    const vars = stats.map((s) => buffers.get(`${s.bn}.running_var`)!);
    // Per channel: momentum · n/(n − 1) of its layer, rounded to float32 as a scalar factor would be.
    const unbias = new Float32Array(sizes.reduce((a, b) => a + b, 0));
    let offset = 0;
    stats.forEach((s, k) => {
      unbias.fill((momentum * s.count) / Math.max(s.count - 1, 1), offset, offset + sizes[k]!);
      offset += sizes[k]!;
    });
    const [newMeans, newVars] = tf.tidy(() => {
      const rm = tf.add(tf.mul(tf.concat(means), 1 - momentum), tf.mul(tf.concat(stats.map((s) => s.mean)), momentum));
      const rv = tf.add(tf.mul(tf.concat(vars), 1 - momentum), tf.mul(tf.concat(stats.map((s) => s.variance)), tf.tensor1d(unbias)));
      return [tf.split(rm, sizes), tf.split(rv, sizes)];
    });
    stats.forEach((s, k) => {
      means[k]!.assign(newMeans[k]! as tf.Tensor1D);
      vars[k]!.assign(newVars[k]! as tf.Tensor1D);
      const key = `${s.bn}.num_batches_tracked`;
      batchesTracked.set(key, (batchesTracked.get(key) ?? 0n) + 1n);
    });
    tf.dispose([...newMeans, ...newVars, ...stats.flatMap((s) => [s.mean, s.variance])]);
  }

  let deferred: { stats: BatchStats[]; momentum: number } | null = null;
  const commitStats = (): void => {
    if (!deferred) return;
    const { stats, momentum } = deferred;
    deferred = null;
    updateRunningStats(stats, momentum);
  };

  return {
    params,
    forwardTrain(x, options = {}) {
      commitStats(); // a previous forward's update comes first, as it would have without deferring
      const stats: BatchStats[] | null = options.updateStats ?? true ? [] : null;
      const out = runGraph(trainOps(stats), x, { runDeadLayer5: true });
      const momentum = options.momentum ?? BN_MOMENTUM;
      if (stats && options.deferStats) deferred = { stats, momentum };
      else if (stats) updateRunningStats(stats, momentum);
      return out;
    },
    commitStats,
    forwardEval(x, options) {
      commitStats();
      return runGraph(evalOps, x, options);
    },
    async toStateDict() {
      commitStats();
      const sd: StateDict = new Map();
      for (const [key, t] of template) {
        if (key.endsWith('.num_batches_tracked')) {
          sd.set(key, { dtype: 'int64', shape: [], data: BigInt64Array.of(batchesTracked.get(key) ?? 0n) });
          continue;
        }
        const v = params.get(key) ?? buffers.get(key)!;
        const values = (await v.data()) as Float32Array;
        const spec = CONV_OF_WEIGHT.get(key);
        sd.set(key, { dtype: 'float32', shape: t.shape.slice(), data: spec ? fromHwio(values, spec) : Float32Array.from(values) });
      }
      return sd;
    },
    load(sd) {
      if (deferred) tf.dispose(deferred.stats.flatMap((s) => [s.mean, s.variance]));
      deferred = null; // the loaded state replaces whatever the last forward measured
      for (const [key, t] of sd) {
        if (key.endsWith('.num_batches_tracked')) {
          batchesTracked.set(key, (t.data as BigInt64Array)[0] ?? 0n);
          continue;
        }
        const target = params.get(key) ?? buffers.get(key);
        if (!target) continue;
        if (params.has(key) && CONV_OF_WEIGHT.has(key)) noteSubnormals(key, t);
        const { values, shape } = params.has(key) ? hostToTf(key, t) : { values: t.data as Float32Array, shape: t.shape };
        tf.tidy(() => target.assign(tf.tensor(values, shape)));
      }
    },
    dispose() {
      if (deferred) tf.dispose(deferred.stats.flatMap((s) => [s.mean, s.variance]));
      deferred = null;
      for (const v of params.values()) v.dispose();
      for (const v of buffers.values()) v.dispose();
      params.clear();
      buffers.clear();
    },
  };
}
