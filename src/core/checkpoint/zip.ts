/**
 * The zip container of a PyTorch ≥1.6 checkpoint: a reader for any zip (stored or deflate entries,
 * zip64 records) and a writer that lays out stored entries exactly like PyTorch's
 * `caffe2/serialize/inline_container.cc` (`PyTorchStreamWriter` on top of miniz, torch 1.x):
 * local headers with zeroed CRC/sizes followed by a data descriptor, an "FB" extra field padding each
 * record so its bytes start on a 64-byte boundary, a central directory without extras, then zip64
 * end-of-central-directory record + locator + classic end record.
 *
 * Isomorphic: no Node or DOM APIs; inflate comes from fflate, bounded by INPUT_LIMITS (../limits.ts).
 */
import { StudioError } from '../errors.ts';
import { INPUT_LIMITS } from '../limits.ts';
import { inflateBounded } from '../util/inflate.ts';
import {
  CENTRAL_HEADER_SIZE,
  EOCD_SIZE,
  findEndRecord,
  parseCentralDirectory,
  readEndRecord,
  readZip64EndRecord,
  ZIP64_EOCD_SIZE,
  ZIP64_LOCATOR_SIZE,
} from '../util/zip-directory.ts';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_DESCRIPTOR = 0x08074b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const LOCAL_HEADER_SIZE = 30;
const DESCRIPTOR_SIZE = 16;
/** PyTorch aligns every record so tensors can be mmapped / viewed in place (`kFieldAlignment`). */
export const TORCH_RECORD_ALIGNMENT = 64;

export interface ZipEntry {
  name: string;
  /** 0 = stored, 8 = deflate. */
  method: number;
  flags: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
  /** Offset of the entry's (possibly compressed) bytes in the archive. */
  dataOffset: number;
}

export interface ZipArchive {
  bytes: Uint8Array;
  /** Central-directory order. */
  entries: ZipEntry[];
  byName: Map<string, ZipEntry>;
}

export interface ZipRecord {
  name: string;
  data: Uint8Array;
}

// ---------------------------------------------------------------------------------------------
// CRC-32 (IEEE, reflected 0xEDB88320). fflate keeps its CRC internal, so the writer needs its own.

// Slicing-by-4 tables: four bytes per step, ~2× a one-table loop on a 600 KB checkpoint.
const CRC_TABLES = (() => {
  const t = new Int32Array(4 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 4; k++) t[k * 256 + n] = t[(k - 1) * 256 + n]! >>> 8 ^ t[t[(k - 1) * 256 + n]! & 0xff]!;
  }
  return t;
})();

/** CRC-32 of `data`, continuing from `crc` (pass a previous result to checksum in pieces). */
export function crc32(data: Uint8Array, crc = 0): number {
  const t = CRC_TABLES;
  let c = ~crc;
  let i = 0;
  for (const end4 = data.length & ~3; i < end4; i += 4) {
    c ^= data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    c = t[768 + (c & 0xff)]! ^ t[512 + ((c >>> 8) & 0xff)]! ^ t[256 + ((c >>> 16) & 0xff)]! ^ t[c >>> 24]!;
  }
  for (; i < data.length; i++) c = t[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------------
// Reader

function corrupt(message: string): StudioError {
  return new StudioError('CHECKPOINT_CORRUPT', message);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Parses the central directory of a zip archive. Entry bytes are not touched until
 * {@link readZipEntry}, which checks the CRC.
 */
export function readZip(bytes: Uint8Array): ZipArchive {
  if (bytes.length === 0) throw new StudioError('CHECKPOINT_CORRUPT', 'The file is empty.');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const startsLikeZip = bytes.length >= 4 && dv.getUint32(0, true) === SIG_LOCAL;
  if (!startsLikeZip) {
    throw new StudioError(
      'CHECKPOINT_NOT_ZIP',
      `Not a zip archive (starts with ${hex(bytes.subarray(0, 4))}, expected 50 4b 03 04).`,
    );
  }
  const fail = (why: string): never => {
    throw corrupt(`The zip archive is damaged: ${why}.`);
  };
  const eocd = bytes.length >= EOCD_SIZE ? findEndRecord(dv) : -1;
  if (eocd < 0) {
    throw corrupt(`The zip archive is truncated: no end-of-central-directory record in its ${bytes.length} bytes.`);
  }
  const end = readEndRecord(dv, eocd, fail);
  let { count, size: cdSize, offset: cdOffset } = end;
  if (end.zip64RecordOffset !== null) {
    const z = end.zip64RecordOffset;
    if (z + ZIP64_EOCD_SIZE > eocd - ZIP64_LOCATOR_SIZE) throw corrupt(`Bad zip64 end-of-central-directory offset ${z}.`);
    ({ count, size: cdSize, offset: cdOffset } = readZip64EndRecord(new DataView(bytes.buffer, bytes.byteOffset + z, ZIP64_EOCD_SIZE), fail));
  }
  if (cdOffset + cdSize > bytes.length || cdOffset + cdSize > eocd) {
    throw corrupt(`Central directory (offset ${cdOffset}, ${cdSize} bytes) lies outside the ${bytes.length}-byte file.`);
  }

  const directory = new DataView(bytes.buffer, bytes.byteOffset + cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  const byName = new Map<string, ZipEntry>();
  for (const { name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset } of parseCentralDirectory(directory, count, fail)) {
    if (flags & 1) throw new StudioError('CHECKPOINT_UNSUPPORTED', `Zip entry ${name} is encrypted.`);
    if (localHeaderOffset + LOCAL_HEADER_SIZE > cdOffset || dv.getUint32(localHeaderOffset, true) !== SIG_LOCAL) {
      throw corrupt(`Zip entry ${name}: bad local header offset ${localHeaderOffset}.`);
    }
    const dataOffset =
      localHeaderOffset + LOCAL_HEADER_SIZE + dv.getUint16(localHeaderOffset + 26, true) + dv.getUint16(localHeaderOffset + 28, true);
    if (dataOffset + compressedSize > cdOffset) {
      throw corrupt(`Zip entry ${name}: its ${compressedSize} bytes at offset ${dataOffset} overrun the archive.`);
    }
    const entry: ZipEntry = { name, method, flags, crc32: crc, compressedSize, size, localHeaderOffset, dataOffset };
    entries.push(entry);
    if (!byName.has(name)) byName.set(name, entry);
  }
  return { bytes, entries, byName };
}

/**
 * The uncompressed bytes of an entry, CRC-checked. Stored entries come back as a view into the
 * archive (no copy): copy before keeping them beyond the archive's lifetime or viewing them as
 * wider typed arrays (alignment).
 */
export function readZipEntry(zip: ZipArchive, entryOrName: ZipEntry | string): Uint8Array {
  const entry = typeof entryOrName === 'string' ? zip.byName.get(entryOrName) : entryOrName;
  if (!entry) throw corrupt(`Zip entry ${String(entryOrName)} is missing.`);
  const raw = zip.bytes.subarray(entry.dataOffset, entry.dataOffset + entry.compressedSize);
  let data: Uint8Array;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) throw corrupt(`Stored zip entry ${entry.name} has mismatched sizes.`);
    data = raw;
  } else if (entry.method === 8) {
    // Refused from the declared size before allocating; a stream inflating past it is stopped mid-way.
    data = inflateBounded(raw, {
      format: 'deflate',
      declaredSize: entry.size,
      maxBytes: INPUT_LIMITS.zipEntryBytes,
      fail: (why, kind, cause) =>
        new StudioError(kind === 'limit' ? 'CHECKPOINT_LIMIT' : 'CHECKPOINT_CORRUPT', `Zip entry ${entry.name} ${why}.`, { cause }),
    });
    if (data.length !== entry.size) throw corrupt(`Zip entry ${entry.name} inflates to ${data.length} bytes, expected ${entry.size}.`);
  } else {
    throw new StudioError('CHECKPOINT_UNSUPPORTED', `Zip entry ${entry.name} uses compression method ${entry.method}.`);
  }
  const crc = crc32(data);
  if (crc !== entry.crc32) {
    throw corrupt(
      `CRC mismatch in zip entry ${entry.name}: stored ${entry.crc32.toString(16).padStart(8, '0')}, computed ${crc.toString(16).padStart(8, '0')}.`,
    );
  }
  return data;
}

// ---------------------------------------------------------------------------------------------
// Writer (PyTorchStreamWriter layout)

/** Padding length miniz/PyTorch put in the "FB" extra so the record's bytes start 64-aligned. */
function torchPadding(cursor: number, nameLen: number): number {
  const start = cursor + LOCAL_HEADER_SIZE + nameLen + 4;
  const mod = start % TORCH_RECORD_ALIGNMENT;
  return mod === 0 ? 0 : TORCH_RECORD_ALIGNMENT - mod;
}

/**
 * Writes stored records in the given order with PyTorch's layout (see file header). Names are
 * full paths (`<archive>/data.pkl`). Every record's bytes start on a 64-byte boundary.
 */
export function writeTorchZip(records: readonly ZipRecord[]): Uint8Array {
  const enc = new TextEncoder();
  const names = records.map((r) => enc.encode(r.name));
  const pads: number[] = [];
  const offsets: number[] = [];
  let cursor = 0;
  records.forEach((r, i) => {
    const pad = torchPadding(cursor, names[i]!.length);
    offsets.push(cursor);
    pads.push(pad);
    cursor += LOCAL_HEADER_SIZE + names[i]!.length + 4 + pad + r.data.length + DESCRIPTOR_SIZE;
  });
  const cdOffset = cursor;
  const cdSize = names.reduce((s, n) => s + CENTRAL_HEADER_SIZE + n.length, 0);
  const total = cdOffset + cdSize + ZIP64_EOCD_SIZE + ZIP64_LOCATOR_SIZE + EOCD_SIZE;
  // Beyond 4 GiB miniz switches to zip64 local extras; a browser never writes such a checkpoint.
  if (total >= 0xffffffff || records.length >= 0xffff) {
    throw new StudioError('CHECKPOINT_UNSUPPORTED', 'Checkpoint too large to write (over 4 GiB or 65535 records).');
  }
  const out = new Uint8Array(total);
  const dv = new DataView(out.buffer);
  const crcs: number[] = [];
  records.forEach((r, i) => {
    const name = names[i]!;
    const pad = pads[i]!;
    let p = offsets[i]!;
    const crc = crc32(r.data);
    crcs.push(crc);
    dv.setUint32(p, SIG_LOCAL, true);
    dv.setUint16(p + 4, 0, true); // version needed: miniz leaves 0
    dv.setUint16(p + 6, 0x0808, true); // bit 3: sizes in data descriptor; bit 11: UTF-8 names
    // method 0 (stored), DOS time/date 0, CRC and sizes 0 (they follow in the descriptor): already zero
    dv.setUint16(p + 26, name.length, true);
    dv.setUint16(p + 28, 4 + pad, true);
    p += LOCAL_HEADER_SIZE;
    out.set(name, p);
    p += name.length;
    out[p] = 0x46; // 'F'
    out[p + 1] = 0x42; // 'B'
    dv.setUint16(p + 2, pad, true);
    out.fill(0x5a, p + 4, p + 4 + pad); // 'Z' filler, as PyTorch writes it
    p += 4 + pad;
    out.set(r.data, p);
    p += r.data.length;
    dv.setUint32(p, SIG_DESCRIPTOR, true);
    dv.setUint32(p + 4, crc, true);
    dv.setUint32(p + 8, r.data.length, true);
    dv.setUint32(p + 12, r.data.length, true);
  });
  let p = cdOffset;
  records.forEach((r, i) => {
    const name = names[i]!;
    dv.setUint32(p, SIG_CENTRAL, true);
    // version made by / needed 0, method 0, time/date 0: already zero
    dv.setUint16(p + 8, 0x0808, true);
    dv.setUint32(p + 16, crcs[i]!, true);
    dv.setUint32(p + 20, r.data.length, true);
    dv.setUint32(p + 24, r.data.length, true);
    dv.setUint16(p + 28, name.length, true);
    dv.setUint32(p + 42, offsets[i]!, true);
    out.set(name, p + CENTRAL_HEADER_SIZE);
    p += CENTRAL_HEADER_SIZE + name.length;
  });
  const z64 = p;
  dv.setUint32(p, SIG_ZIP64_EOCD, true);
  dv.setBigUint64(p + 4, BigInt(ZIP64_EOCD_SIZE - 12), true);
  dv.setUint16(p + 12, 0x031e, true); // made by: Unix, spec 3.0 (miniz's value)
  dv.setUint16(p + 14, 0x002d, true); // needed: 4.5 (zip64)
  dv.setBigUint64(p + 24, BigInt(records.length), true);
  dv.setBigUint64(p + 32, BigInt(records.length), true);
  dv.setBigUint64(p + 40, BigInt(cdSize), true);
  dv.setBigUint64(p + 48, BigInt(cdOffset), true);
  p += ZIP64_EOCD_SIZE;
  dv.setUint32(p, SIG_ZIP64_LOCATOR, true);
  dv.setBigUint64(p + 8, BigInt(z64), true);
  dv.setUint32(p + 16, 1, true);
  p += ZIP64_LOCATOR_SIZE;
  dv.setUint32(p, SIG_EOCD, true);
  dv.setUint16(p + 8, records.length, true);
  dv.setUint16(p + 10, records.length, true);
  dv.setUint32(p + 12, cdSize, true);
  dv.setUint32(p + 16, cdOffset, true);
  return out;
}
