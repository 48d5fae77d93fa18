/**
 * `worker --queue redis://HOST:PORT --widerface DIR [--lock-ms N] [--max-trials N] [--json]`
 * Runs B-FPGM search trials from the queue (any number of workers, on any machine that reads a WIDER
 * folder with the same layout and images) until stopped (SIGINT/SIGTERM finish the trial in hand) or
 * after --max-trials. Reports each trial and the worker's throughput.
 */
import { hostname } from 'node:os';
import { trialQueue, loadEResFDCheckpoint, StudioError, type PipelineConfig, type SampleSource, type TrialJob, type TrialJobResult } from '../../core/index.ts';
import { selectNodeBackend } from '../../platform/node/backends.ts';
import { startTrialWorker } from '../../platform/node/trial-queue.ts';
import { widerEntries, widerSampleSource } from '../../platform/node/wider-samples.ts';
import { parseFlags, requireFlag } from './common.ts';

const positiveInt = (v: unknown, name: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new StudioError('CONFIG_INVALID', `--${name} must be a positive integer, got ${String(v)}`);
  return n;
};

export async function workerCommand(argv: string[]): Promise<void> {
  const flags = parseFlags(argv, { queue: { type: 'string' }, widerface: { type: 'string' }, 'lock-ms': { type: 'string' }, 'max-trials': { type: 'string' } });
  const url = requireFlag(flags, 'queue');
  const dir = requireFlag(flags, 'widerface');
  const lockMs = positiveInt(flags['lock-ms'], 'lock-ms', 60_000);
  const maxTrials = flags['max-trials'] === undefined ? Number.POSITIVE_INFINITY : positiveInt(flags['max-trials'], 'max-trials', 1);
  const json = !!flags.json;
  const backend = await selectNodeBackend(flags.backend as string | undefined);
  const name = `${hostname()}/${process.pid}`;
  const say = (event: Record<string, unknown>, text: string) => process[json ? 'stdout' : 'stderr'].write(json ? `${JSON.stringify(event)}\n` : `${text}\n`);

  // One pool per (size, seed): a run's jobs all ask for the same one, and its decoded images stay cached.
  const pools = new Map<string, Promise<{ source: SampleSource; digest: string }>>();
  const loadPool = (config: PipelineConfig) => {
    const key = `${config.data.images}/${config.seed}`;
    if (!pools.has(key)) {
      pools.set(key, widerEntries(dir, { split: 'train', size: config.data.images, seed: config.seed }).then((entries) => ({
        source: widerSampleSource(dir, 'train', entries),
        digest: trialQueue.poolDigest(entries.map((e) => e.path)),
      })));
    }
    return pools.get(key)!;
  };

  const t0 = performance.now();
  let busy = 0;
  let trials = 0;
  let images = 0;
  let started = 0;
  const summary = () => {
    const wall = (performance.now() - t0) / 1000;
    return { trials, images, wall_s: wall, busy_s: busy, trials_per_hour: (3600 * trials) / Math.max(wall, 1e-9), images_per_s: images / Math.max(busy, 1e-9) };
  };

  let stopping = false;
  const handle = await startTrialWorker(
    url,
    (redis) => {
      const runner = trialQueue.createTrialJobRunner({
        worker: name,
        loadPool,
        loadWeights: async (digest) => loadEResFDCheckpoint(await redis.loadWeights(digest)).stateDict,
      });
      return (data) => runner.run(data);
    },
    {
      lockMs,
      onStart: (job: TrialJob) => {
        started = performance.now();
        say({ event: 'start', run: job.runId, trial: job.index, id: job.trialId, worker: name }, `trial ${job.index} of ${job.runId}: started`);
      },
      onDone: (r: TrialJobResult, job: TrialJob) => {
        const s = (performance.now() - started) / 1000;
        busy += s;
        trials++;
        images += r.images;
        const sum = summary();
        say(
          { event: 'trial', run: job.runId, trial: job.index, id: job.trialId, seconds: s, objective: r.outcome.objective, trial_images: r.images, worker: name, ...sum },
          `trial ${job.index} of ${job.runId}: objective ${r.outcome.objective.toFixed(4)} in ${s.toFixed(1)} s — ${sum.trials} trials, ${sum.trials_per_hour.toFixed(1)} trials/h, ${sum.images_per_s.toFixed(1)} img/s`,
        );
        if (trials >= maxTrials) void stop();
      },
      onError: (job, e) => say({ event: 'error', trial: job?.index ?? null, message: e.message }, `${job ? `trial ${job.index}: ` : ''}${e.message}`),
    },
  );
  async function stop(): Promise<void> {
    if (stopping) return;
    stopping = true;
    await handle.close();
  }
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  say({ event: 'ready', worker: name, queue: url, backend: backend.active }, `worker ${name} on ${url} (${backend.active}); waiting for trials`);
  await handle.closed;
  const sum = summary();
  say({ event: 'summary', worker: name, ...sum }, `worker ${name}: ${sum.trials} trials in ${sum.wall_s.toFixed(1)} s (${sum.trials_per_hour.toFixed(1)} trials/h, ${sum.images_per_s.toFixed(1)} img/s while busy)`);
}
