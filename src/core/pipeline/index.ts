/** Public API of the B-FPGM pipeline. */
export { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig, estimatePipelineSeconds, pipelineConfigDifferences, type SettingDifference, type PipelineConfig, type PipelineConfigInput, type TargetKind } from './config.ts';
export { STAGES, trialsCsv, epochsCsv, type RunState, type TrialRecord, type EpochRow, type EvaluationRecord, type StageName } from './records.ts';
export { checkRunRecord, createMemoryRunStore, loadRunWeights, type RunStore } from './run-store.ts';
export { runPipeline, splitPool, type PipelineData, type PipelineEvent, type RunPipelineOptions } from './pipeline.ts';
