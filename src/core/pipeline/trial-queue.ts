/**
 * Scale-out of the search stage: BO trials as jobs on a queue, run by workers on any machine that
 * reads the same data folder. This file is the platform-free half — the job and result contract, the
 * coordinator's trial executor with its exactly-once bookkeeping, and the worker's job runner; the
 * queue itself (BullMQ on Redis) is an adapter in src/platform/node.
 *
 * Exactly once: a trial's id is a digest of everything that decides its outcome (run, index, rates,
 * config, pretrained weights, training pool). The coordinator submits a job under that id, so a
 * resubmission after a coordinator restart finds the existing job instead of adding a second one; a
 * worker killed mid-trial leaves its job to the queue's stalled-job handling, which hands the same
 * job (same id, same seed) to another worker; and the ledger keeps the first result per id and
 * drops any other. Because the trial is deterministic in its inputs, a result found under an id is
 * always the result that trial would produce.
 */
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import type { StepProgress } from '../train/trainer.ts';
import type { SampleSource } from '../train/sample-source.ts';
import type { PipelineConfig } from './config.ts';
import { createTrialRunner, type TrialExecutor, type TrialOutcome, type TrialRequest } from './pipeline.ts';

/** A trial as a queue job: plain JSON. */
export interface TrialJob {
  format: 'bfpgm-trial';
  version: 1;
  /** Exactly-once key: `<runId>.<index>.<digest>` (see the file comment). */
  trialId: string;
  runId: string;
  index: number;
  source: TrialRequest['source'];
  rates: number[];
  config: PipelineConfig;
  /** `stateDictDigest` of the pretrained weights; workers fetch the weights by it. */
  weights: string;
  /** `poolDigest` of the training pool; a worker whose data folder gives another pool refuses. */
  pool: string;
}

/** What a worker returns as the job's result. */
export interface TrialJobResult {
  trialId: string;
  outcome: TrialOutcome;
  /** Who ran it (host/pid), for the record. */
  worker: string;
  /** Training images the trial pushed through (0 for a skipped trial), for throughput. */
  images: number;
}

/** The queue as the coordinator needs it (BullMQ in Node). */
export interface TrialQueue {
  /**
   * Enqueues the job under `job.trialId` unless a job with that id already exists, and resolves with
   * its result once a worker finished it (at once when it already has).
   */
  submit(job: TrialJob, signal?: AbortSignal): Promise<TrialJobResult>;
}

/** FNV-1a over bytes with two 32-bit lanes (64 bits): a stable, platform-free content digest. */
function fnv64(chunks: Iterable<Uint8Array>): string {
  let a = 0x811c9dc5;
  let b = 0x050c5d1f;
  for (const bytes of chunks) {
    for (let i = 0; i < bytes.length; i++) {
      a = Math.imul(a ^ bytes[i]!, 0x01000193);
      b = Math.imul(b ^ bytes[i]!, 0x01000193) ^ (a >>> 13);
    }
  }
  return (a >>> 0).toString(16).padStart(8, '0') + (b >>> 0).toString(16).padStart(8, '0');
}

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

export function digestText(text: string): string {
  return fnv64([utf8(text)]);
}

/** Digest of a state dict's keys, shapes and values (insertion order is the checkpoint's). */
export function stateDictDigest(sd: StateDict): string {
  function* chunks(): Iterable<Uint8Array> {
    for (const [key, t] of sd) {
      yield utf8(`${key}|${t.dtype}|${t.shape.join('x')}|`);
      yield new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    }
  }
  return fnv64(chunks());
}

/** Digest of a training pool by its image paths in pool order (the pool the config's seed selected). */
export function poolDigest(paths: readonly string[]): string {
  return digestText(paths.join('\n'));
}

export function trialIdOf(job: Omit<TrialJob, 'trialId' | 'format' | 'version' | 'source'>): string {
  const digest = digestText(JSON.stringify([job.runId, job.index, job.rates, job.config, job.weights, job.pool]));
  // Queue ids must not contain ':' (Redis key separator in BullMQ).
  return `${job.runId.replace(/[^A-Za-z0-9_-]/g, '_')}.${job.index}.${digest}`;
}

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown) => v === null || isNum(v);

export function validateTrialJob(data: unknown): TrialJob {
  const j = data as TrialJob;
  const bad = (m: string) => new StudioError('QUEUE_JOB', `trial job: ${m}`);
  if (!j || typeof j !== 'object' || j.format !== 'bfpgm-trial' || j.version !== 1) throw bad('not a bfpgm-trial v1 job');
  if (typeof j.trialId !== 'string' || typeof j.runId !== 'string' || !Number.isInteger(j.index) || j.index < 0) throw bad('id fields missing');
  if (!Array.isArray(j.rates) || !j.rates.every(isNum)) throw bad('rates must be numbers');
  if (!j.config || typeof j.config !== 'object' || !Array.isArray(j.config.grouping?.groups)) throw bad('config missing');
  if (j.rates.length !== j.config.grouping.groups.length) throw bad(`${j.rates.length} rates for ${j.config.grouping.groups.length} groups`);
  if (typeof j.weights !== 'string' || typeof j.pool !== 'string') throw bad('weights/pool digests missing');
  if (trialIdOf(j) !== j.trialId) throw bad(`id ${j.trialId} does not match its content`);
  return j;
}

export function validateTrialJobResult(data: unknown, job: TrialJob): TrialJobResult {
  const r = data as TrialJobResult;
  const bad = (m: string) => new StudioError('QUEUE_JOB', `result of trial ${job.trialId}: ${m}`);
  if (!r || typeof r !== 'object' || r.trialId !== job.trialId) throw bad('belongs to another trial');
  const o = r.outcome;
  if (!o || typeof o !== 'object' || !isNum(o.objective) || !isNum(o.sparsity) || !isNum(o.penalty) || !isNum(o.seconds)) throw bad('outcome incomplete');
  if (!Array.isArray(o.rates) || o.rates.length !== job.rates.length || o.rates.some((v, i) => v !== job.rates[i])) throw bad('rates differ from the job');
  if (![o.valLoss, o.valLossL, o.valLossC, o.trainLoss].every(isNumOrNull) || typeof o.trained !== 'boolean') throw bad('losses malformed');
  return r;
}

/** First result per trial id wins; later ones (a retried job that finished twice) are dropped. */
export interface TrialLedger {
  get(trialId: string): TrialJobResult | undefined;
  /** True when this result was new and is now the trial's result. */
  record(result: TrialJobResult): boolean;
  results(): TrialJobResult[];
}

export function createTrialLedger(initial: readonly TrialJobResult[] = [], onRecord?: (r: TrialJobResult) => void): TrialLedger {
  const byId = new Map<string, TrialJobResult>();
  for (const r of initial) if (!byId.has(r.trialId)) byId.set(r.trialId, r);
  return {
    get: (id) => byId.get(id),
    record(r) {
      if (byId.has(r.trialId)) return false;
      byId.set(r.trialId, r);
      onRecord?.(r);
      return true;
    },
    results: () => [...byId.values()],
  };
}

export interface QueuedTrialExecutorOptions {
  runId: string;
  config: PipelineConfig;
  weights: string;
  pool: string;
  queue: TrialQueue;
  /** Results already received (e.g. read back from the run folder); default: empty. */
  ledger?: TrialLedger;
  /** A job was submitted (or found already done in the ledger: `cached`). */
  onSubmit?: (job: TrialJob, cached: boolean) => void;
}

/** The coordinator's executor: each trial becomes a job; its outcome is the job's (first) result. */
export function createQueuedTrialExecutor(o: QueuedTrialExecutorOptions): TrialExecutor {
  const ledger = o.ledger ?? createTrialLedger();
  return {
    async run(req, { signal }) {
      const body = { runId: o.runId, index: req.index, rates: req.rates.slice(), config: o.config, weights: o.weights, pool: o.pool };
      const job: TrialJob = { format: 'bfpgm-trial', version: 1, trialId: trialIdOf(body), source: req.source, ...body };
      const known = ledger.get(job.trialId);
      o.onSubmit?.(job, known !== undefined);
      if (known) return known.outcome;
      const result = validateTrialJobResult(await o.queue.submit(job, signal), job);
      ledger.record(result);
      return ledger.get(job.trialId)!.outcome;
    },
  };
}

/** Where a worker gets what a job names: the pretrained weights by digest, the pool by config. */
export interface TrialWorkerPorts {
  loadWeights(digest: string): Promise<StateDict>;
  /** The training pool the config selects from this worker's data folder, and its `poolDigest`. */
  loadPool(config: PipelineConfig): Promise<{ source: SampleSource; digest: string }>;
  /** Who this worker is (host/pid), written into every result. */
  worker: string;
}

/**
 * The worker's side: checks a job against its own data, runs the pipeline's own trial
 * (`createTrialRunner`, the function the sequential search calls) and returns the job result. The
 * last (weights, config, pool) context is kept, since a run's jobs all share one.
 */
export function createTrialJobRunner(ports: TrialWorkerPorts): {
  run(data: unknown, options?: { signal?: AbortSignal; onProgress?: (p: StepProgress) => void }): Promise<TrialJobResult>;
} {
  let cached: { key: string; runner: TrialExecutor; trainImages: number } | null = null;
  return {
    async run(data, options = {}) {
      const job = validateTrialJob(data);
      const key = digestText(JSON.stringify([job.weights, job.pool, job.config]));
      if (cached?.key !== key) {
        const [pretrained, pool] = await Promise.all([ports.loadWeights(job.weights), ports.loadPool(job.config)]);
        if (pool.digest !== job.pool) {
          throw new StudioError('QUEUE_JOB', `run ${job.runId}: this worker's data folder gives a different training pool (${pool.digest}, job wants ${job.pool})`);
        }
        if (stateDictDigest(pretrained) !== job.weights) throw new StudioError('QUEUE_JOB', `run ${job.runId}: pretrained weights do not match digest ${job.weights}`);
        cached = { key, runner: createTrialRunner(pretrained, job.config, pool.source), trainImages: pool.source.size };
      }
      const outcome = await cached.runner.run({ index: job.index, rates: job.rates, source: job.source }, options);
      return { trialId: job.trialId, outcome, worker: ports.worker, images: outcome.trained ? cached.trainImages : 0 };
    },
  };
}
