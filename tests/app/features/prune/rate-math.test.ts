import { describe, expect, it } from 'vitest';
import { CODE_GROUPING, FINE_GROUPING, PRUNABLE_MODULES, RELEASED_GROUPING } from '../../../../src/core/prune/layer-groups.ts';
import { parseRates } from '../../../../src/cli/commands/fpgm.ts';
import { carryRates, fromPercent, groupColor, toPercent } from '../../../../src/app/features/prune/rate-math.ts';
import { moduleLabel, networkLayout } from '../../../../src/app/features/prune/network-layout.ts';

describe('rate editor helpers', () => {
  it('turns percents into the same fractions as the CLI, and back', () => {
    const readme = [21.3, 4.5, 30.5, 47.1, 32.1, 44.8];
    expect(readme.map(fromPercent)).toEqual(parseRates(readme.join(','), 6));
    expect(readme.map(fromPercent).map(toPercent)).toEqual(readme);
    expect(toPercent(0.98)).toBe(98);
  });

  it('carries rates module by module to another grouping', () => {
    // code → fine: every fine group lies inside one code group, so rates carry over exactly.
    const code = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6];
    expect(carryRates(CODE_GROUPING, code, FINE_GROUPING)).toEqual([0.1, 0.2, 0.2, 0.3, 0.3, 0.4, 0.5, 0.6, 0.6]);
    // code → released: conv3-4 mixes stem 0.1 and conv4+layer1 0.2 → 0.15; layer3-5 → (0.3+0.4+0.4)/3 → 36.7 %.
    expect(carryRates(CODE_GROUPING, code, RELEASED_GROUPING)).toEqual([10, 15, 25, 36.7, 50, 60].map((v) => v / 100));
  });

  it('colours groups and leaves ungrouped modules uncoloured', () => {
    expect(groupColor(-1)).toBe('transparent');
    expect(groupColor(0)).not.toBe(groupColor(1));
  });
});

describe('network layout', () => {
  for (const kind of ['wide', 'tall'] as const) {
    it(`${kind}: draws every prunable module once, layer5 as the dead branch, inside the view box`, () => {
      const layout = networkLayout(kind);
      const modules = layout.blocks.filter((b) => b.prunable).map((b) => b.id);
      expect(modules.sort()).toEqual([...PRUNABLE_MODULES].sort());
      expect(layout.blocks.filter((b) => b.dead).map((b) => b.id)).toEqual(['base.m0.layer5']);
      for (const b of layout.blocks) {
        expect(b.x).toBeGreaterThanOrEqual(0);
        expect(b.y).toBeGreaterThanOrEqual(0);
        expect(b.x + b.w).toBeLessThanOrEqual(layout.width + 1e-9);
        expect(b.y + b.h).toBeLessThanOrEqual(layout.height + 1e-9);
      }
    });
  }

  it('names modules the way the UI shows them', () => {
    expect(moduleLabel('base.conv3')).toBe('conv3');
    expect(moduleLabel('base.m0.layer5')).toBe('layer5');
    expect(moduleLabel('base.m0.layer6')).toBe('FPN');
    expect(moduleLabel('base.m0.layer12')).toBe('FEM 5');
  });
});
