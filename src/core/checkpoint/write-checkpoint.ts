/**
 * Writes checkpoints that torch.load reads like the released B-FPGM files. Mirrors
 * `torch.serialization._save` (torch 1.x zip format): `<root>/data.pkl` first, then one
 * `<root>/data/<key>` record per storage in sorted key order, then `<root>/version` = "3\n";
 * storage keys are numbered in order of first use, and aliases reuse their canonical key's storage
 * so torch.load gives both names one tensor, as the original model's state_dict() did.
 */
import { StudioError } from '../errors.ts';
import type { HostTensor, StateDict } from '../types.ts';
import { pickleStateDict, type PickledTensor } from './pickle-writer.ts';
import { ALL_KEYS_IN_ORDER, EXPECTED_METADATA, validateEResFDStateDict } from './state-dict-map.ts';
import type { CheckpointEntry, ModuleMetadata } from './types.ts';
import { writeTorchZip, type ZipRecord } from './zip.ts';

export interface WriteCheckpointOptions {
  /** Root folder inside the zip (torch uses the file name's stem). Default `bfpgm-studio`. */
  archiveName?: string;
  /**
   * Storage location tag. Default `cuda:0`, as in every released checkpoint: scripts written for
   * those files (`torch.load(path)` without map_location, then CUDA use) then behave exactly the
   * same on ours, and `map_location='cpu'` works on both. Pass `cpu` for CPU-only consumers that
   * call torch.load without map_location.
   */
  location?: string;
}

export interface WriteStateDictOptions extends WriteCheckpointOptions {
  /** `state_dict._metadata` entries; omitted → no `_metadata` (torch then assumes version 1 everywhere). */
  metadata?: readonly ModuleMetadata[];
}

export const DEFAULT_ARCHIVE_NAME = 'bfpgm-studio';
export const DEFAULT_LOCATION = 'cuda:0';
/** `kProducedFileFormatVersion` of torch 1.x. */
const FILE_FORMAT_VERSION = '3\n';
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function invalid(message: string): StudioError {
  return new StudioError('CONFIG_INVALID', message);
}

function littleEndianBytes(t: HostTensor): Uint8Array {
  if (LITTLE_ENDIAN_HOST) return new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out = new Uint8Array(t.data.byteLength);
  const dv = new DataView(out.buffer);
  if (t.data instanceof Float32Array) t.data.forEach((v, i) => dv.setFloat32(i * 4, v, true));
  else t.data.forEach((v, i) => dv.setBigInt64(i * 8, v, true));
  return out;
}

/**
 * Writes any state dict of float32/int64 tensors, in the given key order, with aliases sharing the
 * storage of an earlier canonical key.
 */
export function writeStateDict(entries: readonly CheckpointEntry[], opts: WriteStateDictOptions = {}): Uint8Array {
  const archiveName = opts.archiveName ?? DEFAULT_ARCHIVE_NAME;
  const location = opts.location ?? DEFAULT_LOCATION;
  if (!/^[^/\\\0]+$/.test(archiveName) || archiveName === '.' || archiveName === '..') {
    throw invalid(`Archive name "${archiveName}" must be a non-empty folder name without slashes.`);
  }
  if (!/^(cpu|cuda:\d+|cuda|mps|meta)$/.test(location)) throw invalid(`Storage location "${location}" is not a torch device tag.`);

  const pickled: PickledTensor[] = [];
  const storageOf = new Map<string, { storageKey: string; tensor: HostTensor }>();
  const records: ZipRecord[] = [];
  const storageRecords: Array<{ key: string; data: Uint8Array }> = [];
  for (const e of entries) {
    if (e.aliasOf) {
      const target = storageOf.get(e.aliasOf);
      if (!target) throw invalid(`Alias ${e.key} points at ${e.aliasOf}, which is not an earlier canonical key.`);
      storageOf.set(e.key, target);
      const t = target.tensor;
      pickled.push({ key: e.key, dtype: t.dtype, shape: t.shape, storageKey: target.storageKey, storageNumel: t.data.length, location });
      continue;
    }
    const t = e.tensor;
    if (!t) throw invalid(`Key ${e.key} has no tensor.`);
    const numel = t.shape.reduce((a, b) => a * b, 1);
    const arrayOk = t.dtype === 'float32' ? t.data instanceof Float32Array : t.data instanceof BigInt64Array;
    if (!arrayOk || t.data.length !== numel) {
      throw new StudioError('CHECKPOINT_ARCHITECTURE', `Tensor ${e.key}: ${t.data.length} ${t.dtype} values do not fill shape [${t.shape.join(',')}].`);
    }
    const storageKey = String(storageRecords.length);
    storageOf.set(e.key, { storageKey, tensor: t });
    storageRecords.push({ key: storageKey, data: littleEndianBytes(t) });
    pickled.push({ key: e.key, dtype: t.dtype, shape: t.shape, storageKey, storageNumel: numel, location });
  }
  records.push({ name: `${archiveName}/data.pkl`, data: pickleStateDict(pickled, opts.metadata) });
  // torch writes `for key in sorted(serialized_storages)`: string order, '10' before '2'.
  storageRecords.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  for (const s of storageRecords) records.push({ name: `${archiveName}/data/${s.key}`, data: s.data });
  records.push({ name: `${archiveName}/version`, data: new TextEncoder().encode(FILE_FORMAT_VERSION) });
  return writeTorchZip(records);
}

/**
 * Writes an EResFD state dict as a B-FPGM-compatible checkpoint: all 920 keys in the original order
 * (aliases sharing their canonical tensor's storage) and the original `_metadata`. Throws
 * CHECKPOINT_ARCHITECTURE when `sd` is not a complete EResFD state dict.
 */
export function writeCheckpoint(sd: StateDict, opts: WriteCheckpointOptions = {}): Uint8Array {
  validateEResFDStateDict(sd);
  const entries: CheckpointEntry[] = ALL_KEYS_IN_ORDER.map((k) =>
    k.aliasOf ? { key: k.key, aliasOf: k.aliasOf } : { key: k.key, tensor: sd.get(k.key)! },
  );
  return writeStateDict(entries, { ...opts, metadata: EXPECTED_METADATA });
}
