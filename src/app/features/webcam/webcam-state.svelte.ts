/**
 * Webcam feature state: detections on the camera's frames (the frame loop, its one-in-flight policy and
 * FPS figure are the shared CameraSource) and the score threshold that filters them.
 */
import type { DetectResult } from '../../../core/data/index.ts';
import { CameraSource } from '../../components/CameraSource/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import type { UiError } from '../../ui-error.ts';
import { DEFAULT_SCORE_THRESHOLD, visibleDetections } from '../detect/detect-state.svelte.ts';

export class WebcamState {
  result = $state.raw<DetectResult | null>(null);
  threshold = $state(DEFAULT_SCORE_THRESHOLD);
  error = $state.raw<UiError | null>(null);
  readonly camera: CameraSource;

  visible = $derived(visibleDetections(this.result, this.threshold));

  constructor(client: ComputeClient) {
    this.camera = new CameraSource({
      detect: async (frame, signal) => {
        const result = await client.detect(frame, {}, signal);
        if (!signal.aborted) this.result = result;
      },
      onstart: () => (this.result = null),
      onerror: (error) => (this.error = error),
    });
  }

  start(video: HTMLVideoElement): Promise<void> {
    this.error = null;
    return this.camera.start(video);
  }
}
