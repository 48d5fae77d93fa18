/**
 * ESLint here enforces the zone boundaries only (README, Architecture); formatting is Prettier's job and
 * types are tsc's (one tsconfig per zone). `npm run lint` runs in CI, so a wrong-way import fails the build.
 *
 * - src/app (Svelte UI, main thread) must not load TF.js, and reaches the core only through its TF-free
 *   entry `src/core/data/index.ts` (the compute entry `src/core/index.ts` loads TF.js: workers use it).
 * - src/core is isomorphic: no Node built-ins, no browser-only packages, and nothing from the adapters
 *   (src/app, src/cli, src/platform, workers/).
 *
 * The rules match import specifiers (static `import`/`export … from`), not resolved paths; dynamic
 * `import()` is not covered.
 */
import { builtinModules } from 'node:module';
import svelteParser from 'svelte-eslint-parser';
import tseslint from 'typescript-eslint';

/**
 * A relative specifier into src/core other than its TF-free entry: `(\.\./)+core` is how every file under
 * src/app spells a path into src/core; `core/data` and `core/data/index.ts` are the entry.
 */
const CORE_BUT_DATA = String.raw`^(?:\.\./)+(?:src/)?core(?:/(?!data(?:/index\.ts)?$).*)?$`;

const appRestrictions = {
  patterns: [
    {
      group: ['@tensorflow/*', '@tensorflow/**'],
      message: 'src/app runs on the UI thread and must not load TF.js; ask a worker through its client instead.',
    },
    {
      regex: CORE_BUT_DATA,
      message: 'src/app imports the core only through src/core/data/index.ts (TF-free); compute runs in a worker.',
    },
  ],
};

const NODE_BUILTINS = [...new Set(builtinModules.map((m) => m.replace(/^node:/, '')))];

const coreRestrictions = {
  paths: [...NODE_BUILTINS.map((name) => ({ name, message: 'src/core is isomorphic: no Node built-ins (use a port in src/platform/node).' }))],
  patterns: [
    { group: ['node:*'], message: 'src/core is isomorphic: no Node built-ins (use a port in src/platform/node).' },
    {
      group: ['idb', 'comlink', 'svelte', 'svelte/*', 'onnxruntime-web', 'onnxruntime-web/*', 'vite', 'vite/*', '@playwright/*', 'pngjs', 'jpeg-js', 'bullmq'],
      message: 'src/core is isomorphic: browser-only, Node-only and UI packages belong to the adapters.',
    },
    {
      regex: String.raw`^(?:\.\./)+(?:app|cli|platform|workers)(?:/|$)`,
      message: 'src/core must not import from the adapters (src/app, src/cli, src/platform, workers/).',
    },
    {
      regex: String.raw`\.svelte$`,
      message: 'src/core must not import Svelte components.',
    },
  ],
};

export default [
  { ignores: ['node_modules/**', 'dist/**', 'test-results/**', 'playwright-report/**', '.bfpgm-runs/**'] },
  {
    files: ['**/*.ts', '**/*.js', '**/*.mjs'],
    languageOptions: { parser: tseslint.parser, sourceType: 'module' },
  },
  {
    files: ['**/*.svelte'],
    languageOptions: { parser: svelteParser, parserOptions: { parser: tseslint.parser }, sourceType: 'module' },
  },
  {
    files: ['src/app/**/*.{ts,svelte}'],
    rules: { 'no-restricted-imports': ['error', appRestrictions] },
  },
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
];
