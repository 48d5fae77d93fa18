/**
 * Public API of the B-FPGM search: a bayes_opt 1.4.3-compatible Bayesian optimiser (sklearn GP,
 * UCB, numpy MT19937 streams) and the SPEC §3.4 objective pieces. Pure TypeScript, isomorphic.
 *
 * The reference run (SPEC §3.4) in these terms:
 *
 *   const opt = createBayesianOptimizer({ bounds: groupBounds(target, 6), seed: B_FPGM_SEARCH.seed });
 *   await maximize({
 *     optimizer: opt, probes: [firstProbe(target, 6)],
 *     initPoints: B_FPGM_SEARCH.initPoints, nIter: B_FPGM_SEARCH.nIter,
 *     objective: async (rates) => (await evaluateCandidate({ sparsity, target, train })).objective,
 *     onTrial: (t) => save(opt.toJSON()),   // resume with bayesianOptimizerFromJSON(...)
 *   });
 *
 * A resumed run calls maximize again with no probes, initPoints 0 and
 * nIter = B_FPGM_SEARCH.nIter − opt.suggestionCount(); queued and in-flight points come first.
 */
export {
  createBayesianOptimizer,
  bayesianOptimizerFromJSON,
  maximize,
  validateBayesOptConfig,
  DEFAULT_BAYES_OPT_CONFIG,
  DuplicatePointError,
  BATCH_STRATEGIES,
} from './bayes-opt.ts';
export type {
  BatchStrategy,
  BayesOptConfig,
  BayesOptConfigInput,
  BayesOptState,
  BayesianOptimizer,
  MaximizeOptions,
  MaximizeResult,
  Observation,
  PointSource,
  Suggestion,
  Trial,
  TrialInfo,
} from './bayes-opt.ts';
export { fitGp, FittedGp, normalizeTargets } from './gaussian-process.ts';
export type { GpFitInfo, GpFitOptions } from './gaussian-process.ts';
export { acqMax, ucbBatch } from './acquisition.ts';
export type { AcqMaxOptions, AcqMaxResult } from './acquisition.ts';
export { minimizeBox } from './bounded-lbfgs.ts';
/** numpy's MT19937 `RandomState`: the stream `fitGp` / `acqMax` draw from (seeded like `random_state`). */
export { RandomState } from '../util/mt19937.ts';
export type { BoxMinimizeOptions, BoxMinimizeResult, ValueAndGradient } from './bounded-lbfgs.ts';
export {
  sparsityPenalty,
  sparsityFraction,
  objectiveValue,
  evaluateCandidate,
  isSkipped,
  groupBounds,
  firstProbe,
  B_FPGM_SEARCH,
  PENALTY_SKIP_THRESHOLD,
  PENALTY_WEIGHT,
  SKIPPED_OBJECTIVE,
  SPARSITY_TOLERANCE,
} from './penalty.ts';
