/** Model card numbers against SPEC §1.8, §3.1 and the measured sparsity of every shipped checkpoint (§3.5). */
import { describe, expect, it } from 'vitest';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { describeModel } from '../../../src/core/prune/describe-model.ts';
import { CONVS, totalMacs, convMacs } from '../../../src/core/model/eresfd/architecture.ts';
import { priorCount } from '../../../src/core/model/eresfd/priors.ts';

const SPARSITY: Record<string, number> = {
  'EResFD-original.pth': 0.087,
  'EResFD-10-pruned.pth': 10.24,
  'EResFD-20-pruned.pth': 22.28,
  'EResFD-30-pruned.pth': 31.6,
  'EResFD-40-pruned.pth': 40.02,
  'EResFD-50-pruned.pth': 50.37,
  'EResFD-60-pruned.pth': 59.87,
};

describe('architecture table', () => {
  it('has the 87 convs and the MACs of SPEC §1.8', () => {
    expect(CONVS.length).toBe(87);
    expect(totalMacs(480, 640)).toBe(295_183_680);
    const layer5 = CONVS.filter((c) => c.owner === 'base.m0.layer5').reduce((s, c) => s + convMacs(c, 480, 640), 0);
    expect(layer5).toBe(189_440);
    const heads = CONVS.filter((c) => c.role === 'loc' || c.role === 'conf').reduce((s, c) => s + convMacs(c, 480, 640), 0);
    expect(heads).toBe(3_077_760);
    expect(priorCount(480, 640)).toBe(25_660);
    expect(priorCount(640, 640)).toBe(34_200);
  });
});

describe.skipIf(!HAS_SHARED)('describeModel on the shipped checkpoints', () => {
  it.each(Object.entries(SPARSITY))('%s: 92,208 parameters, sparsity %f % within 0.01 points', (file, sparsity) => {
    const info = describeModel(readCheckpoint(readShared('models', file)).stateDict);
    expect(info.parameters).toBe(92_208);
    expect(Math.abs(info.sparsity - sparsity)).toBeLessThanOrEqual(0.01);
    expect(info.groups.map((g) => g.parameters)).toEqual([2_392, 18_976, 28_608, 19_264, 10_802, 11_520]);
    expect(info.ungrouped.parameters).toBe(646);
  });
});
