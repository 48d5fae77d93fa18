/**
 * The pipeline runner's and BO dashboard's derived views: budget form ↔ config, run status after a
 * reload, per-stage progress and ETA, skipped/best trials and the target band, the zoo's AP sources.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig } from '../../../src/core/pipeline/config.ts';
import type { RunState, TrialRecord } from '../../../src/core/pipeline/records.ts';
import { configFromForm, formFromConfig, validateForm } from '../../../src/app/features/pipeline/budget.ts';
import { epochSeconds, runStatus, stageViews, totalEta, type LiveProgress } from '../../../src/app/features/pipeline/run-progress.ts';
import { bandOf, bestSoFar, bestTrial, isSkippedTrial } from '../../../src/app/features/bo-dashboard/trials.ts';
import { zooRows } from '../../../src/app/features/zoo/zoo-rows.ts';
import type { StoredEvaluation, StoredModelSummary, StoredRun } from '../../../src/platform/browser/idb-store.ts';

function trial(index: number, over: Partial<TrialRecord> = {}): TrialRecord {
  return {
    index, source: 'random', rates: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3], sparsity: 0.31, macsRemoved: 0.3, penalty: 0, trained: true,
    valLoss: 7, valLossL: 4, valLossC: 3, trainLoss: 6, objective: -7, seconds: 2, duplicate: false, ...over,
  };
}

function runState(over: Partial<RunState> = {}): RunState {
  const config = validatePipelineConfig({ bo: { initPoints: 2, iterations: 2 }, sfp: { epochs: 2 }, finetune: { epochs: 1 }, evaluate: { images: 10 }, data: { images: 20 } });
  return {
    format: 'bfpgm-run', version: 1, id: 'r', createdAt: '', updatedAt: '', config, stage: 'bo', status: 'running',
    bo: { optimizer: null, trials: [], bestRates: null }, epochs: [], sfpEpochsDone: 0, finetuneEpochsDone: 0, plan: null,
    evaluation: { before: null, after: null }, result: null, ...over,
  };
}

describe('budget form', () => {
  it('round-trips both presets through the form', () => {
    for (const preset of [DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG]) {
      expect(validatePipelineConfig(configFromForm(formFromConfig(preset)))).toEqual(preset);
    }
  });

  it('reports the core validation message', () => {
    const form = formFromConfig(DEFAULT_PIPELINE_CONFIG);
    expect(validateForm(form).error).toBeNull();
    expect(validateForm({ ...form, images: 1 }).error).toMatch(/data.images/);
    expect(validateForm({ ...form, targetPercent: 99 }).error).toMatch(/target/);
    expect(validateForm({ ...form, boIter: 1.5 }).config).toBeNull();
  });
});

describe('run status', () => {
  it('tells a live run from an interrupted one', () => {
    expect(runStatus({ status: 'running' }, true, false)).toBe('running');
    expect(runStatus({ status: 'running' }, false, false)).toBe('interrupted');
    expect(runStatus({ status: 'running' }, false, true)).toBe('elsewhere');
    expect(runStatus({ status: 'paused' }, false, false)).toBe('paused');
    expect(runStatus({ status: 'done' }, false, false)).toBe('done');
    expect(runStatus(null, false, false)).toBe('new');
  });
});

describe('stage views', () => {
  it('counts trials and estimates the rest of the search from their mean duration', () => {
    const s = runState({ bo: { optimizer: null, trials: [trial(0, { seconds: 4 }), trial(1, { seconds: 0, trained: false, objective: -500, penalty: 100 })], bestRates: null } });
    const views = stageViews(s, null, { imagesPerSec: 10, hasEvaluation: true });
    expect(views.map((v) => v.status)).toEqual(['current', 'pending', 'pending', 'pending', 'pending']);
    expect(views[0]).toMatchObject({ done: 2, total: 5, unit: 'trials' });
    expect(views[0]!.etaSeconds).toBeCloseTo(3 * 2, 10);
    // SFP: 2 epochs at epochSeconds(10 img/s).
    expect(views[1]!.etaSeconds).toBeCloseTo(2 * epochSeconds(s.config, 10), 10);
    expect(totalEta(views)).toBeGreaterThan(views[0]!.etaSeconds!);
  });

  it('uses the live step for the current epoch and marks a skipped evaluation', () => {
    const s = runState({ stage: 'sfp', sfpEpochsDone: 1, bo: { optimizer: null, trials: [trial(0)], bestRates: [0.3] } });
    const live: LiveProgress = {
      stage: 'sfp', evaluation: null, stageStartedAt: 0,
      step: { stage: 'sfp', progress: { epoch: 1, step: 1, steps: 4, lossL: 1, lossC: 1, imagesPerSec: 20, etaSeconds: 3 } },
    };
    const views = stageViews(s, live, { imagesPerSec: 5, hasEvaluation: false });
    expect(views.map((v) => v.status)).toEqual(['done', 'current', 'pending', 'skipped', 'pending']);
    expect(views[1]!.etaSeconds).toBeCloseTo(0.75 * epochSeconds(s.config, 20), 10);
    expect(views[3]).toMatchObject({ etaSeconds: 0 });
  });

  it('shows every stage done for a finished run', () => {
    const views = stageViews(runState({ stage: 'done', status: 'done' }), null, { imagesPerSec: null, hasEvaluation: true });
    expect(views.every((v) => v.status === 'done' && v.done === v.total)).toBe(true);
    expect(totalEta(views)).toBe(0);
  });

  it('has no ETA before anything measured the speed', () => {
    const views = stageViews(runState(), null, { imagesPerSec: null, hasEvaluation: true });
    expect(views[0]!.etaSeconds).toBeNull();
    expect(totalEta(views)).toBeNull();
  });
});

describe('BO dashboard trials', () => {
  it('marks skipped trials, finds the best and the running best', () => {
    const trials = [trial(0, { objective: -7.5 }), trial(1, { trained: false, objective: -500, penalty: 100 }), trial(2, { objective: -6.9 }), trial(3, { objective: -7.1, duplicate: true, trained: false })];
    expect(trials.map(isSkippedTrial)).toEqual([false, true, false, false]);
    expect(bestTrial(trials)!.index).toBe(2);
    expect(bestSoFar(trials)).toEqual([-7.5, -7.5, -6.9, -6.9]);
  });

  it('places sparsity in B-FPGM’s penalty band', () => {
    expect(bandOf(0.31, 0.3)).toBe('in');
    expect(bandOf(0.3, 0.3)).toBe('in');
    expect(bandOf(0.28, 0.3)).toBe('near');
    expect(bandOf(0.34, 0.3)).toBe('out');
    expect(bandOf(0.2599, 0.3)).toBe('out');
  });
});

describe('zoo rows', () => {
  const model = (id: string, origin?: StoredModelSummary['origin']) =>
    ({ id, name: `${id}.pth`, info: { sparsity: 0 }, addedAt: 0, usedAt: 0, byteLength: 1, ...(origin ? { origin } : {}) }) as unknown as StoredModelSummary;
  const ap = { easy: 0.9, medium: 0.8, hard: 0.5 };

  it('takes the newest evaluation, else the run’s AP, else what a run measured before pruning', () => {
    const evaluations = [
      { modelId: 'a', ap: { easy: 0.1, medium: 0.1, hard: 0.1 }, images: 10, protocol: 'single' },
      { modelId: 'a', ap, images: 5, protocol: 'full' },
    ] as unknown as StoredEvaluation[];
    const state = runState({ evaluation: { before: { ...ap, images: 4, protocol: 'single' }, after: null }, result: { sparsity: 0.3, macsRemoved: 0.25, parameters: 92208 } });
    const runs = [{ id: 'run1', kind: 'pipeline', meta: { modelId: 'c' }, state }] as unknown as StoredRun[];
    const rows = zooRows(
      [model('a'), model('b', { kind: 'pruned', runId: 'run1', ap: { ...ap, images: 4, protocol: 'single' } }), model('c'), model('d')],
      evaluations,
      runs,
    );
    expect(rows.map((r) => r.kind)).toEqual(['imported', 'pruned', 'imported', 'imported']);
    expect(rows[0]!.ap).toMatchObject({ easy: 0.1, source: 'evaluation' });
    expect(rows[1]!.ap).toMatchObject({ easy: 0.9, source: 'run' });
    expect(rows[1]!.macsRemoved).toBe(0.25);
    expect(rows[2]!.ap).toMatchObject({ hard: 0.5, images: 4, source: 'run' });
    expect(rows[3]!.ap).toBeNull();
  });
});
