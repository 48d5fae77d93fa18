/**
 * Training-sample preparation off the training thread (Node): a small pool of worker_threads, each with
 * its own WIDER folder source (described by plain data: folder, split, entry list), runs the core's
 * `prepareTrainSample` (decode, SPEC §8 augmentation, targets) while the training thread runs the
 * synchronous WASM step. Samples come back with their buffers transferred, bit-identical to preparing
 * them on the training thread (same code, same per-(seed, epoch, index) seeding).
 *
 * `widerPrepPool(...).source` is a SampleSource whose `openPreparer` the trainer picks up by itself
 * (subsets of it, e.g. the BO split, keep it). Each image index goes to one fixed worker, so a worker
 * decodes and caches only its share. Workers hold the process only while a sample is asked for; `close()`
 * terminates them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { StudioError, type ErrorCode, type PrepareSpec, type PreparedSample, type SamplePreparer, type SampleSource, type WiderEntry } from '../../core/data/index.ts';
import { widerSampleSource } from './wider-samples.ts';
import type { WiderSplit } from './wider-folder.ts';

/** What a worker builds its source from (structured-cloned once per worker). */
export interface PrepWorkerData {
  dir: string;
  split: WiderSplit;
  entries: readonly WiderEntry[];
  cacheBytes: number;
}

export type PrepRequest =
  | { type: 'open'; id: number; spec: PrepareSpec; indices?: readonly number[] }
  | { type: 'close'; id: number }
  | { type: 'prepare'; req: number; id: number; index: number; epoch: number };

export type PrepReply =
  | { req: number; ok: true; sample: PreparedSample }
  | { req: number; ok: false; code: ErrorCode; message: string };

export interface WiderPrepPoolOptions {
  dir: string;
  split: WiderSplit;
  entries: readonly WiderEntry[];
  /** Worker threads (≥ 1); default `defaultPrepWorkers()`. */
  workers?: number;
  /** Decoded-image cache of the workers together (each gets its share) and of the local source; default 1 GiB. */
  cacheBytes?: number;
}

export interface WiderPrepPool {
  /** The WIDER source (loads on this thread) whose training samples are prepared by the pool. */
  readonly source: SampleSource;
  readonly workers: number;
  /** Worker threads alive now (0 before the first sample is asked for and after `close()`). */
  readonly running: number;
  /** Terminates the workers; samples still asked for are refused. */
  close(): Promise<void>;
}

/** One thread for training, the rest of the cores for preparation (at least one worker). */
export function defaultPrepWorkers(): number {
  return Math.max(1, availableParallelism() - 1);
}

/** Batches kept in flight ahead of the step when preparing in workers. */
const PREFETCH_BATCHES = 2;

interface Pending {
  resolve: (s: PreparedSample) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  /** Preparer ids this worker was told about. */
  opened: Set<number>;
  failure: StudioError | null;
}

export function widerPrepPool(options: WiderPrepPoolOptions): WiderPrepPool {
  const n = options.workers ?? defaultPrepWorkers();
  if (!Number.isInteger(n) || n < 1) throw new StudioError('CONFIG_INVALID', `preparation workers: ${n} must be an integer ≥ 1`);
  const cacheBytes = options.cacheBytes ?? 1 << 30;
  const local = widerSampleSource(options.dir, options.split, options.entries, cacheBytes);
  const data: PrepWorkerData = { dir: options.dir, split: options.split, entries: options.entries, cacheBytes: Math.floor(cacheBytes / n) };
  let slots: Slot[] | null = null;
  let closed = false;
  let nextReq = 0;
  let nextId = 0;
  let running = 0;

  const fail = (slot: Slot, error: StudioError) => {
    slot.failure ??= error;
    for (const p of slot.pending.values()) p.reject(slot.failure);
    slot.pending.clear();
  };

  function start(): Slot[] {
    // A worker does not inherit tsx's hooks from this thread under Node 20: the .mjs entry registers them.
    return Array.from({ length: n }, (_, k) => {
      const worker = new Worker(new URL('./prep-worker.mjs', import.meta.url), { workerData: data, name: `bfpgm-prep-${k}` });
      const slot: Slot = { worker, pending: new Map(), opened: new Set(), failure: null };
      running++;
      worker.unref();
      worker.on('message', (reply: PrepReply) => {
        const p = slot.pending.get(reply.req);
        if (!p) return;
        slot.pending.delete(reply.req);
        if (slot.pending.size === 0) worker.unref();
        if (reply.ok) p.resolve(reply.sample);
        else p.reject(new StudioError(reply.code, reply.message));
      });
      worker.on('error', (e) => fail(slot, new StudioError('INTERNAL', `training-sample preparation worker ${k} failed: ${e.message}`, { cause: e })));
      worker.on('exit', (code) => {
        running--;
        fail(slot, new StudioError('INTERNAL', closed ? 'the training-sample preparation pool was closed' : `training-sample preparation worker ${k} exited (code ${code})`));
      });
      return slot;
    });
  }

  function openPreparer(spec: PrepareSpec, indices?: readonly number[]): SamplePreparer {
    const id = nextId++;
    const subset = indices ? [...indices] : undefined;
    const size = subset ? subset.length : local.size;
    let disposed = false;
    return {
      prefetchBatches: PREFETCH_BATCHES,
      prepare(index, epoch) {
        if (closed || disposed) return Promise.reject(new StudioError('INTERNAL', `training sample ${index}: the preparation pool or preparer was closed`));
        if (!Number.isInteger(index) || index < 0 || index >= size) return Promise.reject(new StudioError('INTERNAL', `training sample ${index} is outside 0..${size - 1}`));
        slots ??= start();
        // The same image always goes to the same worker, whose cache then holds it.
        const slot = slots[(subset ? subset[index]! : index) % n]!;
        if (slot.failure) return Promise.reject(slot.failure);
        if (!slot.opened.has(id)) {
          slot.opened.add(id);
          slot.worker.postMessage({ type: 'open', id, spec, ...(subset ? { indices: subset } : {}) } satisfies PrepRequest);
        }
        const req = nextReq++;
        return new Promise<PreparedSample>((resolve, reject) => {
          slot.pending.set(req, { resolve, reject });
          slot.worker.ref(); // a sample is awaited: the worker keeps the process alive until it answers
          slot.worker.postMessage({ type: 'prepare', req, id, index, epoch } satisfies PrepRequest);
        });
      },
      dispose() {
        if (disposed) return;
        disposed = true;
        for (const slot of slots ?? []) {
          if (slot.opened.delete(id) && !slot.failure) slot.worker.postMessage({ type: 'close', id } satisfies PrepRequest);
        }
      },
    };
  }

  return {
    source: { size: local.size, load: (i) => local.load(i), openPreparer },
    workers: n,
    get running() {
      return running;
    },
    async close() {
      if (closed) return;
      closed = true;
      const running = slots ?? [];
      slots = null;
      await Promise.all(running.map((s) => s.worker.terminate()));
    },
  };
}

/**
 * A WIDER training source whose samples `workers` threads prepare (default `defaultPrepWorkers()`), or,
 * with 0, the plain source preparing on the training thread. `close()` stops the pool, if any.
 */
export function widerTrainingSource(options: Omit<WiderPrepPoolOptions, 'workers'> & { workers?: number }): Pick<WiderPrepPool, 'source' | 'workers' | 'close'> {
  if (options.workers === 0) return { source: widerSampleSource(options.dir, options.split, options.entries, options.cacheBytes), workers: 0, close: async () => {} };
  return widerPrepPool(options);
}
