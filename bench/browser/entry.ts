/** Bench page entry: exposes the isomorphic benchmarks to the Playwright driver in bench/run.ts. */
import '../../src/platform/browser/register-backends.ts';
import { getThreadsCount, setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
// Gradients for the training benchmark (the ESM twin of what tests/helpers/tf-gradients.ts loads in Node).
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import * as tf from '@tensorflow/tfjs-core';
import { benchForward } from '../forward-bench.ts';
import { runDirectKernelsAB, runTrainBench, type DirectKernelsAB } from '../train-bench.ts';
import { formatCompactBench, runCompactBench } from '../compact.bench.ts';
import {
  compactEResFD, timeForwards, rampInput, createEResFD, createTrainableEResFD, registerWasmTrainingKernels, registerBatchNormTrainKernels, planFpgm, loadEResFDCheckpoint, selectBackend, GROUPINGS,
  type BackendName,
} from '../../src/core/index.ts';
// Internals this benchmark measures, by path (like tests): they are not part of the core's public entries.
import { matchBatch } from '../../src/core/loss/match.ts';
import { multiboxLossFromMatch } from '../../src/core/loss/multibox-loss.ts';
import { priorBoxes } from '../../src/core/model/eresfd/priors.ts';
import { fpgmDistanceSums, fpgmDistanceSumsOps, fpgmDistancesPath } from '../../src/core/backend/kernels/fpgm-distances.ts';
import { normalizeImage } from '../../src/core/image/normalize-image.ts';
import { planFpgmTf } from '../../src/core/prune/pruner.ts';

declare global {
  interface Window {
    bench: {
      forward(modelB64: string, backend: BackendName, runs: number): ReturnType<typeof benchForward>;
      /** Training throughput (bench/train-bench.ts) on one backend; the checkpoint is optional. */
      train(backend: BackendName, batch: number, size: number, steps: number, modelB64?: string): ReturnType<typeof runTrainBench>;
      /** Training steps with the direct WASM kernels on and off, alternating step by step (medians, ms). */
      trainDirect(modelB64: string, batch: number, size: number, rounds: number): Promise<DirectKernelsAB & { threads: number; sharedMemory: boolean }>;
      info(): Promise<{ crossOriginIsolated: boolean; webgpu: boolean; wasmThreads: boolean; wasmSimd: boolean }>;
      /** Per-level heads (NHWC, flattened) of a model on an RGB image, for parity checks against the goldens. */
      heads(modelB64: string, rgbB64: string, height: number, width: number, backend: BackendName): Promise<{ backend: string; loc: string[]; conf: string[] }>;
      /** FPGM on the active backend: WGSL kernel vs TF.js ops distance sums, and the plans vs the host path. */
      fpgm(modelB64: string, backend: BackendName): Promise<{ path: string; maxRelDiff: number; plansEqual: boolean }>;
      /** The golden training batch: train-mode and eval-mode MultiBoxLoss of a model on one backend. */
      losses(modelB64: string, imagesB64: string[], targets: number[][], size: number, backend: BackendName): Promise<{ backend: string; train: number[]; eval: number[] }>;
      compact(originalB64: string, pruned: Array<{ name: string; b64: string }>, backend: BackendName, runs: number): Promise<string>;
      /** Dense vs compacted of each checkpoint with the studio's timeForwards (rate editor, zoo): medians, samples, kernels per forward. */
      denseVsCompact(checkpoints: Array<{ name: string; b64: string }>, backend: BackendName, runs: number): Promise<Array<{ name: string; denseMs: number; compactMs: number; samples: number[][]; kernels: [number, number]; protocol: string }>>;
    };
  }
}

const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const toB64 = (a: Float32Array): string => {
  const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

// `?threads=N`: TF.js's threaded WASM with N threads (before the backend initialises).
const threads = Number(new URLSearchParams(location.search).get('threads'));
if (threads > 0) setThreadsCount(threads);

// WASM lacks the conv weight-gradient kernels the training benchmark needs.
registerWasmTrainingKernels();
registerBatchNormTrainKernels();

window.bench = {
  trainDirect: async (modelB64, batch, size, rounds) => {
    const r = await runDirectKernelsAB(batch, size, rounds, fromB64(modelB64));
    const heap = (tf.backend() as unknown as { wasm: { HEAPU8: Uint8Array } }).wasm.HEAPU8;
    return { ...r, threads: getThreadsCount(), sharedMemory: heap.buffer instanceof SharedArrayBuffer };
  },
  denseVsCompact: async (checkpoints, backend, runs) => {
    await selectBackend([backend]);
    const out = [];
    for (const c of checkpoints) {
      const sd = loadEResFDCheckpoint(fromB64(c.b64)).stateDict;
      const models = [createEResFD(sd), compactEResFD(sd, { source: c.name }).model];
      try {
        const t = await timeForwards(models, { runs });
        const x = tf.tensor4d(rampInput(), [1, 480, 640, 3]);
        const kernels = [] as number[];
        for (const m of models) {
          const p = await tf.profile(() => tf.tidy(() => m.predict(x).loc));
          kernels.push(p.kernels.length);
          tf.dispose(p.result as tf.Tensor);
        }
        x.dispose();
        out.push({ name: c.name, denseMs: t.medianMs[0]!, compactMs: t.medianMs[1]!, samples: t.samples, kernels: kernels as [number, number], protocol: t.protocol });
      } finally {
        for (const m of models) m.dispose();
      }
    }
    return out;
  },
  forward: (b64, backend, runs) => benchForward(fromB64(b64), backend, runs),
  train: (backend, batch, size, steps, modelB64) => runTrainBench(backend, { batch, size, steps, ...(modelB64 ? { model: fromB64(modelB64) } : {}) }),
  heads: async (modelB64, rgbB64, height, width, backend) => {
    const sel = await selectBackend([backend]);
    const model = createEResFD(loadEResFDCheckpoint(fromB64(modelB64)).stateDict);
    try {
      const x = normalizeImage({ width, height, channels: 3, data: fromB64(rgbB64) });
      const out = tf.tidy(() => model.predict(tf.tensor4d(x, [1, height, width, 3]), { levels: true }));
      const read = async (ts: tf.Tensor[]) => Promise.all(ts.map(async (t) => toB64((await t.data()) as Float32Array)));
      const res = { backend: sel.active, loc: await read(out.locLevels!), conf: await read(out.confLevels!) };
      tf.dispose([out.loc, out.conf, ...out.locLevels!, ...out.confLevels!]);
      return res;
    } finally {
      model.dispose();
    }
  },
  fpgm: async (modelB64, backend) => {
    await selectBackend([backend]);
    const sd = loadEResFDCheckpoint(fromB64(modelB64)).stateDict;
    const w = sd.get('base.m0.layer2.0.res_layer.0.weight')!;
    const x = tf.tensor3d(w.data as Float32Array, [1, 16, 144]);
    const [k, o] = [fpgmDistanceSums(x), fpgmDistanceSumsOps(x)];
    const [kv, ov] = [await k.data(), await o.data()];
    tf.dispose([x, k, o]);
    let maxRelDiff = 0;
    for (let i = 0; i < kv.length; i++) maxRelDiff = Math.max(maxRelDiff, Math.abs(kv[i]! - ov[i]!) / Math.max(Math.abs(ov[i]!), 1e-6));
    const rates = [0.2, 0.3, 0.4, 0.5, 0.3, 0.45];
    const same = JSON.stringify((await planFpgmTf(sd, GROUPINGS.code, rates)).convs) === JSON.stringify(planFpgm(sd, GROUPINGS.code, rates).convs);
    return { path: fpgmDistancesPath(), maxRelDiff, plansEqual: same };
  },
  losses: async (modelB64, imagesB64, targets, size, backend) => {
    const sel = await selectBackend([backend]);
    const model = createTrainableEResFD(loadEResFDCheckpoint(fromB64(modelB64)).stateDict);
    try {
      const px = size * size * 3;
      const xs = new Float32Array(imagesB64.length * px);
      imagesB64.forEach((b, i) => normalizeImage({ width: size, height: size, channels: 3, data: fromB64(b) }, xs.subarray(i * px, (i + 1) * px)));
      const match = matchBatch(priorBoxes(size, size), targets.map((t) => Float32Array.from(t)));
      const lossPair = (train: boolean) => tf.tidy(() => {
        const x = tf.tensor4d(xs, [imagesB64.length, size, size, 3]);
        const out = train ? model.forwardTrain(x, { updateStats: false }) : model.forwardEval(x);
        const l = multiboxLossFromMatch(out.loc, out.conf, match);
        return tf.stack([l.lossL, l.lossC]);
      });
      const [t, e] = [lossPair(true), lossPair(false)];
      const res = { backend: sel.active, train: Array.from(await t.data()), eval: Array.from(await e.data()) };
      tf.dispose([t, e]);
      return res;
    } finally {
      model.dispose();
    }
  },
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
