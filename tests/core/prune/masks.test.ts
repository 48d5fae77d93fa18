/** Soft (SFP) vs hard (fine-tuning) masks over TrainableEResFD parameters, with a fake optimiser step. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/backends.ts';
import { createTrainableEResFD, type TrainableEResFD } from '../../../src/core/model/eresfd/trainable.ts';
import { createHardMask, isSoftPruneEpoch, softPrune } from '../../../src/core/prune/masks.ts';
import { planFpgmFromParams } from '../../../src/core/prune/pruner.ts';
import { RELEASED_GROUPING } from '../../../src/core/prune/layer-groups.ts';
import type { PruningPlan } from '../../../src/core/prune/plan.ts';
import { syntheticStateDict } from './synthetic-state-dict.ts';

const RATES = [0.25, 0.2, 0.3, 0.45, 0.3, 0.5];

/** w ← w − 0.05·g with a random g for every parameter: moves pruned filters too, as a real gradient would. */
function fakeStep(params: ReadonlyMap<string, tf.Variable>, seed: number): void {
  let s = seed;
  for (const v of params.values()) {
    s++;
    tf.tidy(() => v.assign(tf.sub(v, tf.mul(tf.randomNormal(v.shape, 0, 1, 'float32', s), 0.05))));
  }
}

/** Values of the planned filters of every conv: [pruned values, kept values]. */
async function filterValues(params: ReadonlyMap<string, tf.Variable>, plan: PruningPlan): Promise<{ pruned: number[]; kept: number[] }> {
  const pruned: number[] = [], kept: number[] = [];
  for (const c of plan.convs) {
    const data = await params.get(c.key)!.data(); // HWIO: the output filter is the fastest axis
    data.forEach((v, i) => (c.pruned.includes(i % c.filters) ? pruned : kept).push(v));
  }
  return { pruned, kept };
}

describe('soft and hard masks', () => {
  let model: TrainableEResFD;
  beforeAll(async () => {
    await useBackend('cpu');
    model = createTrainableEResFD(syntheticStateDict(21));
  });
  afterAll(() => model.dispose());

  it('SFP schedule: epochs 0, 5, 10, … and the last', () => {
    const epochs = Array.from({ length: 200 }, (_, e) => e).filter((e) => isSoftPruneEpoch(e, 200));
    expect(epochs.slice(0, 3)).toEqual([0, 5, 10]);
    expect(epochs.at(-1)).toBe(199);
    expect(epochs).toHaveLength(41);
  });

  it('soft pruning zeroes the selection, lets it regrow, and reselects from current weights', async () => {
    const plan = await softPrune(model.params, RELEASED_GROUPING, RATES);
    expect(plan.convs.some((c) => c.pruned.length)).toBe(true);
    expect((await filterValues(model.params, plan)).pruned.every((v) => v === 0)).toBe(true);
    fakeStep(model.params, 100);
    const regrown = await filterValues(model.params, plan);
    expect(regrown.pruned.filter((v) => v !== 0).length).toBe(regrown.pruned.length);
    // The next SFP step decides again from the current weights, exactly as a fresh FPGM run would.
    const fresh = await planFpgmFromParams(model.params, RELEASED_GROUPING, RATES);
    const next = await softPrune(model.params, RELEASED_GROUPING, RATES);
    expect(next).toEqual(fresh);
    expect((await filterValues(model.params, next)).pruned.every((v) => v === 0)).toBe(true);
  });

  it('hard masks keep pruned filters exactly zero through optimiser steps and leave kept ones alone', async () => {
    const plan = await softPrune(model.params, RELEASED_GROUPING, RATES);
    const mask = createHardMask(plan);
    const tensors = tf.memory().numTensors;
    for (let step = 0; step < 3; step++) {
      fakeStep(model.params, 200 + 10 * step);
      const beforeMask = await filterValues(model.params, plan);
      expect(beforeMask.pruned.some((v) => v !== 0)).toBe(true);
      mask.apply(model.params);
      const after = await filterValues(model.params, plan);
      expect(after.pruned.every((v) => v === 0)).toBe(true);
      expect(after.kept).toEqual(beforeMask.kept);
    }
    expect(tf.memory().numTensors).toBe(tensors);
    mask.dispose();
    expect(tf.memory().numTensors).toBeLessThan(tensors);
  });
});
