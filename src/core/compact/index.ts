/** Compaction: physically remove B-FPGM's zeroed filters (channel analysis, folding, compacted model, files). */
export {
  analyzeChannels,
  formatChannelReport,
  summarizeChannels,
  type ChannelSummary,
  isZeroFilter,
  BORDER_STRATEGIES,
  DEFAULT_BORDER_STRATEGY,
  type AnalyzeOptions,
  type BorderStrategy,
  type ChannelAnalysis,
  type ChannelSet,
  type ConvChannels,
} from './channel-dependencies.ts';
export { foldCompaction, type CompactConv, type CompactWeights } from './fold.ts';
export { foldNetwork, type FoldedNetwork } from '../model/eresfd/eresfd.ts';
export {
  compactEResFD,
  createCompactedModel,
  describeCompacted,
  type CompactedModel,
  type CompactDescription,
  type CompactConvInfo,
  type CompactOptions,
} from './compacted-model.ts';
export {
  serializeCompacted,
  loadCompacted,
  readCompacted,
  validateCompactTopology,
  COMPACT_FORMAT,
  COMPACT_FORMAT_VERSION,
  COMPACT_MODEL_FILE,
  COMPACT_WEIGHTS_FILE,
  type CompactManifest,
  type CompactConvTopology,
  type WeightEntry,
} from './serialize.ts';
export { inferenceGraph, fusionCoefficients, convOutputSize, isInferenceConv, type InferenceGraph, type GraphNode, type GraphValue } from './inference-graph.ts';
export { maxHeadDiff } from './verify.ts';
