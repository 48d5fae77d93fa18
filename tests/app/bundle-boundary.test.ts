/**
 * The studio stays a static site without Redis: following every static and dynamic import (and
 * `new URL(…, import.meta.url)` worker entry) from index.html's entry never reaches bullmq, a Node
 * built-in, the CLI or the Node platform adapters, so none of them can enter the Vite bundle.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = process.cwd();
const SPEC = /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|import\s+['"]([^'"]+)['"]|new URL\(\s*['"]([^'"]+)['"]\s*,\s*import\.meta\.url/g;

function resolveLocal(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const p of [base, `${base}.ts`, `${base}.js`, join(base, 'index.ts')]) if (existsSync(p) && !p.endsWith('/')) if (/\.(ts|js|svelte)$/.test(p)) return p;
  return null;
}

function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const todo = [entry];
  while (todo.length) {
    const file = todo.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const m of readFileSync(file, 'utf8').matchAll(SPEC)) {
      const spec = m[1] ?? m[2] ?? m[3] ?? m[4]!;
      if (spec.startsWith('.')) {
        const local = resolveLocal(file, spec);
        if (local) todo.push(local);
      } else {
        packages.add(spec);
      }
    }
  }
  return { files, packages };
}

describe('browser bundle boundary', () => {
  it('nothing the studio imports reaches bullmq, Node built-ins, the CLI or platform/node', () => {
    const { files, packages } = reachable(join(ROOT, 'src/app/main.ts'));
    const rel = [...files].map((f) => relative(ROOT, f));
    // The walk really covers the studio, its workers and the core's queue contract.
    expect(rel).toContain('workers/pipeline.worker.ts');
    expect(rel).toContain('src/core/pipeline/pipeline.ts');
    expect(rel.filter((f) => f.startsWith('src/cli/') || f.startsWith('src/platform/node/'))).toEqual([]);
    expect([...packages].filter((p) => p === 'bullmq' || p === 'ioredis' || p.startsWith('node:'))).toEqual([]);
  });
});
