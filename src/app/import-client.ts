/**
 * The UI's way into the import worker (WIDER FACE unzip, parse, store): starts the worker on first use,
 * wraps it with Comlink, forwards progress through `Comlink.proxy`, cancels a run through its
 * AbortSignal and restores StudioError codes lost at the boundary. Feature state calls it; components never do.
 */
import * as Comlink from 'comlink';
import { restoreStudioError } from '../core/data/index.ts';
import type {
  ImportOutcome,
  ImportPlan,
  ImportProgress,
  ImportSource,
  WiderInspection,
} from '../platform/browser/wider-import/index.ts';
import type { ImportApi } from '../../workers/import.worker.ts';

export type { ImportOutcome, ImportPlan, ImportProgress, ImportSource, WiderInspection };

export class ImportClient {
  #worker: Worker | null = null;
  #remote: Comlink.Remote<ImportApi> | null = null;
  #crashed: Promise<never> | null = null;

  /** What the sources hold (annotation lists and .mat files parsed, no image read). */
  inspect(sources: ImportSource[]): Promise<WiderInspection> {
    return this.#call((remote) => remote.inspect(sources));
  }

  /** Imports; aborting `signal` cancels the run, which then deletes what it wrote and rejects with an AbortError. */
  importWider(sources: ImportSource[], plan: ImportPlan, onProgress: (p: ImportProgress) => void, signal?: AbortSignal): Promise<ImportOutcome> {
    const runId = crypto.randomUUID();
    return this.#call(async (remote) => {
      signal?.throwIfAborted();
      const cancel = () => void remote.cancel(runId);
      signal?.addEventListener('abort', cancel, { once: true });
      try {
        return await remote.importWider(runId, sources, plan, Comlink.proxy(onProgress));
      } finally {
        signal?.removeEventListener('abort', cancel);
      }
    });
  }

  dispose(): void {
    this.#remote?.[Comlink.releaseProxy]();
    this.#worker?.terminate();
    this.#worker = null;
    this.#remote = null;
  }

  async #call<T>(call: (remote: Comlink.Remote<ImportApi>) => Promise<T>): Promise<T> {
    const remote = this.#start();
    try {
      return await Promise.race([call(remote), this.#crashed!]);
    } catch (e) {
      throw restoreStudioError(e);
    }
  }

  #start(): Comlink.Remote<ImportApi> {
    if (this.#remote) return this.#remote;
    const worker = new Worker(new URL('../../workers/import.worker.ts', import.meta.url), { type: 'module', name: 'bfpgm-import' });
    this.#worker = worker;
    this.#remote = Comlink.wrap<ImportApi>(worker);
    this.#crashed = new Promise<never>((_, reject) => {
      worker.addEventListener('error', (ev) => {
        ev.preventDefault();
        reject(new Error(`The import worker stopped: ${ev.message || 'script error'}. Reload the page.`));
        this.dispose();
      });
    });
    this.#crashed.catch(() => {});
    return this.#remote;
  }
}
