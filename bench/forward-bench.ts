/**
 * Inference benchmark, isomorphic (runs in Node and in a Chromium page): median network forward at
 * 480×640 (what PyTorch's "network only" figure measures) and median full detect (normalise, forward,
 * softmax, read-back, decode, NMS) on the synthetic ramp image of the goldens.
 */
import { createEResFD, detectFaces, loadEResFDCheckpoint, selectBackend, timeForwards, type BackendName, type RgbImage } from '../src/core/index.ts';
// Internals this benchmark measures, by path (like tests): they are not part of the core's public entries.
import { median } from '../src/core/detect/time-forwards.ts';
import { normalizeImage } from '../src/core/image/normalize-image.ts';

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


const now = (): number => performance.now();

export async function benchForward(modelBytes: Uint8Array, backend: BackendName, runs = 15, warmup = 3): Promise<ForwardBenchResult> {
  await selectBackend([backend]);
  const model = createEResFD(loadEResFDCheckpoint(modelBytes).stateDict);
  const image = rampImage();
  const detect: number[] = [];
  let forwardMs: number;
  try {
    // The studio's own timing (rate editor, zoo); read-back included, so GPUs are timed to completion.
    forwardMs = (await timeForwards([model], { runs, warmup, height: image.height, width: image.width, input: normalizeImage(image) })).medianMs[0]!;
    for (let i = 0; i < Math.max(3, Math.ceil(runs / 2)); i++) {
      const t0 = now();
      await detectFaces(model, image);
      detect.push(now() - t0);
    }
  } finally {
    model.dispose();
  }
  return { backend, forwardMs, detectMs: median(detect), runs };
}
