/**
 * Issue 14: training samples prepared in worker_threads (prep-pool.ts) are the same bytes as those
 * prepared on the training thread, for the pool and for a subset of it (the BO split), on real WIDER
 * images; a worker's failure (a missing image) reaches the caller as a StudioError naming the image; and
 * `close()` leaves no worker running. A trainer on the pool's source trains the same epoch as one
 * preparing in-thread.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createTrainableEResFD } from '../../../src/core/model/eresfd/trainable.ts';
import { createTrainer } from '../../../src/core/train/trainer.ts';
import { prepareTrainSample } from '../../../src/core/train/sample-preparer.ts';
import { subsetSource, type PrepareSpec, type PreparedSample } from '../../../src/core/train/sample-source.ts';
import type { WiderEntry } from '../../../src/core/dataset/parse-bbx-gt.ts';
import { widerPrepPool, type WiderPrepPool } from '../../../src/platform/node/prep-pool.ts';
import { widerEntries, widerSampleSource } from '../../../src/platform/node/wider-samples.ts';

const bytes = (s: PreparedSample) => ({
  width: s.image.width,
  height: s.image.height,
  channels: s.image.channels,
  image: Buffer.from(s.image.data.buffer, s.image.data.byteOffset, s.image.data.byteLength).toString('base64'),
  targets: Buffer.from(s.targets.buffer, s.targets.byteOffset, s.targets.byteLength).toString('base64'),
});

describe.skipIf(!HAS_SHARED)('training-sample preparation in worker_threads', () => {
  const dir = sharedPath('widerface');
  let entries: WiderEntry[];
  const pools: WiderPrepPool[] = [];
  const pool = (list: readonly WiderEntry[], workers: number) => {
    const p = widerPrepPool({ dir, split: 'train', entries: list, workers });
    pools.push(p);
    return p;
  };
  beforeAll(async () => {
    entries = await widerEntries(dir, { split: 'train', size: 6, seed: 2 });
  });
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.close()));
  });

  it('gives the same image and target bytes as in-thread preparation (pool and subset, several epochs)', async () => {
    const local = widerSampleSource(dir, 'train', entries);
    const p = pool(entries, 2);
    const spec: PrepareSpec = { seed: 5, size: 160, augment: true };
    const remote = p.source.openPreparer!(spec);
    const subsetIdx = [4, 1, 3];
    const remoteSubset = subsetSource(p.source, subsetIdx).openPreparer!(spec);
    const localSubset = subsetSource(local, subsetIdx);
    try {
      for (const epoch of [0, 1, 6]) {
        const idx = [0, 2, 5];
        const [a, b] = await Promise.all([Promise.all(idx.map((i) => remote.prepare(i, epoch))), Promise.all(idx.map((i) => prepareTrainSample(local, spec, i, epoch)))]);
        expect(a.map(bytes)).toEqual(b.map(bytes));
        const [c, d] = await Promise.all([Promise.all([0, 1, 2].map((i) => remoteSubset.prepare(i, epoch))), Promise.all([0, 1, 2].map((i) => prepareTrainSample(localSubset, spec, i, epoch)))]);
        expect(c.map(bytes)).toEqual(d.map(bytes));
      }
      // Validation-style preprocessing too (augment off).
      const plain: PrepareSpec = { seed: 0, size: 96, augment: false };
      expect(bytes(await p.source.openPreparer!(plain).prepare(3, 0))).toEqual(bytes(await prepareTrainSample(local, plain, 3, 0)));
      expect(p.running).toBe(2);
    } finally {
      remote.dispose?.();
      remoteSubset.dispose?.();
    }
  });

  it('a missing image rejects with a StudioError naming it; close() terminates the workers', async () => {
    const missing: WiderEntry = { ...entries[0]!, path: `${entries[0]!.event}/no-such-image.jpg` };
    const p = pool([entries[0]!, missing], 1);
    const prep = p.source.openPreparer!({ seed: 0, size: 64, augment: true });
    await expect(prep.prepare(0, 0)).resolves.toBeTruthy();
    const err: unknown = await prep.prepare(1, 0).then(
      () => null,
      (e: unknown) => e,
    );
    expect(isStudioError(err, 'FILE_IO')).toBe(true);
    expect((err as Error).message).toContain('no-such-image.jpg');
    expect((err as Error).message).toMatch(/training sample 1 of epoch 0/);
    // The worker survives a failed sample.
    await expect(prep.prepare(0, 1)).resolves.toBeTruthy();
    expect(p.running).toBe(1);
    await p.close();
    expect(p.running).toBe(0);
    await expect(prep.prepare(0, 0)).rejects.toThrow(/closed/);
  });

  it('a trainer on the pool trains the same epoch as one preparing in-thread', async () => {
    await useBackend('wasm');
    const sd = readCheckpoint(readShared('models/EResFD-original.pth')).stateDict;
    const p = pool(entries, 1);
    const run = async (inThread: boolean) => {
      const model = createTrainableEResFD(sd);
      const trainer = createTrainer(model, subsetSource(p.source, [0, 1, 2, 3]), subsetSource(p.source, [4, 5]), { size: 64, batchSize: 2, seed: 3 }, inThread ? { preparer: 'in-thread' } : {});
      try {
        return await trainer.runEpoch(2);
      } finally {
        trainer.dispose();
        model.dispose();
      }
    };
    const a = await run(false);
    const b = await run(true);
    expect(a.trainLoss).toBe(b.trainLoss);
    expect(a.valLoss).toBe(b.valLoss);
    expect(p.running).toBe(1);
  });
});
