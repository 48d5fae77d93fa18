/**
 * The platform-free half of the trial queue: content-addressed trial ids, job/result validation, the
 * first-result-wins ledger, and the coordinator's executor over an in-process queue port (the BullMQ
 * adapter is exercised against a real redis-server in tests/cli/queue.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { isStudioError } from '../../../src/core/errors.ts';
import {
  createQueuedTrialExecutor, createTrialLedger, poolDigest, stateDictDigest, trialIdOf, validateTrialJob, validateTrialJobResult, validatePipelineConfig,
  type TrialJob, type TrialJobResult, type TrialOutcome, type TrialQueue,
} from '../../../src/core/pipeline/index.ts';
import type { StateDict } from '../../../src/core/types.ts';

const config = validatePipelineConfig({ target: 0.3, data: { images: 8, size: 64, batchSize: 4 } });
const rates = [0.1, 0.2, 0.3, 0.35, 0.25, 0.15];
const body = { runId: 'run/1', index: 4, rates, config, weights: 'w0', pool: 'p0' };

const outcomeFor = (job: TrialJob, objective = -job.index): TrialOutcome => ({
  rates: job.rates.slice(), sparsity: 0.3, macsRemoved: 0.29, penalty: 0, trained: true, valLoss: 1, valLossL: 0.5, valLossC: 0.5, trainLoss: 2, objective, seconds: 1,
});

/** An in-process queue: each job id runs once; `submit` returns its result (or the one on record). */
function memoryQueue(results: (job: TrialJob) => TrialJobResult = (job) => ({ trialId: job.trialId, outcome: outcomeFor(job), worker: 'w', images: 8 })) {
  const jobs = new Map<string, TrialJob>();
  const submitted: string[] = [];
  const queue: TrialQueue = {
    async submit(job) {
      submitted.push(job.trialId);
      if (!jobs.has(job.trialId)) jobs.set(job.trialId, job);
      return results(jobs.get(job.trialId)!);
    },
  };
  return { queue, jobs, submitted };
}

describe('trial ids and digests', () => {
  it('a trial id is a digest of everything that decides the trial, and safe as a BullMQ id', () => {
    const id = trialIdOf(body);
    expect(id).toMatch(/^run_1\.4\.[0-9a-f]{16}$/);
    expect(trialIdOf({ ...body })).toBe(id);
    for (const changed of [{ index: 5 }, { rates: [...rates.slice(0, 5), 0.151] }, { weights: 'w1' }, { pool: 'p1' }, { config: { ...config, seed: 1 } }, { runId: 'run/2' }]) {
      expect(trialIdOf({ ...body, ...changed })).not.toBe(id);
    }
  });

  it('state dict and pool digests change with any value or path', () => {
    const sd = (v: number): StateDict => new Map([['a.weight', { dtype: 'float32', shape: [2], data: new Float32Array([1, v]) }]]);
    expect(stateDictDigest(sd(2))).toBe(stateDictDigest(sd(2)));
    expect(stateDictDigest(sd(2))).not.toBe(stateDictDigest(sd(2.000001)));
    expect(poolDigest(['a/1.jpg', 'b/2.jpg'])).not.toBe(poolDigest(['b/2.jpg', 'a/1.jpg']));
  });
});

describe('validation', () => {
  const job: TrialJob = { format: 'bfpgm-trial', version: 1, trialId: trialIdOf(body), source: 'random', ...body };

  it('accepts a well-formed job and refuses a tampered one', () => {
    expect(validateTrialJob(JSON.parse(JSON.stringify(job)))).toEqual(job);
    const bad = [{ ...job, rates: [...rates.slice(0, 5), 0.5] }, { ...job, format: 'x' }, { ...job, rates: rates.slice(1) }, null];
    for (const b of bad) {
      let err: unknown;
      try {
        validateTrialJob(b);
      } catch (e) {
        err = e;
      }
      expect(isStudioError(err, 'QUEUE_JOB')).toBe(true);
    }
  });

  it('refuses a result for another trial, other rates or without an objective', () => {
    const ok: TrialJobResult = { trialId: job.trialId, outcome: outcomeFor(job), worker: 'w', images: 8 };
    expect(validateTrialJobResult(ok, job)).toBe(ok);
    expect(() => validateTrialJobResult({ ...ok, trialId: 'x' }, job)).toThrow(/another trial/);
    expect(() => validateTrialJobResult({ ...ok, outcome: { ...ok.outcome, rates: rates.map((r) => r + 0.01) } }, job)).toThrow(/rates/);
    expect(() => validateTrialJobResult({ ...ok, outcome: { ...ok.outcome, objective: Number.NaN } }, job)).toThrow(/incomplete/);
  });
});

describe('exactly once', () => {
  it('the ledger keeps the first result per trial and reports only new ones', () => {
    const seen: string[] = [];
    const ledger = createTrialLedger([], (r) => seen.push(`${r.trialId}:${r.outcome.objective}`));
    const r = (id: string, objective: number): TrialJobResult => ({ trialId: id, outcome: { objective } as TrialOutcome, worker: 'w', images: 0 });
    expect(ledger.record(r('a', 1))).toBe(true);
    expect(ledger.record(r('a', 2))).toBe(false);
    expect(ledger.record(r('b', 3))).toBe(true);
    expect(ledger.get('a')!.outcome.objective).toBe(1);
    expect(seen).toEqual(['a:1', 'b:3']);
    expect(createTrialLedger([r('a', 1), r('a', 9)]).get('a')!.outcome.objective).toBe(1);
  });

  it('the queued executor submits each trial under its id once and reuses results on record', async () => {
    const { queue, submitted, jobs } = memoryQueue();
    const ledger = createTrialLedger();
    const exec = createQueuedTrialExecutor({ runId: 'r', config, weights: 'w', pool: 'p', queue, ledger });
    const a = await exec.run({ index: 0, rates, source: 'probe' }, {});
    const again = await exec.run({ index: 0, rates, source: 'probe' }, {});
    expect(again).toEqual(a);
    expect(submitted).toHaveLength(1);
    expect([...jobs.values()][0]!.config).toEqual(config);

    // A restarted coordinator with the ledger read back submits nothing for trials on record.
    const restarted = createQueuedTrialExecutor({ runId: 'r', config, weights: 'w', pool: 'p', queue, ledger: createTrialLedger(ledger.results()) });
    expect(await restarted.run({ index: 0, rates, source: 'probe' }, {})).toEqual(a);
    expect(submitted).toHaveLength(1);
    await restarted.run({ index: 1, rates, source: 'random' }, {});
    expect(submitted).toHaveLength(2);
  });

  it('a malformed result fails the trial instead of entering the run', async () => {
    const { queue } = memoryQueue((job) => ({ trialId: job.trialId, outcome: { ...outcomeFor(job), rates: [0, 0, 0, 0, 0, 0] }, worker: 'w', images: 8 }));
    const exec = createQueuedTrialExecutor({ runId: 'r', config, weights: 'w', pool: 'p', queue });
    await expect(exec.run({ index: 0, rates, source: 'probe' }, {})).rejects.toThrow(/rates differ/);
  });
});
