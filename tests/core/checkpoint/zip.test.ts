import { describe, expect, it } from 'vitest';
import { unzipSync, zipSync } from 'fflate';
import { crc32, readZip, readZipEntry, writeTorchZip, TORCH_RECORD_ALIGNMENT } from '../../../src/core/checkpoint/zip.ts';
import { expectStudioError, latin1, pseudoRandomBytes } from './fixtures.ts';

/** Bit-by-bit CRC-32, independent of the table code under test. */
function slowCrc(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of data) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

function sampleRecords() {
  return [
    { name: 'arch/data.pkl', data: latin1('\x80\x02}q\x00.') },
    { name: 'arch/data/0', data: pseudoRandomBytes(100, 1) },
    { name: 'arch/data/1', data: new Uint8Array(0) },
    { name: 'arch/data/10', data: pseudoRandomBytes(3, 2) },
    { name: 'arch/version', data: latin1('3\n') },
  ];
}

describe('crc32', () => {
  it('matches the standard check values', () => {
    expect(crc32(new Uint8Array(0))).toBe(0);
    expect(crc32(latin1('123456789'))).toBe(0xcbf43926);
    expect(crc32(latin1('The quick brown fox jumps over the lazy dog'))).toBe(0x414fa339);
  });

  it('agrees with a bitwise CRC for every length 0..70 and continues across pieces', () => {
    const data = pseudoRandomBytes(70, 7);
    for (let n = 0; n <= 70; n++) expect(crc32(data.subarray(0, n))).toBe(slowCrc(data.subarray(0, n)));
    expect(crc32(data.subarray(33), crc32(data.subarray(0, 33)))).toBe(crc32(data));
  });
});

describe('writeTorchZip', () => {
  it('lays records out like PyTorchStreamWriter: FB padding to 64 bytes, data descriptors, zip64 end records', () => {
    const records = sampleRecords();
    const bytes = writeTorchZip(records);
    const dv = new DataView(bytes.buffer);
    const zip = readZip(bytes);
    expect(zip.entries.map((e) => e.name)).toEqual(records.map((r) => r.name));
    for (const [i, e] of zip.entries.entries()) {
      expect(e.method).toBe(0);
      expect(e.flags).toBe(0x0808);
      expect(e.dataOffset % TORCH_RECORD_ALIGNMENT).toBe(0);
      const nameLen = dv.getUint16(e.localHeaderOffset + 26, true);
      const extra = e.localHeaderOffset + 30 + nameLen;
      expect(String.fromCharCode(bytes[extra]!, bytes[extra + 1]!)).toBe('FB');
      expect(dv.getUint16(extra + 2, true)).toBe(dv.getUint16(e.localHeaderOffset + 28, true) - 4);
      // sizes live in the descriptor after the data, not in the local header
      expect(dv.getUint32(e.localHeaderOffset + 14, true)).toBe(0);
      const desc = e.dataOffset + e.size;
      expect(dv.getUint32(desc, true)).toBe(0x08074b50);
      expect(dv.getUint32(desc + 4, true)).toBe(crc32(records[i]!.data));
      expect(Array.from(readZipEntry(zip, e))).toEqual(Array.from(records[i]!.data));
    }
    const eocd = bytes.length - 22;
    expect(dv.getUint32(eocd, true)).toBe(0x06054b50);
    expect(dv.getUint32(eocd - 20, true)).toBe(0x07064b50);
    expect(dv.getUint32(eocd - 20 - 56, true)).toBe(0x06064b50);
  });

  it('is readable by an independent zip implementation (fflate)', () => {
    const records = sampleRecords();
    const files = unzipSync(writeTorchZip(records));
    for (const r of records) expect(Array.from(files[r.name]!)).toEqual(Array.from(r.data));
  });
});

describe('readZip', () => {
  it('reads deflated and stored entries written by fflate', () => {
    const big = new Uint8Array(5000).map((_, i) => i % 7);
    const bytes = zipSync({ 'a/deflated.bin': [big, { level: 6 }], 'a/stored.bin': [latin1('plain'), { level: 0 }] });
    const zip = readZip(bytes);
    expect(zip.byName.get('a/deflated.bin')!.method).toBe(8);
    expect(Array.from(readZipEntry(zip, 'a/deflated.bin'))).toEqual(Array.from(big));
    expect(readZipEntry(zip, 'a/stored.bin')).toEqual(latin1('plain'));
  });

  it('rejects empty input, random bytes and a bare zip signature with the right codes', () => {
    expectStudioError(() => readZip(new Uint8Array(0)), 'CHECKPOINT_CORRUPT', /empty/);
    expectStudioError(() => readZip(pseudoRandomBytes(4096)), 'CHECKPOINT_NOT_ZIP', /Not a zip/);
    const fakeZip = pseudoRandomBytes(4096);
    fakeZip.set([0x50, 0x4b, 0x03, 0x04]);
    expectStudioError(() => readZip(fakeZip), 'CHECKPOINT_CORRUPT', /truncated/);
  });

  it('reports every truncation point as CHECKPOINT_CORRUPT, never a crash', () => {
    const bytes = writeTorchZip(sampleRecords());
    for (let cut = 4; cut < bytes.length; cut++) {
      expectStudioError(() => readZip(bytes.subarray(0, cut)), 'CHECKPOINT_CORRUPT');
    }
  });

  it('detects CRC mismatches, bad central-directory and local-header offsets', () => {
    const records = sampleRecords();
    const good = writeTorchZip(records);
    const entry = readZip(good).byName.get('arch/data/0')!;

    const flipped = good.slice();
    flipped[entry.dataOffset + 5]! ^= 0x01;
    expectStudioError(() => readZipEntry(readZip(flipped), 'arch/data/0'), 'CHECKPOINT_CORRUPT', /CRC mismatch in zip entry arch\/data\/0/);

    const badCd = good.slice();
    const dv = new DataView(badCd.buffer);
    const z64 = badCd.length - 22 - 20 - 56;
    dv.setBigUint64(z64 + 48, BigInt(badCd.length + 100), true);
    expectStudioError(() => readZip(badCd), 'CHECKPOINT_CORRUPT', /Central directory/);

    const badLocator = good.slice();
    new DataView(badLocator.buffer).setBigUint64(badLocator.length - 22 - 20 + 8, 3n, true);
    expectStudioError(() => readZip(badLocator), 'CHECKPOINT_CORRUPT', /zip64/);

    const badLocal = good.slice();
    const zip = readZip(good);
    const cdStart = Number(new DataView(good.buffer).getBigUint64(z64 + 48, true));
    // second central entry's local-header offset → points into the middle of data
    const secondCentral = cdStart + 46 + zip.entries[0]!.name.length;
    new DataView(badLocal.buffer).setUint32(secondCentral + 42, 7, true);
    expectStudioError(() => readZip(badLocal), 'CHECKPOINT_CORRUPT', /local header offset/);

    const overrun = good.slice();
    new DataView(overrun.buffer).setUint32(secondCentral + 20, 0x7fffffff, true);
    expectStudioError(() => readZip(overrun), 'CHECKPOINT_CORRUPT', /overrun/);
  });

  it('refuses a deflate entry claiming an impossible size before allocating it', () => {
    const bytes = zipSync({ 'x.bin': [new Uint8Array(100), { level: 6 }] });
    const z = readZip(bytes);
    const cd = z.entries[0]!;
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // central directory entry follows the data; patch its uncompressed size to ~4 GB
    const central = bytes.length - 22 - 46 - cd.name.length;
    expect(dv.getUint32(central, true)).toBe(0x02014b50);
    dv.setUint32(central + 24, 0xfffffff0, true);
    expectStudioError(() => readZipEntry(readZip(bytes), 'x.bin'), 'CHECKPOINT_LIMIT', /declares 4294967280 bytes/);
  });

  it('reports a missing entry and a corrupt deflate stream', () => {
    const zip = readZip(writeTorchZip(sampleRecords()));
    expectStudioError(() => readZipEntry(zip, 'arch/nope'), 'CHECKPOINT_CORRUPT', /missing/);

    const bytes = zipSync({ 'x.bin': [new Uint8Array(4000).map((_, i) => (i * 31) % 251), { level: 9 }] });
    const z = readZip(bytes);
    const e = z.byName.get('x.bin')!;
    const broken = bytes.slice();
    for (let i = 0; i < 16; i++) broken[e.dataOffset + i] = 0xff;
    expectStudioError(() => readZipEntry(readZip(broken), 'x.bin'), 'CHECKPOINT_CORRUPT');
  });
});
