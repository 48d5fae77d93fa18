/**
 * The UI's only way to compute: owns the compute worker, wraps it with Comlink, runs calls one at a
 * time (a promise queue), transfers large buffers and restores StudioError codes lost at the boundary.
 * Components never call this directly; feature state classes do.
 */
import * as Comlink from 'comlink';
import { BACKEND_NAMES, restoreStudioError, type BackendName, type BackendSelection, type DetectResult } from '../core/data/index.ts';
import type { RgbaFrame } from '../platform/browser/image-decoder.ts';
import type { StoredEvaluation } from '../platform/browser/idb-store.ts';
import type { EvaluationProgress, EvaluationRequest } from '../platform/browser/wider-evaluation.ts';
import type { ComputeApi, DetectOptions, LoadedModelInfo } from '../../workers/compute.worker.ts';

export type { DetectOptions, EvaluationProgress, EvaluationRequest, LoadedModelInfo };


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

  /**
   * Evaluates the loaded model on a stored WIDER val dataset (queued like every call). Aborting
   * `signal` cancels the run inside the worker (the call bypasses the queue); it then rejects with an
   * AbortError and stores nothing.
   */
  /** `stored`: evaluate the stored model `request.model.id` instead of the loaded one. */
  evaluateDataset(request: EvaluationRequest, onProgress: (p: EvaluationProgress) => void, signal?: AbortSignal, stored = false): Promise<StoredEvaluation> {
    const runId = crypto.randomUUID();
    return this.#run(async () => {
      const cancel = () => void this.#remote.cancel(runId);
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await this.#remote.evaluateDataset(runId, request, Comlink.proxy(onProgress), stored);
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    }, signal);
  }

  /**
   * Calls feature methods of the worker API (rate editor, compare slots, teaching demos) through the
   * same queue, so feature state classes need no method here each. `queue: false` skips the queue for
   * short host-only calls (a rate preview while a long evaluation holds it); `signal` drops a call
   * still waiting in the queue. Wrap buffers to transfer with `Comlink.transfer` inside `call`.
   */
  call<T>(call: (api: Comlink.Remote<ComputeApi>) => Promise<T>, options: { signal?: AbortSignal; queue?: boolean } = {}): Promise<T> {
    if (options.queue === false) {
      if (this.#disposed) return Promise.reject(new Error('The compute client was disposed.'));
      return Promise.race([call(this.#remote), this.#crashed]).catch((e: unknown) => {
        throw restoreStudioError(e);
      });
    }
    return this.#run(() => call(this.#remote), options.signal);
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
