import { describe, expect, it } from 'vitest';
import { strToU8, zipSync } from 'fflate';
import { readZip, readZipEntry } from '../../../src/core/checkpoint/zip.ts';
import { decodeZipName, FLAG_UTF8 } from '../../../src/core/util/zip-directory.ts';
import { readZipIndex } from '../../../src/platform/browser/wider-import/index.ts';

const UTF8_NAME = 'WIDER_val/images/0--Parade/Zoë_Ångström_北京_😀.jpg';
const DATA = strToU8('not really a jpeg');

/** Offsets of every central-directory header (signature 50 4b 01 02) in `zip`. */
function centralHeaders(zip: Uint8Array): number[] {
  const at: number[] = [];
  for (let i = 0; i + 4 <= zip.length; i++) {
    if (zip[i] === 0x50 && zip[i + 1] === 0x4b && zip[i + 2] === 0x01 && zip[i + 3] === 0x02) at.push(i);
  }
  return at;
}

/** Sets or clears the UTF-8 flag (bit 11) in the central and local headers of a one-entry archive. */
function withUtf8Flag(zip: Uint8Array, on: boolean): Uint8Array {
  const out = zip.slice();
  const dv = new DataView(out.buffer);
  for (const at of [0, ...centralHeaders(out)]) {
    const flagsAt = at === 0 ? 6 : 8;
    const flags = dv.getUint16(at + flagsAt, true);
    dv.setUint16(at + flagsAt, on ? flags | FLAG_UTF8 : flags & ~FLAG_UTF8, true);
  }
  return out;
}

/** A one-entry stored zip whose name is the given raw bytes (no UTF-8 flag). */
function rawNameZip(nameBytes: Uint8Array): Uint8Array {
  const placeholder = 'x'.repeat(nameBytes.length);
  const zip = zipSync({ [placeholder]: DATA }, { level: 0 });
  const at = [30, ...centralHeaders(zip).map((c) => c + 46)];
  for (const p of at) zip.set(nameBytes, p);
  return withUtf8Flag(zip, false);
}

describe('zip directory: entry names', () => {
  it('fflate flags a non-ASCII name as UTF-8, and both readers give it back exactly', async () => {
    const zip = zipSync({ [UTF8_NAME]: DATA }, { level: 0 });
    expect(readZip(zip).entries[0]!.flags & FLAG_UTF8).toBe(FLAG_UTF8);

    const archive = readZip(zip);
    expect(archive.entries.map((e) => e.name)).toEqual([UTF8_NAME]);
    expect(readZipEntry(archive, UTF8_NAME)).toEqual(DATA);
    const index = await readZipIndex(new Blob([zip as Uint8Array<ArrayBuffer>]), 'names.zip');
    expect(index.entries.map((e) => e.name)).toEqual([UTF8_NAME]);
  });

  it('reads UTF-8 bytes as UTF-8 when a tool left the flag unset (as Info-ZIP on Linux does)', async () => {
    const zip = withUtf8Flag(zipSync({ [UTF8_NAME]: DATA }, { level: 0 }), false);
    expect(readZip(zip).entries[0]!.flags & FLAG_UTF8).toBe(0);
    expect(readZip(zip).entries[0]!.name).toBe(UTF8_NAME);
    const index = await readZipIndex(new Blob([zip as Uint8Array<ArrayBuffer>]), 'names.zip');
    expect(index.entries[0]!.name).toBe(UTF8_NAME);
  });

  it('reads a name that is not UTF-8 as a single-byte code page, the same in both readers', async () => {
    // "café.jpg" in Latin-1: 0xE9 alone is not valid UTF-8.
    const zip = rawNameZip(Uint8Array.from([0x63, 0x61, 0x66, 0xe9, 0x2e, 0x6a, 0x70, 0x67]));
    expect(readZip(zip).entries[0]!.name).toBe('café.jpg');
    const index = await readZipIndex(new Blob([zip as Uint8Array<ArrayBuffer>]), 'names.zip');
    expect(index.entries[0]!.name).toBe('café.jpg');
  });

  it('decodeZipName: UTF-8 when flagged, valid UTF-8 when not, else a single-byte code page', () => {
    const bytes = strToU8('Zoë');
    expect(decodeZipName(bytes, FLAG_UTF8)).toBe('Zoë');
    expect(decodeZipName(bytes, 0)).toBe('Zoë');
    expect(decodeZipName(Uint8Array.from([0x5a, 0x6f, 0xeb]), 0)).toBe('Zoë');
  });
});
