/**
 * The static import graph of the project's TypeScript: every `import … from`, side-effect `import '…'`
 * and `export … from` of a file. The runtime graph (what the bundler loads) leaves out statement-level
 * `import type` / `export type`, which verbatimModuleSyntax guarantees are erased. Parsed with the
 * TypeScript compiler, so comments and strings that look like imports do not count.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** Module specifiers a file imports or re-exports from, in source order; `import type` only when `types`. */
export function importSpecifiers(file: string, { types = false }: { types?: boolean } = {}): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, false);
  const out: string[] = [];
  for (const s of source.statements) {
    if (ts.isImportDeclaration(s)) {
      if (s.importClause?.isTypeOnly && !types) continue;
      if (ts.isStringLiteral(s.moduleSpecifier)) out.push(s.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(s)) {
      if ((s.isTypeOnly && !types) || !s.moduleSpecifier) continue;
      if (ts.isStringLiteral(s.moduleSpecifier)) out.push(s.moduleSpecifier.text);
    }
  }
  return out;
}

/** A relative specifier resolved to a file path; bare (package) specifiers come back unchanged. */
export function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith('.')) return specifier;
  const path = resolve(dirname(from), specifier);
  if (existsSync(path) && statSync(path).isFile()) return path;
  for (const suffix of ['.ts', '/index.ts']) if (existsSync(path + suffix)) return path + suffix;
  throw new Error(`${from}: cannot resolve ${specifier}`);
}

export interface ImportGraph {
  /** Every file reached from the entries, each with the files and packages it loads. */
  edges: Map<string, string[]>;
}

/**
 * Walks the imports from `entries` (runtime only, or with `types` the type-only ones too); follows files
 * under `within`, records packages and files outside as leaves.
 */
export function importGraph(entries: readonly string[], within: string, options: { types?: boolean } = {}): ImportGraph {
  const edges = new Map<string, string[]>();
  const pending = [...entries];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (edges.has(file)) continue;
    const targets = importSpecifiers(file, options).map((s) => resolveSpecifier(file, s));
    edges.set(file, targets);
    for (const t of targets) if (t.startsWith(within) && !edges.has(t)) pending.push(t);
  }
  return { edges };
}

/** The import cycles among the graph's files, each as a path that starts and ends at the same file. */
export function importCycles(graph: ImportGraph): string[][] {
  // Tarjan's strongly connected components; every component with more than one file (or a self-import)
  // is reported once, by one cycle through it.
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.edges.get(v) ?? []) {
      if (!graph.edges.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || graph.edges.get(v)!.includes(v)) components.push(component);
    }
  };
  for (const v of graph.edges.keys()) if (!index.has(v)) visit(v);
  return components.map((component) => cycleThrough(graph, new Set(component)));
}

/** One cycle inside a strongly connected component (breadth-first back to its first file). */
function cycleThrough(graph: ImportGraph, component: Set<string>): string[] {
  const start = [...component].sort()[0];
  const parent = new Map<string, string>();
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift()!;
    for (const w of graph.edges.get(v) ?? []) {
      if (!component.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = parent.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!parent.has(w)) {
        parent.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}
