/**
 * `prune --queue redis://HOST:PORT`: the CLI as a coordinator. The pipeline's search stage hands its
 * trials to the core's queued executor; BullMQ carries them to `worker` processes. What a killed
 * coordinator needs to resume is kept twice: the run state (observations, trials in flight) in the run
 * folder and in Redis, and every trial result as the job's return value in Redis and as a line of
 * `trial-results.jsonl` in the run folder.
 */
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  trialQueue, writeCheckpoint,
  type PipelineConfig, type RunStore, type StateDict, type TrialExecutor, type TrialJobResult, type WiderEntry,
} from '../../core/index.ts';
import { connectCoordinator as connectQueue } from '../../platform/node/trial-queue.ts';

export const TRIAL_RESULTS_FILE = 'trial-results.jsonl';

async function readResults(path: string): Promise<TrialJobResult[]> {
  try {
    const lines = (await readFile(path, 'utf8')).split('\n').filter((l) => l.trim() !== '');
    // A coordinator killed mid-append leaves a torn last line; that result is still in Redis.
    return lines.flatMap((l) => {
      try {
        return [JSON.parse(l) as TrialJobResult];
      } catch {
        return [];
      }
    });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

export async function connectCoordinator(url: string, pretrained: StateDict, pool: readonly WiderEntry[]) {
  const queue = await connectQueue(url);
  const weights = trialQueue.stateDictDigest(pretrained);
  await queue.putWeights(weights, writeCheckpoint(pretrained));
  const poolId = trialQueue.poolDigest(pool.map((e) => e.path));
  return {
    mirror: <S extends { id: string }>(store: RunStore<S>) => queue.mirror(store),
    /** The trial executor factory for the run whose folder is `runFolder`. */
    executor(runFolder: string) {
      return ({ runId, config }: { runId: string; config: PipelineConfig }): TrialExecutor => {
        const file = join(runFolder, TRIAL_RESULTS_FILE);
        let ledger: Promise<ReturnType<typeof trialQueue.createTrialLedger>> | null = null;
        // Appends are chained so lines never interleave.
        let writing: Promise<void> = Promise.resolve();
        const ready = () =>
          (ledger ??= (async () => {
            await mkdir(runFolder, { recursive: true });
            return trialQueue.createTrialLedger(await readResults(file), (r) => {
              writing = writing.then(() => appendFile(file, `${JSON.stringify(r)}\n`));
            });
          })());
        let inner: TrialExecutor | null = null;
        return {
          async run(req, options) {
            inner ??= trialQueue.createQueuedTrialExecutor({
              runId, config, weights, pool: poolId, queue: queue.trials, ledger: await ready(),
              onSubmit: (job, cached) => process.stderr.write(`\ntrial ${job.index}: ${cached ? 'result already on record' : 'queued'} (${job.trialId})\n`),
            });
            const outcome = await inner.run(req, options);
            await writing;
            return outcome;
          },
        };
      };
    },
    close: () => queue.close(),
  };
}
