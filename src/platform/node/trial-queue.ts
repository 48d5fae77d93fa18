/**
 * The BullMQ adapter of the trial queue (src/core/pipeline/trial-queue.ts): trials are jobs on one
 * queue, `bfpgm-trials`, in the Redis (or Valkey) that `--queue redis://HOST:PORT` names; results are
 * the jobs' return values. Beside the queue, Redis holds what a coordinator needs to resume from any
 * machine: the pretrained weights by digest (workers fetch them from there) and each run's state.
 *
 * Stalled jobs: a worker holds a lock on its job and renews it while the trial runs; a killed worker
 * stops renewing, another worker's stalled check finds the job after `lockMs` and moves it back to
 * the wait list, and it runs again under the same id (a completion without the lock is refused by
 * BullMQ, so a trial can finish only once).
 */
import { Queue, QueueEvents, Worker, UnrecoverableError, type ConnectionOptions, type Job } from 'bullmq';
import { isStudioError, StudioError, type RunState, type RunStore, type TrialJob, type TrialJobResult, type TrialQueue } from '../../core/index.ts';

export const TRIAL_QUEUE_NAME = 'bfpgm-trials';
const KEY = 'bfpgm';

/** The ioredis calls used beside BullMQ (its client type only declares what BullMQ itself needs). */
interface RedisCalls {
  ping(): Promise<string>;
  get(key: string): Promise<string | null>;
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: string | Buffer): Promise<unknown>;
}
const redisOf = async (queue: Queue): Promise<RedisCalls> => (await queue.client) as unknown as RedisCalls;

/** `redis://[:password@]HOST:PORT[/db]` → ioredis connection options. */
export function parseQueueUrl(url: string): ConnectionOptions {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new StudioError('CONFIG_INVALID', `--queue ${url} is not a URL (redis://HOST:PORT expected)`);
  }
  if (u.protocol !== 'redis:') throw new StudioError('CONFIG_INVALID', `--queue ${url}: only redis://HOST:PORT is supported`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const db = u.pathname.length > 1 ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new StudioError('CONFIG_INVALID', `--queue ${url}: database must be a number`);
  return {
    host: u.hostname || '127.0.0.1',
    port,
    db,
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    // A worker waits for jobs with blocking calls; ioredis must not give those up (BullMQ's advice).
    maxRetriesPerRequest: null,
  };
}

/** Fails fast with QUEUE_UNAVAILABLE (and lets the process exit) when nothing answers at `url`. */
async function reachable(queue: Queue, url: string): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      redisOf(queue).then((client) => client.ping()),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('no answer within 10 s')), 10_000))),
    ]);
  } catch (e) {
    // ioredis would retry for ever and keep the process alive.
    void queue.close().catch(() => undefined);
    throw new StudioError('QUEUE_UNAVAILABLE', `cannot reach Redis at ${url}: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** The coordinator's connection: the queue, its results, and the Redis copy of run state and weights. */
export interface CoordinatorQueue {
  trials: TrialQueue;
  putWeights(digest: string, checkpoint: Uint8Array): Promise<void>;
  /** A run store that also writes each state to Redis and reads it from there when the folder has none. */
  mirror<S extends { id: string } = RunState>(store: RunStore<S>): RunStore<S>;
  close(): Promise<void>;
}

export async function connectCoordinator(url: string): Promise<CoordinatorQueue> {
  const connection = parseQueueUrl(url);
  const queue = new Queue(TRIAL_QUEUE_NAME, { connection });
  queue.on('error', () => undefined); // connection errors surface through the calls that fail
  await reachable(queue, url);
  const events = new QueueEvents(TRIAL_QUEUE_NAME, { connection });
  events.on('error', () => undefined);
  await events.waitUntilReady();
  const client = await redisOf(queue);
  return {
    trials: {
      async submit(job: TrialJob, signal?: AbortSignal): Promise<TrialJobResult> {
        signal?.throwIfAborted();
        // Same id → BullMQ keeps the existing job (waiting, running or done) and adds nothing.
        const added = await queue.add('trial', job, {
          jobId: job.trialId,
          attempts: 3,
          backoff: { type: 'fixed', delay: 2000 },
          // Results stay in Redis for a resumed coordinator; old ones expire after two weeks.
          removeOnComplete: { age: 14 * 24 * 3600 },
          removeOnFail: { age: 14 * 24 * 3600 },
        });
        // A job that failed for good before a coordinator restart gets another chance now.
        if ((await added.getState()) === 'failed') await added.retry('failed');
        const finished = added.waitUntilFinished(events) as Promise<TrialJobResult>;
        if (!signal) return await finished.catch((e) => Promise.reject(jobFailed(job, e)));
        return await new Promise<TrialJobResult>((resolve, reject) => {
          const onAbort = () => reject(signal.reason);
          signal.addEventListener('abort', onAbort, { once: true });
          finished.then(resolve, (e) => reject(jobFailed(job, e))).finally(() => signal.removeEventListener('abort', onAbort));
        });
      },
    },
    async putWeights(digest, checkpoint) {
      await client.set(`${KEY}:weights:${digest}`, Buffer.from(checkpoint.buffer, checkpoint.byteOffset, checkpoint.byteLength));
    },
    mirror(store) {
      return {
        ...store,
        async loadState(id) {
          const local = await store.loadState(id);
          if (local) return local;
          const remote = await client.get(`${KEY}:run:${id}:state`);
          return remote ? JSON.parse(remote) : null;
        },
        async saveState(state) {
          await store.saveState(state);
          await client.set(`${KEY}:run:${state.id}:state`, JSON.stringify(state));
        },
      };
    },
    async close() {
      await events.close();
      await queue.close();
    },
  };
}

function jobFailed(job: TrialJob, e: unknown): StudioError {
  return new StudioError('QUEUE_JOB', `trial ${job.index} (${job.trialId}) failed on the workers: ${(e as Error).message ?? e}`, { cause: e });
}

export interface TrialWorkerOptions {
  /** How long a job's lock lasts without renewal: a killed worker's trial is retried after about this long. */
  lockMs?: number;
  concurrency?: number;
  onStart?: (job: TrialJob) => void;
  onDone?: (result: TrialJobResult, job: TrialJob) => void;
  onError?: (job: TrialJob | undefined, e: Error) => void;
}

export interface TrialWorkerHandle {
  close(): Promise<void>;
  closed: Promise<void>;
}

/** What the worker's job runner gets from Redis. */
export interface TrialWorkerRedis {
  /** The pretrained weights (a .pth) a coordinator put there under their digest. */
  loadWeights(digest: string): Promise<Uint8Array>;
}

/**
 * Serves trial jobs with the runner `makeRun` builds (the core's job runner). A job that cannot fit
 * this worker (bad job, other data folder) fails for good instead of being retried everywhere.
 */
export async function startTrialWorker(
  url: string,
  makeRun: (redis: TrialWorkerRedis) => (data: unknown) => Promise<TrialJobResult>,
  options: TrialWorkerOptions = {},
): Promise<TrialWorkerHandle> {
  const connection = parseQueueUrl(url);
  const probe = new Queue(TRIAL_QUEUE_NAME, { connection });
  probe.on('error', () => undefined);
  await reachable(probe, url);
  const client = await redisOf(probe);
  const run = makeRun({
    async loadWeights(digest) {
      const b = await client.getBuffer(`${KEY}:weights:${digest}`);
      if (!b) throw new StudioError('QUEUE_JOB', `pretrained weights ${digest} are not in Redis (the coordinator puts them there when it starts)`);
      return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
    },
  });
  const lockDuration = options.lockMs ?? 60_000;
  const worker = new Worker(
    TRIAL_QUEUE_NAME,
    async (job: Job) => {
      options.onStart?.(job.data as TrialJob);
      try {
        const result = await run(job.data);
        options.onDone?.(result, job.data as TrialJob);
        return result;
      } catch (e) {
        options.onError?.(job.data as TrialJob, e as Error);
        if (isStudioError(e, 'QUEUE_JOB')) throw new UnrecoverableError(e.message);
        throw e;
      }
    },
    {
      connection,
      concurrency: options.concurrency ?? 1,
      lockDuration,
      stalledInterval: Math.max(1000, Math.round(lockDuration / 2)),
      // A trial that stalls twice (two dead workers) is still retried once more before it fails.
      maxStalledCount: 2,
    },
  );
  worker.on('error', (e) => options.onError?.(undefined, e));
  await worker.waitUntilReady();
  let resolveClosed!: () => void;
  const closed = new Promise<void>((r) => (resolveClosed = r));
  return {
    async close() {
      await worker.close();
      await probe.close();
      resolveClosed();
    },
    closed,
  };
}
