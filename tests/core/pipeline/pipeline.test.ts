/**
 * The B-FPGM pipeline end to end on real WIDER images with a tiny budget: stages in order, every
 * trial and epoch recorded, the result in the target band, and a run interrupted mid-search resumes
 * to exactly the records an uninterrupted run produces.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { createMemoryRunStore, runPipeline, splitPool, trialsCsv, epochsCsv, type PipelineConfigInput, type StageName } from '../../../src/core/pipeline/index.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { validatePipelineConfig } from '../../../src/core/pipeline/config.ts';
import type { StateDict } from '../../../src/core/types.ts';
import { widerEntries, widerSampleSource } from '../../../src/platform/node/wider-samples.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../../../src/platform/node/wider-folder.ts';
import { planPipelineBudget } from '../../../src/core/pipeline/budget.ts';

const TINY: PipelineConfigInput = {
  target: 0.3,
  data: { images: 8, size: 64, batchSize: 4 },
  bo: { initPoints: 2, iterations: 2 },
  sfp: { epochs: 2, every: 1 },
  finetune: { epochs: 1, mode: 'masked' },
  evaluate: { images: 0 },
};

describe('pipeline config', () => {
  it('validates and splits deterministically', () => {
    expect(() => validatePipelineConfig({ target: 1.2 })).toThrow(/target/);
    expect(() => validatePipelineConfig({ bo: { iterations: -1 } })).toThrow(/bo.iterations/);
    try {
      validatePipelineConfig({ data: { size: 8 } });
      expect.unreachable();
    } catch (e) {
      expect(isStudioError(e, 'CONFIG_INVALID')).toBe(true);
    }
    const a = splitPool(100, 0.2, 3);
    expect(a.val).toHaveLength(20);
    expect(new Set([...a.train, ...a.val]).size).toBe(100);
    expect(splitPool(100, 0.2, 3)).toEqual(a);
    expect(splitPool(100, 0.2, 4)).not.toEqual(a);
  });
});

describe.skipIf(!HAS_SHARED)('runPipeline on WIDER (tiny budget)', () => {
  let pretrained: StateDict;
  let pool: ReturnType<typeof widerSampleSource>;
  beforeAll(async () => {
    await useBackend('wasm');
    pretrained = readCheckpoint(readShared('models/EResFD-original.pth')).stateDict;
    const dir = sharedPath('widerface');
    pool = widerSampleSource(dir, 'train', await widerEntries(dir, { split: 'train', size: 8, seed: 0 }));
  });

  it('runs every stage, records trials and epochs, lands in the target band; an interrupted run resumes identically', async () => {
    const tensorsBefore = tf.memory().numTensors;
    const storeA = createMemoryRunStore();
    const stages: StageName[] = [];
    const a = await runPipeline({ runId: 'a', pretrained, config: TINY, data: { pool }, store: storeA, onEvent: (e) => e.type === 'stage' && stages.push(e.stage) });
    expect(stages).toEqual(['bo', 'sfp', 'finetune', 'evaluate', 'export', 'done']);
    expect(a.status).toBe('done');
    expect(a.bo.trials).toHaveLength(1 + 2 + 2);
    expect(a.bo.trials[0]!.source).toBe('probe');
    expect(a.bo.trials[0]!.rates.every((r) => Math.abs(r - 0.34) < 1e-12)).toBe(true);
    for (const t of a.bo.trials) {
      expect(t.rates.every((r) => r >= 0 && r <= 0.5)).toBe(true);
      if (t.trained) expect(t.objective).toBeCloseTo(-t.valLoss! - 5 * t.penalty, 10);
      else expect(t.objective).toBe(-500);
    }
    const best = a.bo.trials.reduce((p, q) => (q.objective > p.objective ? q : p));
    // A projecting recipe trains the projected rates, so those are the best ones.
    expect(a.bo.bestRates).toEqual(best.appliedRates ?? best.rates);
    expect(a.epochs.map((r) => `${r.stage}${r.epoch}`)).toEqual(['sfp0', 'sfp1', 'finetune0']);
    // The final model: hard-pruned with the best rates, in the band if the best trial was.
    const final = (await storeA.loadWeights('a', 'final'))!;
    const sparsity = describeModel(final).sparsity / 100;
    expect(sparsity).toBeCloseTo(a.result!.sparsity, 12);
    expect(best.trained).toBe(true);
    expect(Math.abs(sparsity - 0.3)).toBeLessThan(0.04);
    expect(trialsCsv(a).split('\n')[0]).toContain('rate_stem');
    expect(epochsCsv(a).trim().split('\n')).toHaveLength(4);

    // Interrupt during the third trial, then resume with the same store.
    const storeB = createMemoryRunStore();
    const ctrl = new AbortController();
    let trials = 0;
    await expect(runPipeline({
      runId: 'b', pretrained, config: TINY, data: { pool }, store: storeB, signal: ctrl.signal,
      onEvent: (e) => {
        if (e.type === 'trial' && ++trials === 2) ctrl.abort(new DOMException('paused', 'AbortError'));
      },
    })).rejects.toThrow();
    const paused = (await storeB.loadState('b'))!;
    expect(paused.status).toBe('paused');
    expect(paused.bo.trials).toHaveLength(2);
    const b = await runPipeline({ runId: 'b', pretrained, data: { pool }, store: storeB });
    expect(b.status).toBe('done');
    expect(b.bo.trials.map((t) => [t.rates, t.objective])).toEqual(a.bo.trials.map((t) => [t.rates, t.objective]));
    expect(b.epochs.map((r) => r.valLoss)).toEqual(a.epochs.map((r) => r.valLoss));
    expect(tf.memory().numTensors).toBe(tensorsBefore);
  }, 600_000); // full (tiny) pipelines on a busy 2-core CI machine

  it('counts every image pass as it runs: the counted budget equals the plan of the trials that were scored', async () => {
    const dir = sharedPath('widerface');
    const gt = await readValGroundTruth(dir);
    const evaluation = { gt, refs: (await presentValImages(dir, gt)).slice(0, 2), loadImage: loadValImage(dir) };
    const cases: PipelineConfigInput[] = [
      // The laptop recipe: adaptive-BN trials, distillation, BN re-estimation after every hard prune, SFP every 2 of 3 epochs.
      { ...TINY, recipe: 'laptop', bo: { initPoints: 3, iterations: 1, bnImages: 4 }, sfp: { epochs: 3, every: 2 }, recalibrate: { images: 5 }, evaluate: { images: 2 } },
      // The paper recipe: one-epoch trials, no teacher, no re-estimation.
      { ...TINY, recipe: 'paper', bo: { initPoints: 2, iterations: 0 }, evaluate: { images: 2 } },
    ];
    for (const [k, config] of cases.entries()) {
      const s = await runPipeline({ runId: `budget${k}`, pretrained, config, data: { pool, evaluation }, store: createMemoryRunStore() });
      // Skipped (out of band) and duplicate trials cost nothing; the plan counts every trial as scored.
      const scored = s.bo.trials.filter((t) => t.trained && !t.duplicate).length;
      expect(scored).toBeGreaterThan(0);
      const planned = planPipelineBudget(validatePipelineConfig({ ...config, bo: { ...config.bo, initPoints: scored - 1, iterations: 0 } }));
      expect(s.budget).toEqual(planned);
      expect(s.budget!.trainImagePasses).toBeLessThanOrEqual(planPipelineBudget(s.config).trainImagePasses);
      if (k === 0) expect(s.budget!.trainImagePasses).toBe((3 + 1) * 6); // 8 images → 6 train / 2 val; trials train nothing
    }
  }, 600_000);
});

