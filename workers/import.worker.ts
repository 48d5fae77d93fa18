/**
 * The import worker: unzips, parses and stores WIDER FACE off the main thread (Comlink). Files arrive
 * as File objects (structured-cloned references, not copies); images go straight into IndexedDB.
 * The UI reaches it only through src/app/import-client.ts.
 */
import * as Comlink from 'comlink';
import {
  describePrepared,
  importWider,
  prepareWider,
  type ImportOutcome,
  type ImportPlan,
  type ImportProgress,
  type ImportSource,
  type WiderInspection,
} from '../src/platform/browser/wider-import/index.ts';

const running = new Map<string, AbortController>();

function track<T>(runId: string, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  running.set(runId, controller);
  return run(controller.signal).finally(() => running.delete(runId));
}

const api = {
  /** What the sources hold, per split (parses the annotation lists and .mat files; no image is read). */
  async inspect(sources: ImportSource[]): Promise<WiderInspection> {
    return describePrepared(await prepareWider(sources));
  },

  /** Imports the planned split subsets; `runId` names the run for `cancel`. */
  importWider(runId: string, sources: ImportSource[], plan: ImportPlan, onProgress?: (p: ImportProgress) => void): Promise<ImportOutcome> {
    return track(runId, (signal) => importWider(sources, plan, { signal, onProgress }));
  },

  /** Aborts a run: the import stops at its next step and deletes what it wrote. */
  cancel(runId: string): void {
    running.get(runId)?.abort(new DOMException('The import was cancelled.', 'AbortError'));
  },
};

export type ImportApi = typeof api;

Comlink.expose(api);
