/**
 * Image-detection feature state: the decoded image, the worker's result, and the score threshold that
 * filters boxes client-side (moving the slider never re-runs the network).
 */
import type { DetectResult, Detection } from '../../../core/data/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { decodeImage, type RgbaFrame } from '../../../platform/browser/image-decoder.ts';

export const DEFAULT_SCORE_THRESHOLD = 0.5;

/** Detections at or above `threshold` (the order of `result`, best first). */
export function visibleDetections(result: DetectResult | null, threshold: number): Detection[] {
  return result ? result.detections.filter((d) => d[4] >= threshold) : [];
}

export class DetectState {
  bitmap = $state.raw<ImageBitmap | null>(null);
  imageName = $state('');
  result = $state.raw<DetectResult | null>(null);
  threshold = $state(DEFAULT_SCORE_THRESHOLD);
  status = $state<'idle' | 'decoding' | 'detecting'>('idle');
  error = $state.raw<UiError | null>(null);

  /** Detections at or above the threshold, best first. */
  visible = $derived(visibleDetections(this.result, this.threshold));

  readonly #client: ComputeClient;
  /** Pixels of the current image, kept so a newly loaded model can re-run on it. */
  #frame: RgbaFrame | null = null;

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  async open(file: File): Promise<void> {
    this.error = null;
    this.status = 'decoding';
    try {
      const { bitmap, frame } = await decodeImage(file);
      this.bitmap?.close();
      this.bitmap = bitmap;
      this.imageName = file.name;
      this.result = null;
      this.#frame = frame;
    } catch (e) {
      this.error = toUiError(e);
      this.status = 'idle';
      return;
    }
    await this.run();
  }

  /** Runs detection on the current image (again), e.g. after the model changed. */
  async run(): Promise<void> {
    const frame = this.#frame;
    if (!frame) return;
    this.status = 'detecting';
    this.error = null;
    try {
      // The worker receives a transferred copy so the pixels stay here for the next run.
      const copy = { width: frame.width, height: frame.height, data: frame.data.slice() };
      this.result = await this.#client.detect(copy);
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      this.status = 'idle';
    }
  }

  clear(): void {
    this.bitmap?.close();
    this.bitmap = null;
    this.result = null;
    this.#frame = null;
    this.imageName = '';
    this.error = null;
  }
}
