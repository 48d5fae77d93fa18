/**
 * The TF-free entry of the core: types, errors, groupings, configs and their validation, run records and
 * pure helpers. Its whole runtime import graph stays clear of `@tensorflow/*` (tests/core/public-api.test.ts
 * walks it), so the UI thread can import it without loading TF.js. Compute (models, pruning, training,
 * evaluation passes) lives behind `src/core/index.ts`, which re-exports this entry too.
 */
export type { HostTensor, StateDict, RgbImage, Detection, BackendName, BackendProbe, BackendSelection, GroupInfo, ModelInfo, DetectResult } from '../types.ts';
export { BACKEND_NAMES } from '../types.ts';
export { StudioError, ERROR_CODES, isStudioError, restoreStudioError, type ErrorCode } from '../errors.ts';
export { INPUT_LIMITS, type InputLimits } from '../limits.ts';
export { inflateAllowance } from '../util/inflate.ts';

// Groupings and the search bounds of their rates (SPEC §3).
export {
  GROUPINGS,
  BUILTIN_GROUP_COUNTS,
  type BuiltinGroupingId,
  PRUNABLE_MODULES,
  findGrouping,
  createGrouping,
  validateGrouping,
  groupStats,
  type Grouping,
  type GroupStats,
  type LayerGroup,
} from '../prune/layer-groups.ts';
export { maxRate } from '../search/penalty.ts';
export { CONVS, CONV_BY_NAME, STAGE_BLOCKS, totalMacs, type ConvSpec } from '../model/eresfd/architecture.ts';

// Pipeline configs, budgets, records, names and outcome verdicts.
export {
  DEFAULT_PIPELINE_CONFIG,
  REFERENCE_PIPELINE_CONFIG,
  validatePipelineConfig,
  isRecipeName,
  type RecipeName,
  type PipelineConfig,
  type PipelineConfigInput,
  type SettingDifference,
  type TargetKind,
  type TrialScore,
} from '../pipeline/config.ts';
export { estimatePipelineSeconds, planPipelineBudget, planPipelineBudgetByStage, plannedTrials, type PipelineBudget, type PipelineBudgetBreakdown } from '../pipeline/budget.ts';
export { trialsCsv, epochsCsv, type RunState, type TrialRecord, type EpochRow, type EvaluationRecord, type StageName } from '../pipeline/records.ts';
/** Names and file names of models the studio makes (pruned, one-shot, trained), and their cleaning. */
export * as modelNames from '../pipeline/names.ts';
/** The run file: one finished run, packed to share and opened again. */
export * as runFile from '../pipeline/run-file.ts';
export type { RunFile, RunFileSource, OpenedRunFile } from '../pipeline/run-file.ts';
/** A sweep: one pipeline run per target, tabulated. */
export * as sweep from '../pipeline/sweep.ts';
export type { SweepRow } from '../pipeline/sweep.ts';
export {
  judgeOutcome,
  pickReferences,
  sameMeasurement,
  type ApScores,
  type MeasuredAp,
  type CandidateModel,
  type OutcomeReferences,
  type Verdict,
  type OutcomeInput,
  type Outcome,
} from '../pipeline/outcome.ts';

// WIDER FACE annotations, image headers and the evaluation protocol's scoring (SPEC §5).
/** The WIDER FACE files: annotation lists and .mat ground truth, image keys, the subsets trials train on. */
export * as wider from '../dataset/index.ts';
export type { WiderEntry, WiderFace, ParseBbxGtOptions } from '../dataset/parse-bbx-gt.ts';
export { widerImageKey, type WiderGroundTruth, type WiderGtImage, type WiderGtFiles, type WiderSetting } from '../dataset/wider-ground-truth.ts';
export type { SelectSubsetOptions } from '../dataset/select-subset.ts';
/** Image headers (size, EXIF orientation) read before decoding, and the size check. */
export * as imageHeader from '../image/image-header.ts';
/** The zip central-directory reader shared by the checkpoint reader and the WIDER importer (TF-free). */
export * as zipDirectory from '../util/zip-directory.ts';
export type { ImageHeader, ExifOrientation } from '../image/image-header.ts';
export {
  evaluateWider,
  imageOutcomeAt,
  matchImage,
  type EvaluateWiderOptions,
  type ImageMatch,
  type ImageOutcome,
  type PrCurve,
  type PredictionOutcome,
  type WiderEvaluation,
  type WiderPrediction,
  type WiderPredictions,
} from '../eval/evaluate-wider.ts';
export { parsePredictionTxt, type PredictionTxt } from '../eval/prediction-txt.ts';
/** Training samples: WIDER boxes, subsets of a source, and their TF-free preparation (a worker can run it). */
export * as samples from '../train/samples.ts';
export type { FaceSample, SampleSource, PrepareSpec, PreparedSample, SamplePreparer } from '../train/sample-source.ts';

// Plain data types declared next to compute code; type-only, so erased from the runtime graph.
export type { WiderProtocol } from '../detect/wider-protocol.ts';
export type { WiderImageRef } from '../eval/predict-wider.ts';
export type { StepProgress } from '../train/trainer.ts';
export type { TrainingRunState } from '../pipeline/run-training.ts';
export type { AdamState } from '../train/adam.ts';
export type { RunStore } from '../pipeline/run-store.ts';
