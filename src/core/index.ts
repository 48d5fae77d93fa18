/**
 * The compute entry of the core: what workers, the CLI, the platform adapters and end-to-end benchmarks
 * use — models, pruning, compaction, training, evaluation passes, the pipeline — plus everything of the
 * TF-free entry (`./data/index.ts`, the only core entry the UI thread may load). Isomorphic: TF.js and
 * plain TypeScript, no DOM, no Node. Entry points (worker, CLI, tests) register TF.js backends before
 * calling selectBackend(). Tests and micro-benchmarks import internals by path.
 */
export * from './data/index.ts';

// Backends and the kernels the studio registers on them.
export { selectBackend } from './backend/select-backend.ts';
export { registerWasmTrainingKernels } from './backend/conv-grad.ts';
export { registerBatchNormTrainKernels } from './backend/kernels/batch-norm-train.ts';
export { registerWasmCopyKernels } from './backend/kernels/wasm-copy.ts';
export { registerCpuKernelFixes } from './backend/cpu-kernel-fixes.ts';

// The model: checkpoints in and out, the network, its forward passes and their timing.
export { loadEResFDCheckpoint } from './checkpoint/read-checkpoint.ts';
export { writeCheckpoint } from './checkpoint/write-checkpoint.ts';
export { createEResFD, type EResFDModel } from './model/eresfd/eresfd.ts';
export { createTrainableEResFD, type TrainableEResFD } from './model/eresfd/trainable.ts';
export { describeModel } from './prune/describe-model.ts';
export { timeForwards, type ForwardTimes, type TimeForwardsOptions } from './detect/time-forwards.ts';
export { detectFaces, type DetectFacesOptions, type FaceModel } from './detect/detect-faces.ts';
export { predictWider, type PredictWiderOptions, type PredictWiderProgress } from './eval/predict-wider.ts';

// Pruning (SPEC §3): FPGM plans, their application, soft-pruning masks, sparsity.
export { planFpgm, planFpgmFromParams, createFpgmPlanner, type FpgmPlanner } from './prune/pruner.ts';
export { applyPlanToStateDict, applyPlanToVariables, planGroupSummary, type PruningPlan } from './prune/plan.ts';
export { createSparsityPredictor, macsRemoved, type MacsRemoved } from './prune/sparsity.ts';
export { softPrune, createHardMask, type HardMask } from './prune/masks.ts';

// Compaction and export.
export { compactEResFD, type CompactedModel } from './compact/compacted-model.ts';
export { rampInput } from './image/ramp-image.ts';
/** Compaction in detail: channel analysis and its report, compacted files, head checks. */
export * as compaction from './compact/index.ts';
export type { BorderStrategy } from './compact/channel-dependencies.ts';
/** ONNX export, and the layout ONNX Runtime takes its input in. */
export * as onnxExport from './onnx/index.ts';

// Bayesian search (SPEC §4): the optimiser, its GP and acquisition, the objective's pieces.
export * as search from './search/index.ts';
export type { BatchStrategy } from './search/bayes-opt.ts';
export { createRng } from './util/random.ts';

// Training.
export { createTrainer, type Trainer, type TrainerHooks, type TrainerState, type EpochRecord, type TrainConfig } from './train/trainer.ts';
/** A resumable fine-tuning run (a checkpoint trained on, epochs recorded, stored like a pipeline run). */
export * as trainingRun from './pipeline/run-training.ts';
export type { TrainingRunConfig, TrainingEpochRow, TrainingEvent, RunTrainingOptions } from './pipeline/run-training.ts';

// The B-FPGM pipeline and its trial queue.
export { runPipeline, splitPool, type PipelineData, type PipelineEvent, type RunPipelineOptions, type TrialExecutor, type TrialRequest } from './pipeline/pipeline.ts';
export { loadRunWeights } from './pipeline/run-store.ts';
/** Trials run by other processes through a queue (the CLI's coordinator and workers). */
export * as trialQueue from './pipeline/trial-queue.ts';
export type { TrialJob, TrialJobResult, TrialLedger, TrialQueue, TrialWorkerPorts, QueuedTrialExecutorOptions } from './pipeline/trial-queue.ts';
