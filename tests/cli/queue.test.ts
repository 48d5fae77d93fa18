/**
 * `prune --queue` end to end on a real redis-server (no mocks): a coordinator and two `worker`
 * processes with a tiny budget. Worker A is SIGKILLed in the middle of a trial and the coordinator is
 * SIGKILLed after its first batch and started again; the run still completes, every trial has exactly
 * one result (one job, one ledger line, one record), the killed trial was retried through BullMQ's
 * stalled-job handling on worker B, and trials and final rates equal a sequential `prune` with the
 * same seed and q. With q = 1 the coordinator reproduces the sequential trial sequence.
 *
 * Processes run as `node --import tsx` (not the tsx wrapper), so SIGKILL reaches the process itself.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Queue } from 'bullmq';
import { HAS_SHARED, sharedPath } from '../helpers/shared.ts';
import { HAS_REDIS, startRedis, type TestRedis } from '../helpers/redis.ts';

const exec = promisify(execFile);
const NODE = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'] as const;
const children: ChildProcess[] = [];
const cli = (args: string[]) => {
  const p = exec(NODE[0], [...NODE.slice(1), ...args], { maxBuffer: 64 << 20, timeout: 600_000 });
  children.push(p.child);
  return p;
};

interface TrialRow {
  index: number;
  source: string;
  rates: number[];
  objective: number;
  valLoss: number | null;
  trained: boolean;
}
interface WorkerEvent {
  event: string;
  trial?: number;
  id?: string;
  worker?: string;
}

/** A worker process whose JSON-lines events are collected as they arrive. */
function startWorker(url: string, dir: string): { child: ChildProcess; events: WorkerEvent[]; until: (p: (e: WorkerEvent) => boolean) => Promise<WorkerEvent> } {
  const child = spawn(NODE[0], [...NODE.slice(1), 'worker', '--queue', url, '--widerface', dir, '--lock-ms', String(LOCK_MS), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const events: WorkerEvent[] = [];
  const waiters: Array<{ p: (e: WorkerEvent) => boolean; resolve: (e: WorkerEvent) => void }> = [];
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line) as WorkerEvent;
      events.push(e);
      for (const w of waiters.filter((w) => w.p(e))) w.resolve(e);
    }
  });
  child.stderr!.on('data', () => undefined);
  const until = (p: (e: WorkerEvent) => boolean) =>
    new Promise<WorkerEvent>((resolve, reject) => {
      const hit = events.find(p);
      if (hit) return resolve(hit);
      waiters.push({ p, resolve });
      child.once('exit', (code) => reject(new Error(`worker exited (${code}) while awaited`)));
    });
  return { child, events, until };
}

// Longer than the event loop's longest stall in a worker's first trial (WASM set-up, JPEG decoding) on a
// busy 2-core machine, so only a dead worker loses its lock; a killed trial is retried ~1.5× this later.
const LOCK_MS = 20_000;

const stopped = (child: ChildProcess) => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((r) => child.once('exit', r)));

describe.skipIf(!HAS_SHARED || !HAS_REDIS)('prune --queue on BullMQ + redis-server', () => {
  let redis: TestRedis;
  const widerface = sharedPath('widerface');
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-queue-'));
  // 1 probe + 3 random + 4 GP trials at 64² on 8 images. The paper's one-epoch trials (what a queue is
  // for): the laptop recipe's adaptive-BN trials end in well under the 300 ms the kill below waits.
  const budget = (q: number, initPoints: number, iterations: number) => [
    'prune', '--model', sharedPath('models/EResFD-original.pth'), '--widerface', widerface, '--target', '0.3', '--seed', '3', '--recipe', 'paper',
    '--bo-init', String(initPoints), '--bo-iter', String(iterations), '--bo-batch', String(q), '--images', '8', '--size', '64', '--batch', '4',
    '--sfp-epochs', '0', '--finetune-epochs', '0', '--eval-images', '0', '--run-dir', dir, '--json',
  ];
  const trialsOf = (runId: string): TrialRow[] => JSON.parse(readFileSync(join(dir, runId, 'state.json'), 'utf8')).bo.trials;
  const comparable = (t: TrialRow[]) => t.map(({ index, source, rates, objective, valLoss, trained }) => ({ index, source, rates, objective, valLoss, trained }));

  beforeAll(async () => {
    redis = await startRedis();
  });
  // Whatever a test leaves running (it failed half-way) must not serve the next test's jobs.
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await Promise.all(children.splice(0).map(stopped));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('2 workers, one killed mid-trial, coordinator killed and resumed: one result per trial, rates equal the sequential run (q = 2)', async () => {
    const args = [...budget(2, 3, 4), '--queue', redis.url, '--run-id', 'q2', '--out', join(dir, 'q2.pth')];
    const workers = [startWorker(redis.url, widerface), startWorker(redis.url, widerface)];
    children.push(...workers.map((w) => w.child));
    const names = await Promise.all(workers.map(async (w) => (await w.until((e) => e.event === 'ready')).worker!));

    const c1 = spawn(NODE[0], [...NODE.slice(1), ...args], { stdio: 'ignore' });
    children.push(c1);
    // Worker A is whichever takes trial 0 (the probe at target + 0.04, always trained); kill it mid-trial.
    const first = await Promise.race(workers.map((w) => w.until((e) => e.event === 'start' && e.trial === 0)));
    const ai = names.indexOf(first.worker!);
    const [a, b] = [workers[ai]!, workers[1 - ai]!];
    const [aName, bName] = [names[ai]!, names[1 - ai]!];
    await new Promise((r) => setTimeout(r, 300));
    expect(a.events.some((e) => e.event === 'trial' && e.trial === 0)).toBe(false);
    a.child.kill('SIGKILL');
    await stopped(a.child);

    // Kill the coordinator once the first batch is on record, then start it again with the same command.
    const statePath = join(dir, 'q2', 'state.json');
    await new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (existsSync(statePath) && trialsOf('q2').length >= 2) {
          clearInterval(timer);
          c1.kill('SIGKILL');
          resolve();
        }
      }, 100);
      c1.once('exit', (code) => code !== null && (clearInterval(timer), reject(new Error(`coordinator exited (${code}) before it could be killed`))));
    });
    await stopped(c1);
    const killedAfter = trialsOf('q2');
    expect(killedAfter.length).toBeLessThan(8);

    const resumed = JSON.parse((await cli(args)).stdout);
    const sequential = JSON.parse((await cli([...budget(2, 3, 4), '--run-id', 's2', '--out', join(dir, 's2.pth')])).stdout);

    // Same trials, same final rates as the sequential run with the same seed and q.
    const trials = trialsOf('q2');
    expect(trials.map((t) => t.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(trials.slice(0, killedAfter.length)).toEqual(killedAfter);
    expect(comparable(trials)).toEqual(comparable(trialsOf('s2')));
    expect(trials.filter((t) => t.source === 'suggest')).toHaveLength(4);
    expect(resumed.rates).toEqual(sequential.rates);
    expect(resumed.trials).toBe(8);

    // Exactly one result per trial: one ledger line per trial id, one completed job per trial, none failed.
    const ledger = readFileSync(join(dir, 'q2', 'trial-results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { trialId: string; worker: string; outcome: { objective: number } });
    expect(ledger).toHaveLength(8);
    expect(new Set(ledger.map((r) => r.trialId)).size).toBe(8);
    expect(ledger.map((r) => Number(r.trialId.split('.')[1])).sort((x, y) => x - y)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const trial0 = ledger.find((r) => r.trialId.startsWith('q2.0.'))!;
    expect(trial0.worker).toBe(bName);
    expect(trial0.worker).not.toBe(aName);
    const queue = new Queue('bfpgm-trials', { connection: { host: '127.0.0.1', port: redis.port } });
    try {
      const completed = (await queue.getJobs(['completed'])).filter((j) => j.id!.startsWith('q2.'));
      expect(completed).toHaveLength(8);
      expect((await queue.getJobs(['failed', 'wait', 'active', 'delayed'])).filter((j) => j.id!.startsWith('q2.'))).toHaveLength(0);
      const job0 = completed.find((j) => j.id === trial0.trialId)!;
      expect(job0.stalledCounter).toBeGreaterThanOrEqual(1); // retried by BullMQ's stalled-job check, not by us
      // The coordinator's state is in Redis as well as in the run folder.
      const mirrored = await (await queue.client).get('bfpgm:run:q2:state');
      expect(JSON.parse(mirrored!)).toEqual(JSON.parse(readFileSync(join(dir, 'q2', 'state.json'), 'utf8')));
      for (const j of completed) {
        const r = ledger.find((l) => l.trialId === j.id)!;
        expect(j.returnvalue.outcome.objective).toBe(r.outcome.objective);
      }
    } finally {
      await queue.close();
    }
    b.child.kill('SIGTERM');
    await stopped(b.child);
  }, 480_000);

  it('with q = 1 the coordinator reproduces the sequential optimiser’s trial sequence', async () => {
    const w = startWorker(redis.url, widerface);
    children.push(w.child);
    await w.until((e) => e.event === 'ready');
    const queued = JSON.parse((await cli([...budget(1, 2, 2), '--queue', redis.url, '--run-id', 'q1', '--out', join(dir, 'q1.pth')])).stdout);
    const sequential = JSON.parse((await cli([...budget(1, 2, 2), '--run-id', 's1', '--out', join(dir, 's1.pth')])).stdout);
    expect(comparable(trialsOf('q1'))).toEqual(comparable(trialsOf('s1')));
    expect(trialsOf('q1').map((t) => t.source)).toEqual(['probe', 'random', 'random', 'suggest', 'suggest']);
    expect(queued.rates).toEqual(sequential.rates);
    expect(w.events.filter((e) => e.event === 'trial').map((e) => e.trial)).toEqual([0, 1, 2, 3, 4]);
    w.child.kill('SIGTERM');
    await stopped(w.child);
  }, 300_000);
});
