/**
 * The only import path into the core. Isomorphic: TF.js and plain TypeScript, no DOM, no Node.
 * Entry points (worker, CLI, tests) register TF.js backends before calling selectBackend().
 */
export * from './types.ts';
export { StudioError, ERROR_CODES, isStudioError, restoreStudioError, type ErrorCode } from './errors.ts';
export { selectBackend, runSelfTest, DEFAULT_BACKEND_ORDER } from './backend/select-backend.ts';
export * from './checkpoint/index.ts';
export { createEResFD, type EResFDModel } from './model/eresfd/eresfd.ts';
export { describeModel, isParameterKey } from './model/eresfd/describe-model.ts';
export { timeForwards, timeForward, median, type ForwardTimes, type TimeForwardsOptions } from './model/time-forwards.ts';
export { CONVS, CONV_BY_NAME, featureSizes, headSizes, convMacs, totalMacs, type ConvSpec } from './model/eresfd/architecture.ts';
export { priorBoxes, priorCount, levelOffsets } from './model/eresfd/priors.ts';
export { detectFaces, detectAtScale, widerShrink, type DetectFacesOptions, type FaceModel } from './detect/detect-faces.ts';
export { detectRows, DEFAULT_DETECT_CONFIG, type DetectConfig } from './detect/detect.ts';
export { nonMaxSuppression } from './detect/non-max-suppression.ts';
export { decodeBoxes } from './detect/decode.ts';
export { normalizeImage, toRgb, flipHorizontal } from './image/normalize-image.ts';
export { resizeLinearCv, cvScaledSize } from './image/resize-linear.ts';
export { readImageHeader, checkImageSize, orientImage, type ImageHeader, type ExifOrientation } from './image/image-header.ts';
export { INPUT_LIMITS, type InputLimits } from './limits.ts';
export { inflateAllowance } from './util/inflate.ts';
export * from './prune/index.ts';
export * from './dataset/index.ts';
export * from './eval/index.ts';
export { detectWider, widerPasses, type WiderProtocol, type WiderPasses } from './detect/wider-protocol.ts';
export { predictWider, toWiderPredictionRows, type WiderImageRef, type PredictWiderOptions, type PredictWiderProgress } from './eval/predict-wider.ts';
export * from './compact/index.ts';
export * from './onnx/index.ts';
export * from './search/index.ts';
export { createTrainableEResFD, fromHwio, type TrainableEResFD } from './model/eresfd/trainable.ts';
export { createTrainer, validateTrainConfig, DEFAULT_TRAIN_CONFIG, type TrainConfig, type Trainer, type TrainerHooks, type TrainerState, type EpochRecord, type StepProgress } from './train/trainer.ts';
export { widerBoxes, subsetSource, type FaceSample, type SampleSource } from './train/sample-source.ts';
export { runTraining, trainingEpochsCsv, validateTrainingRunConfig, DEFAULT_TRAINING_RUN_CONFIG, FINAL_TRAINING_TAG, type TrainingRunConfig, type TrainingRunState, type TrainingEpochRow, type TrainingEvent, type RunTrainingOptions } from './train/run-training.ts';
export { registerWasmTrainingKernels } from './backend/conv-grad.ts';
export { registerWasmCopyKernels } from './backend/kernels/wasm-copy.ts';
export { registerCpuKernelFixes } from './backend/cpu-kernel-fixes.ts';
export { matchTargets, matchBatch, type BatchMatch, type MatchResult } from './loss/match.ts';
export { multiboxLoss, multiboxLossFromMatch, type MultiboxLossResult } from './loss/multibox-loss.ts';
export { createTorchAdam, type TorchAdam, type AdamState } from './train/adam.ts';
export { createTrainStep, type TrainBatch, type TrainStep } from './train/train-step.ts';
export { augmentTrain, planTrainAugmentation, renderTrainAugmentation, DEFAULT_TRAIN_AUGMENT_CONFIG, type TrainAugmentConfig } from './augment/augment-train.ts';
export { preprocessVal } from './augment/preprocess-val.ts';
export { createRng } from './util/random.ts';
export * from './pipeline/index.ts';
