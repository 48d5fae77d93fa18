/**
 * Train-mode BatchNorm (+ ReLU) of an NHWC map as one op with its analytic gradient — what
 * `tf.moments` → `tf.batchNorm` → `tf.relu` compute, in far fewer full-size passes. TF.js's own
 * gradients of that chain tile every per-channel vector to the map's size (WASM's Tile: ~9 ms per
 * [2,80,80,16] map), reduce over N·H·W through transposes, and spend ~20 elementwise passes per
 * layer; here a layer costs ~5 passes forward and ~8 backward:
 *
 *   forward   μ = mean(x),  xc = x − μ,  σ² = mean(xc²) (biased, like torch),  s = γ / √(σ² + eps),
 *             y = act(s·xc + β)                                  means over N·H·W
 *   backward  g = dy · [y > 0] (ReLU),  dβ = M·mean(g),  dγ = M·mean(g·xc) / √(σ² + eps),
 *             dx = s·g − s·mean(g) − (s·mean(g·xc) / (σ² + eps))·xc          M = N·H·W
 *
 * Per-channel means are one full-window average pool (XNNPACK's NHWC pooling on WASM: 0.5 ms for an
 * [8,160,160,16] map, where Sum/Mean transpose first and take 11 ms). Per-channel affine maps
 * (`s·xc + β` + ReLU, `x − μ`, the two terms of dx) are 1×1 depthwise convs, twice as fast on WASM as
 * broadcasting binary ops.
 */
import * as tf from '@tensorflow/tfjs-core';
import { reshapeView, tapeIsRecording } from '../../backend/reshape-view.ts';
import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, hasFusedBatchNormTrain } from '../../backend/kernels/batch-norm-train.ts';

/**
 * Mean over N, H, W of an NHWC map: [C], as one average pool over the batch stacked in height. The
 * kernel is run directly: `tf.avgPool` adds a Cast to the input dtype, one more kernel per call.
 */
function channelMeans(x: tf.Tensor4D): tf.Tensor1D {
  const [n, h, w, c] = x.shape;
  const pooled = tf.engine().runKernel('AvgPool', { x: reshapeView(x, [1, n * h, w, c]) }, {
    filterSize: [n * h, w], strides: [n * h, w], pad: 'valid',
  }) as tf.Tensor;
  return reshapeView(pooled, [c]);
}

/**
 * s·x (+ b) per channel, then ReLU if asked: a 1×1 depthwise conv. The fused kernel is run directly:
 * `tf.fused.depthwiseConv2d` splits itself into conv, add and ReLU while a gradient is being recorded,
 * and this op's gradient is its own.
 */
function channelAffine(x: tf.Tensor4D, s: tf.Tensor1D, b: tf.Tensor1D | null, relu = false): tf.Tensor4D {
  const filter = reshapeView<tf.Rank.R4>(s, [1, 1, x.shape[3], 1]);
  if (!b) return tf.depthwiseConv2d(x, filter as tf.Tensor4D, 1, 'valid');
  return tf.engine().runKernel('FusedDepthwiseConv2D', { x, filter, bias: b }, {
    strides: [1, 1], pad: 'valid', dataFormat: 'NHWC', dilations: [1, 1], activation: relu ? 'relu' : 'linear',
  }) as tf.Tensor4D;
}

export interface BatchNormTrainOptions {
  epsilon: number;
  relu: boolean;
  /** Receives the batch mean and biased variance ([C], for the running statistics); disposed after. */
  onStats?: (mean: tf.Tensor1D, variance: tf.Tensor1D) => void;
}

/**
 * `act(batchNorm(x, batch mean, batch variance, beta, gamma))` with batch statistics over N·H·W,
 * differentiable in x, gamma and beta. On WASM and WebGPU, one fused kernel forward and one backward
 * (backend/kernels/batch-norm-train.ts); elsewhere the composite below.
 */
export function batchNormTrain(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: BatchNormTrainOptions): tf.Tensor4D {
  return hasFusedBatchNormTrain() ? batchNormTrainFused(x, gamma, beta, options) : batchNormTrainComposite(x, gamma, beta, options);
}

function fusedForward(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: BatchNormTrainOptions): tf.Tensor4D {
  const { epsilon, relu, onStats } = options;
  // As in the composite, the statistics live for onStats only: whatever it does not keep is freed.
  return tf.tidy(() => {
    const [y, mean, variance] = tf.engine().runKernel(BATCH_NORM_TRAIN, { x, gamma, beta }, { epsilon, relu }) as [tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
    onStats?.(mean, variance);
    return y;
  });
}

/**
 * The fused kernels. Under a gradient tape only x is saved (the engine clones what is saved: one
 * Identity kernel each, and the clone outlives the forward's scope); the backward recomputes the
 * statistics and the ReLU's mask from it. gamma and beta are read by closure: they are variables,
 * which no scope disposes.
 */
function batchNormTrainFused(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: BatchNormTrainOptions): tf.Tensor4D {
  if (!tapeIsRecording()) return fusedForward(x, gamma, beta, options);
  const { epsilon, relu } = options;
  const op = tf.customGrad((xIn, gammaIn, betaIn, saveIn) => {
    (saveIn as tf.GradSaveFunc)([xIn as tf.Tensor]);
    return {
      value: fusedForward(xIn as tf.Tensor4D, gammaIn as tf.Tensor1D, betaIn as tf.Tensor1D, options),
      gradFunc: (dy: tf.Tensor, [saved]: tf.Tensor[]) =>
        tf.engine().runKernel(BATCH_NORM_TRAIN_GRAD, { dy, x: saved!, gamma: gammaIn as tf.Tensor, beta: betaIn as tf.Tensor }, { epsilon, relu }) as tf.Tensor[],
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/** TF.js ops with the analytic gradient: CPU and WebGL, which have no fused kernels. */
function batchNormTrainComposite(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, options: BatchNormTrainOptions): tf.Tensor4D {
  const { epsilon, relu, onStats } = options;
  const [n, h, w, c] = x.shape;
  const m = n * h * w;
  // customGrad hands the inputs over typed as Tensor | GradSaveFunc; the first three are tensors.
  const op = tf.customGrad((xIn, gammaIn, betaIn, saveIn) => {
    const xt = xIn as tf.Tensor4D, g = gammaIn as tf.Tensor1D, b = betaIn as tf.Tensor1D;
    const save = saveIn as tf.GradSaveFunc;
    const mean = channelMeans(xt);
    const xc = channelAffine(xt, tf.ones([c]), tf.neg(mean)); // x·1 − μ: one rounding, as x − μ
    const variance = channelMeans(tf.square(xc));
    const invStd = tf.rsqrt(tf.add(variance, epsilon)) as tf.Tensor1D;
    const scale = tf.mul(g, invStd) as tf.Tensor1D;
    const y = channelAffine(xc, scale, b, relu);
    onStats?.(mean, variance);
    save([xc, y, invStd, scale]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sxc, sy, sInvStd, sScale] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D];
        const grad = (relu ? tf.mul(dy, tf.step(sy)) : dy) as tf.Tensor4D;
        const meanGrad = channelMeans(grad);
        const meanGradXc = channelMeans(tf.mul(grad, sxc) as tf.Tensor4D);
        const dBeta = tf.mul(meanGrad, m) as tf.Tensor1D;
        const dGamma = tf.mul(tf.mul(meanGradXc, sInvStd), m) as tf.Tensor1D;
        const offset = tf.neg(tf.mul(sScale, meanGrad)) as tf.Tensor1D;
        const xcScale = tf.neg(tf.mul(tf.mul(sScale, tf.square(sInvStd)), meanGradXc)) as tf.Tensor1D;
        const dx = tf.add(channelAffine(grad, sScale, offset), channelAffine(sxc, xcScale, null));
        return [dx, dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}
