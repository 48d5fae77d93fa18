/** Types shared by the checkpoint reader and writer (plain, structured-cloneable data). */
import type { HostTensor, StateDict } from '../types.ts';

export type MetadataValue = number | string | boolean | null;

/**
 * One entry of `state_dict._metadata`: a module prefix (`''` = the root) and its local metadata,
 * in practice `{ version: n }` (BatchNorm2d has version 2, everything else 1).
 */
export type ModuleMetadata = [module: string, local: Record<string, MetadataValue>];

export interface Checkpoint {
  /** Canonical keys only (aliases dropped), file order; every tensor owns its buffer. */
  stateDict: StateDict;
  /** All keys in file order, aliases included. */
  keys: string[];
  /** Alias key → canonical key (same storage, offset, shape and stride). */
  aliases: Record<string, string>;
  /** The zip's root folder (`ERES-299`, `ERes-Stop-9`, ...). */
  archiveName: string;
  /** `state_dict._metadata` when the file has it. */
  metadata?: ModuleMetadata[];
  /** Distinct storage locations in first-use order (`cuda:0` for the released checkpoints). */
  locations: string[];
}

/** One key as the writer lays it out. */
export interface CheckpointEntry {
  key: string;
  /** For an alias: the canonical key whose storage it shares (must come earlier). */
  aliasOf?: string | null;
  /** Tensor of a canonical key; ignored for aliases. */
  tensor?: HostTensor;
}
