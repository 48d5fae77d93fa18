/**
 * The one reader of a zip archive's table of contents (PKWARE APPNOTE 4.3.12–4.3.16): the
 * end-of-central-directory record, the zip64 locator and end record, and the central directory's
 * entries with their zip64 extra fields. It works on byte views only, so the checkpoint reader (whole
 * archive in memory) and the WIDER FACE importer (`Blob.slice()` reads of a 1–2 GB archive) share it
 * and cannot drift apart again (they had: only one honoured the UTF-8 name flag).
 *
 * fflate's `unzipSync` is not used here: it needs the whole archive in memory and does not expose the
 * directory (offsets, sizes) that both callers need before reading any entry.
 *
 * Isomorphic: no Node or DOM APIs (TextDecoder is in both).
 */

export const EOCD_SIZE = 22;
export const ZIP64_LOCATOR_SIZE = 20;
export const ZIP64_EOCD_SIZE = 56;
export const CENTRAL_HEADER_SIZE = 46;
/** The EOCD record may be followed by a comment of up to this many bytes. */
export const MAX_COMMENT = 0xffff;

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
/** General-purpose flag bit 11: the name (and comment) are UTF-8 (APPNOTE 4.4.4, appendix D). */
export const FLAG_UTF8 = 0x800;

/** Raises the caller's own error (its code and wording) for a damaged archive. */
export type ZipFail = (why: string) => never;

/** Where the central directory is, from the end records. */
export interface ZipDirectoryLocation {
  count: number;
  offset: number;
  size: number;
}

export interface ZipDirectoryEntry {
  /** The entry's path, decoded as described at {@link decodeZipName}. */
  name: string;
  flags: number;
  /** 0 stored, 8 deflate. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Byte offset of the entry's local header in the archive. */
  localHeaderOffset: number;
}

/** A u64 that must fit a JS number exactly (archives in a browser are far below 2^53). */
function u64(view: DataView, at: number, what: string, fail: ZipFail): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) fail(`zip64 ${what} ${v} is out of range`);
  return Number(v);
}

/**
 * Index in `tail` (the archive's last `EOCD_SIZE + MAX_COMMENT` bytes or all of it) of the
 * end-of-central-directory record, or -1. A record whose comment reaches exactly the end of the file is
 * preferred: the signature occurring by chance inside stored bytes would not.
 */
export function findEndRecord(tail: DataView): number {
  const last = tail.byteLength - EOCD_SIZE;
  let loose = -1;
  for (let i = last; i >= Math.max(0, last - MAX_COMMENT); i--) {
    if (tail.getUint8(i) !== 0x50 || tail.getUint32(i, true) !== SIG_EOCD) continue;
    const end = i + EOCD_SIZE + tail.getUint16(i + 20, true);
    if (end === tail.byteLength) return i;
    if (loose < 0 && end <= tail.byteLength) loose = i;
  }
  return loose;
}

/**
 * The directory's location from the classic end record at `at` in `tail`. When a zip64 locator
 * precedes it, the zip64 end record is authoritative (PyTorch's miniz always writes one): its archive
 * offset comes back as `zip64RecordOffset` for the caller to read `ZIP64_EOCD_SIZE` bytes there and
 * pass them to {@link readZip64EndRecord}. Without a locator, saturated fields are an error.
 */
export function readEndRecord(tail: DataView, at: number, fail: ZipFail): ZipDirectoryLocation & { zip64RecordOffset: number | null } {
  const location = { count: tail.getUint16(at + 10, true), size: tail.getUint32(at + 12, true), offset: tail.getUint32(at + 16, true) };
  const locator = at - ZIP64_LOCATOR_SIZE;
  if (locator >= 0 && tail.getUint32(locator, true) === SIG_ZIP64_LOCATOR) {
    return { ...location, zip64RecordOffset: u64(tail, locator + 8, 'end record offset', fail) };
  }
  if (location.count === 0xffff || location.size === 0xffffffff || location.offset === 0xffffffff) {
    fail('the archive needs zip64 records but has none');
  }
  return { ...location, zip64RecordOffset: null };
}

/** The directory's location from the zip64 end-of-central-directory record (`record` starts at it). */
export function readZip64EndRecord(record: DataView, fail: ZipFail): ZipDirectoryLocation {
  if (record.byteLength < ZIP64_EOCD_SIZE || record.getUint32(0, true) !== SIG_ZIP64_EOCD) fail('the zip64 end record is missing');
  return {
    count: u64(record, 32, 'entry count', fail),
    size: u64(record, 40, 'central directory size', fail),
    offset: u64(record, 48, 'central directory offset', fail),
  };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
// The WHATWG 'latin1' label is windows-1252: for the printable range the same letters as CP437's
// most common use (accented Latin), which is as close as a browser decoder gets.
const latin1 = new TextDecoder('latin1');

/**
 * An entry name: UTF-8 when the entry says so (flag bit 11). Without the flag, APPNOTE says CP437, but
 * zip tools on Linux and macOS write UTF-8 names without setting it; so valid UTF-8 is read as UTF-8 and
 * anything else as a single-byte code page.
 */
export function decodeZipName(bytes: Uint8Array, flags: number): string {
  if (flags & FLAG_UTF8) return new TextDecoder('utf-8').decode(bytes);
  try {
    return utf8.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

/**
 * The entries of a central directory, in directory order. `directory` holds exactly the directory's
 * `location.size` bytes. Only the fields saturated in the fixed header are read from a zip64 extra
 * field (header id 1), in the fixed order size, compressed size, header offset.
 */
export function parseCentralDirectory(directory: DataView, count: number, fail: ZipFail): ZipDirectoryEntry[] {
  const entries: ZipDirectoryEntry[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + CENTRAL_HEADER_SIZE > directory.byteLength || directory.getUint32(p, true) !== SIG_CENTRAL) {
      fail(`central directory entry ${k + 1} is damaged`);
    }
    const flags = directory.getUint16(p + 8, true);
    const nameLength = directory.getUint16(p + 28, true);
    const extraLength = directory.getUint16(p + 30, true);
    const commentLength = directory.getUint16(p + 32, true);
    const nameStart = p + CENTRAL_HEADER_SIZE;
    const extraEnd = nameStart + nameLength + extraLength;
    const end = extraEnd + commentLength;
    if (end > directory.byteLength) fail(`central directory entry ${k + 1} overruns the directory`);
    const entry: ZipDirectoryEntry = {
      name: decodeZipName(new Uint8Array(directory.buffer, directory.byteOffset + nameStart, nameLength), flags),
      flags,
      method: directory.getUint16(p + 10, true),
      crc32: directory.getUint32(p + 16, true),
      compressedSize: directory.getUint32(p + 20, true),
      size: directory.getUint32(p + 24, true),
      localHeaderOffset: directory.getUint32(p + 42, true),
    };
    for (let e = nameStart + nameLength; e + 4 <= extraEnd; e += 4 + directory.getUint16(e + 2, true)) {
      if (directory.getUint16(e, true) !== 1) continue;
      let q = e + 4;
      if (entry.size === 0xffffffff) {
        entry.size = u64(directory, q, 'size', fail);
        q += 8;
      }
      if (entry.compressedSize === 0xffffffff) {
        entry.compressedSize = u64(directory, q, 'compressed size', fail);
        q += 8;
      }
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = u64(directory, q, 'header offset', fail);
    }
    entries.push(entry);
    p = end;
  }
  return entries;
}
