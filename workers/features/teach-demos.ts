/**
 * Worker side of the teaching mode (issue 6 item 6): live numbers from the loaded model and the core.
 *
 * - `teachFilters`: one conv's real filters (PyTorch layout), their FPGM distance sums (SPEC §3.3), the
 *   pairwise distances, a 2-D PCA view of the filters and of their geometric median (Weiszfeld).
 * - `teachSoftHard`: the same FPGM plan applied as SFP's soft pruning (zeroed, then trained: filters
 *   regrow) and as a hard mask (multiplied in after every step: filters stay zero), a few real Adam
 *   steps of the core trainer on a small synthetic batch, filter norms after every step.
 * - `teachGp`: the core Bayesian optimiser on a 1-D toy function: observations, the GP posterior mean ±
 *   std, UCB (κ = 2.576 as B-FPGM) and the point the optimiser would probe next.
 */
import * as tf from '@tensorflow/tfjs-core';
import {
  applyPlanToVariables,
  CONV_BY_NAME,
  search,
  createGrouping,
  createHardMask,
  createRng,
  createTrainableEResFD,
  createTrainer,
  planFpgmFromParams,
  PRUNABLE_MODULES,
  registerCpuKernelFixes,
  registerWasmTrainingKernels,
  registerBatchNormTrainKernels,
  softPrune,
  StudioError,
  type ConvSpec,
  type EResFDModel,
  type FaceSample,
  type SampleSource,
  type TrainableEResFD,
} from '../../src/core/index.ts';
import { cacheScores } from './score-cache.ts';

export interface TeachFilters {
  spec: ConvSpec;
  /** [out, in, k, k] row-major (PyTorch layout): filter f is `weights[f·in·k² … (f+1)·in·k²)`. */
  weights: Float32Array;
  /** Largest |weight| of the conv (the heat-map scale). */
  maxAbs: number;
  /** L2 norm per filter. */
  norms: number[];
  /** FPGM distance sum per filter: Σ_j ‖F_i − F_j‖₂ (smallest = closest to the geometric median). */
  scores: number[];
  /** n × n pairwise Euclidean distances, row-major. */
  distances: number[];
  /** 2-D PCA coordinates of every filter. */
  projection: Array<[number, number]>;
  /** PCA coordinates of the geometric median of the filters (Weiszfeld). */
  median: [number, number];
  /** Distance of each filter to the geometric median in the full space. */
  medianDistance: number[];
  /** Share of the variance the two PCA axes show. */
  explained: number;
}

export interface SoftHardRequest {
  /** Conv module name, e.g. `base.m0.layer2.0.res_layer.0`. */
  conv: string;
  /** Pruning rate of that conv, fraction. */
  rate: number;
  /** Optimiser steps after pruning. */
  steps: number;
}

export interface SoftHardTrace {
  /** Filter L2 norms after pruning (row 0) and after every step (rows 1…steps). */
  norms: number[][];
  /** Training loss (loc + conf) per step. */
  losses: number[];
}

export interface SoftHardResult {
  conv: string;
  filters: number;
  rate: number;
  steps: number;
  /** Filters FPGM zeroed before training (both modes start from the same plan). */
  pruned: number[];
  soft: SoftHardTrace;
  hard: SoftHardTrace;
  /** What FPGM would zero at SFP's next pruning epoch, on the soft-trained weights. */
  reselected: number[];
  size: number;
  batch: number;
  lr: number;
  backend: string;
  ms: number;
}

export interface GpRequest {
  /** Where the toy function has been probed so far, in [0, 1]. */
  xs: number[];
  /** UCB exploration weight; default B-FPGM's 2.576. */
  kappa?: number;
}

export interface GpDemo {
  grid: number[];
  /** The hidden toy function on the grid (what the optimiser does not see). */
  truth: number[];
  observations: Array<{ x: number; y: number }>;
  /** Posterior mean, std and UCB on the grid; empty before the first observation. */
  mean: number[];
  std: number[];
  ucb: number[];
  kappa: number;
  /** The optimiser's next probe (random before any observation, then argmax UCB). */
  next: number;
  nextSource: 'random' | 'suggest';
  /** Fitted Matern length scale, null before any observation. */
  lengthScale: number | null;
  /** Best observation so far. */
  best: { x: number; y: number } | null;
}

/** The hidden 1-D toy objective of the GP demo: two bumps, a slope and a ripple on [0, 1]. */
export function toyObjective(x: number): number {
  return 0.6 * Math.exp(-((x - 0.22) ** 2) / 0.008) + Math.exp(-((x - 0.72) ** 2) / 0.02) - 0.25 * x + 0.1 * Math.sin(12 * x);
}

const GRID = 201;
/** Random probes before the GP suggests (bayes_opt's init_points; B-FPGM uses 60 for 6 rates). */
const GP_INIT_POINTS = 3;
/**
 * Length-scale range of the demo's GP. sklearn's default [1e-5, 1e5] (B-FPGM's search) lets a fit on
 * three or four points collapse to spikes at the observations; 0.05 keeps a handful readable.
 */
const GP_LENGTH_SCALE_BOUNDS: [number, number] = [0.05, 5];

function requireModel(getModel: () => EResFDModel | null): EResFDModel {
  const model = getModel();
  if (!model) throw new StudioError('NOT_FOUND', 'No model is loaded: load a checkpoint first.');
  return model;
}

function prunableConv(name: string): ConvSpec {
  const spec = CONV_BY_NAME.get(name);
  if (!spec || !PRUNABLE_MODULES.includes(spec.owner)) throw new StudioError('CONFIG_INVALID', `${name} is not a prunable conv.`);
  return spec;
}

/** Top-2 eigenpairs of a symmetric n×n matrix by power iteration with deflation. */
function top2Eigen(g: Float64Array, n: number): Array<{ value: number; vector: Float64Array }> {
  const m = Float64Array.from(g);
  const out: Array<{ value: number; vector: Float64Array }> = [];
  for (let k = 0; k < 2; k++) {
    let v = new Float64Array(n).map((_, i) => 1 + ((i * 7919) % 13) / 13);
    let value = 0;
    for (let it = 0; it < 500; it++) {
      const w = new Float64Array(n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) w[i] += m[i * n + j]! * v[j]!;
      const norm = Math.hypot(...w);
      if (norm === 0) break;
      for (let i = 0; i < n; i++) w[i] /= norm;
      value = norm;
      let diff = 0;
      for (let i = 0; i < n; i++) diff += Math.abs(w[i]! - v[i]!);
      v = w;
      if (diff < 1e-12) break;
    }
    out.push({ value, vector: v });
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) m[i * n + j] -= value * v[i]! * v[j]!;
  }
  return out;
}

/** Geometric median of n points in d dimensions (Weiszfeld's iteration from the mean). */
function geometricMedian(x: Float32Array, n: number, d: number): Float64Array {
  const y = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) y[c] += x[i * d + c]! / n;
  for (let it = 0; it < 200; it++) {
    const num = new Float64Array(d);
    let den = 0;
    for (let i = 0; i < n; i++) {
      let dist = 0;
      for (let c = 0; c < d; c++) dist += (x[i * d + c]! - y[c]!) ** 2;
      dist = Math.sqrt(dist);
      if (dist < 1e-12) continue;
      for (let c = 0; c < d; c++) num[c] += x[i * d + c]! / dist;
      den += 1 / dist;
    }
    if (den === 0) break;
    let moved = 0;
    for (let c = 0; c < d; c++) {
      const next = num[c]! / den;
      moved += Math.abs(next - y[c]!);
      y[c] = next;
    }
    if (moved < 1e-10) break;
  }
  return y;
}

/** Synthetic training images: a soft background with one or two skin-toned ellipses ("faces") and their boxes. */
function syntheticSource(count: number, size: number, seed: number): SampleSource {
  return {
    size: count,
    async load(index: number): Promise<FaceSample> {
      const rng = createRng(seed * 1000 + index);
      const data = new Uint8Array(size * size * 3);
      const bg = [60 + rng() * 120, 60 + rng() * 120, 60 + rng() * 120];
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const o = (y * size + x) * 3;
          const shade = 0.75 + (0.5 * (x + y)) / (2 * size);
          for (let c = 0; c < 3; c++) data[o + c] = Math.max(0, Math.min(255, bg[c]! * shade + (rng() - 0.5) * 30));
        }
      }
      const faces = 1 + (index % 2);
      const boxes: number[] = [];
      for (let f = 0; f < faces; f++) {
        const w = size * (0.22 + rng() * 0.2);
        const h = w * 1.25;
        const cx = w / 2 + rng() * (size - w);
        const cy = h / 2 + rng() * (size - h);
        for (let y = Math.floor(cy - h / 2); y < cy + h / 2; y++) {
          for (let x = Math.floor(cx - w / 2); x < cx + w / 2; x++) {
            if (x < 0 || y < 0 || x >= size || y >= size) continue;
            const u = (x - cx) / (w / 2), v = (y - cy) / (h / 2);
            if (u * u + v * v > 1) continue;
            const eye = Math.abs(v + 0.2) < 0.12 && Math.abs(Math.abs(u) - 0.38) < 0.14;
            const o = (y * size + x) * 3;
            data[o] = eye ? 40 : 224;
            data[o + 1] = eye ? 30 : 172;
            data[o + 2] = eye ? 30 : 140;
          }
        }
        boxes.push(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2);
      }
      return { image: { width: size, height: size, channels: 3, data }, boxes: Float32Array.from(boxes) };
    },
  };
}

/** Per-filter L2 norms of an HWIO conv variable ([k, k, in, out] → [out]). */
async function filterNorms(v: tf.Variable): Promise<number[]> {
  const t = tf.tidy(() => tf.sqrt(tf.sum(tf.square(v), [0, 1, 2])));
  try {
    return Array.from(await t.data());
  } finally {
    t.dispose();
  }
}

let trainingKernels = false;

/** Gradient kernels the core needs on WASM / CPU (idempotent; the pipeline worker does the same). */
function ensureTrainingKernels(): void {
  if (trainingKernels) return;
  registerWasmTrainingKernels();
  registerBatchNormTrainKernels();
  registerCpuKernelFixes();
  trainingKernels = true;
}

export function createTeachDemos(getModel: () => EResFDModel | null) {
  return {
    /** One conv's real filters and the FPGM geometry around them. */
    teachFilters(conv: string): TeachFilters {
      const spec = prunableConv(conv);
      const model = requireModel(getModel);
      const t = model.stateDict.get(`${spec.name}.weight`);
      const n = spec.outChannels;
      const d = spec.inChannels * spec.kernel * spec.kernel;
      if (!t || !(t.data instanceof Float32Array) || t.data.length !== n * d) {
        throw new StudioError('CHECKPOINT_ARCHITECTURE', `The model has no [${n}, ${spec.inChannels}, ${spec.kernel}, ${spec.kernel}] weight for ${spec.name}.`);
      }
      const w = t.data;
      const scores = Array.from(cacheScores(model, spec.name));
      const distances = new Array<number>(n * n).fill(0);
      for (let i = 0; i < n; i++) {
        for (let j = i + 1; j < n; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += (w[i * d + c]! - w[j * d + c]!) ** 2;
          distances[i * n + j] = distances[j * n + i] = Math.sqrt(s);
        }
      }
      const norms = Array.from({ length: n }, (_, i) => Math.hypot(...w.subarray(i * d, (i + 1) * d)));
      // PCA through the n×n Gram matrix of the centred filters.
      const mean = new Float64Array(d);
      for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) mean[c] += w[i * d + c]! / n;
      const gram = new Float64Array(n * n);
      let total = 0;
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let c = 0; c < d; c++) s += (w[i * d + c]! - mean[c]!) * (w[j * d + c]! - mean[c]!);
          gram[i * n + j] = s;
        }
        total += gram[i * n + i]!;
      }
      const eig = top2Eigen(gram, n);
      // Principal directions in filter space: v_k = Xcᵀ u_k / √λ_k.
      const axes = eig.map(({ value, vector }) => {
        const axis = new Float64Array(d);
        if (value > 0) for (let i = 0; i < n; i++) for (let c = 0; c < d; c++) axis[c] += ((w[i * d + c]! - mean[c]!) * vector[i]!) / Math.sqrt(value);
        return axis;
      });
      const project = (p: ArrayLike<number>, off = 0): [number, number] =>
        axes.map((a) => {
          let s = 0;
          for (let c = 0; c < d; c++) s += (p[off + c]! - mean[c]!) * a[c]!;
          return s;
        }) as [number, number];
      const gm = geometricMedian(w, n, d);
      const medianDistance = Array.from({ length: n }, (_, i) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += (w[i * d + c]! - gm[c]!) ** 2;
        return Math.sqrt(s);
      });
      let maxAbs = 0;
      for (const v of w) maxAbs = Math.max(maxAbs, Math.abs(v));
      return {
        spec: { ...spec },
        weights: w.slice(),
        maxAbs,
        norms,
        scores,
        distances,
        projection: Array.from({ length: n }, (_, i) => project(w, i * d)),
        median: project(gm),
        medianDistance,
        explained: total > 0 ? (eig[0]!.value + eig[1]!.value) / total : 0,
      };
    },

    /**
     * Soft vs hard pruning, live: zero the FPGM selection of one conv, then train a few steps with
     * the core trainer (Adam lr 1e-3, wd 5e-4 as SFP) — once letting the zeroed filters move (SFP),
     * once multiplying the hard mask back in after every step (fine-tuning).
     */
    async teachSoftHard(request: SoftHardRequest): Promise<SoftHardResult> {
      const spec = prunableConv(request.conv);
      const model = requireModel(getModel);
      const steps = Math.max(1, Math.min(8, Math.floor(request.steps)));
      const rate = request.rate;
      if (!(rate > 0 && rate < 1)) throw new StudioError('CONFIG_INVALID', `Rate ${rate} must be a fraction in (0, 1).`);
      ensureTrainingKernels();
      const t0 = performance.now();
      const size = 128;
      const batch = 2;
      const lr = 1e-3;
      const grouping = createGrouping('Teaching demo', [{ name: 'demo', modules: [spec.owner] }], 'teach-demo');
      const key = `${spec.name}.weight`;
      const train = syntheticSource(steps * batch, size, 11);
      const val = syntheticSource(1, size, 12);
      const config = { size, batchSize: batch, augment: false, lr, weightDecay: 5e-4, seed: 0, reportEvery: 1 };

      const run = async (mode: 'soft' | 'hard'): Promise<{ trace: SoftHardTrace; pruned: number[]; reselected: number[] }> => {
        const net: TrainableEResFD = createTrainableEResFD(model.stateDict);
        const mask = { current: null as ReturnType<typeof createHardMask> | null };
        const pending: tf.Tensor[] = [];
        const losses: number[] = [];
        try {
          const variable = net.params.get(key)!;
          // Both modes start from the same FPGM plan on the loaded weights.
          const plan = mode === 'soft' ? await softPrune(net.params, grouping, [rate]) : await planFpgmFromParams(net.params, grouping, [rate]);
          if (mode === 'hard') {
            applyPlanToVariables(net.params, plan);
            mask.current = createHardMask(plan);
          }
          const norms: number[][] = [await filterNorms(variable)];
          const trainer = createTrainer(net, train, val, config, {
            afterStep: () => {
              mask.current?.apply(net.params);
              pending.push(tf.keep(tf.sqrt(tf.sum(tf.square(variable), [0, 1, 2]))));
            },
            onProgress: (p) => losses.push(p.lossL + p.lossC),
          });
          try {
            await trainer.runEpoch(0);
          } finally {
            trainer.dispose();
          }
          for (const t of pending) norms.push(Array.from(await t.data()));
          const reselected = mode === 'soft' ? (await planFpgmFromParams(net.params, grouping, [rate])).convs.find((c) => c.key === key)!.pruned : [];
          return { trace: { norms, losses }, pruned: plan.convs.find((c) => c.key === key)!.pruned, reselected };
        } finally {
          tf.dispose(pending);
          mask.current?.dispose();
          net.dispose();
        }
      };

      const soft = await run('soft');
      const hard = await run('hard');
      return {
        conv: spec.name,
        filters: spec.outChannels,
        rate,
        steps,
        pruned: soft.pruned,
        soft: soft.trace,
        hard: hard.trace,
        reselected: soft.reselected,
        size,
        batch,
        lr,
        backend: tf.getBackend(),
        ms: performance.now() - t0,
      };
    },

    /** The Bayesian optimiser on the toy function after probing `xs`: posterior, UCB and the next probe. */
    teachGp(request: GpRequest): GpDemo {
      const kappa = request.kappa ?? search.DEFAULT_BAYES_OPT_CONFIG.kappa;
      const xs = request.xs.filter((x) => Number.isFinite(x) && x >= 0 && x <= 1);
      const observations = xs.map((x) => ({ x, y: toyObjective(x) }));
      const grid = Array.from({ length: GRID }, (_, i) => i / (GRID - 1));
      const optimizer = search.createBayesianOptimizer({ bounds: [[0, 1]], seed: 7, kappa, allowDuplicatePoints: true, nWarmup: 2000, lengthScaleBounds: GP_LENGTH_SCALE_BOUNDS });
      try {
        // Like bayes_opt's init_points: a few random probes before the GP takes over (its fit is
        // degenerate on one or two points). The UI probes exactly the points handed out, so the
        // first observations are these queued ones: pop them before registering.
        optimizer.queueRandom(GP_INIT_POINTS);
        for (let i = 0; i < Math.min(GP_INIT_POINTS, observations.length); i++) optimizer.skip(optimizer.next().x);
        for (const o of observations) optimizer.register([o.x], o.y);
        const suggestion = optimizer.next();
        let mean: number[] = [], std: number[] = [], ucb: number[] = [];
        let lengthScale: number | null = null;
        if (observations.length > 0) {
          // The optimiser's own GP: same data, the length scale it fitted (a zero-width search range).
          const fitted = optimizer.lastFit()?.lengthScale;
          const ls = fitted ?? search.DEFAULT_BAYES_OPT_CONFIG.lengthScale;
          const gp = search.fitGp(
            Float64Array.from(xs),
            observations.map((o) => o.y),
            xs.length,
            1,
            { alpha: search.DEFAULT_BAYES_OPT_CONFIG.alpha, lengthScale: ls, lengthScaleBounds: fitted ? [ls * (1 - 1e-12), ls * (1 + 1e-12)] : GP_LENGTH_SCALE_BOUNDS, nRestarts: fitted ? 0 : search.DEFAULT_BAYES_OPT_CONFIG.nRestarts },
            search.RandomState.fromSeed(7),
          );
          lengthScale = gp.lengthScale;
          const gx = Float64Array.from(grid);
          const m = new Float64Array(GRID), s = new Float64Array(GRID), u = new Float64Array(GRID);
          gp.predict(gx, GRID, m, s);
          search.ucbBatch(gp, gx, GRID, kappa, u);
          mean = Array.from(m);
          std = Array.from(s);
          ucb = Array.from(u);
        }
        const best = optimizer.best();
        return {
          grid,
          truth: grid.map(toyObjective),
          observations,
          mean,
          std,
          ucb,
          kappa,
          next: suggestion.x[0]!,
          nextSource: suggestion.source === 'suggest' ? 'suggest' : 'random',
          lengthScale,
          best: best ? { x: best.x[0]!, y: best.y } : null,
        };
      } finally {
        optimizer.dispose();
      }
    },
  };
}

export type TeachDemos = ReturnType<typeof createTeachDemos>;
