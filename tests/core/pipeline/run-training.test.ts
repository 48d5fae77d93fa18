/**
 * Resumable training runs on real WIDER images (tiny size): every epoch is checkpointed (weights and
 * Adam state) before the state points at it; a run interrupted mid-epoch resumes from the last
 * finished epoch and ends with exactly the records and weights of an uninterrupted run; the folder
 * store round-trips the optimiser state.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createMemoryRunStore, type RunStore } from '../../../src/core/pipeline/run-store.ts';
import { FINAL_TRAINING_TAG, runTraining, validateTrainingRunConfig, type TrainingRunConfig, type TrainingRunState } from '../../../src/core/pipeline/run-training.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import type { StateDict } from '../../../src/core/types.ts';
import type { AdamState } from '../../../src/core/train/adam.ts';
import { createFsRunStore } from '../../../src/platform/node/fs-run-store.ts';
import { widerEntries, widerSampleSource } from '../../../src/platform/node/wider-samples.ts';

const TINY: Partial<TrainingRunConfig> = { epochs: 3, size: 64, batchSize: 2, lr: 1e-3, seed: 5 };
const losses = (s: TrainingRunState) => s.epochs.map((r) => [r.epoch, r.trainLossL, r.trainLossC, r.valLossL, r.valLossC, r.lr]);

function expectSameWeights(a: StateDict, b: StateDict): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [k, t] of a) expect(b.get(k)!.data, k).toEqual(t.data);
}

describe('training run config', () => {
  it('validates epochs and the trainer settings', () => {
    expect(validateTrainingRunConfig({ epochs: 4 }).epochs).toBe(4);
    for (const bad of [{ epochs: 0 }, { epochs: 1.5 }, { size: 8 }, { batchSize: 0 }, { lr: 2 }]) {
      try {
        validateTrainingRunConfig(bad);
        expect.unreachable(JSON.stringify(bad));
      } catch (e) {
        expect(isStudioError(e, 'CONFIG_INVALID')).toBe(true);
      }
    }
  });
});

describe.skipIf(!HAS_SHARED)('runTraining on WIDER (tiny)', () => {
  let initial: StateDict;
  let train: ReturnType<typeof widerSampleSource>;
  let val: ReturnType<typeof widerSampleSource>;
  beforeAll(async () => {
    await useBackend('wasm');
    initial = readCheckpoint(readShared('models/EResFD-original.pth')).stateDict;
    const dir = sharedPath('widerface');
    train = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: 4, seed: 0 }));
    val = widerSampleSource(dir, 'val', await widerEntries(dir, { split: 'val', size: 2, seed: 0 }));
  });

  it('checkpoints every epoch and resumes an interrupted run to the uninterrupted result', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const storeA = createMemoryRunStore<TrainingRunState>();
    const seen: string[] = [];
    const a = await runTraining({
      runId: 'a', initial, config: TINY, data: { train, val }, store: storeA,
      onEvent: (e) => seen.push(e.type === 'epoch' ? `epoch${e.epochsDone}` : e.type),
    });
    expect(a.status).toBe('done');
    expect(a.epochsDone).toBe(3);
    expect(a.epochs.map((r) => r.epoch)).toEqual([0, 1, 2]);
    for (const r of a.epochs) {
      expect(Number.isFinite(r.valLoss) && r.valLoss > 0).toBe(true);
      expect(r.valLoss).toBeCloseTo(r.valLossL + r.valLossC, 5);
    }
    expect(seen.filter((s) => s.startsWith('epoch'))).toEqual(['epoch1', 'epoch2', 'epoch3']);
    expect(seen.filter((s) => s === 'step').length).toBe(3 * 2);
    // The checkpoint the state names is the last epoch's: weights equal the final ones.
    const finalA = (await storeA.loadWeights('a', FINAL_TRAINING_TAG))!;
    expectSameWeights((await storeA.loadWeights('a', a.checkpoint!))!, finalA);
    // Training moved the weights.
    const w = 'base.conv1.0.weight';
    expect(finalA.get(w)!.data).not.toEqual(initial.get(w)!.data);
    // A finished run started again returns at once.
    expect((await runTraining({ runId: 'a', initial, data: { train, val }, store: storeA })).epochs).toHaveLength(3);

    // Interrupt in the middle of the second epoch (the first one is checkpointed).
    const storeB = createMemoryRunStore<TrainingRunState>();
    const ctrl = new AbortController();
    await expect(runTraining({
      runId: 'b', initial, config: TINY, data: { train, val }, store: storeB, signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === 'step' && e.progress.epoch === 1 && e.progress.step === 1) ctrl.abort(new DOMException('paused', 'AbortError'));
      },
    })).rejects.toThrow(/paused/);
    const paused = (await storeB.loadState('b'))!;
    expect(paused.status).toBe('paused');
    expect(paused.epochsDone).toBe(1);
    expect(paused.checkpoint).toBe('ckpt-a');
    // Resumed by a fresh call (as after a reload): no config, the initial weights are NOT used.
    const starts: number[] = [];
    const b = await runTraining({
      runId: 'b', initial: new Map(), data: { train, val }, store: storeB,
      onEvent: (e) => e.type === 'start' && starts.push(e.epochsDone),
    });
    expect(starts).toEqual([1]);
    expect(b.status).toBe('done');
    expect(losses(b)).toEqual(losses(a));
    expectSameWeights((await storeB.loadWeights('b', FINAL_TRAINING_TAG))!, finalA);
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  });

  it('fails clearly when the named checkpoint is gone', async () => {
    const store = createMemoryRunStore<TrainingRunState>();
    const state: TrainingRunState = {
      format: 'bfpgm-training', version: 1, id: 'c', createdAt: '', updatedAt: '', config: validateTrainingRunConfig(TINY),
      status: 'paused', epochsDone: 1, epochs: [], checkpoint: 'ckpt-a',
    };
    await store.saveState(state);
    const err = await runTraining({ runId: 'c', initial, data: { train, val }, store }).catch((e: unknown) => e);
    expect(isStudioError(err, 'NOT_FOUND')).toBe(true);
  });
});

describe('fs run store', () => {
  it('round-trips optimiser state and training state', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bfpgm-run-store-'));
    try {
      const store: RunStore<TrainingRunState> = createFsRunStore<TrainingRunState>(dir);
      const adam: AdamState = {
        config: { lr: 1e-3, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 5e-4 },
        params: {
          'base.conv1.weight': { step: 7, expAvg: Float32Array.of(1, -2, 3.5), expAvgSq: Float32Array.of(0.25, 4, 9) },
          'loc.0.bias': { step: 3, expAvg: Float32Array.of(0.125), expAvgSq: Float32Array.of(1e-9) },
        },
      };
      expect(await store.loadOptimizer('r', 'ckpt-a')).toBeNull();
      await store.saveOptimizer('r', 'ckpt-a', adam);
      expect(await store.loadOptimizer('r', 'ckpt-a')).toEqual(adam);
      const state = { id: 'r', epochsDone: 2 } as TrainingRunState;
      await store.saveState(state);
      expect(await store.loadState('r')).toEqual(state);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
