/** Pruning: layer groups, FPGM importance, plans, sparsity and masks (SPEC §3). */
export {
  CODE_GROUPING,
  RELEASED_GROUPING,
  COARSE_GROUPING,
  FINE_GROUPING,
  GROUPINGS,
  PRUNABLE_MODULES,
  canonicalModule,
  createGrouping,
  findGrouping,
  validateGrouping,
  groupConvs,
  groupIndexOfKey,
  groupStats,
  ownerOfKey,
  type Grouping,
  type GroupStats,
  type LayerGroup,
} from './layer-groups.ts';
export { fpgmScores, fpgmScoresTf } from './importance/fpgm.ts';
export {
  fpgmDistanceSums,
  fpgmDistanceSumsOps,
  fpgmDistanceSumsWebGpu,
  fpgmDistancesPath,
  ensureFpgmDistancesPath,
  type FpgmDistancesPath,
} from '../backend/kernels/fpgm-distances.ts';
export { FpgmDistancesProgram } from '../backend/kernels/fpgm-distances-webgpu.ts';
export { prunedCount, selectPrunedFilters, createFpgmPlanner, planFpgm, planFpgmTf, planFpgmFromParams, type FpgmPlanner } from './pruner.ts';
export {
  applyPlanToStateDict,
  applyPlanToVariables,
  convOfWeightKey,
  filterMask,
  planGroupSummary,
  validatePlan,
  validateRates,
  type PlannedConv,
  type PruningPlan,
} from './plan.ts';
export { createSparsityPredictor, predictSparsity, macsRemoved, type MacsRemoved } from './sparsity.ts';
export { isSoftPruneEpoch, softPrune, createHardMask, type HardMask } from './masks.ts';
