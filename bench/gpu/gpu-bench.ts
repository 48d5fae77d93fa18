/**
 * The GPU report: EResFD on TF.js WebGPU through Dawn in Node — adapter, inference at 480×640 (dense
 * and compacted 50 %, the studio's timeForwards), training images/s at 8×320² and 8×640² (the
 * trainer's step on a synthetic batch), kernels (= dispatches) per inference and per step. Every
 * measurement is tried on its own: a failure is printed and the next one runs; the report is
 * rewritten after each, so a run killed by its time limit still leaves what it measured.
 * Usage: node gpu-bench.mjs --models DIR [--quick] [--out FILE] [--backend webgpu|wasm|cpu] [--infer 480x640] [--train 8x320,8x640]
 * (`--infer 96x128 --train 2x64 --quick`: a smoke run for a software adapter).
 * (bundled by bench/gpu/pack.sh; `npx tsx bench/gpu/gpu-bench.ts --models ../shared/models` works too).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { selectNodeBackend } from '../../src/platform/node/backends.ts';
import { installNodeWebGPU } from '../../src/platform/node/webgpu.ts';
import { compactEResFD, createEResFD, rampInput, loadEResFDCheckpoint, timeForwards, type BackendName, type FaceModel } from '../../src/core/index.ts';
import { runTrainBench } from '../train-bench.ts';

const { values: args } = parseArgs({ options: { models: { type: 'string' }, quick: { type: 'boolean' }, out: { type: 'string' }, backend: { type: 'string', default: 'webgpu' }, infer: { type: 'string', default: '480x640' }, train: { type: 'string', default: '8x320,8x640' } } });
const backend = args.backend as BackendName;
const quick = !!args.quick;
const [H, W] = args.infer!.split('x').map(Number) as [number, number];
const TRAIN = args.train!.split(',').filter(Boolean).map((t) => t.split('x').map(Number) as [number, number]);
const report: Record<string, unknown> = { date: new Date().toISOString(), node: process.version, backend, quick, inference_size: `${H}x${W}`, measurements: {}, errors: {} };
const measurements = report.measurements as Record<string, unknown>;
const errors = report.errors as Record<string, string>;

function save(): void {
  if (args.out) writeFileSync(args.out, `${JSON.stringify(report, null, 2)}\n`);
}

async function measure(name: string, fn: () => Promise<unknown>): Promise<void> {
  const t0 = performance.now();
  process.stdout.write(`… ${name}\n`);
  try {
    measurements[name] = await fn();
    process.stdout.write(`  ${JSON.stringify(measurements[name])} (${((performance.now() - t0) / 1000).toFixed(1)} s)\n`);
  } catch (e) {
    errors[name] = e instanceof Error ? `${e.name}: ${e.message}`.slice(0, 500) : String(e);
    process.stdout.write(`  FAILED: ${errors[name]}\n`);
  }
  save();
}

const kernelsPerInference = async (model: FaceModel): Promise<number> => {
  const x = tf.tensor4d(rampInput(H, W), [1, H, W, 3]);
  const p = await tf.profile(async () => {
    const o = tf.tidy(() => model.predict(x).loc);
    await o.data();
    o.dispose();
  });
  x.dispose();
  return p.kernels.length;
};

async function main(): Promise<void> {
  const dir = args.models ?? 'models';
  const original = new Uint8Array(readFileSync(join(dir, 'EResFD-original.pth')));
  const pruned50 = new Uint8Array(readFileSync(join(dir, 'EResFD-50-pruned.pth')));
  if (backend === 'webgpu') await measure('adapter', () => installNodeWebGPU());
  await measure('backend', async () => (await selectNodeBackend(backend)).active);
  if (tf.getBackend() !== backend) {
    process.stdout.write(`backend ${backend} is not active (${tf.getBackend()}): stopping\n`);
    return;
  }
  await measure('inference', async () => {
    const dense = createEResFD(loadEResFDCheckpoint(original).stateDict);
    const compact = compactEResFD(loadEResFDCheckpoint(pruned50).stateDict, { source: 'EResFD-50-pruned.pth' }).model;
    try {
      const t = await timeForwards([dense, compact], { runs: quick ? 3 : 20, warmup: quick ? 1 : 2, height: H, width: W });
      return {
        dense_ms: t.medianMs[0],
        compacted50_ms: t.medianMs[1],
        kernels_dense: await kernelsPerInference(dense),
        kernels_compacted50: await kernelsPerInference(compact),
        protocol: t.protocol,
      };
    } finally {
      dense.dispose();
      compact.dispose();
    }
  });
  for (const [batch, size] of TRAIN) {
    await measure(`train_${batch}x${size}`, async () => {
      const r = await runTrainBench(backend, { batch, size, steps: quick ? 2 : size <= 320 ? 10 : 5, warmup: quick ? 1 : 2, model: original, countKernels: true });
      return { images_per_s: r.imagesPerSec, step_ms: r.stepMs, step_ms_min: r.stepMsMin, kernels_per_step: r.kernelsPerStep, host_batch_prep_ms: r.prepMs };
    });
  }
}

await main();
const m = measurements as Record<string, Record<string, number> | undefined>;
const f = (v: unknown, d = 1): string => (typeof v === 'number' ? v.toFixed(d) : '—');
const adapter = m.adapter as unknown as Record<string, string> | undefined;
const lines = [
  '',
  `## GPU report (${backend}${quick ? ', quick' : ''}) ${report.date}`,
  `adapter      ${adapter ? `${adapter.vendor} ${adapter.architecture} ${adapter.device} ${adapter.description}`.replace(/\s+/g, ' ') : '—'}`,
  `inference    ${H}×${W} dense ${f(m.inference?.dense_ms)} ms · compacted 50 % ${f(m.inference?.compacted50_ms)} ms · kernels ${f(m.inference?.kernels_dense, 0)} / ${f(m.inference?.kernels_compacted50, 0)}`,
  ...TRAIN.map(([b, s]) => `train ${b}×${s}² ${f(m[`train_${b}x${s}`]?.images_per_s)} images/s · step ${f(m[`train_${b}x${s}`]?.step_ms, 0)} ms · ${f(m[`train_${b}x${s}`]?.kernels_per_step, 0)} kernels/step`),
  ...Object.entries(errors).map(([k, v]) => `FAILED ${k}: ${v}`),
];
process.stdout.write(`${lines.join('\n')}\n`);
save();
process.exit(0);
