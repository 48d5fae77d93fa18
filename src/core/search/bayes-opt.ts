/**
 * Suggest/register Bayesian optimiser mirroring python `bayes_opt` 1.4.3 `BayesianOptimization`
 * with its defaults (UCB κ = 2.576, sklearn GP Matern 5/2, alpha 1e-6, normalize_y, 5 restarts,
 * acq_max with 10,000 warm-up points and 10 local refinements).
 *
 * Two RNG streams, as in the reference when `random_state` is an int: `BayesianOptimization`
 * and its `TargetSpace` each call `ensure_rng(random_state)`, so each owns a separate
 * `RandomState(seed)`.
 * - space stream: random points (`TargetSpace.random_sample`, one `uniform(lo, hi, size=1)` per
 *   dimension in bound order) for `init_points` and for a suggestion on an empty space;
 * - optimiser stream: per suggestion, the GP fit's `nRestarts` draws, then acq_max's
 *   `nWarmup·dim` and `nIter·dim` draws.
 * Hence `init_points` coordinates equal bayes_opt's for the same seed, and the warm-up candidate
 * sets coincide too. Local refinements (L-BFGS-B there, a projected quasi-Newton here) are not
 * bit-identical, so later suggestions agree only approximately with the reference.
 *
 * Batches (q points at once, for parallel trials): a GP suggestion made while other points are handed
 * out but not yet registered ("in flight") fits the GP to the observations plus one fantasy target per
 * in-flight point, so the q points of a batch spread out instead of piling onto one UCB maximum
 * (Ginsbourger, Le Riche & Carraro 2010, "Kriging is well-suited to parallelize optimization"):
 * - 'constant-liar' (default): every fantasy is the worst target seen so far (CL-min): pessimistic
 *   lies push later batch members away from pending points, which favours exploration;
 * - 'kriging-believer': each fantasy is the GP's posterior mean at that point, from a GP fitted to the
 *   real observations without length-scale restarts (so it draws nothing from the RNG). With fixed
 *   hyperparameters, believing the mean at one point leaves the mean elsewhere unchanged, so one fit
 *   serves every pending point.
 * With nothing in flight the GP path is untouched, so q = 1 (suggest, register, suggest…) reproduces
 * the sequential bayes_opt sequence bit for bit. A batch depends only on the optimiser state, never on
 * the order in which its results arrive, so a run is reproducible for a given seed and q.
 *
 * Duplicates: like bayes_opt (allow_duplicate_points=False), registering a point twice throws
 * `DuplicatePointError`; `maximize` instead reuses the cached value and moves on (what later
 * bayes_opt releases do in `TargetSpace.probe`) so a long run never dies on a repeated corner.
 */
import { StudioError } from '../errors.ts';
import { RandomState, type Mt19937State } from '../util/mt19937.ts';
import { acqMax } from './acquisition.ts';
import { fitGp, type FittedGp, type GpFitInfo } from './gaussian-process.ts';

export interface BayesOptConfig {
  /** [lower, upper] per dimension, in the order x values are given and returned. */
  bounds: Array<[number, number]>;
  /** `random_state` int seed, 0 ≤ seed < 2^32. Default 0 (B-FPGM's random_state=0). */
  seed: number;
  /** UCB exploration weight. Default 2.576. */
  kappa: number;
  /** Noise added to the GP kernel diagonal. Default 1e-6. */
  alpha: number;
  /** Random acquisition samples per suggestion. Default 10,000. */
  nWarmup: number;
  /** Local acquisition refinements per suggestion (acq_max's n_iter, not maximize's). Default 10. */
  nIter: number;
  /** GP length-scale restarts (n_restarts_optimizer). Default 5. */
  nRestarts: number;
  /** Random points `maximize` queues when not told otherwise (maximize's init_points). Default 5. */
  initPoints: number;
  /** Initial Matern length scale. Default 1.0. */
  lengthScale: number;
  /** Length-scale search bounds. Default [1e-5, 1e5]. */
  lengthScaleBounds: [number, number];
  /** Register repeated points instead of throwing. Default false (bayes_opt's default). */
  allowDuplicatePoints: boolean;
  /** Also refine the warm-up winner locally (not in 1.4.3). Default false. */
  refineWarmupBest: boolean;
  /** Fantasy targets for in-flight points when suggesting a batch. Default 'constant-liar'. */
  batchStrategy: BatchStrategy;
}

/** How a batch suggestion treats points handed out but not yet registered (see the file comment). */
export type BatchStrategy = 'constant-liar' | 'kriging-believer';
export const BATCH_STRATEGIES: readonly BatchStrategy[] = ['constant-liar', 'kriging-believer'];

export type BayesOptConfigInput = Pick<BayesOptConfig, 'bounds'> & Partial<Omit<BayesOptConfig, 'bounds'>>;

export const DEFAULT_BAYES_OPT_CONFIG: Readonly<Omit<BayesOptConfig, 'bounds'>> = Object.freeze({
  seed: 0,
  kappa: 2.576,
  alpha: 1e-6,
  nWarmup: 10_000,
  nIter: 10,
  nRestarts: 5,
  initPoints: 5,
  lengthScale: 1.0,
  lengthScaleBounds: Object.freeze([1e-5, 1e5]) as [number, number],
  allowDuplicatePoints: false,
  refineWarmupBest: false,
  batchStrategy: 'constant-liar',
});

function invalid(message: string): StudioError {
  return new StudioError('CONFIG_INVALID', message);
}

/** Fills defaults and checks every field; throws StudioError CONFIG_INVALID on the first problem. */
export function validateBayesOptConfig(input: BayesOptConfigInput): BayesOptConfig {
  if (input === null || typeof input !== 'object') throw invalid('Bayesian optimiser config must be an object');
  const cfg = {
    ...DEFAULT_BAYES_OPT_CONFIG,
    lengthScaleBounds: [...DEFAULT_BAYES_OPT_CONFIG.lengthScaleBounds],
    bounds: [],
  } as BayesOptConfig;
  const writable = cfg as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(input)) {
    if (key === 'bounds' || value === undefined) continue;
    // Unknown keys are typos (nwarmup, n_iter…) that would otherwise be ignored silently.
    if (!(key in DEFAULT_BAYES_OPT_CONFIG)) throw invalid(`unknown optimiser option "${key}"`);
    writable[key] = value;
  }
  if (!Array.isArray(input.bounds) || input.bounds.length === 0) {
    throw invalid('bounds must be a non-empty array of [lower, upper] pairs');
  }
  cfg.bounds = input.bounds.map((b, i) => {
    if (!Array.isArray(b) || b.length !== 2) throw invalid(`bounds[${i}] must be a [lower, upper] pair`);
    const [lo, hi] = b;
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) throw invalid(`bounds[${i}] must be finite numbers`);
    if (!(lo < hi)) throw invalid(`bounds[${i}]: lower ${lo} must be below upper ${hi}`);
    return [lo, hi] as [number, number];
  });
  if (!Number.isInteger(cfg.seed) || cfg.seed < 0 || cfg.seed > 0xffffffff) {
    throw invalid(`seed must be an integer in [0, 2^32 − 1], got ${cfg.seed}`);
  }
  if (!Number.isFinite(cfg.kappa) || cfg.kappa < 0) throw invalid(`kappa must be ≥ 0, got ${cfg.kappa}`);
  if (!Number.isFinite(cfg.alpha) || !(cfg.alpha > 0)) throw invalid(`alpha must be > 0, got ${cfg.alpha}`);
  for (const key of ['nWarmup', 'nIter', 'nRestarts', 'initPoints'] as const) {
    const v = cfg[key];
    if (!Number.isInteger(v) || v < 0) throw invalid(`${key} must be a non-negative integer, got ${v}`);
  }
  if (cfg.nWarmup === 0 && cfg.nIter === 0) throw invalid('nWarmup and nIter cannot both be 0');
  const lsb = cfg.lengthScaleBounds;
  if (!Array.isArray(lsb) || lsb.length !== 2 || !(lsb[0] > 0) || !(lsb[0] < lsb[1]) || !Number.isFinite(lsb[1])) {
    throw invalid('lengthScaleBounds must be [lower, upper] with 0 < lower < upper < ∞');
  }
  cfg.lengthScaleBounds = [lsb[0], lsb[1]];
  if (!(cfg.lengthScale >= lsb[0] && cfg.lengthScale <= lsb[1])) {
    throw invalid(`lengthScale ${cfg.lengthScale} must lie within lengthScaleBounds`);
  }
  if (typeof cfg.allowDuplicatePoints !== 'boolean') throw invalid('allowDuplicatePoints must be a boolean');
  if (typeof cfg.refineWarmupBest !== 'boolean') throw invalid('refineWarmupBest must be a boolean');
  if (!BATCH_STRATEGIES.includes(cfg.batchStrategy)) {
    throw invalid(`batchStrategy must be one of ${BATCH_STRATEGIES.join(', ')}, got ${String(cfg.batchStrategy)}`);
  }
  return cfg;
}

export class DuplicatePointError extends Error {
  constructor(readonly x: number[]) {
    super(`Data point [${x.join(', ')}] is not unique (allowDuplicatePoints is false)`);
    this.name = 'DuplicatePointError';
  }
}

export interface Observation {
  x: number[];
  y: number;
}

/** Where a handed-out point came from: a queued probe, a random point, or the GP. */
export type PointSource = 'probe' | 'random' | 'suggest';

export interface Suggestion {
  x: number[];
  source: PointSource;
}

interface QueuedPoint {
  x: number[];
  source: PointSource;
}

/** Everything needed to resume: JSON-safe (numbers, arrays, strings only). */
export interface BayesOptState {
  format: 'bfpgm-bayes-opt';
  version: 1;
  config: BayesOptConfig;
  observations: Observation[];
  queue: QueuedPoint[];
  /** Points handed out but not registered yet; they go back to the front of the queue on resume. */
  inFlight: QueuedPoint[];
  rng: { optimizer: Mt19937State; space: Mt19937State };
  suggestions: number;
}

export interface BayesianOptimizer {
  readonly config: Readonly<BayesOptConfig>;
  readonly dim: number;
  /** Queues a point to evaluate before any random or GP point (bayes_opt `probe(lazy=True)`). */
  probe(x: readonly number[]): void;
  /** Queues `count` random points drawn now from the space stream (bayes_opt `_prime_queue`). */
  queueRandom(count: number): void;
  /** Points waiting in the queue. */
  pending(): number;
  /** Next point to evaluate: the queue first, else a random point on an empty space, else the GP. */
  suggest(): number[];
  /** `suggest()` plus where the point came from. */
  next(): Suggestion;
  /**
   * q points to evaluate in parallel: `next()` q times, each GP point fitted with fantasy targets for
   * the points already in flight (`config.batchStrategy`). q = 1 is exactly `next()`.
   */
  nextBatch(q: number): Suggestion[];
  register(x: readonly number[], y: number): void;
  /** Drops a handed-out point without registering it (e.g. a duplicate resolved from the cache). */
  skip(x: readonly number[]): void;
  /** Target already registered at exactly x, if any. */
  lookup(x: readonly number[]): number | undefined;
  best(): Observation | null;
  observations(): Observation[];
  /** GP-driven suggestions made so far (bayes_opt counts these as maximize's n_iter). */
  suggestionCount(): number;
  /** Diagnostics of the GP fitted for the last GP suggestion. */
  lastFit(): GpFitInfo | null;
  toJSON(): BayesOptState;
  dispose(): void;
}

function keyOf(x: readonly number[]): string {
  // String(-0) is "0", matching Python's float hashing where -0.0 == 0.0.
  return x.map((v) => String(v)).join(',');
}

class Optimizer implements BayesianOptimizer {
  readonly config: Readonly<BayesOptConfig>;
  readonly dim: number;
  private readonly lows: number[];
  private readonly highs: number[];
  private optRng: RandomState;
  private spaceRng: RandomState;
  private xs: number[][] = [];
  private ys: number[] = [];
  private readonly cache = new Map<string, number>();
  private queue: QueuedPoint[] = [];
  private inFlight: QueuedPoint[] = [];
  private suggestions = 0;
  private fit: FittedGp | null = null;
  private disposed = false;

  constructor(config: BayesOptConfig, optRng: RandomState, spaceRng: RandomState) {
    this.config = Object.freeze({
      ...config,
      bounds: config.bounds.map((b) => Object.freeze([b[0], b[1]]) as [number, number]),
      lengthScaleBounds: Object.freeze([config.lengthScaleBounds[0], config.lengthScaleBounds[1]]) as [number, number],
    });
    this.dim = config.bounds.length;
    this.lows = config.bounds.map((b) => b[0]);
    this.highs = config.bounds.map((b) => b[1]);
    this.optRng = optRng;
    this.spaceRng = spaceRng;
  }

  private alive(): void {
    if (this.disposed) throw new Error('Bayesian optimiser has been disposed');
  }

  private checkPoint(x: readonly number[], what: string): number[] {
    if (!Array.isArray(x) && !ArrayBuffer.isView(x)) throw invalid(`${what} must be an array`);
    if (x.length !== this.dim) throw invalid(`${what} has ${x.length} values, expected ${this.dim}`);
    const out = Array.from(x, Number);
    for (const v of out) if (!Number.isFinite(v)) throw invalid(`${what} must contain finite numbers`);
    return out;
  }

  probe(x: readonly number[]): void {
    this.alive();
    this.queue.push({ x: this.checkPoint(x, 'probe point'), source: 'probe' });
  }

  private randomPoint(): number[] {
    const x = new Array<number>(this.dim);
    for (let j = 0; j < this.dim; j++) x[j] = this.spaceRng.uniform(this.lows[j]!, this.highs[j]!);
    return x;
  }

  queueRandom(count: number): void {
    this.alive();
    if (!Number.isInteger(count) || count < 0) {
      throw invalid(`random point count must be a non-negative integer, got ${count}`);
    }
    for (let i = 0; i < count; i++) this.queue.push({ x: this.randomPoint(), source: 'random' });
  }

  pending(): number {
    return this.queue.length;
  }

  suggest(): number[] {
    return this.next().x;
  }

  next(): Suggestion {
    this.alive();
    let item: QueuedPoint;
    const queued = this.queue.shift();
    if (queued) {
      item = queued;
    } else if (this.ys.length === 0) {
      item = { x: this.randomPoint(), source: 'random' };
    } else {
      item = { x: this.gpSuggest(), source: 'suggest' };
      this.suggestions++;
    }
    this.inFlight.push(item);
    return { x: item.x.slice(), source: item.source };
  }

  nextBatch(q: number): Suggestion[] {
    if (!Number.isInteger(q) || q < 1) throw invalid(`batch size must be a positive integer, got ${q}`);
    return Array.from({ length: q }, () => this.next());
  }

  /** In-flight points whose target is unknown, each once: the points a batch member must avoid. */
  private fantasyPoints(): number[][] {
    const seen = new Set<string>();
    const out: number[][] = [];
    for (const q of this.inFlight) {
      const key = keyOf(q.x);
      if (this.cache.has(key) || seen.has(key)) continue;
      seen.add(key);
      out.push(q.x);
    }
    return out;
  }

  private fitTo(xs: readonly number[][], ys: readonly number[], nRestarts: number): FittedGp {
    const n = ys.length;
    const d = this.dim;
    const xFlat = new Float64Array(n * d);
    for (let i = 0; i < n; i++) xFlat.set(xs[i]!, i * d);
    const cfg = this.config;
    return fitGp(
      xFlat,
      ys,
      n,
      d,
      { alpha: cfg.alpha, lengthScale: cfg.lengthScale, lengthScaleBounds: cfg.lengthScaleBounds, nRestarts },
      this.optRng,
    );
  }

  /** Fantasy targets for `points` (see the file comment for the two strategies). */
  private lies(points: number[][]): number[] {
    if (this.config.batchStrategy === 'constant-liar') return points.map(() => Math.min(...this.ys));
    const believer = this.fitTo(this.xs, this.ys, 0);
    const flat = new Float64Array(points.length * this.dim);
    points.forEach((x, i) => flat.set(x, i * this.dim));
    const mean = new Float64Array(points.length);
    believer.predict(flat, points.length, mean, new Float64Array(points.length));
    return Array.from(mean);
  }

  private gpSuggest(): number[] {
    const cfg = this.config;
    const fantasies = this.fantasyPoints();
    this.fit =
      fantasies.length === 0
        ? this.fitTo(this.xs, this.ys, cfg.nRestarts)
        : this.fitTo([...this.xs, ...fantasies], [...this.ys, ...this.lies(fantasies)], cfg.nRestarts);
    return acqMax(this.fit, this.lows, this.highs, this.optRng, {
      kappa: cfg.kappa,
      nWarmup: cfg.nWarmup,
      nIter: cfg.nIter,
      refineWarmupBest: cfg.refineWarmupBest,
    }).x;
  }

  private dropInFlight(key: string): void {
    const i = this.inFlight.findIndex((q) => keyOf(q.x) === key);
    if (i >= 0) this.inFlight.splice(i, 1);
  }

  register(x: readonly number[], y: number): void {
    this.alive();
    const xv = this.checkPoint(x, 'registered point');
    if (typeof y !== 'number' || !Number.isFinite(y)) throw invalid(`target must be a finite number, got ${y}`);
    const key = keyOf(xv);
    if (this.cache.has(key) && !this.config.allowDuplicatePoints) throw new DuplicatePointError(xv);
    this.xs.push(xv);
    this.ys.push(y);
    this.cache.set(key, y);
    this.dropInFlight(key);
  }

  skip(x: readonly number[]): void {
    this.alive();
    this.dropInFlight(keyOf(this.checkPoint(x, 'skipped point')));
  }

  lookup(x: readonly number[]): number | undefined {
    return this.cache.get(keyOf(x));
  }

  best(): Observation | null {
    if (this.ys.length === 0) return null;
    let b = 0;
    for (let i = 1; i < this.ys.length; i++) if (this.ys[i]! > this.ys[b]!) b = i;
    return { x: this.xs[b]!.slice(), y: this.ys[b]! };
  }

  observations(): Observation[] {
    return this.xs.map((x, i) => ({ x: x.slice(), y: this.ys[i]! }));
  }

  suggestionCount(): number {
    return this.suggestions;
  }

  lastFit(): GpFitInfo | null {
    return this.fit ? { ...this.fit.info } : null;
  }

  toJSON(): BayesOptState {
    this.alive();
    return {
      format: 'bfpgm-bayes-opt',
      version: 1,
      config: {
        ...this.config,
        bounds: this.config.bounds.map((b) => [b[0], b[1]] as [number, number]),
        lengthScaleBounds: [this.config.lengthScaleBounds[0], this.config.lengthScaleBounds[1]],
      },
      observations: this.observations(),
      queue: this.queue.map((q) => ({ x: q.x.slice(), source: q.source })),
      inFlight: this.inFlight.map((q) => ({ x: q.x.slice(), source: q.source })),
      rng: { optimizer: this.optRng.getState(), space: this.spaceRng.getState() },
      suggestions: this.suggestions,
    };
  }

  dispose(): void {
    this.disposed = true;
    this.fit = null;
    this.xs = [];
    this.ys = [];
    this.queue = [];
    this.inFlight = [];
    this.cache.clear();
  }

  /** Used by `bayesianOptimizerFromJSON` only. */
  restore(state: BayesOptState): void {
    for (const o of state.observations) this.register(o.x, o.y);
    // In-flight points were never evaluated: they are due first.
    this.queue = [...state.inFlight, ...state.queue].map((q) => {
      if (q.source !== 'probe' && q.source !== 'random' && q.source !== 'suggest') {
        throw invalid(`unknown queued point source ${String(q.source)}`);
      }
      return { x: this.checkPoint(q.x, 'queued point'), source: q.source };
    });
    this.inFlight = [];
    if (!Number.isInteger(state.suggestions) || state.suggestions < 0) {
      throw invalid('suggestions must be a non-negative integer');
    }
    this.suggestions = state.suggestions;
  }
}

export function createBayesianOptimizer(config: BayesOptConfigInput): BayesianOptimizer {
  const cfg = validateBayesOptConfig(config);
  return new Optimizer(cfg, RandomState.fromSeed(cfg.seed), RandomState.fromSeed(cfg.seed));
}

/** Rebuilds an optimiser from `toJSON()` output (object or JSON text). */
export function bayesianOptimizerFromJSON(json: BayesOptState | string): BayesianOptimizer {
  const state = (typeof json === 'string' ? JSON.parse(json) : json) as BayesOptState;
  if (!state || state.format !== 'bfpgm-bayes-opt' || state.version !== 1) {
    throw invalid('not a bfpgm-bayes-opt v1 optimiser state');
  }
  const cfg = validateBayesOptConfig(state.config);
  let optRng: RandomState;
  let spaceRng: RandomState;
  try {
    optRng = RandomState.fromState(state.rng.optimizer);
    spaceRng = RandomState.fromState(state.rng.space);
  } catch (e) {
    throw new StudioError('CONFIG_INVALID', `optimiser RNG state is corrupt: ${(e as Error).message}`, { cause: e });
  }
  const opt = new Optimizer(cfg, optRng, spaceRng);
  opt.restore(state);
  return opt;
}

export interface TrialInfo {
  /** 0-based trial number within this `maximize` call. */
  index: number;
  source: PointSource;
  signal?: AbortSignal;
}

export interface Trial extends TrialInfo {
  x: number[];
  y: number;
  /** True when x was already registered and its cached target was reused without evaluation. */
  duplicate: boolean;
  best: Observation;
}

export interface MaximizeOptions {
  optimizer: BayesianOptimizer;
  /**
   * Scores one point. With `batchSize` > 1 the q calls of a batch run concurrently (the objective
   * decides whether they really run in parallel: a job queue does, a local trainer queues them).
   */
  objective: (x: number[], info: TrialInfo) => Promise<number> | number;
  /** Random points after the probes. Default: the optimiser's `initPoints`. */
  initPoints?: number;
  /** GP suggestions in this call. Default 25 (bayes_opt's maximize default). */
  nIter?: number;
  /** Points evaluated first, in order (bayes_opt `probe(lazy=True)` before `maximize`). */
  probes?: ReadonlyArray<readonly number[]>;
  /**
   * q: points handed out at once and evaluated before any of them is registered. Default 1, which is
   * bayes_opt's sequential loop.
   */
  batchSize?: number;
  signal?: AbortSignal;
  /** A batch was handed out (the optimiser's state now lists it in flight) and is about to be scored. */
  onBatch?: (batch: ReadonlyArray<TrialInfo & { x: number[] }>) => void | Promise<void>;
  onTrial?: (trial: Trial) => void | Promise<void>;
}

export interface MaximizeResult {
  best: Observation | null;
  trials: number;
}

/**
 * bayes_opt 1.4.3 `maximize`: queue the probes, prime the queue with `initPoints` random points
 * (at least one when nothing is queued or known), then evaluate queued points first and GP
 * suggestions until `nIter` of those were made in this call. With `batchSize` q > 1, q points are
 * handed out together (see `nextBatch`), scored concurrently and registered in hand-out order, so the
 * result does not depend on which evaluation finishes first. Aborting throws the signal's reason
 * before the next batch is handed out; the optimiser state stays resumable.
 */
export async function maximize(options: MaximizeOptions): Promise<MaximizeResult> {
  const { optimizer, objective, signal, onTrial, onBatch } = options;
  const nIter = options.nIter ?? 25;
  const q = options.batchSize ?? 1;
  let initPoints = options.initPoints ?? optimizer.config.initPoints;
  if (!Number.isInteger(nIter) || nIter < 0) throw invalid(`nIter must be a non-negative integer, got ${nIter}`);
  if (!Number.isInteger(q) || q < 1) throw invalid(`batchSize must be a positive integer, got ${q}`);
  if (!Number.isInteger(initPoints) || initPoints < 0) {
    throw invalid(`initPoints must be a non-negative integer, got ${initPoints}`);
  }
  signal?.throwIfAborted();
  for (const p of options.probes ?? []) optimizer.probe(p);
  if (optimizer.pending() === 0 && optimizer.observations().length === 0) initPoints = Math.max(initPoints, 1);
  optimizer.queueRandom(initPoints);

  const allowDuplicates = optimizer.config.allowDuplicatePoints;
  let iteration = 0;
  let trials = 0;
  while (optimizer.pending() > 0 || iteration < nIter) {
    signal?.throwIfAborted();
    const batch: Array<TrialInfo & { x: number[] }> = [];
    while (batch.length < q && (optimizer.pending() > 0 || iteration < nIter)) {
      const fromQueue = optimizer.pending() > 0;
      const { x, source } = optimizer.next();
      if (!fromQueue) iteration++;
      batch.push({ index: trials + batch.length, source, ...(signal ? { signal } : {}), x });
    }
    if (onBatch) await onBatch(batch);
    // A point already known (or repeated earlier in this batch) reuses that target instead of a trial.
    const keys = new Set<string>();
    const isDuplicate = batch.map(({ x }) => {
      const key = keyOf(x);
      const dup = !allowDuplicates && (optimizer.lookup(x) !== undefined || keys.has(key));
      keys.add(key);
      return dup;
    });
    const settled = await Promise.allSettled(
      batch.map(({ x, ...info }, i) => (isDuplicate[i] ? null : objective(x.slice(), info))),
    );
    const failure = settled.find((r) => r.status === 'rejected');
    if (failure) throw (failure as PromiseRejectedResult).reason;
    for (const [i, { x, ...info }] of batch.entries()) {
      let y: number;
      if (isDuplicate[i]) {
        y = optimizer.lookup(x)!;
        optimizer.skip(x);
      } else {
        y = (settled[i] as PromiseFulfilledResult<number>).value;
        optimizer.register(x, y);
      }
      trials++;
      if (onTrial) await onTrial({ ...info, x, y, duplicate: isDuplicate[i]!, best: optimizer.best()! });
    }
  }
  return { best: optimizer.best(), trials };
}
