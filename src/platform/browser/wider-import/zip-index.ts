/**
 * The table of contents of a zip archive read from its end (end-of-central-directory record, zip64
 * locator and record, central directory; PKWARE APPNOTE 4.3.6–4.3.16) with `Blob.slice()` reads:
 * a 1–2 GB WIDER FACE archive is never loaded, only its last bytes and, later, the entries wanted.
 * The records are parsed by core's zip-directory reader, the same one the checkpoint reader uses.
 */
import { StudioError, zipDirectory } from '../../../core/data/index.ts';

const { EOCD_SIZE, findEndRecord, MAX_COMMENT, parseCentralDirectory, readEndRecord, readZip64EndRecord, ZIP64_EOCD_SIZE } = zipDirectory;

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

async function readRange(blob: Blob, start: number, end: number): Promise<DataView> {
  const buf = await blob.slice(start, end).arrayBuffer();
  return new DataView(buf);
}

/** Reads the central directory of `blob`. Throws DATASET_FORMAT when it is not a (complete) zip archive. */
export async function readZipIndex(blob: Blob, name: string): Promise<ZipIndex> {
  const notZip = (why: string): never => {
    throw new StudioError('DATASET_FORMAT', `${name} is not a readable zip archive: ${why}. If it was downloaded, download it again.`);
  };
  if (blob.size < EOCD_SIZE) notZip('it is too small');

  // The EOCD record is the last 22 bytes plus an optional comment of up to 65,535 bytes.
  const tailStart = Math.max(0, blob.size - EOCD_SIZE - MAX_COMMENT);
  const tail = await readRange(blob, tailStart, blob.size);
  const eocd = findEndRecord(tail);
  if (eocd < 0) notZip('no end-of-archive record (truncated or not a zip)');
  const end = readEndRecord(tail, eocd, notZip);
  const { count, size, offset } =
    end.zip64RecordOffset === null ? end : readZip64EndRecord(await readRange(blob, end.zip64RecordOffset, end.zip64RecordOffset + ZIP64_EOCD_SIZE), notZip);
  if (offset + size > blob.size) notZip('the central directory lies beyond the end of the file (truncated)');

  const entries: ZipEntryInfo[] = parseCentralDirectory(await readRange(blob, offset, offset + size), count, notZip).map((e) => ({
    // Archives made on Windows may use backslashes.
    name: e.name.replace(/\\/g, '/'),
    offset: e.localHeaderOffset,
    compressedSize: e.compressedSize,
    size: e.size,
    method: e.method,
    flags: e.flags,
  }));
  entries.sort((a, b) => a.offset - b.offset);
  return { name, blob, entries, centralOffset: offset };
}

/** The end of `entry`'s bytes (local header, data, descriptor): the next entry's header or the central directory. */
export function entryEnd(index: ZipIndex, position: number): number {
  return index.entries[position + 1]?.offset ?? index.centralOffset;
}
