/**
 * Compaction benchmark, isomorphic (Node now; a Chromium page can call runCompactBench with a backend
 * name and the checkpoint bytes): median ms/frame at 480×640 of compacted pruned checkpoints vs the
 * dense unpruned model, next to the MAC ratio, and whether the speedup reaches 0.8 × that ratio.
 * Runs are interleaved round-robin across the models so load from other processes hits all alike.
 * Usage (Node, WASM): npx tsx bench/compact.bench.ts [--backend wasm|cpu] [--runs N] [--strategies carrier,bias-map,keep]
 */
import {
  compactEResFD,
  compaction,
  createEResFD,
  rampInput,
  loadEResFDCheckpoint,
  selectBackend,
  timeForwards,
  totalMacs,
  type BackendName,
  type BorderStrategy,
  type FaceModel,
} from '../src/core/index.ts';

export interface CompactBenchCheckpoint {
  name: string;
  bytes: Uint8Array;
}

export interface CompactBenchOptions {
  backend: BackendName;
  /** The unpruned reference (EResFD-original.pth). */
  original: CompactBenchCheckpoint;
  /** Pruned checkpoints to compact (the 50 % and 60 % ones by default in Node). */
  pruned: CompactBenchCheckpoint[];
  strategies?: BorderStrategy[];
  /** Timed runs per model (≥ 10) after `warmup` untimed ones. */
  runs?: number;
  warmup?: number;
}

export interface CompactBenchRow {
  checkpoint: string;
  strategy: BorderStrategy;
  macsBefore: number;
  macsAfter: number;
  macRatio: number;
  denseMs: number;
  compactMs: number;
  speedup: number;
  /** speedup ≥ 0.8 × macRatio */
  meetsTarget: boolean;
  maxAbsDiff: number;
  parametersAfter: number;
}

export interface CompactBenchResult {
  backend: BackendName;
  height: number;
  width: number;
  runs: number;
  denseMs: number;
  rows: CompactBenchRow[];
}

const H = 480, W = 640;

export async function runCompactBench(options: CompactBenchOptions): Promise<CompactBenchResult> {
  const { backend, runs = 12, warmup = 3 } = options;
  const strategies = options.strategies ?? [compaction.DEFAULT_BORDER_STRATEGY];
  const sel = await selectBackend([backend]);
  if (sel.active !== backend) throw new Error(`backend ${backend} is not available`);
  const dense = createEResFD(loadEResFDCheckpoint(options.original.bytes).stateDict);
  const compacted: Array<{ checkpoint: string; strategy: BorderStrategy; model: ReturnType<typeof compactEResFD>['model']; dense: FaceModel & { dispose(): void } }> = [];
  const input = rampInput(H, W);
  try {
    for (const ckpt of options.pruned) {
      const sd = loadEResFDCheckpoint(ckpt.bytes).stateDict;
      const masked = createEResFD(sd);
      for (const strategy of strategies) {
        compacted.push({ checkpoint: ckpt.name, strategy, model: compactEResFD(sd, { strategy, source: ckpt.name }).model, dense: masked });
      }
    }
    const models: FaceModel[] = [dense, ...compacted.map((c) => c.model)];
    // The studio's own timing (rate editor, zoo): warm-up, interleaved rounds, medians.
    const { medianMs } = await timeForwards(models, { runs, warmup, height: H, width: W, input });
    const denseMs = medianMs[0]!;
    const macsBefore = totalMacs(H, W);
    const rows: CompactBenchRow[] = [];
    for (let i = 0; i < compacted.length; i++) {
      const c = compacted[i]!;
      const d = c.model.describe();
      const compactMs = medianMs[i + 1]!;
      const macRatio = macsBefore / d.macs480x640;
      const speedup = denseMs / compactMs;
      rows.push({
        checkpoint: c.checkpoint,
        strategy: c.strategy,
        macsBefore,
        macsAfter: d.macs480x640,
        macRatio,
        denseMs,
        compactMs,
        speedup,
        meetsTarget: speedup >= 0.8 * macRatio,
        maxAbsDiff: await compaction.maxHeadDiff(c.dense, c.model, input, H, W),
        parametersAfter: d.parameters,
      });
    }
    return { backend, height: H, width: W, runs, denseMs, rows };
  } finally {
    dense.dispose();
    for (const c of compacted) c.model.dispose();
    for (const m of new Set(compacted.map((c) => c.dense))) m.dispose();
  }
}

export function formatCompactBench(r: CompactBenchResult): string {
  const lines = [
    `## Compacted EResFD at ${r.height}×${r.width}, ${r.backend}, median of ${r.runs} runs (interleaved)`,
    `dense EResFD-original: ${r.denseMs.toFixed(1)} ms/frame, ${r.rows[0]?.macsBefore.toLocaleString('en-US') ?? '?'} MACs`,
  ];
  for (const row of r.rows) {
    lines.push(
      `${row.checkpoint.padEnd(22)} ${row.strategy.padEnd(8)} MACs ${row.macsBefore.toLocaleString('en-US')} → ${row.macsAfter.toLocaleString('en-US')} ` +
        `(${row.macRatio.toFixed(3)}×)  ${row.compactMs.toFixed(1)} ms/frame  speedup ${row.speedup.toFixed(3)}×  ` +
        `target 0.8×ratio = ${(0.8 * row.macRatio).toFixed(3)}× ${row.meetsTarget ? 'MET' : 'NOT MET'}  max|diff| ${row.maxAbsDiff.toExponential(1)}`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  await import('@tensorflow/tfjs-backend-cpu');
  await import('@tensorflow/tfjs-backend-wasm');
  const { readFileSync } = await import('node:fs');
  const { resolve } = await import('node:path');
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { backend: { type: 'string', default: 'wasm' }, runs: { type: 'string', default: '12' }, strategies: { type: 'string', default: compaction.DEFAULT_BORDER_STRATEGY } } });
  const warn = console.warn;
  console.warn = (...a: unknown[]) => (typeof a[0] === 'string' && a[0].includes('tfjs-node') ? undefined : warn(...a));
  const shared = process.env.BFPGM_SHARED ?? resolve(import.meta.dirname, '../../shared');
  const load = (name: string): CompactBenchCheckpoint => ({ name, bytes: new Uint8Array(readFileSync(resolve(shared, 'models', name))) });
  const result = await runCompactBench({
    backend: values.backend as BackendName,
    original: load('EResFD-original.pth'),
    pruned: [load('EResFD-50-pruned.pth'), load('EResFD-60-pruned.pth')],
    strategies: values.strategies!.split(',') as BorderStrategy[],
    runs: Math.max(10, Number(values.runs)),
  });
  console.log(formatCompactBench(result));
}

// Run only when executed directly (tsx bench/compact.bench.ts), never when imported (run.ts, a browser page).
if (typeof process !== 'undefined' && /compact\.bench\.[cm]?[jt]s$/.test(process.argv?.[1] ?? '')) {
  await main();
}
