/**
 * Micro-benchmark of the Bayesian optimiser (src/core/search): one GP suggestion with the
 * bayes_opt defaults (10,000 warm-up points, 10 refinements, 5 length-scale restarts) on 6-D
 * data, split into its GP fit and warm-up sweep. Prints medians; `runSearchBench` returns them
 * for `npm run bench`. Run alone with `npx tsx bench/search.bench.ts`.
 */
import { fileURLToPath } from 'node:url';
import { search } from '../src/core/index.ts';
// The acquisition maximiser itself, by path (an internal this benchmark measures, like tests do).
import { acqMax } from '../src/core/search/acquisition.ts';

const D = 6;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** n observations of a smooth 6-D objective at seeded random points. */
function dataset(n: number): { x: Float64Array; y: number[] } {
  const rs = search.RandomState.fromSeed(7);
  const x = rs.fillUniform(new Float64Array(n * D), new Array(D).fill(0), new Array(D).fill(1), n);
  const y: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += (x[i * D + c]! - 0.3) ** 2 + 0.1 * Math.sin(7 * x[i * D + c]!);
    y.push(-s);
  }
  return { x, y };
}

function timeIt(reps: number, fn: (rep: number) => void): { wall: number; cpu: number } {
  fn(-1); // JIT warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < reps; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    fn(r);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  return { wall: median(wall), cpu: median(cpu) };
}

function suggestBench(n: number, reps: number): { wall: number; cpu: number } {
  const { x, y } = dataset(n);
  const opt = search.createBayesianOptimizer({ bounds: Array.from({ length: D }, () => [0, 1] as [number, number]) });
  for (let i = 0; i < n; i++) opt.register(Array.from(x.subarray(i * D, i * D + D)), y[i]!);
  // Each call advances the RNG, so every repetition fits and sweeps afresh (nothing cached).
  return timeIt(reps, () => opt.skip(opt.suggest()));
}

export async function runSearchBench(): Promise<Record<string, number>> {
  const results: Record<string, number> = {};
  const { x, y } = dataset(100);
  const fitOptions = { alpha: 1e-6, lengthScale: 1, lengthScaleBounds: [1e-5, 1e5] as [number, number], nRestarts: 5 };

  const fit = timeIt(9, (r) => void search.fitGp(x, y, 100, D, fitOptions, search.RandomState.fromSeed(r + 1)));
  results['search.gpFit.n100.d6.ms'] = fit.wall;

  const gp = search.fitGp(x, y, 100, D, fitOptions, search.RandomState.fromSeed(0));
  const lows = new Array<number>(D).fill(0);
  const highs = new Array<number>(D).fill(1);
  const warmupOnly = { kappa: 2.576, nWarmup: 10_000, nIter: 0, refineWarmupBest: false };
  const warm = timeIt(9, (r) => void acqMax(gp, lows, highs, search.RandomState.fromSeed(r + 1), warmupOnly));
  results['search.acqWarmup10k.n100.d6.ms'] = warm.wall;

  const s100 = suggestBench(100, 9);
  results['search.suggest.n100.d6.ms'] = s100.wall;
  results['search.suggest.n100.d6.cpuMs'] = s100.cpu;
  const s30 = suggestBench(30, 9);
  results['search.suggest.n30.d6.ms'] = s30.wall;
  const s300 = suggestBench(300, 3);
  results['search.suggest.n300.d6.ms'] = s300.wall;

  for (const [k, v] of Object.entries(results)) console.log(`${k.padEnd(34)} ${v.toFixed(1)}`);
  return results;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await runSearchBench();
}
