/**
 * Extracts chosen entries of a zip archive without reading the rest: neighbouring entries are
 * coalesced into runs of at most `maxRunBytes`, each run is read with one `Blob.slice()` and streamed
 * through fflate's `Unzip` + `UnzipInflate` (which parse the local headers, data descriptors and zip64
 * fields). Memory stays at one run plus its inflated entries, whatever the archive's size.
 */
import { Unzip, UnzipInflate } from 'fflate';
import { INPUT_LIMITS, StudioError, inflateAllowance } from '../../../core/data/index.ts';
import { entryEnd, type ZipIndex } from './zip-index.ts';

export interface ExtractOptions {
  signal?: AbortSignal;
  /** Upper bound of one read (a single larger entry is still read whole). Default 8 MB. */
  maxRunBytes?: number;
}

export const DEFAULT_MAX_RUN_BYTES = 8 << 20;
/** Compressed bytes handed to fflate at a time (deflate's ~1032:1 bounds each step's output). */
const PUSH_SLICE = 2 * 1024;

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/**
 * Calls `onEntry(position, bytes)` for every position (index into `index.entries`): empty entries
 * first, then the others in archive order.
 * Throws DATASET_FORMAT for encrypted, unsupported or damaged entries.
 */
export async function extractEntries(
  index: ZipIndex,
  positions: readonly number[],
  onEntry: (position: number, bytes: Uint8Array) => void | Promise<void>,
  options: ExtractOptions = {},
): Promise<void> {
  const maxRun = options.maxRunBytes ?? DEFAULT_MAX_RUN_BYTES;
  const unique = [...new Set(positions)].sort((a, b) => a - b);
  // Empty entries need no read (and fflate's Unzip would wait for bytes after a run-final empty entry).
  const isEmpty = (p: number) => index.entries[p]!.size === 0 && index.entries[p]!.compressedSize === 0;
  for (const p of unique.filter(isEmpty)) await onEntry(p, new Uint8Array(0));
  const sorted = unique.filter((p) => !isEmpty(p));
  let i = 0;
  while (i < sorted.length) {
    options.signal?.throwIfAborted();
    // A run: consecutive archive positions, up to maxRun bytes.
    const run = [sorted[i]!];
    const start = index.entries[sorted[i]!]!.offset;
    i++;
    while (i < sorted.length && sorted[i] === run[run.length - 1]! + 1 && entryEnd(index, sorted[i]!) - start <= maxRun) run.push(sorted[i++]!);
    const end = entryEnd(index, run[run.length - 1]!);
    const bytes = new Uint8Array(await index.blob.slice(start, end).arrayBuffer());
    if (bytes.length !== end - start) throw new StudioError('DATASET_FORMAT', `${index.name} ends early (truncated download?)`);
    for (const [k, out] of inflateRun(index, run, bytes).entries()) await onEntry(run[k]!, out);
  }
}

function inflateRun(index: ZipIndex, run: number[], bytes: Uint8Array): Uint8Array[] {
  const results: Array<Uint8Array | undefined> = new Array(run.length);
  const failures: StudioError[] = [];
  let seen = 0;
  const unzip = new Unzip();
  unzip.register(UnzipInflate);
  unzip.onfile = (file) => {
    const k = seen++;
    const entry = k < run.length ? index.entries[run[k]!]! : undefined;
    if (!entry) return;
    const fail = (why: string) => {
      failures.push(new StudioError('DATASET_FORMAT', `${index.name}: ${entry.name}: ${why}`));
    };
    if (entry.flags & 1) return fail('the entry is encrypted');
    if (file.compression !== 0 && file.compression !== 8) return fail(`compression method ${file.compression} is not supported (stored or deflate expected)`);
    // The same inflate limits as a checkpoint's entries: the declared size must be plausible, and
    // nothing may inflate past it (checked per chunk, so a bomb stops early).
    const allowance = inflateAllowance(entry.compressedSize, INPUT_LIMITS.zipEntryBytes);
    if (entry.size > allowance) return fail(`declares ${entry.size} bytes from ${entry.compressedSize} compressed, over the limit of ${allowance}`);
    const chunks: Uint8Array[] = [];
    let total = 0;
    file.ondata = (err, chunk, final) => {
      if (err) return fail(`damaged data (${err.message})`);
      total += chunk.length;
      if (total > entry.size) {
        file.terminate();
        return fail(`inflates past its declared ${entry.size} bytes`);
      }
      if (chunk.length > 0) chunks.push(chunk);
      if (final) results[k] = concat(chunks);
    };
    file.start();
  };
  try {
    // In slices, so an entry inflating past its size is stopped within ~2 MB, not after all of it.
    for (let at = 0; at < bytes.length && failures.length === 0; at += PUSH_SLICE) unzip.push(bytes.subarray(at, at + PUSH_SLICE), at + PUSH_SLICE >= bytes.length);
  } catch (e) {
    throw new StudioError('DATASET_FORMAT', `${index.name} is damaged near ${index.entries[run[0]!]!.name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  if (failures.length > 0) throw failures[0]!;
  return results.map((r, k) => {
    if (r === undefined) throw new StudioError('DATASET_FORMAT', `${index.name}: ${index.entries[run[k]!]!.name} could not be read (damaged archive)`);
    return r;
  });
}

/** Reads one entry (an annotation txt or a .mat file). */
export async function readEntry(index: ZipIndex, position: number, signal?: AbortSignal): Promise<Uint8Array> {
  const out: Uint8Array[] = [];
  await extractEntries(index, [position], (_, bytes) => void out.push(bytes), { signal });
  return out[0]!;
}
