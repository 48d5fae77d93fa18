/** Public API of the B-FPGM pipeline. */
export { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig, pipelineConfigDifferences, type SettingDifference, type PipelineConfig, type PipelineConfigInput, type TargetKind, type TrialScore } from './config.ts';
export { STAGES, trialsCsv, epochsCsv, type RunState, type TrialRecord, type EpochRow, type EvaluationRecord, type StageName } from './records.ts';
export { checkRunRecord, createMemoryRunStore, loadRunWeights, type RunStore } from './run-store.ts';
export { runPipeline, splitPool, createTrialRunner, type PipelineData, type PipelineEvent, type RunPipelineOptions, type TrialExecutor, type TrialRequest } from './pipeline.ts';
export {
  createQueuedTrialExecutor, createTrialJobRunner, createTrialLedger, digestText, poolDigest, stateDictDigest, trialIdOf, validateTrialJob, validateTrialJobResult,
  type TrialJob, type TrialJobResult, type TrialLedger, type TrialQueue, type TrialWorkerPorts, type QueuedTrialExecutorOptions,
} from './trial-queue.ts';
export { parseTargets, sweepCsv, sweepMarkdown, sweepRow, sweepRunId, type SweepRow } from './sweep.ts';
export {
  AP_SETTINGS, judgeOutcome, pickReferences, releasedSparsity, sameMeasurement, LARGE_DROP, FAIR_DROP, DEAD_AP, RELEASED_GAP, RELEASED_SPARSITY_TOLERANCE,
  type ApScores, type MeasuredAp, type CandidateModel, type OutcomeReferences, type Verdict, type OutcomeInput, type Outcome,
} from './outcome.ts';
export { packRunFile, openRunFile, RUN_FILE_FORMAT, RUN_FILE_VERSION, RUN_FILE_SUFFIX, MAX_RUN_FILE_BYTES, type RunFile, type RunFileSource, type OpenedRunFile } from './run-file.ts';
export { estimatePipelineSeconds, planPipelineBudget, planPipelineBudgetByStage, poolSplitSizes, plannedTrials, type PipelineBudget, type PipelineBudgetBreakdown } from './budget.ts';
export { shortStamp, prunedModelName, oneShotModelName, trainedModelName, cleanModelName, modelFileName, MAX_MODEL_NAME } from './names.ts';
export { LAPTOP_RECIPE, PAPER_RECIPE, RECIPES, isRecipeName, type RecipeName } from './config.ts';
export { runTrial, type TrialContext, type TrialOutcome } from './trial.ts';
