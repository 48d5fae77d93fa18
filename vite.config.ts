/**
 * Vite config for the studio (dev server, preview and build).
 * - Svelte 5 via @sveltejs/vite-plugin-svelte.
 * - The compute worker is an ES module worker (`new Worker(new URL(...), { type: 'module' })`).
 * - COOP/COEP make the page cross-origin isolated, so SharedArrayBuffer (threaded WASM) is available.
 * - STUDIO_E2E=1 (set by playwright.config.ts) turns HMR off, so edits during a test run never reload
 *   the page under test.
 * - `.wasm` files of @tensorflow/tfjs-backend-wasm are imported with `?url`
 *   (src/platform/browser/register-backends.ts); Vite serves
 *   them with `application/wasm` in dev and copies them as assets in the build.
 */
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  plugins: [svelte()],
  worker: { format: 'es' },
  server: { headers: ISOLATION_HEADERS, hmr: !process.env.STUDIO_E2E },
  preview: { headers: ISOLATION_HEADERS },
  // Crawl the worker too and pre-bundle its dependencies, so the dev server does not re-optimise (and
  // reload the page) when the worker first starts.
  optimizeDeps: {
    entries: ['index.html', 'bench/browser/*.html', 'workers/*.worker.ts'],
    include: [
      'comlink',
      'fflate',
      'idb',
      '@tensorflow/tfjs-core',
      '@tensorflow/tfjs-backend-cpu',
      '@tensorflow/tfjs-backend-wasm',
      '@tensorflow/tfjs-backend-webgl',
      '@tensorflow/tfjs-backend-webgpu',
    ],
  },
  build: { target: 'es2022' },
});
