/**
 * Wall time of a fixed 12-trial search (`prune --queue --recipe paper`: one-epoch trials, the scale-out case;
 * q = 2: 1 probe + 5 random + 6 GP trials) with
 * 1 worker vs 2 workers on a throw-away redis-server, interleaved (1w, 2w, 1w, 2w, …) so that changes
 * in machine load hit both sides alike; prints each rep, the load average around it and the medians.
 * Every rep starts fresh worker processes (each pays its own WASM warm-up) and a new run id (no job
 * reuse). Timed: coordinator start → exit (SFP, fine-tune and evaluation are off).
 * Usage: npx tsx bench/queue-speedup.ts [--reps 2] [--images 16] [--size 128]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { startRedis } from '../tests/helpers/redis.ts';

const { values: args } = parseArgs({ options: { reps: { type: 'string' }, images: { type: 'string' }, size: { type: 'string' } } });
const REPS = Number(args.reps ?? 2);
const SHARED = process.env.BFPGM_SHARED ?? resolve(import.meta.dirname, '../../shared');
const NODE = [process.execPath, '--import', 'tsx', 'src/cli/main.ts'];
const dir = mkdtempSync(join(tmpdir(), 'bfpgm-queue-bench-'));

function startWorker(url: string): Promise<ChildProcess> {
  const child = spawn(NODE[0]!, [...NODE.slice(1), 'worker', '--queue', url, '--widerface', join(SHARED, 'widerface'), '--json'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolveReady, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('"ready"') && resolveReady(child));
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
  });
}

async function rep(url: string, workers: number, id: string): Promise<{ seconds: number; trained: number; load: number }> {
  const procs = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
  const load0 = loadavg()[0]!;
  const t0 = performance.now();
  const coordinator = spawn(NODE[0]!, [...NODE.slice(1), 'prune', '--model', join(SHARED, 'models/EResFD-original.pth'), '--widerface', join(SHARED, 'widerface'),
    '--target', '0.3', '--recipe', 'paper', '--bo-init', '5', '--bo-iter', '6', '--bo-batch', '2', '--images', args.images ?? '16', '--size', args.size ?? '128', '--batch', '4',
    '--sfp-epochs', '0', '--finetune-epochs', '0', '--eval-images', '0', '--run-dir', dir, '--run-id', id, '--out', join(dir, `${id}.pth`), '--queue', url, '--json'], { stdio: 'ignore' });
  const code = await new Promise<number | null>((r) => coordinator.once('exit', r));
  const seconds = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`coordinator exited (${code})`);
  await Promise.all(procs.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
  const trials = JSON.parse(readFileSync(join(dir, id, 'state.json'), 'utf8')).bo.trials as Array<{ trained: boolean }>;
  if (trials.length !== 12) throw new Error(`expected 12 trials, got ${trials.length}`);
  return { seconds, trained: trials.filter((t) => t.trained).length, load: (load0 + loadavg()[0]!) / 2 };
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const redis = await startRedis();
const times: Record<1 | 2, number[]> = { 1: [], 2: [] };
try {
  for (let r = 0; r < REPS; r++) {
    for (const w of [1, 2] as const) {
      const res = await rep(redis.url, w, `bench-${r}-${w}w`);
      times[w].push(res.seconds);
      console.log(`rep ${r + 1} ${w} worker(s): ${res.seconds.toFixed(1)} s (12 trials, ${res.trained} trained; load average ${res.load.toFixed(1)})`);
    }
  }
  const m1 = median(times[1]);
  const m2 = median(times[2]);
  console.log(`median 1 worker ${m1.toFixed(1)} s, 2 workers ${m2.toFixed(1)} s: speed-up ${(m1 / m2).toFixed(2)}×`);
} finally {
  await redis.stop();
}
