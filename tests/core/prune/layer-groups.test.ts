/** Layer groupings as data: SPEC §3.1 / §3.5 numbers, our 4- and 9-group variants, user groupings. */
import { describe, expect, it } from 'vitest';
import {
  CODE_GROUPING,
  COARSE_GROUPING,
  FINE_GROUPING,
  GROUPINGS,
  PRUNABLE_MODULES,
  RELEASED_GROUPING,
  createGrouping,
  groupConvs,
  groupStats,
  validateGrouping,
  type Grouping,
} from '../../../src/core/prune/layer-groups.ts';
import { CONVS, totalMacs } from '../../../src/core/model/eresfd/architecture.ts';
import { isStudioError } from '../../../src/core/errors.ts';

describe('groupStats', () => {
  it('gives the code grouping of SPEC §3.1', () => {
    const s = groupStats(CODE_GROUPING, 480, 640);
    expect(s.map((g) => g.parameters)).toEqual([2_392, 18_976, 28_608, 19_264, 10_802, 11_520]);
    expect(s.map((g) => g.convWeights)).toEqual([2_328, 18_688, 28_160, 18_944, 10_496, 11_232]);
    expect(s.map((g) => g.convs)).toEqual([3, 9, 14, 10, 9, 30]);
    expect(s.map((g) => g.filters)).toEqual([32, 144, 224, 160, 144, 144]);
  });

  it('gives the released grouping of SPEC §3.5', () => {
    expect(groupStats(RELEASED_GROUPING, 480, 640).map((g) => g.parameters)).toEqual([1_208, 5_856, 28_608, 33_568, 10_802, 11_520]);
  });

  it('covers every non-head conv and MAC once in each built-in grouping', () => {
    const headMacs = 3_077_760; // SPEC §1.8
    for (const g of Object.values(GROUPINGS)) {
      const s = groupStats(g, 480, 640);
      expect(s.reduce((a, x) => a + x.convs, 0)).toBe(75);
      expect(s.reduce((a, x) => a + x.parameters, 0)).toBe(92_208 - 646);
      expect(s.reduce((a, x) => a + x.macs, 0)).toBe(totalMacs(480, 640) - headMacs);
    }
  });

  it('scales MACs with the input size', () => {
    const a = groupStats(CODE_GROUPING, 480, 640);
    const b = groupStats(CODE_GROUPING, 960, 1280);
    a.forEach((g, i) => expect(b[i]!.macs).toBeGreaterThan(3.5 * g.macs));
  });
});

describe('our 4- and 9-group variants', () => {
  const unionOf = (g: Grouping['groups'][number][]): string[] => g.flatMap((x) => x.modules).sort();
  it('nest with the code grouping (coarse = unions of code groups, code groups = unions of fine groups)', () => {
    expect(COARSE_GROUPING.groups).toHaveLength(4);
    expect(FINE_GROUPING.groups).toHaveLength(9);
    const code = CODE_GROUPING.groups.map((g) => [...g.modules].sort().join());
    const coarseParts = [[0, 1], [2], [3], [4, 5]];
    COARSE_GROUPING.groups.forEach((g, i) => expect([...g.modules].sort()).toEqual(unionOf(coarseParts[i]!.map((j) => CODE_GROUPING.groups[j]!))));
    const fineParts = [[0], [1, 2], [3, 4], [5], [6], [7, 8]];
    fineParts.forEach((parts, i) => expect(unionOf(parts.map((j) => FINE_GROUPING.groups[j]!)).join()).toBe(code[i]));
  });
  it('pass validation and keep layer4 with the dead layer5', () => {
    for (const g of Object.values(GROUPINGS)) {
      expect(validateGrouping(g)).toBe(g);
      expect(g.groups.find((x) => x.modules.includes('base.m0.layer5'))!.modules).toContain('base.m0.layer4');
    }
  });
});

describe('user-defined groupings', () => {
  it('accept aliases and bare module lists', () => {
    const g = createGrouping('mine', [['base.conv1', 'base.m0.b2_1'], { name: 'neck', modules: ['base.m0.fpn', 'base.m0.FEM_0'] }]);
    expect(g.groups).toEqual([
      { name: 'g1', modules: ['base.conv1', 'base.m0.layer1'] },
      { name: 'neck', modules: ['base.m0.layer6', 'base.m0.layer7'] },
    ]);
    expect(groupConvs(g.groups[1]!)).toHaveLength(14);
  });

  it.each([
    ['an unknown module', [['base.m0.layer13']]],
    ['a head', [['loc.0']]],
    ['a module twice', [['base.conv1'], ['base.conv1', 'base.conv2']]],
    ['an empty group', [[]]],
    ['no groups', []],
  ])('reject %s with CONFIG_INVALID', (_, groups) => {
    let err: unknown;
    try {
      createGrouping('bad', groups as string[][]);
    } catch (e) {
      err = e;
    }
    expect(isStudioError(err, 'CONFIG_INVALID')).toBe(true);
  });

  it('lists the 16 prunable modules', () => {
    expect(PRUNABLE_MODULES).toHaveLength(16);
    expect(new Set(CONVS.filter((c) => PRUNABLE_MODULES.includes(c.owner)).map((c) => c.name)).size).toBe(75);
  });
});
