/**
 * The compute worker's feature APIs (workers/features/) in Node on WASM, against the core and the CLI's
 * path: the editor's preview sparsity is exactly `fpgm` + `info`'s, the pruned checkpoint is the CLI's
 * bytes, scores are the planner's; the teaching demos' numbers; keyed model slots.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  applyPlanToStateDict,
  createEResFD,
  createFpgmPlanner,
  describeModel,
  GROUPINGS,
  macsRemoved,
  planFpgm,
  writeCheckpoint,
  type EResFDModel,
  type Grouping,
  type StateDict,
} from '../../../src/core/index.ts';
import { COARSE_GROUPING, CODE_GROUPING, FINE_GROUPING, RELEASED_GROUPING } from '../../../src/core/prune/layer-groups.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { createPruneWorkbench } from '../../../workers/features/prune-workbench.ts';
import { createTeachDemos, toyObjective } from '../../../workers/features/teach-demos.ts';
import { createModelSlots } from '../../../workers/features/model-slots.ts';
import { useBackend } from '../../helpers/backends.ts';
import { HAS_SHARED, readShared, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';

const CASES: Array<{ grouping: Grouping; rates: number[] }> = [
  { grouping: RELEASED_GROUPING, rates: [21.3, 4.5, 30.5, 47.1, 32.1, 44.8].map((v) => v / 100) },
  { grouping: CODE_GROUPING, rates: [0.2, 0, 0.079, 0.2, 0.2, 0.172] },
  { grouping: COARSE_GROUPING, rates: [0.1, 0.5, 0.98, 0.3] },
  { grouping: FINE_GROUPING, rates: [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8] },
];

describe.skipIf(!HAS_SHARED)('worker features', () => {
  let sd: StateDict;
  let model: EResFDModel;

  beforeAll(async () => {
    await useBackend('wasm');
    sd = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
    model = createEResFD(sd);
  });

  describe('prune workbench', () => {
    it('previews exactly the sparsity `fpgm` + `info` report, and the plan’s MACs', () => {
      const bench = createPruneWorkbench(() => model);
      for (const { grouping, rates } of CASES) {
        const plan = planFpgm(sd, grouping, rates);
        const info = describeModel(applyPlanToStateDict(sd, plan));
        const p = bench.prunePreview({ grouping, rates });
        expect(p.sparsity).toBe(info.sparsity);
        expect(p.parameters).toBe(92_208);
        expect(p.zeroParameters).toBe(Math.round((info.sparsity / 100) * info.parameters));
        expect(p.parametersKept + p.zeroParameters).toBe(92_208);
        expect(p.macs).toEqual(macsRemoved(plan, 480, 640));
        for (const c of plan.convs) expect(p.pruned[c.key.slice(0, -'.weight'.length)]).toEqual(c.pruned);
      }
    });

    it('scores every prunable conv with the planner, and reports the target penalty', () => {
      const bench = createPruneWorkbench(() => model);
      const scores = bench.pruneScores();
      const planner = createFpgmPlanner(sd);
      expect(Object.keys(scores)).toHaveLength(75);
      expect(scores['base.m0.layer2.0.res_layer.0']).toEqual(Array.from(planner.scores('base.m0.layer2.0.res_layer.0')));
      const p = bench.prunePreview({ ...CASES[0]!, target: 0.3 });
      expect(p.penalty).toBe(0); // 31.09 % is inside [30, 34] %
      expect(bench.prunePreview({ ...CASES[0]!, target: 0.5 }).penalty).toBe(100);
    });

    it('writes the CLI’s pruned checkpoint bytes', () => {
      const bench = createPruneWorkbench(() => model);
      const { grouping, rates } = CASES[0]!;
      const out = bench.prunedCheckpoint({ grouping, rates });
      const cli = writeCheckpoint(applyPlanToStateDict(sd, planFpgm(sd, grouping, rates)), { archiveName: 'bfpgm-studio' });
      expect(new Uint8Array(out.bytes)).toEqual(cli);
      expect(describeModel(readCheckpoint(new Uint8Array(out.bytes)).stateDict).sparsity).toBe(out.info.sparsity);
    });

    it('checks custom groupings and needs a model', () => {
      const bench = createPruneWorkbench(() => null);
      expect(bench.pruneArchitecture().groupings.map((g) => g.grouping.id)).toEqual(Object.keys(GROUPINGS));
      expect(() => bench.pruneGroupingStats({ id: 'custom', label: 'x', groups: [{ name: 'g1', modules: [] }] })).toThrow(/names no module/);
      expect(() => bench.prunePreview(CASES[0]!)).toThrow(/No model is loaded/);
    });

    it('times the masked and the compacted model', async () => {
      const bench = createPruneWorkbench(() => model);
      const t = await bench.pruneMeasure({ grouping: COARSE_GROUPING, rates: [0.1, 0.5, 0.5, 0.3] }, 1);
      expect(t.maskedMs).toBeGreaterThan(0);
      expect(t.originalMs).toBeGreaterThan(0);
      expect(t.compactError).toBeNull();
      expect(t.compactParameters!).toBeLessThan(92_208);
      expect(t.compactMs!).toBeGreaterThan(0);
    });
  });

  describe('teaching demos', () => {
    it('reads one conv’s filters with the planner’s distance sums and a geometric median', () => {
      const teach = createTeachDemos(() => model);
      const f = teach.teachFilters('base.m0.layer2.0.res_layer.0');
      expect(f.weights).toEqual(sd.get('base.m0.layer2.0.res_layer.0.weight')!.data);
      expect(f.scores).toEqual(Array.from(createFpgmPlanner(sd).scores('base.m0.layer2.0.res_layer.0')));
      const n = 16;
      for (let i = 0; i < n; i++) {
        expect(f.distances[i * n + i]).toBe(0);
        // Σⱼ distances = the FPGM score (float64 here vs the planner's own summation order).
        expect(f.distances.slice(i * n, (i + 1) * n).reduce((a, b) => a + b, 0)).toBeCloseTo(f.scores[i]!, 4);
      }
      // The geometric median minimises the summed distance: no filter does better.
      const toMedian = f.medianDistance.reduce((a, b) => a + b, 0);
      expect(toMedian).toBeLessThanOrEqual(Math.min(...f.scores) + 1e-9);
      expect(f.projection).toHaveLength(n);
      expect(f.explained).toBeGreaterThan(0);
      expect(f.explained).toBeLessThanOrEqual(1 + 1e-9);
      expect(() => teach.teachFilters('loc.0')).toThrow(/not a prunable conv/);
    });

    it('probes the toy function: random starts, then the GP’s UCB maximum', () => {
      const teach = createTeachDemos(() => null);
      let xs: number[] = [];
      const sources: string[] = [];
      for (let i = 0; i < 6; i++) {
        const g = teach.teachGp({ xs });
        sources.push(g.nextSource);
        expect(g.observations).toHaveLength(xs.length);
        if (xs.length > 0) {
          // The GP interpolates its observations (alpha 1e-6).
          for (const o of g.observations) {
            const at = Math.round(o.x * (g.grid.length - 1));
            expect(Math.abs(g.mean[at]! - toyObjective(g.grid[at]!))).toBeLessThan(0.2);
          }
          expect(Math.max(...g.ucb)).toBeGreaterThanOrEqual(Math.max(...g.mean));
        }
        xs = [...xs, g.next];
      }
      expect(sources).toEqual(['random', 'random', 'random', 'suggest', 'suggest', 'suggest']);
    });

    it('soft pruning lets zeroed filters regrow, the hard mask keeps them at zero', async () => {
      const teach = createTeachDemos(() => model);
      const r = await teach.teachSoftHard({ conv: 'base.m0.layer2.0.res_layer.0', rate: 0.5, steps: 2 });
      expect(r.pruned).toHaveLength(8);
      expect(r.soft.norms).toHaveLength(3);
      for (const f of r.pruned) {
        expect(r.soft.norms[0]![f]).toBe(0);
        expect(r.hard.norms[0]![f]).toBe(0);
        expect(r.hard.norms[2]![f]).toBe(0);
      }
      // Zeroed filters whose output still reaches the loss get a gradient and regrow (one whose BN
      // shift the next ReLU blocks gets none and stays at zero even without a mask).
      expect(r.pruned.filter((f) => r.soft.norms[2]![f]! > 0).length).toBeGreaterThan(0);
      expect(r.reselected).toHaveLength(8);
    });
  });

  describe('model slots', () => {
    it('holds two models by key and runs both on one frame', async () => {
      const slots = createModelSlots();
      const original = readShared('models', 'EResFD-original.pth');
      const pruned = readShared('models', 'EResFD-30-pruned.pth');
      expect(slots.loadSlot('a', original.slice().buffer).sparsity).toBeLessThan(1);
      expect(slots.loadSlot('b', pruned.slice().buffer).sparsity).toBeCloseTo(31.6, 1);
      const img = readNpy(sharedPath('golden', 'real', 'astronaut_rgb_u8.npy'));
      const frame = { width: 512, height: 512, data: img.data as Uint8Array };
      const [a, b] = await slots.detectSlots(frame, ['a', 'b']);
      expect([a!.slot, b!.slot]).toEqual(['a', 'b']);
      // Both find the astronaut's face (the released 30 % model was fine-tuned).
      expect(a!.detections[0]![4]).toBeGreaterThan(0.9);
      expect(b!.detections[0]![4]).toBeGreaterThan(0.9);
      slots.releaseSlot('b');
      await expect(slots.detectSlots(frame, ['b'])).rejects.toThrow(/No model in slot b/);
      expect(() => slots.loadSlot('c' as 'a', original.slice().buffer)).toThrow(/Unknown model slot/);
      slots.releaseSlot('a');
    });
  });
});
