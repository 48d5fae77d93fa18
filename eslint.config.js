/**
 * ESLint here enforces the zone boundaries only (README, Architecture); formatting is Prettier's job and
 * types are tsc's (one tsconfig per zone). `npm run lint` runs in CI, so a wrong-way import fails the build.
 *
 * - src/app (Svelte UI, main thread) must not load TF.js, and reaches the core only through its public
 *   entries, `src/core/index.ts` and the TF-free `src/core/data/index.ts`.
 * - src/core is isomorphic: no Node built-ins, no browser-only packages, and nothing from the adapters
 *   (src/app, src/cli, src/platform, workers/).
 *
 * Deep imports that predate the rule are listed in eslint-boundary-allowlist.json (file → exact specifiers).
 * They are reported as warnings, every other deep import in the same file is an error, and an entry
 * removed from the list turns back into an error. Empty that file as the core/data entry absorbs them.
 *
 * The rules match import specifiers (static `import`/`export … from`), not resolved paths; dynamic
 * `import()` is not covered.
 */
import { readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { builtinRules } from 'eslint/use-at-your-own-risk';
import svelteParser from 'svelte-eslint-parser';
import tseslint from 'typescript-eslint';

const ALLOWLIST_FILE = 'eslint-boundary-allowlist.json';
/** @type {Record<string, string[]>} */
const knownDeepImports = JSON.parse(readFileSync(new URL(`./${ALLOWLIST_FILE}`, import.meta.url), 'utf8')).files;

const escapeRegex = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * A relative specifier into src/core that is not one of its two entries. `(\.\./)+core/` is how every file
 * under src/app (or src/platform) spells a path into src/core; `core`, `core/index.ts` and
 * `core/data[/index.ts]` are the entries.
 */
const CORE_INTERNAL = String.raw`^(?:\.\./)+(?:src/)?core/(?!(?:index|data/index)\.ts$|data/?$).+`;

/** @param {string[]} allowed specifiers exempted from the error (they get the allowlist warning instead). */
const appRestrictions = (allowed = []) => ({
  patterns: [
    {
      group: ['@tensorflow/*', '@tensorflow/**'],
      message: 'src/app runs on the UI thread and must not load TF.js; ask a worker through its client instead.',
    },
    {
      regex: allowed.length ? `^(?!(?:${allowed.map(escapeRegex).join('|')})$)${CORE_INTERNAL.slice(1)}` : CORE_INTERNAL,
      message: 'src/app imports the core only through src/core/index.ts or src/core/data/index.ts.',
    },
  ],
});

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

/** The original rule under a second name, so known deep imports can warn while new ones error. */
const boundaries = { rules: { 'known-deep-import': builtinRules.get('no-restricted-imports') } };

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
    plugins: { boundaries },
    rules: { 'no-restricted-imports': ['error', appRestrictions()] },
  },
  ...Object.entries(knownDeepImports).map(([file, specifiers]) => ({
    files: [file],
    rules: {
      'no-restricted-imports': ['error', appRestrictions(specifiers)],
      'boundaries/known-deep-import': [
        'warn',
        { paths: specifiers.map((name) => ({ name, message: `known deep import (${ALLOWLIST_FILE}); import it from the core's entry once it is exported there.` })) },
      ],
    },
  })),
  {
    files: ['src/core/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', coreRestrictions] },
  },
];
