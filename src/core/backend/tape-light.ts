/**
 * Ops whose gradients need none of their inputs' values, recorded on a gradient tape without the
 * saved tensors TF.js's own gradients keep. The engine clones every tensor a gradient saves (an
 * Identity kernel each), and tf.add / tf.concat save all their inputs only to read their shapes;
 * their gradients then reshape (and cast) dy once per input. Here the gradient is dy itself, or
 * its split: a residual add costs 2 engine kernels instead of 5, a concat of k maps 2 + 1 instead
 * of 1 + k + 1. Outside a tape they are the plain ops (inference pays nothing extra).
 */
import * as tf from '@tensorflow/tfjs-core';
import { reshapeView, tapeIsRecording } from './reshape-view.ts';

/** a + b of equal shapes. */
export function addTapeLight<T extends tf.Tensor>(a: T, b: T): T {
  if (!tapeIsRecording() || !tf.util.arraysEqual(a.shape, b.shape)) return tf.add(a, b);
  const op = tf.customGrad((x, y) => ({
    value: tf.add(x as tf.Tensor, y as tf.Tensor),
    // Two tensor objects: the tape accumulates (and disposes) each input's gradient on its own.
    gradFunc: (dy: tf.Tensor) => [dy, reshapeView(dy, dy.shape)],
  }));
  return op(a, b) as T;
}

/** tf.concat along `axis` (non-negative), the gradient split by the inputs' sizes on that axis. */
export function concatTapeLight<T extends tf.Tensor>(tensors: T[], axis: number): T {
  if (!tapeIsRecording() || tensors.length < 2) return tf.concat(tensors, axis);
  const sizes = tensors.map((t) => t.shape[axis]!);
  const op = tf.customGrad((...args) => ({
    value: tf.concat(args.slice(0, sizes.length) as tf.Tensor[], axis),
    gradFunc: (dy: tf.Tensor) => tf.split(dy, sizes, axis),
  }));
  return op(...tensors) as T;
}

/**
 * f(x) whose gradient is taken as the identity's: for value-preserving rewrites of a tensor (the
 * subnormal flush) that TF.js would otherwise differentiate op by op.
 */
export function straightThrough<T extends tf.Tensor>(x: T, f: (x: T) => T): T {
  if (!tapeIsRecording()) return f(x);
  const op = tf.customGrad((xIn) => ({ value: f(xIn as T), gradFunc: (dy: tf.Tensor) => dy }));
  return op(x) as T;
}

/**
 * ca·a + cb·b with scalar (rank-0) coefficients, differentiable in all four. TF.js's mul gradient
 * casts, reshapes and (for the broadcast scalar) reduces per input; here the backward is four
 * multiplies and two sums, and the four saved inputs are the only clones.
 */
export function weightedSumTapeLight<T extends tf.Tensor>(a: T, b: T, ca: tf.Scalar, cb: tf.Scalar): T {
  if (!tapeIsRecording()) return tf.add(tf.mul(a, ca), tf.mul(b, cb));
  const op = tf.customGrad((aIn, bIn, caIn, cbIn, saveIn) => {
    (saveIn as tf.GradSaveFunc)([aIn as tf.Tensor, bIn as tf.Tensor, caIn as tf.Tensor, cbIn as tf.Tensor]);
    return {
      value: tf.add(tf.mul(aIn as tf.Tensor, caIn as tf.Tensor), tf.mul(bIn as tf.Tensor, cbIn as tf.Tensor)),
      gradFunc: (dy: tf.Tensor, [sa, sb, sca, scb]: tf.Tensor[]) =>
        [tf.mul(dy, sca!), tf.mul(dy, scb!), tf.sum(tf.mul(dy, sa!)), tf.sum(tf.mul(dy, sb!))],
    };
  });
  return op(a, b, ca, cb) as T;
}
