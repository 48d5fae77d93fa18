/**
 * The training loop on the real EResFD: no tensor leak over 50 steps (the live-tensor count after step
 * 50 equals that after step 1), epochs are reproducible from their seed, and a frozen-parameter
 * trainer leaves those parameters bit-identical. A source's own preparer (issue 14: a worker pool) is
 * used, kept `prefetchBatches` batches ahead of the step, and disposed with the trainer.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createTrainableEResFD } from '../../../src/core/model/eresfd/trainable.ts';
import { createTrainer } from '../../../src/core/train/trainer.ts';
import type { StateDict } from '../../../src/core/types.ts';
import { inThreadPreparer } from '../../../src/core/train/sample-preparer.ts';
import type { SampleSource } from '../../../src/core/train/sample-source.ts';
import { widerEntries, widerSampleSource } from '../../../src/platform/node/wider-samples.ts';

describe.skipIf(!HAS_SHARED)('trainer on EResFD', () => {
  let sd: StateDict;
  let pool: ReturnType<typeof widerSampleSource>;
  beforeAll(async () => {
    await useBackend('wasm');
    sd = readCheckpoint(readShared('models/EResFD-original.pth')).stateDict;
    const dir = sharedPath('widerface');
    pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: 4, seed: 1 }));
  });

  it('keeps the live-tensor count flat from step 1 to step 50', async () => {
    const model = createTrainableEResFD(sd);
    const counts: number[] = [];
    const trainer = createTrainer(model, pool, pool, { size: 64, batchSize: 2 }, { onProgress: () => counts.push(tf.memory().numTensors) });
    for (let e = 0; e < 25; e++) await trainer.runEpoch(e);
    expect(counts).toHaveLength(50);
    expect(counts[49]).toBe(counts[0]);
    trainer.dispose();
    model.dispose();
  });

  it('replays an epoch exactly from its seed, and frozen parameters stay untouched', async () => {
    const run = async (frozen: boolean) => {
      const model = createTrainableEResFD(sd);
      const trainer = createTrainer(model, pool, pool, { size: 96, batchSize: 2, seed: 7 }, frozen ? { trainable: (k) => !k.startsWith('base.conv1.') } : {});
      const rec = await trainer.runEpoch(3);
      const after = await model.toStateDict();
      trainer.dispose();
      model.dispose();
      return { rec, after };
    };
    const a = await run(false);
    const b = await run(false);
    expect(b.rec.trainLoss).toBe(a.rec.trainLoss);
    expect(b.rec.valLoss).toBe(a.rec.valLoss);
    const w = (x: StateDict) => Array.from(x.get('base.conv1.0.weight')!.data as Float32Array);
    expect(w(a.after)).not.toEqual(w(sd));
    const f = await run(true);
    expect(w(f.after)).toEqual(w(sd));
    expect(Array.from(f.after.get('base.conv2.0.weight')!.data as Float32Array)).not.toEqual(Array.from(sd.get('base.conv2.0.weight')!.data as Float32Array));
  });

  it("prepares through the source's preparer, prefetchBatches ahead, and disposes it", async () => {
    const model = createTrainableEResFD(sd);
    const log: string[] = [];
    let inFlight = 0, maxInFlight = 0, opened = 0, disposed = 0;
    const source: SampleSource = {
      size: pool.size,
      load: (i) => pool.load(i),
      openPreparer(spec) {
        opened++;
        const inner = inThreadPreparer(pool, spec);
        return {
          prefetchBatches: 2,
          async prepare(index, epoch) {
            log.push(`${epoch}:${index}`);
            maxInFlight = Math.max(maxInFlight, ++inFlight);
            try {
              return await inner.prepare(index, epoch);
            } finally {
              inFlight--;
            }
          },
          dispose: () => void disposed++,
        };
      },
    };
    const steps: number[] = [];
    const trainer = createTrainer(model, source, pool, { size: 64, batchSize: 1 }, { onProgress: (p) => steps.push(p.step) });
    const rec = await trainer.runEpoch(0);
    expect(opened).toBe(1);
    expect(log).toHaveLength(4);
    // Batches of one image, two batches ahead: the step never waits alone on its own batch.
    expect(maxInFlight).toBe(2);
    expect(steps).toEqual([1, 2, 3, 4]);
    expect(Number.isFinite(rec.trainLoss)).toBe(true);
    trainer.dispose();
    expect(disposed).toBe(1);
    model.dispose();
  });
});
