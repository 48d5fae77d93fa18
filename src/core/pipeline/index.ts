/** Public API of the B-FPGM pipeline. */
export { DEFAULT_PIPELINE_CONFIG, REFERENCE_PIPELINE_CONFIG, validatePipelineConfig, estimatePipelineSeconds, type PipelineConfig, type PipelineConfigInput, type TargetKind } from './config.ts';
export { STAGES, trialsCsv, epochsCsv, type RunState, type TrialRecord, type EpochRow, type EvaluationRecord, type StageName } from './records.ts';
export { createMemoryRunStore, type RunStore } from './run-store.ts';
export { runPipeline, splitPool, createTrialRunner, type PipelineData, type PipelineEvent, type RunPipelineOptions, type TrialExecutor, type TrialOutcome, type TrialRequest } from './pipeline.ts';
export {
  createQueuedTrialExecutor, createTrialJobRunner, createTrialLedger, digestText, poolDigest, stateDictDigest, trialIdOf, validateTrialJob, validateTrialJobResult,
  type TrialJob, type TrialJobResult, type TrialLedger, type TrialQueue, type TrialWorkerPorts, type QueuedTrialExecutorOptions,
} from './trial-queue.ts';
export { parseTargets, sweepCsv, sweepMarkdown, sweepRow, sweepRunId, type SweepRow } from './sweep.ts';
