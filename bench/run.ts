/**
 * `npm run bench`: speed targets live here, not in timed tests. Prints medians and their ratio to the
 * reference PyTorch CPU figures measured on this machine (SPEC §10.2, golden/train_step README), in Node
 * (WASM, CPU backends) and in Debian's Chromium (WASM, WebGPU, WebGL) driven by Playwright.
 * Usage: npm run bench [-- --only node|browser|peers|train-peers|outcome|train-prep] [-- --quick] [-- --budgets 0.25,0.5,1 (outcome)] [-- --backend webgpu]
 * `--only train-peers` [-- --rounds R]: the training step side by side with PyTorch CPU (batch 8, 320² and 640²), interleaved;
 * `--only peers` runs it too, after the inference side by side.
 * `--only train-prep` [-- --sizes 320,640] [-- --rounds R]: whole training epochs, batch preparation on the training
 * thread vs in worker threads (issue 14), interleaved.
 * `--backend webgpu` runs the GPU report (bench/gpu/gpu-bench.ts) on WebGPU through Dawn instead.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import '../src/platform/node/backends.ts';
import { benchForward, type ForwardBenchResult } from './forward-bench.ts';
import { formatDirectKernelsAB, formatTrainBench, formatTrainEpochBench, runDirectKernelsAB, runTrainBench, runTrainEpochBench } from './train-bench.ts';
import { widerPrepPool } from '../src/platform/node/prep-pool.ts';
import { widerEntries, widerSampleSource } from '../src/platform/node/wider-samples.ts';
import { formatCompactBench, runCompactBench } from './compact.bench.ts';
import { runFpgmBench } from './fpgm.bench.ts';
import { runSearchBench } from './search.bench.ts';
import { runPeersBench } from './peers/peers.bench.ts';
import { runTrainPeersBench } from './peers/train-peers.bench.ts';
import { runOutcomeBench } from './outcome/outcome.bench.ts';
import { createEResFD, evaluateWider, predictWider, loadEResFDCheckpoint, selectBackend, widerImageKey } from '../src/core/index.ts';
import { loadValImage, presentValImages, readValGroundTruth } from '../src/platform/node/wider-folder.ts';

/** PyTorch CPU reference (SPEC §10.2): network only, 1 thread, 480×640; full test-phase forward incl. NMS. */
export const REFERENCE = { forwardMs: 29.0, detectMs: 219.5 };

const { values: args } = parseArgs({ options: { only: { type: 'string' }, quick: { type: 'boolean' }, backend: { type: 'string' }, budgets: { type: 'string' }, sizes: { type: 'string' }, rounds: { type: 'string' } }, strict: false });
const SHARED = process.env.BFPGM_SHARED ?? resolve(import.meta.dirname, '../../shared');
const MODEL = resolve(SHARED, 'models/EResFD-original.pth');

function silenceTfjsBanner(): void {
  const warn = console.warn;
  console.warn = (...a: unknown[]) => (typeof a[0] === 'string' && a[0].includes('tfjs-node') ? undefined : warn(...a));
}

function row(where: string, r: ForwardBenchResult): string {
  const f = (v: number) => v.toFixed(1).padStart(8);
  return `${where.padEnd(9)} ${r.backend.padEnd(7)} forward ${f(r.forwardMs)} ms (${(r.forwardMs / REFERENCE.forwardMs).toFixed(2)}× PyTorch ${REFERENCE.forwardMs} ms)  detect ${f(r.detectMs)} ms (${(r.detectMs / REFERENCE.detectMs).toFixed(2)}× PyTorch ${REFERENCE.detectMs} ms)`;
}

async function peersSection(model: Uint8Array): Promise<void> {
  console.log('');
  console.log(await runPeersBench({ original: model, originalPath: MODEL, pruned: new Uint8Array(readFileSync(resolve(SHARED, 'models', 'EResFD-50-pruned.pth'))), prunedName: 'EResFD-50-pruned.pth', runs: args.quick ? 5 : 20 }));
  await trainPeersSection(model);
}

async function trainPeersSection(model: Uint8Array): Promise<void> {
  const rounds = (size: number): number => (typeof args.rounds === 'string' ? Number(args.rounds) : size > 320 ? (args.quick ? 2 : 4) : args.quick ? 3 : 7);
  const batch = 8;
  const dir = resolve(SHARED, 'widerface');
  // Eight batches per epoch: an epoch's first batch is never overlapped with a step, as in the
  // epochs a user runs, but those are longer still.
  const entries = await widerEntries(dir, { split: 'train', size: batch * 8, seed: 0 });
  const val = widerSampleSource(dir, 'val', await widerEntries(dir, { split: 'val', size: 1, seed: 0 }));
  const pool = widerPrepPool({ dir, split: 'train', entries });
  console.log('');
  try {
    console.log(await runTrainPeersBench({ original: model, originalPath: MODEL, sizes: [320, 640], rounds, batch,
      endToEnd: { train: pool.source, val, label: `preparation in ${pool.workers} worker thread(s)` } }));
  } finally {
    await pool.close();
  }
}

async function nodeSection(model: Uint8Array): Promise<void> {
  console.log('\n## Inference at 480×640, Node');
  console.log(row('node', await benchForward(model, 'wasm', args.quick ? 5 : 20)));
  console.log(row('node', await benchForward(model, 'cpu', args.quick ? 2 : 3, 1)));

  console.log('\n## Training throughput, Node WASM (one step: forward, MultiBoxLoss, backward, Adam; target ≥ 0.5× PyTorch)');
  for (const [batch, size] of [[2, 320], [8, 640]] as const) {
    console.log(formatTrainBench(await runTrainBench('wasm', { batch, size, steps: args.quick ? 3 : batch === 8 ? 7 : 15, model })));
  }

  console.log('\n## Training step, Node WASM: direct SIMD kernels vs XNNPACK only, alternating steps');
  for (const [batch, size] of [[8, 320], [8, 640]] as const) {
    console.log(formatDirectKernelsAB(await runDirectKernelsAB(batch, size, args.quick ? 2 : size > 320 ? 4 : 6, model), 'Node'));
  }

  await trainPrepSection(model, [320]);

  console.log('\n## Compaction (issue 7), Node WASM, ms/frame at 480×640');
  const ckpt = (n: string) => ({ name: n, bytes: new Uint8Array(readFileSync(resolve(SHARED, 'models', n))) });
  console.log(formatCompactBench(await runCompactBench({
    backend: 'wasm', original: ckpt('EResFD-original.pth'), pruned: [ckpt('EResFD-50-pruned.pth'), ckpt('EResFD-60-pruned.pth')], runs: args.quick ? 10 : 20,
  })));

  console.log('\n## FPGM over all grouped convs (target < 50 ms)');
  const fpgm = await runFpgmBench({ runs: args.quick ? 5 : 15 });
  console.log(`host ${fpgm.hostMs.toFixed(1)} ms, wasm ${fpgm.wasmMs.toFixed(1)} ms, cpu ${fpgm.cpuMs.toFixed(1)} ms, cached re-select ${fpgm.cachedSelectMs.toFixed(2)} ms`);

  console.log('\n## Bayesian optimiser (target: suggestion with 100 observations < 100 ms)');
  await runSearchBench();

  console.log('\n## WIDER val evaluation, single protocol, WASM (target < 120 s for 200 images)');
  await selectBackend(['wasm']);
  const dir = resolve(SHARED, 'widerface');
  const gt = await readValGroundTruth(dir);
  const refs = (await presentValImages(dir, gt)).slice(0, args.quick ? 20 : 200);
  const detector = createEResFD(loadEResFDCheckpoint(model).stateDict);
  const t0 = performance.now();
  const preds = await predictWider(detector, refs, loadValImage(dir), { protocol: 'single' });
  const ap = evaluateWider(gt, preds, { restrictTo: refs.map((r) => widerImageKey(r.event, r.name)) });
  const secs = (performance.now() - t0) / 1000;
  detector.dispose();
  console.log(`${refs.length} images in ${secs.toFixed(1)} s (${(refs.length / secs).toFixed(2)} img/s, incl. JPEG decoding); AP easy ${ap.easy.toFixed(4)} medium ${ap.medium.toFixed(4)} hard ${ap.hard.toFixed(4)}`);
}

/** Issue 14: training epochs with batch preparation in-thread vs in a worker_threads pool (real WIDER images). */
async function trainPrepSection(model: Uint8Array, sizes: number[]): Promise<void> {
  const batch = 8;
  const dir = resolve(SHARED, 'widerface');
  const entries = await widerEntries(dir, { split: 'train', size: batch * (args.quick ? 2 : 4), seed: 0 });
  const val = widerSampleSource(dir, 'val', await widerEntries(dir, { split: 'val', size: 1, seed: 0 }));
  const pool = widerPrepPool({ dir, split: 'train', entries });
  const cpuSeconds = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1e6;
  };
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`\n## Training epochs, Node WASM: batch preparation in-thread vs ${pool.workers} worker thread(s) (${availableParallelism()} cores, load average ${load()})`);
  try {
    for (const size of sizes) {
      const rounds = typeof args.rounds === 'string' ? Number(args.rounds) : args.quick ? 2 : size > 320 ? 3 : 5;
      console.log(formatTrainEpochBench(await runTrainEpochBench('wasm', { batch, size, train: pool.source, val, rounds, model, cpuSeconds }), `${pool.workers} worker(s)`) + `  [load average after: ${load()}]`);
    }
  } finally {
    await pool.close();
  }
}

async function browserSection(model: Uint8Array): Promise<void> {
  console.log('\n## Inference at 480×640, Chromium (headless, software WebGPU/WebGL: correctness only, not speed)');
  // A production build served by `vite preview`: what users get, and no dev-server dependency
  // re-optimisation reloading the page in the middle of a measurement.
  const { build, preview } = await import('vite');
  const { chromium } = await import('@playwright/test');
  const configFile = resolve(import.meta.dirname, '../vite.config.ts');
  const outDir = resolve(import.meta.dirname, '../node_modules/.bench-dist');
  await build({ configFile, logLevel: 'error', build: { outDir, emptyOutDir: true, rollupOptions: { input: { bench: resolve(import.meta.dirname, 'browser/bench.html') } } } });
  const server = await preview({ configFile, logLevel: 'error', build: { outDir }, preview: { port: 5199, strictPort: false, host: '127.0.0.1' } });
  const url = server.resolvedUrls!.local[0]!;
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error('page error:', e.message));
    await page.goto(`${url}bench/browser/bench.html`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    console.log('page:', JSON.stringify(await page.evaluate(() => window.bench.info())));
    const b64 = Buffer.from(model).toString('base64');
    for (const backend of ['wasm', 'webgpu', 'webgl'] as const) {
      try {
        const r = await page.evaluate(([m, b, n]) => window.bench.forward(m, b, n), [b64, backend, args.quick ? 3 : 10] as const);
        console.log(row('chromium', r));
      } catch (e) {
        console.log(`chromium  ${backend.padEnd(7)} unavailable: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    console.log('\n## Training step in Chromium (WASM): direct SIMD kernels vs XNNPACK only, alternating steps');
    for (const threads of [1, 2]) {
      // A page per thread count: TF.js fixes it when the WASM backend initialises.
      const p = await browser.newPage();
      try {
        await p.goto(`${url}bench/browser/bench.html?threads=${threads}`);
        await p.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
        const t = await p.evaluate(([m, b, s, n]) => window.bench.trainDirect(m, b, s, n), [b64, 8, 320, args.quick ? 3 : 6] as const);
        console.log(formatDirectKernelsAB(t, `Chromium, ${t.threads} WASM thread(s)${t.sharedMemory ? ', threaded build (shared memory)' : ''}`));
      } finally {
        await p.close();
      }
    }
    console.log('\n## Compaction in Chromium (WASM), ms/frame at 480×640');
    const b64Of = (n: string) => Buffer.from(readFileSync(resolve(SHARED, 'models', n))).toString('base64');
    const pruned = ['EResFD-50-pruned.pth', 'EResFD-60-pruned.pth'].map((name) => ({ name, b64: b64Of(name) }));
    console.log(await page.evaluate(([o, p, n]) => window.bench.compact(o, p, 'wasm', n), [b64, pruned, args.quick ? 10 : 20] as const));
  } finally {
    await browser.close();
    await new Promise<void>((done) => server.httpServer.close(() => done()));
  }
}

/**
 * Issue 10's outcome table (slow: full pipeline runs; only with `--only outcome`). `--quick` scales every
 * run's SFP/fine-tune epochs by 0.1 and scores 50 val images; `--budgets 0.25,0.5,1` adds the
 * AP-vs-budget curve of the laptop recipe at 30 %.
 */
async function outcomeSection(): Promise<void> {
  await selectBackend(['wasm']);
  console.log('\n## Outcome (issue 10): laptop recipe vs released B-FPGM checkpoints vs paper recipe at the same budget, single protocol');
  await runOutcomeBench({
    shared: SHARED,
    targets: [0.3, 0.5],
    evalImages: args.quick ? 50 : 200,
    budgets: typeof args.budgets === 'string' ? args.budgets.split(',').map(Number) : [],
    scale: args.quick ? 0.1 : 1,
    log: (line) => console.log(line),
  });
}

async function main(): Promise<void> {
  silenceTfjsBanner();
  if (!existsSync(MODEL)) throw new Error(`benchmarks need the checkpoints in ${SHARED}/models`);
  const model = new Uint8Array(readFileSync(MODEL));
  console.log(`# B-FPGM studio benchmarks — ${new Date().toISOString()}, node ${process.version}`);
  if (args.backend === 'webgpu') {
    // The GPU report parses process.argv itself: models from ../shared, the rest passed through.
    process.argv.push('--models', resolve(SHARED, 'models'));
    await import('./gpu/gpu-bench.ts');
    return;
  }
  if (args.only === 'outcome') return outcomeSection();
  if (args.only === 'train-peers') return trainPeersSection(model);
  if (args.only === 'train-prep') return trainPrepSection(model, typeof args.sizes === 'string' ? args.sizes.split(',').map(Number) : [320]);
  if (!args.only || args.only === 'peers') await peersSection(model);
  if (!args.only || args.only === 'node') await nodeSection(model);
  if (!args.only || args.only === 'browser') await browserSection(model);
}

// Report failures by message: the WASM backend's uncaught-exception hook would print its whole source.
await main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`.slice(0, 4000));
  process.exit(1);
});
