/**
 * The camera as a source of frames for detection, shared by the webcam panel and the side-by-side
 * comparison: getUserMedia into a <video>, a loop that grabs a frame whenever the previous one has been
 * handled (one request in flight; frames arriving meanwhile are counted as skipped), a frames-per-second
 * figure over the last few completions, and a stop that releases the camera (its light goes off).
 * What is done with a frame (one model, two models) is the owner's `detect` callback.
 */
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import { createFrameGrabber, type RgbaFrame } from '../../../platform/browser/image-decoder.ts';

/** The FPS figure averages over the last this many completed frames. */
const FPS_WINDOW = 10;

const CAMERA_HINT =
  'Allow camera access for this page in the browser settings, and check that no other program is using the camera.';

export interface CameraSourceOptions {
  /** Handles one grabbed frame (the frame may be transferred); resolves once its result is recorded. */
  detect(frame: RgbaFrame, signal: AbortSignal): Promise<void>;
  /** Whether a frame may be sent now; a frame that may not is skipped. Default: always. */
  canDetect?(): boolean;
  /** Called when the camera is started, before the first frame: reset per-session results. */
  onstart?(): void;
  /** The camera could not start, or a frame failed (which also stops the camera). */
  onerror(error: UiError): void;
}

export class CameraSource {
  stream = $state.raw<MediaStream | null>(null);
  starting = $state(false);
  /** Completed frames per second (0 until two have completed). */
  fps = $state(0);
  frames = $state(0);
  dropped = $state(0);

  running = $derived(this.stream !== null);

  readonly #options: CameraSourceOptions;
  readonly #grab = createFrameGrabber();
  #video: HTMLVideoElement | null = null;
  #abort: AbortController | null = null;
  #inFlight = false;
  #completions: number[] = [];
  #frameCallback = 0;

  constructor(options: CameraSourceOptions) {
    this.#options = options;
  }

  async start(video: HTMLVideoElement): Promise<void> {
    if (this.stream || this.starting) return;
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
      this.#options.onstart?.();
      this.stream = stream;
      this.#schedule();
    } catch (e) {
      this.#options.onerror(toUiError(e, CAMERA_HINT));
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

  // requestVideoFrameCallback fires once per decoded video frame; browsers without it get one try per paint.
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
    if (this.#inFlight || !(this.#options.canDetect?.() ?? true)) {
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
      await this.#options.detect(frame, signal);
      if (signal.aborted) return;
      this.frames++;
      this.#recordCompletion(performance.now());
    } catch (e) {
      if (!isAbortError(e) && !signal.aborted) {
        this.#options.onerror(toUiError(e));
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
