/**
 * PyTorch checkpoint I/O for EResFD: read, validate and write torch.save zip checkpoints.
 * The zip and pickle layers (zip.ts, pickle.ts, pickle-writer.ts) stay internal.
 */
export { loadEResFDCheckpoint, readCheckpoint } from './read-checkpoint.ts';
export {
  writeCheckpoint,
  writeStateDict,
  DEFAULT_ARCHIVE_NAME,
  DEFAULT_LOCATION,
  type WriteCheckpointOptions,
  type WriteStateDictOptions,
} from './write-checkpoint.ts';
export {
  ALL_KEYS_IN_ORDER,
  EXPECTED_KEYS,
  EXPECTED_METADATA,
  canonicalKey,
  validateEResFDStateDict,
  type StateDictKeySpec,
} from './state-dict-map.ts';
export type { Checkpoint, CheckpointEntry, MetadataValue, ModuleMetadata } from './types.ts';
