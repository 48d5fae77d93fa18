/** Public API of the B-FPGM pipeline. */
export { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig, estimatePipelineSeconds, type PipelineConfig, type PipelineConfigInput, type TargetKind, type TrialScore } from './config.ts';
export { STAGES, trialsCsv, epochsCsv, type RunState, type TrialRecord, type EpochRow, type EvaluationRecord, type StageName } from './records.ts';
export { createMemoryRunStore, type RunStore } from './run-store.ts';
export { runPipeline, splitPool, type PipelineData, type PipelineEvent, type RunPipelineOptions } from './pipeline.ts';
export { planPipelineBudget, planPipelineBudgetByStage, poolSplitSizes, plannedTrials, type PipelineBudget, type PipelineBudgetBreakdown } from './budget.ts';
export { LAPTOP_RECIPE, PAPER_RECIPE, RECIPES, isRecipeName, type RecipeName } from './recipe.ts';
export { runTrial, type TrialContext, type TrialOutcome } from './trial.ts';
