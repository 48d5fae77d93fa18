/**
 * The table of contents of a zip archive read from its end (end-of-central-directory record, zip64
 * locator and record, central directory; PKWARE APPNOTE 4.3.6–4.3.16) with `Blob.slice()` reads:
 * a 1–2 GB WIDER FACE archive is never loaded, only its last bytes and, later, the entries wanted.
 */
import { StudioError } from '../../../core/data/index.ts';

export interface ZipEntryInfo {
  /** Path inside the archive, `/`-separated (directories end with `/`). */
  name: string;
  /** Byte offset of the entry's local header. */
  offset: number;
  compressedSize: number;
  size: number;
  /** 0 stored, 8 deflate. */
  method: number;
  flags: number;
}

export interface ZipIndex {
  /** Display name of the archive (file name or relative path). */
  name: string;
  blob: Blob;
  /** Entries sorted by offset. */
  entries: ZipEntryInfo[];
  /** Where the central directory starts: the end of the last entry's data. */
  centralOffset: number;
}

const EOCD_SIG = 0x06054b50;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_EOCD_SIG = 0x06064b50;
const CENTRAL_SIG = 0x02014b50;
const EOCD_MIN = 22;
const MAX_COMMENT = 0xffff;

async function readRange(blob: Blob, start: number, end: number): Promise<DataView> {
  const buf = await blob.slice(start, end).arrayBuffer();
  return new DataView(buf);
}

function u64(view: DataView, at: number): number {
  const v = view.getBigUint64(at, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError('zip64 value out of range');
  return Number(v);
}

/** Reads the central directory of `blob`. Throws DATASET_FORMAT when it is not a (complete) zip archive. */
export async function readZipIndex(blob: Blob, name: string): Promise<ZipIndex> {
  const notZip = (why: string): never => {
    throw new StudioError('DATASET_FORMAT', `${name} is not a readable zip archive: ${why}. If it was downloaded, download it again.`);
  };
  if (blob.size < EOCD_MIN) notZip('it is too small');

  // The EOCD record is the last 22 bytes plus an optional comment of up to 65,535 bytes.
  const tailStart = Math.max(0, blob.size - EOCD_MIN - MAX_COMMENT);
  const tail = await readRange(blob, tailStart, blob.size);
  let eocd = -1;
  for (let i = tail.byteLength - EOCD_MIN; i >= 0; i--) {
    if (tail.getUint32(i, true) === EOCD_SIG && i + EOCD_MIN + tail.getUint16(i + 20, true) <= tail.byteLength) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) notZip('no end-of-archive record (truncated or not a zip)');

  let count = tail.getUint16(eocd + 10, true);
  let cdSize = tail.getUint32(eocd + 12, true);
  let cdOffset = tail.getUint32(eocd + 16, true);
  if (count === 0xffff || cdSize === 0xffffffff || cdOffset === 0xffffffff) {
    const locatorAt = eocd - 20;
    if (locatorAt < 0 || tail.getUint32(locatorAt, true) !== ZIP64_LOCATOR_SIG) notZip('zip64 locator missing');
    const recordOffset = u64(tail, locatorAt + 8);
    const record = await readRange(blob, recordOffset, recordOffset + 56);
    if (record.byteLength < 56 || record.getUint32(0, true) !== ZIP64_EOCD_SIG) notZip('zip64 end record missing');
    count = u64(record, 32);
    cdSize = u64(record, 40);
    cdOffset = u64(record, 48);
  }
  if (cdOffset + cdSize > blob.size) notZip('the central directory lies beyond the end of the file (truncated)');

  const cd = await readRange(blob, cdOffset, cdOffset + cdSize);
  const latin1 = new TextDecoder('latin1');
  const utf8 = new TextDecoder();
  const entries: ZipEntryInfo[] = [];
  let p = 0;
  for (let k = 0; k < count; k++) {
    if (p + 46 > cd.byteLength || cd.getUint32(p, true) !== CENTRAL_SIG) notZip(`central directory entry ${k + 1} is damaged`);
    const flags = cd.getUint16(p + 8, true);
    const method = cd.getUint16(p + 10, true);
    let compressedSize = cd.getUint32(p + 20, true);
    let size = cd.getUint32(p + 24, true);
    const nameLength = cd.getUint16(p + 28, true);
    const extraLength = cd.getUint16(p + 30, true);
    const commentLength = cd.getUint16(p + 32, true);
    let offset = cd.getUint32(p + 42, true);
    const nameBytes = new Uint8Array(cd.buffer, cd.byteOffset + p + 46, nameLength);
    const entryName = (flags & 0x800 ? utf8 : latin1).decode(nameBytes).replace(/\\/g, '/');
    // zip64 extended information (header id 1): the fields saturated above, in this order.
    let e = p + 46 + nameLength;
    const extraEnd = e + extraLength;
    while (e + 4 <= extraEnd) {
      const id = cd.getUint16(e, true);
      const len = cd.getUint16(e + 2, true);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) {
          size = u64(cd, q);
          q += 8;
        }
        if (compressedSize === 0xffffffff) {
          compressedSize = u64(cd, q);
          q += 8;
        }
        if (offset === 0xffffffff) offset = u64(cd, q);
      }
      e += 4 + len;
    }
    entries.push({ name: entryName, offset, compressedSize, size, method, flags });
    p = extraEnd + commentLength;
  }
  entries.sort((a, b) => a.offset - b.offset);
  return { name, blob, entries, centralOffset: cdOffset };
}

/** The end of `entry`'s bytes (local header, data, descriptor): the next entry's header or the central directory. */
export function entryEnd(index: ZipIndex, position: number): number {
  return index.entries[position + 1]?.offset ?? index.centralOffset;
}
