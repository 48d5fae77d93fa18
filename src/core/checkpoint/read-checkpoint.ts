/**
 * Reads a `torch.save(state_dict)` checkpoint (PyTorch ≥1.6 zip format) without Python: mirrors
 * `torch.serialization._load` for the zip format — archive root taken from the records, `data.pkl`
 * unpickled with persistent ids resolved to `<root>/data/<key>` records, one storage per key (so
 * keys sharing a storage are aliases, as after torch.load) — but with the restricted unpickler
 * of pickle.ts, and tensors copied out of the file into their own buffers.
 */
import { StudioError } from '../errors.ts';
import { INPUT_LIMITS } from '../limits.ts';
import type { HostTensor, StateDict } from '../types.ts';
import { describePyValue, unpickle, type PyDict, type PyValue } from './pickle.ts';
import { validateEResFDStateDict } from './state-dict-map.ts';
import type { Checkpoint, MetadataValue, ModuleMetadata } from './types.ts';
import { readZip, readZipEntry, type ZipArchive } from './zip.ts';

type Dtype = HostTensor['dtype'];

interface LoadedStorage {
  key: string;
  dtype: Dtype;
  location: string;
  numel: number;
  /** View into the archive (unaligned in general: copy before viewing as wider types). */
  bytes: Uint8Array;
}

const STORAGE_DTYPES: Record<string, Dtype> = { FloatStorage: 'float32', LongStorage: 'int64' };
const ELEMENT_SIZE: Record<Dtype, number> = { float32: 4, int64: 8 };
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function detectForeignFormat(bytes: Uint8Array): void {
  // torch.save before 1.6 (or _use_new_zipfile_serialization=False) writes a bare pickle stream
  // starting with a protocol-2 pickle of its magic number; torch ≤0.3 wrote a tar.
  if (bytes.length >= 2 && bytes[0] === 0x80 && bytes[1]! >= 1 && bytes[1]! <= 5) {
    throw new StudioError(
      'CHECKPOINT_NOT_ZIP',
      'This is the legacy non-zip PyTorch format (torch.save before 1.6 or with _use_new_zipfile_serialization=False), not a zip checkpoint.',
    );
  }
  if (bytes.length >= 262 && String.fromCharCode(...bytes.subarray(257, 262)) === 'ustar') {
    throw new StudioError('CHECKPOINT_NOT_ZIP', 'This is a tar archive (the pre-0.4 PyTorch format), not a zip checkpoint.');
  }
}

/**
 * torch.jit.save archives also hold a data.pkl, but of `__torch__` module objects: say what the file
 * is instead of letting the unpickler call it unsafe. Their marks: `<root>/code/` (the compiled
 * Python) and `<root>/constants.pkl`, which torch.save never writes.
 */
function detectTorchScript(zip: ZipArchive): void {
  const marker = zip.entries.find((e) => /^[^/]+\/(code\/|constants\.pkl$)/.test(e.name));
  if (marker) {
    throw new StudioError(
      'TORCHSCRIPT_ARCHIVE',
      `This is a TorchScript archive (torch.jit.save: it holds ${marker.name}), not a torch.save state dict; the studio reads state dicts only.`,
    );
  }
}

/** torch's reader takes the archive root from the first record's folder. */
function findArchiveRoot(zip: ZipArchive): string {
  const first = zip.entries[0]?.name ?? '';
  const slash = first.indexOf('/');
  const candidates = slash > 0 ? [first.slice(0, slash)] : [];
  for (const e of zip.entries) {
    const m = /^([^/]+)\/data\.pkl$/.exec(e.name);
    if (m) candidates.push(m[1]!);
  }
  const root = candidates.find((c) => zip.byName.has(`${c}/data.pkl`));
  if (root !== undefined) return root;
  const names = zip.entries.map((e) => e.name);
  const shown = names.slice(0, 5).join(', ') + (names.length > 5 ? ', …' : '');
  throw new StudioError(
    'CHECKPOINT_NO_PICKLE',
    `The zip has no <archive>/data.pkl record (${names.length} entries${names.length ? `: ${shown}` : ''}).`,
  );
}

function isDict(v: PyValue | undefined): v is PyDict {
  return v !== null && typeof v === 'object' && v.type === 'dict';
}

function readMetadata(root: PyDict): ModuleMetadata[] | undefined {
  const md = root.state?.get('_metadata');
  if (!isDict(md)) return undefined;
  const out: ModuleMetadata[] = [];
  for (const [module, local] of md.items) {
    if (typeof module !== 'string' || !isDict(local)) continue;
    const rec: Record<string, MetadataValue> = {};
    for (const [k, v] of local.items) {
      if (typeof k === 'string' && (v === null || ['number', 'string', 'boolean'].includes(typeof v))) rec[k] = v as MetadataValue;
    }
    out.push([module, rec]);
  }
  return out;
}

/** Copies one tensor out of its storage: a plain byte copy when contiguous, a strided gather otherwise. */
function materialize(key: string, s: LoadedStorage, offset: number, shape: readonly number[], stride: readonly number[]): HostTensor {
  const numel = shape.reduce((a, b) => a * b, 1);
  const es = ELEMENT_SIZE[s.dtype];
  const Ctor = s.dtype === 'float32' ? Float32Array : BigInt64Array;
  // Also bounds the allocation below: a broadcast view (stride 0) could otherwise claim any size.
  if (numel > s.numel) {
    throw new StudioError('CHECKPOINT_CORRUPT', `Tensor ${key} has ${numel} elements, more than its ${s.numel}-element storage.`);
  }
  if (numel > 0) {
    const last = shape.reduce((acc, d, i) => acc + (d - 1) * stride[i]!, offset);
    if (last >= s.numel) {
      throw new StudioError('CHECKPOINT_CORRUPT', `Tensor ${key} reaches element ${last} of a ${s.numel}-element storage.`);
    }
  }
  let contiguous = true;
  for (let i = shape.length - 1, expect = 1; i >= 0; i--) {
    if (shape[i] !== 1 && stride[i] !== expect) contiguous = false;
    expect *= shape[i]!;
  }
  const out = new Ctor(numel);
  if (numel === 0) return { dtype: s.dtype, shape: [...shape], data: out };
  if (contiguous && LITTLE_ENDIAN_HOST) {
    // Byte copy into the fresh, aligned buffer of `out`; no per-element work.
    new Uint8Array(out.buffer).set(s.bytes.subarray(offset * es, (offset + numel) * es));
    return { dtype: s.dtype, shape: [...shape], data: out };
  }
  // Rare path (views saved without .contiguous(), or a big-endian host): element by element.
  const dv = new DataView(s.bytes.buffer, s.bytes.byteOffset, s.bytes.byteLength);
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let n = 0; n < numel; n++) {
    if (s.dtype === 'float32') (out as Float32Array)[n] = dv.getFloat32(src * 4, true);
    else (out as BigInt64Array)[n] = dv.getBigInt64(src * 8, true);
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++index[d]! < shape[d]!) {
        src += stride[d]!;
        break;
      }
      src -= (shape[d]! - 1) * stride[d]!;
      index[d] = 0;
    }
  }
  return { dtype: s.dtype, shape: [...shape], data: out };
}

/**
 * Parses a PyTorch zip checkpoint holding a state dict of float32/int64 tensors. Architecture is
 * not checked here: an EResFD model is loaded with {@link loadEResFDCheckpoint}.
 *
 * Throws StudioError: CHECKPOINT_NOT_ZIP (legacy/foreign file), CHECKPOINT_CORRUPT (truncated,
 * bad offsets, CRC), CHECKPOINT_NO_PICKLE, CHECKPOINT_UNSAFE_PICKLE (foreign global or opcode),
 * CHECKPOINT_UNSUPPORTED (other dtypes, non-tensor values), TORCHSCRIPT_ARCHIVE, CHECKPOINT_LIMIT
 * (a resource limit of INPUT_LIMITS).
 */
export function readCheckpoint(bytes: Uint8Array): Checkpoint {
  detectForeignFormat(bytes);
  const zip = readZip(bytes);
  detectTorchScript(zip);
  const archiveName = findArchiveRoot(zip);
  const storages = new Map<string, LoadedStorage>();
  // What the storages may inflate to together (each entry is also capped on its own in readZipEntry).
  let inflated = 0;

  const persistentLoad = (pid: PyValue, at: number): PyValue => {
    const bad = (why: string) => new StudioError('CHECKPOINT_CORRUPT', `data.pkl: bad persistent id at byte ${at}: ${why}.`);
    if (pid === null || typeof pid !== 'object' || pid.type !== 'tuple') throw bad(`expected a tuple, got ${describePyValue(pid)}`);
    const [tag, type, key, location, numel] = pid.items;
    if (pid.items.length !== 5 || tag !== 'storage') throw bad(`expected ('storage', type, key, location, numel)`);
    if (type === null || typeof type !== 'object' || type.type !== 'global' || type.module !== 'torch' || !(type.name in STORAGE_DTYPES)) {
      throw bad(`storage type ${describePyValue(type ?? null)}`);
    }
    if (typeof key !== 'string' || typeof location !== 'string') throw bad('key and location must be strings');
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) throw bad(`storage size ${String(numel)}`);
    const dtype = STORAGE_DTYPES[type.name]!;
    let s = storages.get(key);
    if (s) {
      if (s.dtype !== dtype || s.numel !== numel) throw bad(`storage ${key} is declared twice with different types`);
    } else {
      const name = `${archiveName}/data/${key}`;
      const entry = zip.byName.get(name);
      if (!entry) throw new StudioError('CHECKPOINT_CORRUPT', `Storage record ${name} is missing.`);
      // torch writes exactly numel · itemsize bytes; checked on the declared size, before inflating.
      const expected = numel * ELEMENT_SIZE[dtype];
      if (entry.size !== expected) {
        throw new StudioError('CHECKPOINT_CORRUPT', `Storage record ${name} holds ${entry.size} bytes, ${numel} × ${dtype} = ${expected} expected.`);
      }
      if (entry.method !== 0 && (inflated += entry.size) > INPUT_LIMITS.zipTotalBytes) {
        throw new StudioError('CHECKPOINT_LIMIT', `The storages inflate to more than ${INPUT_LIMITS.zipTotalBytes} bytes together.`);
      }
      const data = readZipEntry(zip, entry);
      s = { key, dtype, location, numel, bytes: data };
      storages.set(key, s);
    }
    return { type: 'external', value: s };
  };

  const root = unpickle(readZipEntry(zip, `${archiveName}/data.pkl`), { persistentLoad });
  if (!isDict(root)) {
    throw new StudioError('CHECKPOINT_UNSUPPORTED', `data.pkl holds a ${describePyValue(root)}, not a state dict.`);
  }

  const stateDict: StateDict = new Map();
  const keys: string[] = [];
  const aliases: Record<string, string> = {};
  const byView = new Map<string, string>();
  const locations: string[] = [];
  for (const [key, value] of root.items) {
    if (typeof key !== 'string') throw new StudioError('CHECKPOINT_UNSUPPORTED', `State dict key ${String(key)} is not a string.`);
    if (value === null || typeof value !== 'object' || value.type !== 'tensor') {
      throw new StudioError('CHECKPOINT_UNSUPPORTED', `State dict entry ${key} holds a ${describePyValue(value)}, not a tensor.`);
    }
    const ext = value.storage;
    if (ext === null || typeof ext !== 'object' || ext.type !== 'external') {
      throw new StudioError('CHECKPOINT_CORRUPT', `Tensor ${key} has no storage.`);
    }
    const s = ext.value as LoadedStorage;
    keys.push(key);
    if (!locations.includes(s.location)) locations.push(s.location);
    // torch.load gives keys with one storage the same memory; same offset, shape and stride make
    // them the same tensor under two names.
    const view = `${s.key}|${value.offset}|${value.shape.join(',')}|${value.stride.join(',')}`;
    const canonical = byView.get(view);
    if (canonical !== undefined) {
      aliases[key] = canonical;
      continue;
    }
    byView.set(view, key);
    stateDict.set(key, materialize(key, s, value.offset, value.shape, value.stride));
  }
  const metadata = readMetadata(root);
  return { stateDict, keys, aliases, archiveName, locations, ...(metadata ? { metadata } : {}) };
}

/**
 * The one entry for loading an EResFD checkpoint a person or a stage hands the studio (CLI verbs,
 * compute and pipeline workers, model zoo, benchmarks, run stores): reads the file and checks every
 * tensor against the EResFD architecture before anything is built from it, so a wrong file fails here
 * with CHECKPOINT_ARCHITECTURE naming the key and the expected and found shape/dtype, not later as
 * zero detections, AP 0 or a crash mid-training. Pruned (zeroed) checkpoints have the full shapes and
 * load like the original.
 */
export function loadEResFDCheckpoint(bytes: Uint8Array): Checkpoint {
  const checkpoint = readCheckpoint(bytes);
  validateEResFDStateDict(checkpoint.stateDict);
  return checkpoint;
}
