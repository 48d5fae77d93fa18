/** Bench page entry: exposes the isomorphic benchmarks to the Playwright driver in bench/run.ts. */
import '../../src/platform/browser/register-backends.ts';
import '@tensorflow/tfjs-backend-wasm';
import * as tf from '@tensorflow/tfjs-core';
import { benchForward } from '../forward-bench.ts';
import { formatCompactBench, runCompactBench } from '../compact.bench.ts';
import type { BackendName } from '../../src/core/index.ts';

declare global {
  interface Window {
    bench: {
      forward(modelB64: string, backend: BackendName, runs: number): ReturnType<typeof benchForward>;
      info(): Promise<{ crossOriginIsolated: boolean; webgpu: boolean; wasmThreads: boolean; wasmSimd: boolean }>;
      compact(originalB64: string, pruned: Array<{ name: string; b64: string }>, backend: BackendName, runs: number): Promise<string>;
    };
  }
}

const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));

window.bench = {
  forward: (b64, backend, runs) => benchForward(fromB64(b64), backend, runs),
  compact: async (originalB64, pruned, backend, runs) =>
    formatCompactBench(await runCompactBench({
      backend,
      original: { name: 'EResFD-original.pth', bytes: fromB64(originalB64) },
      pruned: pruned.map((p) => ({ name: p.name, bytes: fromB64(p.b64) })),
      runs,
    })),
  info: async () => ({
    crossOriginIsolated: globalThis.crossOriginIsolated,
    webgpu: 'gpu' in navigator,
    wasmThreads: Boolean(await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT')),
    wasmSimd: Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')),
  }),
};
document.body.dataset.ready = 'true';
