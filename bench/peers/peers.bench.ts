/**
 * Side by side, one run, interleaved (each round runs every contender once; medians): the studio on
 * TF.js WASM (dense and compacted), ONNX Runtime Web WASM on the same weights (our ONNX export; one
 * thread in this process, all threads in a worker_thread with its own ORT instance), and — when
 * /usr/bin/python3 has torch — PyTorch CPU, one thread (bench/peers/eresfd_torch.py). Kernels per
 * inference and per training step (batch 8, 320²) from tf.profile.
 */
import * as tf from '@tensorflow/tfjs-core';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { compactEResFD, createEResFD, onnxExport, rampInput, loadEResFDCheckpoint, selectBackend } from '../../src/core/index.ts';
// Internals this benchmark measures, by path (like tests): they are not part of the core's public entries.
import { median, timeForward } from '../../src/core/detect/time-forwards.ts';
import { createOrtEResFD } from '../../src/platform/onnx/ort-heads.ts';
import { runTrainBench } from '../train-bench.ts';
import { startTorchPeer, type TorchPeer } from './torch-peer.ts';

const H = 480, W = 640;

interface Contender {
  name: string;
  once(): Promise<number>;
}

function ortWorker(onnx: Uint8Array, threads: number): Promise<{ once(input: Float32Array): Promise<number>; close(): Promise<void> }> {
  const worker = new Worker(new URL('./ort-thread.mjs', import.meta.url));
  const ask = (msg: unknown): Promise<{ ms?: number; error?: string }> =>
    new Promise((done) => {
      worker.once('message', done);
      worker.postMessage(msg);
    });
  return ask({ onnx, threads }).then((r) => {
    if (r.error) throw new Error(`ORT worker: ${r.error}`);
    return {
      once: async (input) => {
        const m = await ask({ input, height: H, width: W });
        if (m.error) throw new Error(m.error);
        return m.ms!;
      },
      close: async () => {
        await ask({ release: true });
        await worker.terminate();
      },
    };
  });
}

export async function runPeersBench(options: { original: Uint8Array; pruned: Uint8Array; prunedName: string; originalPath: string; runs: number }): Promise<string> {
  await selectBackend(['wasm']);
  const sd = loadEResFDCheckpoint(options.original).stateDict;
  const dense = createEResFD(sd);
  const compact = compactEResFD(loadEResFDCheckpoint(options.pruned).stateDict, { source: options.prunedName }).model;
  const input = rampInput(H, W);
  const x = tf.tensor4d(input, [1, H, W, 3]);
  const onnx = onnxExport.exportEResFDOnnx(onnxExport.denseWeights(sd, 'EResFD-original.pth'));
  const ort1 = await createOrtEResFD(onnx, 1);
  const threads = availableParallelism();
  const ortN = await ortWorker(onnx, threads);
  const nchw = onnxExport.nhwcToNchw(input, H, W);
  let torch: TorchPeer | null = null;
  const notes: string[] = [];
  try {
    torch = await startTorchPeer(options.originalPath, input, H, W);
  } catch (e) {
    notes.push(`PyTorch peer not run: ${(e as Error).message}`);
  }
  const contenders: Contender[] = [
    { name: 'studio TF.js WASM, dense', once: () => timeForward(dense, x) },
    { name: `studio TF.js WASM, compacted ${options.prunedName}`, once: () => timeForward(compact, x) },
    { name: 'ONNX Runtime Web WASM, 1 thread', once: async () => { const t0 = performance.now(); await ort1.run(input, H, W); return performance.now() - t0; } },
    { name: `ONNX Runtime Web WASM, ${threads} threads`, once: () => ortN.once(nchw) },
    ...(torch ? [{ name: 'PyTorch CPU, 1 thread (our EResFD from the SPEC)', once: () => torch!.once() }] : []),
  ];
  const samples = contenders.map(() => [] as number[]);
  try {
    for (const c of contenders) for (let i = 0; i < 2; i++) await c.once();
    for (let r = 0; r < options.runs; r++) for (let i = 0; i < contenders.length; i++) samples[i]!.push(await contenders[i]!.once());
    const ms = samples.map(median);
    const kernels = async (m: typeof dense | typeof compact): Promise<number> => {
      const p = await tf.profile(() => tf.tidy(() => m.predict(x).loc));
      tf.dispose(p.result as tf.Tensor);
      return p.kernels.length;
    };
    const kDense = await kernels(dense), kCompact = await kernels(compact);
    const train = await runTrainBench('wasm', { batch: 8, size: 320, steps: 1, warmup: 1, model: options.original, countKernels: true });
    const base = ms[0]!;
    const lines = [
      `## Side by side at ${H}×${W}, one run, ${options.runs} interleaved rounds (medians); ${threads} cores`,
      ...contenders.map((c, i) => `${c.name.padEnd(52)} ${ms[i]!.toFixed(1).padStart(7)} ms   studio dense / this = ${(base / ms[i]!).toFixed(2)}×` +
        (i === 0 ? `   ${kDense} kernels/inference` : i === 1 ? `   ${kCompact} kernels/inference` : '')),
      `studio dense vs ORT 1 thread: ${(base / ms[2]!).toFixed(2)}× its time${torch ? `; vs PyTorch 1 thread: ${(base / ms[4]!).toFixed(2)}×` : ''}`,
      `training step, batch 8, 320², WASM: ${train.kernelsPerStep} kernels/step, ${train.imagesPerSec.toFixed(1)} images/s (one step after one warm-up)`,
      ...(torch ? [`PyTorch heads vs studio: max |diff| ${torch.maxAbsDiff.toExponential(1)} (checked before timing)`] : []),
      ...notes,
    ];
    return lines.join('\n');
  } finally {
    x.dispose();
    dense.dispose();
    compact.dispose();
    await ort1.release();
    await ortN.close();
    torch?.close();
  }
}
