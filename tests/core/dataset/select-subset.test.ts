import { describe, expect, it } from 'vitest';
import { selectSubset } from '../../../src/core/dataset/select-subset.ts';
import { parseBbxGt } from '../../../src/core/dataset/parse-bbx-gt.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';

/** 10 × A, 6 × B, 3 × C, 1 × D, interleaved (A0 B0 C0 D0 A1 B1 C1 A2 ...); first appearance order A, B, C, D. */
const SIZES: Record<string, number> = { A: 10, B: 6, C: 3, D: 1 };
const entries: { event: string; id: string }[] = [];
for (let i = 0; i < 10; i++) for (const [event, n] of Object.entries(SIZES)) if (i < n) entries.push({ event, id: `${event}${i}` });

const perEvent = (list: { event: string }[]): Record<string, number> => list.reduce<Record<string, number>>((m, e) => ({ ...m, [e.event]: (m[e.event] ?? 0) + 1 }), {});

describe('selectSubset', () => {
  it('allocates proportionally with largest remainders', () => {
    // size 10 of 20: exact shares 5, 3, 1.5, 0.5 → floors 5, 3, 1, 0; one left, tie 0.5/0.5 goes to C (first in file).
    expect(perEvent(selectSubset(entries, { size: 10, seed: 1 }))).toEqual({ A: 5, B: 3, C: 2 });
    // size 7: shares 3.5, 2.1, 1.05, 0.35 → 3, 2, 1, 0; one left → A (largest remainder 0.5).
    expect(perEvent(selectSubset(entries, { size: 7, seed: 1 }))).toEqual({ A: 4, B: 2, C: 1 });
    // size 19: shares 9.5, 5.7, 2.85, 0.95 → 9, 5, 2, 0; three left → D (.95), C (.85), B (.7).
    expect(perEvent(selectSubset(entries, { size: 19, seed: 1 }))).toEqual({ A: 9, B: 6, C: 3, D: 1 });
  });

  it('is deterministic per seed, varies with the seed, and keeps file order', () => {
    const a = selectSubset(entries, { size: 8, seed: 123 });
    expect(selectSubset(entries, { size: 8, seed: 123 })).toEqual(a);
    const seeds = new Set(Array.from({ length: 8 }, (_, s) => selectSubset(entries, { size: 8, seed: s }).map((e) => e.id).join()));
    expect(seeds.size).toBeGreaterThan(1);
    const positions = a.map((e) => entries.indexOf(e));
    expect(positions).toEqual([...positions].sort((x, y) => x - y));
    expect(new Set(a).size).toBe(a.length);
  });

  it('draws every image of an event with equal probability', () => {
    const hits = new Map<string, number>();
    for (let seed = 0; seed < 3000; seed++) {
      for (const e of selectSubset(entries, { size: 10, seed })) if (e.event === 'A') hits.set(e.id, (hits.get(e.id) ?? 0) + 1);
    }
    // 5 of 10 per draw: each A image ~1500 times.
    expect(hits.size).toBe(10);
    for (const n of hits.values()) expect(Math.abs(n - 1500)).toBeLessThan(150);
  });

  it("returns everything for 'all' or an oversize request, nothing for 0, and validates options", () => {
    expect(selectSubset(entries, { size: 'all', seed: 0 })).toEqual(entries);
    expect(selectSubset(entries, { size: 500, seed: 0 })).toEqual(entries);
    expect(selectSubset(entries, { size: 0, seed: 0 })).toEqual([]);
    for (const size of [-1, 2.5, Number.NaN]) {
      try {
        selectSubset(entries, { size, seed: 0 });
        throw new Error('no error');
      } catch (e) {
        expect(isStudioError(e, 'CONFIG_INVALID')).toBe(true);
      }
    }
    expect(() => selectSubset(entries, { size: 3, seed: Number.POSITIVE_INFINITY })).toThrow(/seed/);
  });
});

describe.skipIf(!HAS_SHARED)('selectSubset on the shared val list', () => {
  it('keeps the event mix of 200 images in a 50-image subset', () => {
    const list = parseBbxGt(new TextDecoder().decode(readShared('widerface', 'wider_face_split', 'wider_face_val_bbx_gt.txt')));
    const full = perEvent(list);
    const sub = perEvent(selectSubset(list, { size: 50, seed: 7 }));
    expect(Object.values(sub).reduce((a, b) => a + b, 0)).toBe(50);
    for (const [event, n] of Object.entries(full)) expect(Math.abs((sub[event] ?? 0) - (n * 50) / 200)).toBeLessThan(1);
  });
});
