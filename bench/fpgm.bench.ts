/**
 * FPGM over all 75 grouped convs of EResFD (SPEC §3.3): scores + selection for one rate row, on the
 * host path and with TF.js ops on WASM (and CPU for reference). Target: < 50 ms per full run.
 * Also times a re-selection from cached scores, the per-trial cost inside the Bayesian search.
 *
 * Run directly: `npx tsx bench/fpgm.bench.ts [--runs N]` prints medians. Uses the original checkpoint
 * from ../shared (or $BFPGM_SHARED) when present, else seeded random weights of the same shapes.
 */
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-wasm';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  GROUPINGS,
  createFpgmPlanner,
  createRng,
  planFpgm,
  loadEResFDCheckpoint,
  selectBackend,
  type StateDict,
} from '../src/core/index.ts';
// Internals this benchmark measures, by path (like tests): they are not part of the core's public entries.
import { EXPECTED_KEYS } from '../src/core/checkpoint/state-dict-map.ts';
import { planFpgmTf } from '../src/core/prune/pruner.ts';

export interface FpgmBenchResult {
  source: 'EResFD-original.pth' | 'synthetic';
  runs: number;
  /** Median ms of a full plan (scores of all convs + selection). */
  hostMs: number;
  wasmMs: number;
  cpuMs: number;
  /** Median ms of a plan from cached scores (selection only). */
  cachedSelectMs: number;
}

const RATES = [0.213, 0.045, 0.305, 0.471, 0.321, 0.448]; // README 30 % row

function loadStateDict(): { sd: StateDict; source: FpgmBenchResult['source'] } {
  const shared = process.env.BFPGM_SHARED ?? resolve(import.meta.dirname, '../../shared');
  const file = join(shared, 'models', 'EResFD-original.pth');
  if (existsSync(file)) {
    const buf = readFileSync(file);
    return { sd: loadEResFDCheckpoint(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)).stateDict, source: 'EResFD-original.pth' };
  }
  const rng = createRng(1);
  const sd: StateDict = new Map();
  for (const k of EXPECTED_KEYS) {
    sd.set(k.key, k.dtype === 'int64'
      ? { dtype: 'int64', shape: [...k.shape], data: BigInt64Array.of(0n) }
      : { dtype: 'float32', shape: [...k.shape], data: Float32Array.from({ length: k.numel }, () => rng() - 0.5) });
  }
  return { sd, source: 'synthetic' };
}

async function median(runs: number, fn: () => unknown): Promise<number> {
  await fn(); // warm-up: JIT, WASM module, kernel setup
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

export async function runFpgmBench(options: { runs?: number; stateDict?: StateDict } = {}): Promise<FpgmBenchResult> {
  const runs = options.runs ?? 15;
  const { sd, source } = options.stateDict ? { sd: options.stateDict, source: 'synthetic' as const } : loadStateDict();
  const hostMs = await median(runs, () => planFpgm(sd, GROUPINGS.code, RATES));
  const planner = createFpgmPlanner(sd);
  planner.plan(GROUPINGS.code, RATES);
  const cachedSelectMs = await median(runs, () => planner.plan(GROUPINGS.code, RATES));
  await selectBackend(['wasm']);
  const wasmMs = await median(runs, () => planFpgmTf(sd, GROUPINGS.code, RATES));
  await selectBackend(['cpu']);
  const cpuMs = await median(runs, () => planFpgmTf(sd, GROUPINGS.code, RATES));
  return { source, runs, hostMs, wasmMs, cpuMs, cachedSelectMs };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--runs');
  const r = await runFpgmBench({ runs: i > 0 ? Number(process.argv[i + 1]) : undefined });
  const f = (ms: number): string => `${ms.toFixed(2).padStart(8)} ms`;
  console.info(`FPGM, all 75 grouped convs (${r.source}), median of ${r.runs} runs:`);
  console.info(`  host (Float32Array, float64 sums) ${f(r.hostMs)}`);
  console.info(`  TF.js ops on wasm                 ${f(r.wasmMs)}`);
  console.info(`  TF.js ops on cpu                  ${f(r.cpuMs)}`);
  console.info(`  re-select from cached scores      ${f(r.cachedSelectMs)}`);
  console.info(`  target < 50 ms: ${r.hostMs < 50 && r.wasmMs < 50 ? 'met' : 'MISSED'}`);
}
