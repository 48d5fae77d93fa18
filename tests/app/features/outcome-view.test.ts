/**
 * The Result panel's comparison: the stored released checkpoint of the nearest sparsity with its AP
 * on the run's own images (preferred over a newer evaluation on other images), the unpruned model
 * only when the run did not start from it, and the verdict the core gives.
 */
import { describe, expect, it } from 'vitest';
import { validatePipelineConfig } from '../../../src/core/pipeline/config.ts';
import type { RunState } from '../../../src/core/pipeline/records.ts';
import { outcomeView as viewOf, runResult } from '../../../src/app/features/pipeline/outcome-view.ts';

const outcomeView = (run: Parameters<typeof runResult>[0], models: StoredModelSummary[], evals: StoredEvaluation[]) => viewOf(runResult(run), models, evals);
import type { StoredEvaluation, StoredModelSummary } from '../../../src/platform/browser/idb-store.ts';

const model = (id: string, name: string, sparsityPct: number, madeHere = false): StoredModelSummary =>
  ({ id, name, info: { sparsity: sparsityPct } as StoredModelSummary['info'], addedAt: 0, usedAt: 0, byteLength: 1, ...(madeHere ? { origin: { kind: 'pruned' } } : {}) }) as StoredModelSummary;

const evaluation = (modelId: string, datasetId: string, images: number, easy: number, medium: number, hard: number): StoredEvaluation =>
  ({ id: `${modelId}-${datasetId}-${images}`, modelId, datasetId, images, protocol: 'single', ap: { easy, medium, hard } }) as StoredEvaluation;

function finished(after: [number, number, number]): RunState {
  const ev = (a: [number, number, number]) => ({ easy: a[0], medium: a[1], hard: a[2], images: 4, protocol: 'single' as const });
  return {
    format: 'bfpgm-run', version: 1, id: 'r', createdAt: '', updatedAt: '', config: validatePipelineConfig({ evaluate: { images: 4 } }), stage: 'done', status: 'done',
    bo: { optimizer: null, trials: [], bestRates: [0.3, 0.3, 0.3, 0.3, 0.3, 0.3] }, epochs: [], sfpEpochsDone: 0, finetuneEpochsDone: 0, plan: null,
    evaluation: { before: ev([0.9, 0.88, 0.75]), after: ev(after) }, result: { sparsity: 0.29, macsRemoved: 0.3, parameters: 92208 },
  };
}

describe('outcomeView', () => {
  const models = [
    model('orig', 'EResFD-original.pth', 0),
    model('r30', 'EResFD-30-pruned.pth', 29.7),
    model('r50', 'EResFD-50-pruned.pth', 49.8),
    model('mine', 'B-FPGM 30% · 4 Dec 14:05', 29, true),
  ];
  const meta = { modelId: 'orig', modelName: 'EResFD-original.pth', valDatasetId: 'val4', resultModelId: 'mine' };

  it('puts the released 30 % checkpoint beside the result with its AP on the same images, and judges with it', () => {
    // Newest first: an evaluation on another val set, then the one on the run's images.
    const evals = [evaluation('r30', 'val200', 200, 0.83, 0.83, 0.66), evaluation('r30', 'val4', 4, 0.85, 0.84, 0.7)];
    const v = outcomeView({ state: finished([0.7, 0.7, 0.55]), meta }, models, evals);
    expect(v.rows.map((r) => r.role)).toEqual(['before', 'after', 'released']);
    expect(v.rows[1]!.name).toBe('B-FPGM 30% · 4 Dec 14:05');
    const released = v.rows[2]!;
    expect(released.name).toBe('EResFD-30-pruned.pth');
    expect(released.ap?.easy).toBe(0.85);
    expect(released.otherImages).toBe(false);
    expect(v.releasedNeedsEvaluation).toBe(false);
    expect(v.outcome.verdict).toBe('large-drop');
    expect(v.outcome.releasedGap?.setting).toBe('easy');
  });

  it('flags a released checkpoint measured only on other images, and asks for an evaluation', () => {
    const v = outcomeView({ state: finished([0.89, 0.87, 0.74]), meta }, models, [evaluation('r30', 'val200', 200, 0.83, 0.83, 0.66)]);
    expect(v.rows[2]!.otherImages).toBe(true);
    expect(v.releasedNeedsEvaluation).toBe(true);
    expect(v.outcome.releasedGap).toBeNull();
    expect(v.outcome.verdict).toBe('good');
  });

  it('adds the unpruned model when the run started from another model (e.g. an imported run)', () => {
    const imported = { ...meta, modelId: '' };
    const v = outcomeView({ state: finished([0.89, 0.87, 0.74]), meta: imported }, models, [evaluation('orig', 'val4', 4, 0.9, 0.88, 0.75)]);
    expect(v.rows.map((r) => r.role)).toEqual(['before', 'after', 'released', 'unpruned']);
    expect(v.rows[3]!.ap?.hard).toBe(0.75);
    expect(v.rows[0]!.sparsity).toBeNull();
    // Without any released checkpoint stored there is no released row.
    expect(outcomeView({ state: finished([0.89, 0.87, 0.74]), meta }, [models[0]!, models[3]!], []).rows.map((r) => r.role)).toEqual(['before', 'after']);
  });
});
