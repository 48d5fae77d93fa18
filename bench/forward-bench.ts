/**
 * Inference benchmark, isomorphic (runs in Node and in a Chromium page): median network forward at
 * 480×640 (what PyTorch's "network only" figure measures) and median full detect (normalise, forward,
 * softmax, read-back, decode, NMS) on the synthetic ramp image of the goldens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { createEResFD, detectFaces, normalizeImage, loadEResFDCheckpoint, selectBackend, type BackendName, type RgbImage } from '../src/core/index.ts';

export interface ForwardBenchResult {
  backend: BackendName;
  forwardMs: number;
  detectMs: number;
  runs: number;
}

export function rampImage(height = 480, width = 640): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let h = 0; h < height; h++) for (let w = 0; w < width; w++) for (let c = 0; c < 3; c++) data[(h * width + w) * 3 + c] = (3 * h + 7 * w + 50 * c) % 256;
  return { width, height, channels: 3, data };
}

export const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const now = (): number => performance.now();

export async function benchForward(modelBytes: Uint8Array, backend: BackendName, runs = 15, warmup = 3): Promise<ForwardBenchResult> {
  await selectBackend([backend]);
  const model = createEResFD(loadEResFDCheckpoint(modelBytes).stateDict);
  const image = rampImage();
  const x = tf.tensor4d(normalizeImage(image), [1, image.height, image.width, 3]);
  const forward: number[] = [];
  const detect: number[] = [];
  try {
    for (let i = 0; i < warmup + runs; i++) {
      const t0 = now();
      const out = tf.tidy(() => {
        const o = model.predict(x);
        return tf.concat([tf.reshape(o.loc, [-1]), tf.reshape(o.conf, [-1])]);
      });
      await out.data(); // waits for the GPU as well: the time includes the read-back
      out.dispose();
      if (i >= warmup) forward.push(now() - t0);
    }
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      const t0 = now();
      await detectFaces(model, image);
      detect.push(now() - t0);
    }
  } finally {
    x.dispose();
    model.dispose();
  }
  return { backend, forwardMs: median(forward), detectMs: median(detect), runs };
}
