/**
 * Webcam feature state: the camera stream and a detection loop that grabs a frame whenever the worker
 * is free (one request in flight; frames arriving meanwhile are dropped), plus a detections-per-second
 * figure over the last few completions.
 */
import type { DetectResult } from '../../../core/data/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import { createFrameGrabber, type RgbaFrame } from '../../../platform/browser/image-decoder.ts';
import { DEFAULT_SCORE_THRESHOLD, visibleDetections } from '../detect/detect-state.svelte.ts';

/** The FPS figure averages over the last this many completed detections. */
const FPS_WINDOW = 10;

const CAMERA_HINT =
  'Allow camera access for this page in the browser settings, and check that no other program is using the camera.';

export class WebcamState {
  stream = $state.raw<MediaStream | null>(null);
  result = $state.raw<DetectResult | null>(null);
  threshold = $state(DEFAULT_SCORE_THRESHOLD);
  /** Completed detections per second (0 until two have completed). */
  fps = $state(0);
  frames = $state(0);
  dropped = $state(0);
  starting = $state(false);
  error = $state.raw<UiError | null>(null);

  running = $derived(this.stream !== null);
  visible = $derived(visibleDetections(this.result, this.threshold));

  readonly #client: ComputeClient;
  readonly #grab = createFrameGrabber();
  #video: HTMLVideoElement | null = null;
  #inFlight = false;
  #abort: AbortController | null = null;
  #completions: number[] = [];
  #frameCallback = 0;

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  async start(video: HTMLVideoElement): Promise<void> {
    if (this.stream || this.starting) return;
    this.error = null;
    this.starting = true;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: 'user' },
        audio: false,
      });
      video.srcObject = stream;
      await video.play();
      this.#video = video;
      this.#abort = new AbortController();
      this.#completions = [];
      this.frames = 0;
      this.dropped = 0;
      this.fps = 0;
      this.result = null;
      this.stream = stream;
      this.#schedule();
    } catch (e) {
      this.error = toUiError(e, CAMERA_HINT);
    } finally {
      this.starting = false;
    }
  }

  stop(): void {
    this.#abort?.abort();
    this.#abort = null;
    if (this.#video) {
      if (this.#frameCallback && 'cancelVideoFrameCallback' in this.#video) {
        this.#video.cancelVideoFrameCallback(this.#frameCallback);
      }
      this.#video.srcObject = null;
    }
    this.#video = null;
    this.stream?.getTracks().forEach((t) => t.stop());
    this.stream = null;
    this.fps = 0;
  }

  #schedule(): void {
    const video = this.#video;
    if (!video) return;
    if ('requestVideoFrameCallback' in video) {
      this.#frameCallback = video.requestVideoFrameCallback(() => this.#onFrame());
    } else {
      requestAnimationFrame(() => this.#onFrame());
    }
  }

  #onFrame(): void {
    const video = this.#video;
    const signal = this.#abort?.signal;
    if (!video || !signal || signal.aborted) return;
    if (this.#inFlight) {
      this.dropped++;
    } else {
      const frame = this.#grab(video);
      if (frame) void this.#detect(frame, signal);
    }
    this.#schedule();
  }

  async #detect(frame: RgbaFrame, signal: AbortSignal): Promise<void> {
    this.#inFlight = true;
    try {
      const result = await this.#client.detect(frame, {}, signal);
      if (signal.aborted) return;
      this.result = result;
      this.frames++;
      this.#recordCompletion(performance.now());
    } catch (e) {
      if (!isAbortError(e) && !signal.aborted) {
        this.error = toUiError(e);
        this.stop();
      }
    } finally {
      this.#inFlight = false;
    }
  }

  #recordCompletion(now: number): void {
    const times = [...this.#completions.slice(1 - FPS_WINDOW), now];
    this.#completions = times;
    if (times.length >= 2) this.fps = ((times.length - 1) * 1000) / (now - times[0]!);
  }
}
