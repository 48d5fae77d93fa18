/**
 * Inference speed of a stored model (runs in the compute worker, on its backend): the median
 * network forward at 480×640 over a few runs after a warm-up, as bench/forward-bench.ts measures it.
 * A separate model instance is built, so the model loaded for detection is not touched.
 */
import { createEResFD, detectFaces, loadEResFDCheckpoint, type RgbImage } from '../../core/index.ts';
import { getModel } from './idb-store.ts';

export interface ModelBenchmark {
  modelId: string;
  backend: string;
  /** Median network forward (ms) at 480×640, read-back included. */
  msPerFrame: number;
  runs: number;
}

/** The synthetic ramp image of the goldens and benches. */
function rampImage(height = 480, width = 640): RgbImage {
  const data = new Uint8Array(height * width * 3);
  for (let h = 0; h < height; h++) for (let w = 0; w < width; w++) for (let c = 0; c < 3; c++) data[(h * width + w) * 3 + c] = (3 * h + 7 * w + 50 * c) % 256;
  return { width, height, channels: 3, data };
}

export async function benchmarkStoredModel(modelId: string, backend: string, runs = 5, signal?: AbortSignal): Promise<ModelBenchmark> {
  const record = await getModel(modelId);
  const model = createEResFD(loadEResFDCheckpoint(new Uint8Array(record.bytes)).stateDict);
  const image = rampImage();
  const times: number[] = [];
  try {
    await detectFaces(model, image, { shrink: 1 }); // warm-up: kernels, shaders
    for (let i = 0; i < runs; i++) {
      signal?.throwIfAborted();
      times.push((await detectFaces(model, image, { shrink: 1 })).forwardMs);
    }
  } finally {
    model.dispose();
  }
  times.sort((a, b) => a - b);
  const mid = times.length >> 1;
  const msPerFrame = times.length % 2 ? times[mid]! : (times[mid - 1]! + times[mid]!) / 2;
  return { modelId, backend, msPerFrame, runs };
}
