/**
 * Training samples prepared in a Web Worker beside the training worker (issue 14): decoding,
 * SPEC §8 augmentation and targets then overlap the WASM/WebGPU step instead of preceding it. The
 * browser twin of src/platform/node/prep-pool.ts, with one worker (a laptop's training already holds
 * the main thread, the pipeline worker and TF.js's own threads). The worker (workers/prep.worker.ts)
 * opens the same IndexedDB subset, so its samples are bit-identical to the training worker's.
 */
import * as Comlink from 'comlink';
import { StudioError, restoreStudioError, type PreparedSample, type PrepareSpec, type SamplePreparer, type SampleSource } from '../../core/data/index.ts';

/** What identifies a dataset subset (datasetSampleSource's arguments): plain data, posted to the worker. */
export interface DatasetSampleKey {
  datasetId: string;
  images: number | 'all';
  seed: number;
  cacheBytes?: number;
}

/** The preparation worker's API (workers/prep.worker.ts). */
export interface PrepWorkerApi {
  open(key: DatasetSampleKey, id: number, spec: PrepareSpec, indices?: readonly number[]): Promise<void>;
  close(id: number): void;
  prepare(id: number, index: number, epoch: number): Promise<PreparedSample>;
}

/** Batches in flight ahead of the step: one being prepared while the step runs, one ready. */
const PREFETCH_BATCHES = 2;

export interface WorkerPreparedSource {
  /** `source` with `openPreparer` answered by the worker (started on the first sample asked for). */
  readonly source: SampleSource;
  /** Terminates the worker; samples still asked for are refused. */
  close(): void;
}

/**
 * Adds a worker-backed `openPreparer` to a dataset source built from `key`. `startWorker` makes the
 * worker (the caller owns its URL: `new Worker(new URL('./prep.worker.ts', import.meta.url), …)`).
 */
export function withWorkerPreparer(local: SampleSource, key: DatasetSampleKey, startWorker: () => Worker): WorkerPreparedSource {
  let worker: Worker | null = null;
  let remote: Comlink.Remote<PrepWorkerApi> | null = null;
  let failure: StudioError | null = null;
  let closed = false;
  let nextId = 0;

  const connect = (): Comlink.Remote<PrepWorkerApi> => {
    if (!remote) {
      worker = startWorker();
      worker.addEventListener('error', (e) => {
        failure ??= new StudioError('INTERNAL', `training-sample preparation worker failed: ${e.message || 'script error'}`);
      });
      remote = Comlink.wrap<PrepWorkerApi>(worker);
    }
    return remote;
  };

  function openPreparer(spec: PrepareSpec, indices?: readonly number[]): SamplePreparer {
    const id = nextId++;
    const size = indices ? indices.length : local.size;
    let opening: Promise<void> | null = null;
    let disposed = false;
    return {
      prefetchBatches: PREFETCH_BATCHES,
      async prepare(index, epoch) {
        if (closed || disposed) throw new StudioError('INTERNAL', `training sample ${index}: the preparation worker or preparer was closed`);
        if (!Number.isInteger(index) || index < 0 || index >= size) throw new StudioError('INTERNAL', `training sample ${index} is outside 0..${size - 1}`);
        if (failure) throw failure;
        const r = connect();
        opening ??= r.open(key, id, spec, indices ? [...indices] : undefined);
        try {
          await opening;
          return await r.prepare(id, index, epoch);
        } catch (e) {
          if (failure) throw failure;
          const restored = restoreStudioError(e);
          if (restored instanceof StudioError) throw restored; // e.g. a corrupt image: keep its code
          throw new StudioError('INTERNAL', `preparing training sample ${index} of epoch ${epoch} (worker): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
        }
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        if (opening && remote && !closed) void remote.close(id);
      },
    };
  }

  return {
    source: { size: local.size, load: (i) => local.load(i), openPreparer },
    close() {
      if (closed) return;
      closed = true;
      remote?.[Comlink.releaseProxy]();
      worker?.terminate();
    },
  };
}
