/**
 * Reshape as the backends do it inside their own kernels: the backend's Reshape kernel function,
 * called directly, without an engine kernel around it. A Reshape moves no data on WASM, CPU or WebGPU
 * (the output shares the input's buffer), yet each `tf.reshape` through the engine pays a kernel's
 * bookkeeping (scope, profile record, tape check) — a training step ran ~1,900 of them, most in
 * Adam's flat update and in BatchNorm's per-channel vectors.
 *
 * While a gradient tape records, the public op is used so that gradients flow through it; inside a
 * custom gradient's forward or backward, and outside any tape, the view is enough.
 */
import * as tf from '@tensorflow/tfjs-core';

interface EngineState {
  gradientDepth: number;
  kernelDepth: number;
}

/** Whether a gradient tape records the ops run now (not inside a custom gradient's own forward/backward). */
export function tapeIsRecording(): boolean {
  const state = tf.engine().state as unknown as EngineState;
  return state.gradientDepth > 0 && state.kernelDepth === 0;
}

export function reshapeView<R extends tf.Rank>(x: tf.Tensor, shape: number[]): tf.Tensor<R> {
  if (tapeIsRecording()) return tf.reshape<tf.Rank>(x, shape) as tf.Tensor<R>;
  const engine = tf.engine();
  const kernel = tf.getKernel('Reshape', engine.backendName);
  if (!kernel) return tf.reshape<tf.Rank>(x, shape) as tf.Tensor<R>;
  const info = kernel.kernelFunc({ inputs: { x }, attrs: { shape }, backend: engine.backend }) as tf.TensorInfo;
  return engine.makeTensorFromTensorInfo(info) as tf.Tensor<R>;
}
