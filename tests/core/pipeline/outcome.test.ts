/**
 * The outcome verdict (large drop, dead model, gap to the released checkpoint), the choice of the
 * reference models among the stored ones.
 */
import { describe, expect, it } from 'vitest';
import { judgeOutcome, pickReferences, releasedSparsity, type CandidateModel, type MeasuredAp } from '../../../src/core/pipeline/outcome.ts';

const ap = (easy: number, medium: number, hard: number, images = 200, datasetId = 'val'): MeasuredAp => ({ easy, medium, hard, images, protocol: 'single', datasetId });

describe('judgeOutcome', () => {
  // Issue 10's measured numbers: unpruned 0.899/0.877/0.752, released 30 % 0.827/0.831/0.659.
  const unpruned = ap(0.899, 0.877, 0.752);
  const released30 = ap(0.827, 0.831, 0.659);

  it('calls a model that finds no faces dead and says what to do', () => {
    const o = judgeOutcome({ before: ap(1, 0.924, 0.642), after: ap(0, 0, 0) });
    expect(o.verdict).toBe('dead');
    expect(o.worstDrop).toEqual({ setting: 'easy', drop: 1 });
    expect(o.headline).toMatch(/almost no faces/);
    expect(o.advice.join(' ')).toMatch(/more budget/);
    expect(judgeOutcome({ before: unpruned, after: ap(0.003, 0.002, 0.001) }).verdict).toBe('dead');
  });

  it('flags a large drop (issue 10: 0.651/0.673/0.504 after 0.899/0.877/0.752) with the worst setting', () => {
    const o = judgeOutcome({ before: unpruned, after: ap(0.651, 0.673, 0.494), released: released30 });
    expect(o.verdict).toBe('large-drop');
    expect(o.worstDrop!.setting).toBe('hard');
    expect(o.worstDrop!.drop).toBeCloseTo(0.258, 6);
    expect(o.releasedGap!.setting).toBe('easy');
    expect(o.releasedGap!.gap).toBeCloseTo(0.176, 6);
    expect(o.headline).toMatch(/25\.8 points \(hard\)/);
    expect(o.headline).toMatch(/released checkpoint is 17\.6 points better/);
    expect(o.advice).toHaveLength(1);
  });

  it('a small drop is good, a few points fair; the released checkpoint alone can make it large', () => {
    expect(judgeOutcome({ before: unpruned, after: ap(0.89, 0.87, 0.74) }).verdict).toBe('good');
    expect(judgeOutcome({ before: unpruned, after: ap(0.85, 0.85, 0.70) }).verdict).toBe('fair');
    // 0.06 behind the release on hard while only 0.07 below the start: large because of the release.
    const o = judgeOutcome({ before: unpruned, after: ap(0.84, 0.83, 0.599), released: released30 });
    expect(o.verdict).toBe('large-drop');
    expect(o.releasedGap!.setting).toBe('hard');
  });

  it('compares with the release only on the same images and protocol', () => {
    // 3.2 points below the start (fair); a (hypothetical) release 8 points better counts only when comparable.
    const after = ap(0.87, 0.86, 0.72);
    const better = ap(0.95, 0.95, 0.8);
    expect(judgeOutcome({ before: unpruned, after, released: better }).verdict).toBe('large-drop');
    const o = judgeOutcome({ before: unpruned, after, released: { ...better, images: 100 } });
    expect(o.releasedGap).toBeNull();
    expect(o.verdict).toBe('fair');
    expect(judgeOutcome({ before: unpruned, after, released: { ...better, protocol: 'full' } }).releasedGap).toBeNull();
    expect(judgeOutcome({ before: unpruned, after, released: { ...better, datasetId: 'other' } }).releasedGap).toBeNull();
  });

  it('tells a one-shot prune to fine-tune instead of asking for more budget', () => {
    const o = judgeOutcome({ before: unpruned, after: ap(0, 0, 0), kind: 'one-shot' });
    expect(o.verdict).toBe('dead');
    expect(o.advice[0]).toMatch(/B-FPGM pipeline/);
    expect(o.advice.join(' ')).not.toMatch(/more budget/);
  });

  it('without an AP after pruning the verdict is unknown', () => {
    expect(judgeOutcome({ before: unpruned, after: null }).verdict).toBe('unknown');
    expect(judgeOutcome({ before: null, after: ap(0.8, 0.8, 0.6) }).verdict).toBe('unknown');
  });
});

describe('pickReferences', () => {
  const model = (name: string, sparsity: number, extra: Partial<CandidateModel> = {}): CandidateModel => ({ id: name, name, sparsity, madeHere: false, ap: null, ...extra });

  it('reads the nominal sparsity of released checkpoint names only', () => {
    expect(releasedSparsity('EResFD-30-pruned.pth')).toBe(0.3);
    expect(releasedSparsity('models/EResFD-50-pruned.pth')).toBe(0.5);
    expect(releasedSparsity('EResFD-original.pth')).toBeNull();
    expect(releasedSparsity('EResFD-original-pruned-30p.pth')).toBeNull();
  });

  it('picks the released checkpoint of the nearest measured sparsity, never a model made here', () => {
    const models = [
      model('EResFD-original.pth', 0),
      model('EResFD-20-pruned.pth', 0.201),
      model('EResFD-30-pruned.pth', 0.297),
      model('EResFD-40-pruned.pth', 0.398),
      model('EResFD-30-pruned.pth', 0.281, { id: 'mine', madeHere: true }),
    ];
    const r = pickReferences(models, 0.281);
    expect(r.released?.name).toBe('EResFD-30-pruned.pth');
    expect(r.released?.id).toBe('EResFD-30-pruned.pth');
    expect(r.unpruned?.name).toBe('EResFD-original.pth');
    expect(pickReferences(models, 0.36).released?.name).toBe('EResFD-40-pruned.pth');
    // Nothing within 10 points: no released reference.
    expect(pickReferences(models, 0.6).released).toBeNull();
  });

  it('prefers an unpruned model named original, then one with a measured AP', () => {
    const r = pickReferences([model('my-copy.pth', 0, { ap: ap(0.9, 0.9, 0.7) }), model('EResFD-original.pth', 0)], 0.3);
    expect(r.unpruned?.name).toBe('EResFD-original.pth');
    expect(pickReferences([model('a.pth', 0), model('b.pth', 0, { ap: ap(0.9, 0.9, 0.7) })], 0.3).unpruned?.name).toBe('b.pth');
    expect(pickReferences([model('a.pth', 0.3)], 0.3).unpruned).toBeNull();
  });
});
