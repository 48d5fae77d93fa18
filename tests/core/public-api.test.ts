/**
 * The core's two public entries (issue 12): `src/core/data` stays TF-free, so the UI thread can load it,
 * and the two entries together stay small. Tests and benchmarks of internals import them by path.
 */
import { relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importCycles, importGraph } from '../helpers/import-graph.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const CORE = resolve(ROOT, 'src/core');
const DATA_ENTRY = resolve(CORE, 'data/index.ts');
const COMPUTE_ENTRY = resolve(CORE, 'index.ts');
/** Issue 12's acceptance: fewer than 80 runtime names across both entries. */
const RUNTIME_NAME_LIMIT = 80;

const rel = (file: string): string => relative(ROOT, file);

describe('core/data: the TF-free entry', () => {
  it('never loads @tensorflow/* at runtime, however deep', () => {
    const { edges } = importGraph([DATA_ENTRY], CORE);
    const offenders = [...edges].flatMap(([file, targets]) => targets.filter((t) => t.startsWith('@tensorflow/')).map((t) => `${rel(file)} → ${t}`));
    expect(offenders).toEqual([]);
    // The walk really followed the graph (a walker that stops at the entry would pass vacuously).
    expect(edges.size).toBeGreaterThan(20);
  });

  it('the walker does see TF.js behind the compute entry', () => {
    const { edges } = importGraph([COMPUTE_ENTRY], CORE);
    expect([...edges.values()].flat()).toContain('@tensorflow/tfjs-core');
  });
});

describe('the two entries', () => {
  it('export fewer than 80 runtime names together', async () => {
    const [data, compute] = await Promise.all([import('../../src/core/data/index.ts'), import('../../src/core/index.ts')]);
    const names = new Set([...Object.keys(data), ...Object.keys(compute)]);
    expect(names.size, [...names].sort().join(' ')).toBeLessThan(RUNTIME_NAME_LIMIT);
  });

  it('compute re-exports every data name (adapters off the UI thread need one entry)', async () => {
    const [data, compute] = await Promise.all([import('../../src/core/data/index.ts'), import('../../src/core/index.ts')]);
    expect(Object.keys(data).filter((name) => !(name in compute))).toEqual([]);
  });
});

describe('src/core import graph (type-only imports count: they couple modules too)', () => {
  const graph = importGraph([COMPUTE_ENTRY], CORE, { types: true });

  it('has no cycles between files', () => {
    expect(importCycles(graph).map((cycle) => cycle.map(rel).join(' → '))).toEqual([]);
  });

  it('has no cycles between folders (model, prune, train, pipeline, compact, …), barrels aside', () => {
    const folder = (file: string): string => relative(CORE, file).split('/').slice(0, -1)[0] ?? '.';
    const edges = new Map<string, string[]>();
    for (const [file, targets] of graph.edges) {
      if (file.endsWith('/index.ts')) continue; // a barrel re-exports its folder, it adds no dependency
      for (const t of targets) {
        if (!t.startsWith(CORE) || t.endsWith('/index.ts') || folder(t) === folder(file)) continue;
        edges.set(folder(file), [...new Set([...(edges.get(folder(file)) ?? []), folder(t)])]);
      }
    }
    expect(importCycles({ edges })).toEqual([]);
  });

  it('the cycle finder finds a planted cycle', () => {
    expect(importCycles({ edges: new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]) })).toEqual([['a', 'b', 'c', 'a']]);
  });
});
