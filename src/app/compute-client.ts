/**
 * The UI's only way to compute: owns the compute worker, wraps it with Comlink, runs calls one at a
 * time (a promise queue), transfers large buffers and restores StudioError codes lost at the boundary.
 * Components never call this directly; feature state classes do.
 */
import * as Comlink from 'comlink';
// errors.ts directly (dependency-free): the core index would pull TF.js onto the UI thread.
import { restoreStudioError } from '../core/errors.ts';
import type { BackendName, BackendSelection, DetectResult } from '../core/index.ts';
import type { RgbaFrame } from '../platform/browser/image-decoder.ts';
import type { ComputeApi, DetectOptions, LoadedModelInfo } from '../../workers/compute.worker.ts';

export type { DetectOptions, LoadedModelInfo };

// Not the core's DEFAULT_BACKEND_ORDER: a runtime import of the core would load TF.js on the UI thread.
const BACKEND_NAMES: readonly BackendName[] = ['webgpu', 'webgl', 'wasm', 'cpu'];

/**
 * Reads a forced backend order from a query string: `?backend=wasm` or `?backend=webgl,cpu`.
 * Unknown names are ignored; returns undefined when nothing valid is given (= default order).
 */
export function backendOrderFromQuery(search: string): BackendName[] | undefined {
  const raw = new URLSearchParams(search).get('backend');
  if (!raw) return undefined;
  const order = raw
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s): s is BackendName => (BACKEND_NAMES as readonly string[]).includes(s));
  return order.length > 0 ? order : undefined;
}

export interface ComputeClientOptions {
  /** Forced backend candidates, tried in order. Default: the core's webgpu → webgl → wasm → cpu. */
  backendOrder?: BackendName[];
}

export class ComputeClient {
  readonly #worker: Worker;
  readonly #remote: Comlink.Remote<ComputeApi>;
  readonly #options: ComputeClientOptions;
  #queue: Promise<unknown> = Promise.resolve();
  /** Rejects once the worker dies (a script error or a crash); every pending call races it. */
  readonly #crashed: Promise<never>;
  #disposed = false;

  constructor(options: ComputeClientOptions = {}) {
    this.#options = options;
    this.#worker = new Worker(new URL('../../workers/compute.worker.ts', import.meta.url), {
      type: 'module',
      name: 'bfpgm-compute',
    });
    this.#remote = Comlink.wrap<ComputeApi>(this.#worker);
    this.#crashed = new Promise<never>((_, reject) => {
      this.#worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new Error(`The compute worker stopped: ${ev.message || 'script error'}. Reload the page.`));
      });
    });
    this.#crashed.catch(() => {}); // observed by callers through #run
  }

  /** Selects the backend (once per worker) and reports the probe results. */
  init(): Promise<BackendSelection> {
    return this.#run(() => this.#remote.init(this.#options.backendOrder));
  }

  /** Loads a checkpoint into the worker. The buffer is transferred: pass a copy if you still need it. */
  loadModel(bytes: ArrayBuffer): Promise<LoadedModelInfo> {
    return this.#run(() => this.#remote.loadModel(Comlink.transfer(bytes, [bytes])));
  }

  /** Detects faces in one frame. `frame.data`'s buffer is transferred. */
  detect(frame: RgbaFrame, options: DetectOptions = {}, signal?: AbortSignal): Promise<DetectResult> {
    return this.#run(
      () => this.#remote.detect(Comlink.transfer(frame, [frame.data.buffer as ArrayBuffer]), options),
      signal,
    );
  }

  dispose(): void {
    if (this.#disposed) return;
    this.#disposed = true;
    this.#remote[Comlink.releaseProxy]();
    this.#worker.terminate();
  }

  /** Queues `call` behind the previous calls; a call aborted while queued never starts. */
  #run<T>(call: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const task = this.#queue.then(async () => {
      if (this.#disposed) throw new Error('The compute client was disposed.');
      signal?.throwIfAborted();
      try {
        return await Promise.race([call(), this.#crashed]);
      } catch (e) {
        throw restoreStudioError(e);
      }
    });
    this.#queue = task.catch(() => {});
    return task;
  }
}
