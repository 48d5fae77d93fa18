/**
 * The zone boundaries are enforced, not just written down (issue 12): the core zone's tsconfig rejects DOM
 * and Node globals, and the ESLint import rule (eslint.config.js) rejects TF.js and core internals in
 * src/app, and Node built-ins, browser-only packages and adapters in src/core. Each check runs the real
 * config on virtual files placed in the zone (nothing is written to disk), and each has a clean fixture that
 * must pass, so a config that rejects everything fails here too.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { ESLint } from 'eslint';

const ROOT = process.cwd();
// Building a TypeScript program over the whole core, or loading ESLint's parsers, takes a while on a busy
// 2-core machine.
const TIMEOUT_MS = 300_000;

/** Type-checks `fixtures` (name → source) as if they were files in src/core, under src/core/tsconfig.json. */
function checkInCoreZone(fixtures: Record<string, string>): Record<string, string[]> {
  const configPath = join(ROOT, 'src/core/tsconfig.json');
  const parsed = ts.getParsedCommandLineOfConfigFile(
    configPath,
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error(`cannot read ${configPath}`);
  const virtual = new Map(Object.entries(fixtures).map(([name, text]) => [join(ROOT, 'src/core', name), text]));
  const host = ts.createCompilerHost(parsed.options);
  const { getSourceFile, fileExists, readFile } = host;
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const text = virtual.get(name);
    return text !== undefined ? ts.createSourceFile(name, text, languageVersion) : getSourceFile.call(host, name, languageVersion, ...rest);
  };
  host.fileExists = (name) => virtual.has(name) || fileExists.call(host, name);
  host.readFile = (name) => virtual.get(name) ?? readFile.call(host, name);
  const program = ts.createProgram({ rootNames: [...parsed.fileNames, ...virtual.keys()], options: parsed.options, host });
  const result: Record<string, string[]> = {};
  for (const [name, path] of Object.keys(fixtures).map((n) => [n, join(ROOT, 'src/core', n)] as const)) {
    const file = program.getSourceFile(path)!;
    result[name] = [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)].map(
      (d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`,
    );
  }
  return result;
}

describe('zone boundaries', () => {
  it('npm run typecheck checks the core zone and npm run lint runs ESLint', () => {
    const scripts = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).scripts as Record<string, string>;
    expect(scripts.typecheck).toMatch(/tsc --noEmit -p src\/core(\s|\/tsconfig\.json|$)/);
    expect(scripts.lint).toMatch(/^eslint /);
  });

  it('the core zone compiles without DOM or Node types', { timeout: TIMEOUT_MS }, () => {
    const diagnostics = checkInCoreZone({
      // Host globals every runtime has (src/core/runtime-globals.d.ts) and the core's own modules are fine.
      '__zone-clean__.ts': [
        "import { StudioError } from './errors.ts';",
        'export const took = (t0: number): number => performance.now() - t0;',
        "export const bytes = new TextEncoder().encode('x');",
        "export const fail = (): never => { throw new StudioError('CHECKPOINT_CORRUPT', 'x'); };",
      ].join('\n'),
      '__zone-dom__.ts': 'export const title = (): string => document.title;\n',
      '__zone-node__.ts': "import { readFileSync } from 'node:fs';\nexport const read = (p: string) => readFileSync(p);\n",
      '__zone-process__.ts': 'export const home = (): string | undefined => process.env.HOME;\n',
    });
    expect(diagnostics['__zone-clean__.ts']).toEqual([]);
    expect(diagnostics['__zone-dom__.ts']!.join('\n')).toMatch(/TS2584: Cannot find name 'document'/);
    expect(diagnostics['__zone-node__.ts']!.join('\n')).toMatch(/TS2307: Cannot find module 'node:fs'/);
    expect(diagnostics['__zone-process__.ts']!.join('\n')).toMatch(/Cannot find name 'process'/);
  });

  describe('import rule', () => {
    const eslint = new ESLint({ cwd: ROOT });
    /** Lints `code` as the file `path` (relative to the repo); returns "severity rule: message" lines. */
    async function lint(path: string, code: string): Promise<{ errors: string[]; warnings: string[] }> {
      const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
      const line = (m: ESLint.LintResult['messages'][number]) => `${m.ruleId}: ${m.message}`;
      return {
        errors: result!.messages.filter((m) => m.severity === 2).map(line),
        warnings: result!.messages.filter((m) => m.severity === 1).map(line),
      };
    }

    it('src/app may use the TF-free core entry but not TF.js, the compute entry or core internals', { timeout: TIMEOUT_MS }, async () => {
      const clean = await lint(
        'src/app/features/__zone-fixture__.ts',
        [
          "import { formatMs } from '../format.ts';",
          "import type { PipelineConfig } from '../../core/data/index.ts';",
          "import { GROUPINGS } from '../../core/data/index.ts';",
          "import * as Comlink from 'comlink';",
          'export { formatMs, GROUPINGS, Comlink };',
          'export type { PipelineConfig };',
        ].join('\n'),
      );
      expect(clean).toEqual({ errors: [], warnings: [] });

      const tf = await lint('src/app/features/__zone-fixture__.ts', "import * as tf from '@tensorflow/tfjs';\nexport { tf };\n");
      expect(tf.errors).toEqual([expect.stringMatching(/^no-restricted-imports: '@tensorflow\/tfjs' import .*must not load TF\.js/)]);
      const tfCore = await lint('src/app/__zone-fixture__.svelte', '<script lang="ts">\n  import { zeros } from \'@tensorflow/tfjs-core\';\n  zeros([1]);\n</script>\n');
      expect(tfCore.errors).toHaveLength(1);

      const internal = await lint('src/app/features/__zone-fixture__.ts', "import { StudioError } from '../../core/errors.ts';\nexport { StudioError };\n");
      expect(internal.errors).toEqual([expect.stringMatching(/^no-restricted-imports: '\.\.\/\.\.\/core\/errors\.ts' import .*only through src\/core\/data\/index\.ts/)]);
      // The compute entry loads TF.js: not for the UI thread either.
      const compute = await lint('src/app/features/__zone-fixture__.ts', "import { createEResFD } from '../../core/index.ts';\nexport { createEResFD };\n");
      expect(compute.errors).toHaveLength(1);
      const data = await lint('src/app/features/__zone-fixture__.ts', "import { StudioError } from '../../core/data/index.ts';\nexport { StudioError };\n");
      expect(data.errors).toEqual([]);
    });

    it('src/core imports no Node built-ins, browser-only packages or adapters', { timeout: TIMEOUT_MS }, async () => {
      const clean = await lint(
        'src/core/train/__zone-fixture__.ts',
        "import * as tf from '@tensorflow/tfjs-core';\nimport { StudioError } from '../errors.ts';\nexport { tf, StudioError };\n",
      );
      expect(clean).toEqual({ errors: [], warnings: [] });
      for (const spec of [
        'node:fs',
        'fs',
        'path',
        'idb',
        'comlink',
        'svelte',
        '../../app/format.ts',
        '../../platform/node/fs-run-store.ts',
        '../../../workers/compute.worker.ts',
        '../../cli/main.ts',
      ]) {
        const bad = await lint('src/core/train/__zone-fixture__.ts', `import * as x from '${spec}';\nexport { x };\n`);
        expect(bad.errors, spec).toHaveLength(1);
      }
    });
  });
});
