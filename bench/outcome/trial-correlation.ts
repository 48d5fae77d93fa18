/**
 * How faithful is the cheap trial score? For K candidate rate vectors in the target band (random
 * shapes, scaled to the target by bisection), scores each three ways with the pipeline's own trial
 * function: the paper's one-epoch score, the adaptive-BN score (BN re-estimated on a few batches,
 * forward only) and the plain FPGM score (no re-estimation); prints Spearman's ρ of each cheap
 * score against the one-epoch one, and the seconds each took.
 * Usage: tsx bench/outcome/trial-correlation.ts --widerface DIR --model X.pth [--target 0.3] [--k 8] [--images 400] [--bn-images 64] [--json]
 */
import { parseArgs } from 'node:util';
import { readFile } from 'node:fs/promises';
import '../../src/platform/node/backends.ts';
import {
  createFpgmPlanner, createRng, createSparsityPredictor, loadEResFDCheckpoint, selectBackend, splitPool, samples, validatePipelineConfig, type PipelineConfig,
} from '../../src/core/index.ts';
// The pipeline's trial function itself, by path: this benchmark measures it (an internal, like tests do).
import { runTrial } from '../../src/core/pipeline/trial.ts';
import { widerEntries, widerSampleSource } from '../../src/platform/node/wider-samples.ts';

/** Spearman's ρ (average ranks for ties). */
export function spearman(a: readonly number[], b: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const idx = v.map((x, i) => [x, i] as const).sort((p, q) => p[0] - q[0]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length;) {
      let j = i;
      while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
      for (let k = i; k <= j; k++) r[idx[k]![1]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const ra = rank(a), rb = rank(b);
  const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
  const ma = mean(ra), mb = mean(rb);
  let num = 0, da = 0, db = 0;
  for (let i = 0; i < ra.length; i++) {
    num += (ra[i]! - ma) * (rb[i]! - mb);
    da += (ra[i]! - ma) ** 2;
    db += (rb[i]! - mb) ** 2;
  }
  return num / Math.sqrt(da * db);
}

async function main(): Promise<void> {
  const { values: a } = parseArgs({ options: { widerface: { type: 'string' }, model: { type: 'string' }, target: { type: 'string' }, k: { type: 'string' }, images: { type: 'string' }, 'bn-images': { type: 'string' }, json: { type: 'boolean' } } });
  await selectBackend(['wasm', 'cpu']);
  const target = Number(a.target ?? 0.3);
  const k = Number(a.k ?? 8);
  const base: PipelineConfig = validatePipelineConfig({ target, data: { images: Number(a.images ?? 400) }, bo: { bnImages: Number(a['bn-images'] ?? 64) } });
  const pretrained = loadEResFDCheckpoint(new Uint8Array(await readFile(a.model!))).stateDict;
  const pool = widerSampleSource(a.widerface!, 'train', await widerEntries(a.widerface!, { split: 'train', size: base.data.images, seed: base.seed }));
  const split = splitPool(pool.size, base.data.valFraction, base.seed);
  const ctx = { pretrained, planner: createFpgmPlanner(pretrained), sparsityOf: createSparsityPredictor(pretrained), trainSet: samples.subsetSource(pool, split.train), valSet: samples.subsetSource(pool, split.val) };
  const rng = createRng(12345);
  const groups = base.grouping.groups.length;
  const rows: Array<{ rates: number[]; sparsity: number; epoch: number; adaptiveBn: number; plain: number; seconds: { epoch: number; adaptiveBn: number; plain: number } }> = [];
  for (let i = 0; i < k; i++) {
    // A random shape, scaled so its predicted sparsity sits just above the target (inside the band).
    const shape = Array.from({ length: groups }, () => 0.1 + rng());
    let lo = 0, hi = 3;
    for (let it = 0; it < 40; it++) {
      const mid = (lo + hi) / 2;
      const s = ctx.sparsityOf(ctx.planner.plan(base.grouping, shape.map((r) => Math.min(0.9, r * mid)))) / 100;
      if (s < target + 0.01) lo = mid; else hi = mid;
    }
    const rates = shape.map((r) => Math.min(0.9, r * hi));
    const score = async (c: PipelineConfig) => {
      const t0 = performance.now();
      const r = await runTrial(c, ctx, rates, 100 + i);
      return { objective: r.objective, sparsity: r.sparsity, seconds: (performance.now() - t0) / 1000 };
    };
    const epoch = await score({ ...base, bo: { ...base.bo, score: 'epoch' } });
    const adaptive = await score({ ...base, bo: { ...base.bo, score: 'adaptive-bn' } });
    // Plain FPGM: adaptive-BN path with no re-estimation images = the pretrained BN statistics.
    const plain = await score({ ...base, bo: { ...base.bo, score: 'adaptive-bn', bnImages: 0 } });
    rows.push({ rates, sparsity: epoch.sparsity, epoch: epoch.objective, adaptiveBn: adaptive.objective, plain: plain.objective, seconds: { epoch: epoch.seconds, adaptiveBn: adaptive.seconds, plain: plain.seconds } });
    process.stderr.write(`candidate ${i}: sparsity ${(100 * epoch.sparsity).toFixed(2)} % epoch ${epoch.objective.toFixed(4)} adaptive-BN ${adaptive.objective.toFixed(4)} plain ${plain.objective.toFixed(4)}\n`);
  }
  const result = {
    target, candidates: rows.length, bn_images: base.bo.bnImages,
    spearman_adaptive_bn_vs_epoch: spearman(rows.map((r) => r.adaptiveBn), rows.map((r) => r.epoch)),
    spearman_plain_vs_epoch: spearman(rows.map((r) => r.plain), rows.map((r) => r.epoch)),
    rows,
  };
  console.log(a.json ? JSON.stringify(result) : `Spearman ρ vs one-epoch score over ${rows.length} candidates: adaptive BN ${result.spearman_adaptive_bn_vs_epoch.toFixed(3)}, plain FPGM ${result.spearman_plain_vs_epoch.toFixed(3)}`);
}

if (process.argv[1]?.includes('trial-correlation')) await main();
