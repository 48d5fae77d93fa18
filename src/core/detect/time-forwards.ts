/**
 * The one way the studio times models (rate editor, model zoo, `npm run bench`): median ms per network
 * forward at one input size, outputs read back (so GPU backends are timed to completion). Every model
 * first runs `warmup` untimed forwards — the first calls pay one-off costs (WASM/XNNPACK weight
 * packing, WebGL/WebGPU shader compilation, a compacted model's bias maps) that would otherwise land
 * on whichever model happens to run first — then `runs` rounds in which each model runs once, so the
 * drift of a shared machine hits all alike. Each forward runs in tf.tidy: nothing leaks between calls.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { FaceModel } from './detect-faces.ts';
import { rampInput } from '../image/ramp-image.ts';

export interface TimeForwardsOptions {
  /** Timed rounds (each model once per round). */
  runs?: number;
  /** Untimed forwards per model before the first round. */
  warmup?: number;
  height?: number;
  width?: number;
  /** Normalised NHWC input; the ramp image of the goldens by default (textured, like a photo). */
  input?: Float32Array;
}

export interface ForwardTimes {
  /** Median ms per forward, one per model, in the order given. */
  medianMs: number[];
  /** Every timed forward: samples[model][round]. */
  samples: number[][];
  runs: number;
  warmup: number;
  backend: string;
  /** How the figures were taken, for a tooltip: the same text wherever the studio shows a time. */
  protocol: string;
}

export const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** One forward, read back, in ms. */
export async function timeForward(model: FaceModel, x: tf.Tensor4D): Promise<number> {
  const t0 = performance.now();
  const out = tf.tidy(() => {
    const o = model.predict(x);
    return [o.loc, o.conf] as const;
  });
  try {
    await Promise.all([out[0].data(), out[1].data()]);
  } finally {
    tf.dispose([...out]);
  }
  return performance.now() - t0;
}

export async function timeForwards(models: readonly FaceModel[], options: TimeForwardsOptions = {}): Promise<ForwardTimes> {
  const { runs = 5, warmup = 2, height = 480, width = 640 } = options;
  const x = tf.tensor4d(options.input ?? rampInput(height, width), [1, height, width, 3]);
  try {
    for (const m of models) for (let i = 0; i < warmup; i++) await timeForward(m, x);
    const samples = models.map(() => [] as number[]);
    for (let r = 0; r < runs; r++) for (let i = 0; i < models.length; i++) samples[i]!.push(await timeForward(models[i]!, x));
    const backend = tf.getBackend();
    const protocol = `median of ${runs} interleaved forwards at ${height}×${width} after ${warmup} warm-up, ${backend}`;
    return { medianMs: samples.map(median), samples, runs, warmup, backend, protocol };
  } finally {
    x.dispose();
  }
}
