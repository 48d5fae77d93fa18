import { describe, expect, it } from 'vitest';
import { Zip, ZipDeflate, ZipPassThrough, zipSync } from 'fflate';
import { extractEntries, readZipIndex } from '../../../../src/platform/browser/wider-import/index.ts';

function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) out[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
  return out;
}

/** A zip streamed by fflate's Zip class: its entries carry data descriptors (flag bit 3). */
function streamedZip(files: Record<string, Uint8Array>, deflate: boolean): Uint8Array {
  const chunks: Uint8Array[] = [];
  const zip = new Zip((err, chunk) => {
    if (err) throw err;
    chunks.push(chunk);
  });
  for (const [name, data] of Object.entries(files)) {
    const f = deflate ? new ZipDeflate(name, { level: 1 }) : new ZipPassThrough(name);
    zip.add(f);
    f.push(data, true);
  }
  zip.end();
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) out.set(c, (at += c.length) - c.length);
  return out;
}

async function extractAll(blob: Blob, wanted: string[], maxRunBytes?: number): Promise<Map<string, Uint8Array>> {
  const index = await readZipIndex(blob, 'test.zip');
  const positions = wanted.map((n) => index.entries.findIndex((e) => e.name === n));
  const out = new Map<string, Uint8Array>();
  await extractEntries(index, positions, (p, b) => void out.set(index.entries[p]!.name, b), { maxRunBytes });
  return out;
}

describe('zip index + extraction', () => {
  const files: Record<string, Uint8Array> = {
    'WIDER_val/images/0--Parade/a.jpg': bytes(5000, 1),
    'WIDER_val/images/0--Parade/b.jpg': bytes(70_000, 2),
    'WIDER_val/images/1--Handshaking/c.jpg': bytes(1, 3),
    'empty.txt': new Uint8Array(0),
    'wider_face_split/wider_face_val_bbx_gt.txt': new TextEncoder().encode('0--Parade/a.jpg\n0\n0 0 0 0 0 0 0 0 0 0\n'.repeat(50)),
  };

  it.each([
    ['zipSync stored', () => zipSync(files, { level: 0 })],
    ['zipSync deflated', () => zipSync(files, { level: 6 })],
    ['streamed stored (data descriptors)', () => streamedZip(files, false)],
    ['streamed deflated (data descriptors)', () => streamedZip(files, true)],
  ])('%s: lists every entry and extracts the chosen ones exactly', async (_, build) => {
    const blob = new Blob([build() as Uint8Array<ArrayBuffer>]);
    const index = await readZipIndex(blob, 'test.zip');
    expect(index.entries.map((e) => e.name).sort()).toEqual(Object.keys(files).sort());
    for (const maxRunBytes of [1, 1 << 20]) {
      const wanted = ['WIDER_val/images/1--Handshaking/c.jpg', 'WIDER_val/images/0--Parade/a.jpg', 'WIDER_val/images/0--Parade/b.jpg', 'empty.txt'];
      const got = await extractAll(blob, wanted, maxRunBytes);
      for (const name of wanted) expect(got.get(name)).toEqual(files[name]);
    }
  });

  it('rejects a truncated archive and a file that is not a zip', async () => {
    const full = zipSync(files, { level: 0 });
    await expect(readZipIndex(new Blob([full.slice(0, full.length - 40)]), 'cut.zip')).rejects.toMatchObject({ code: 'DATASET_FORMAT' });
    await expect(readZipIndex(new Blob([bytes(1000, 9) as Uint8Array<ArrayBuffer>]), 'noise.zip')).rejects.toThrow(/noise\.zip is not a readable zip/);
  });

  it('reports damaged entry data', async () => {
    const zip = zipSync({ 'x.jpg': bytes(20_000, 4) }, { level: 6 });
    const index = await readZipIndex(new Blob([zip as Uint8Array<ArrayBuffer>]), 'd.zip');
    const damaged = zip.slice();
    damaged.fill(0xff, 60, 400);
    const bad = { ...index, blob: new Blob([damaged]) };
    await expect(extractEntries(bad, [0], () => {})).rejects.toMatchObject({ code: 'DATASET_FORMAT' });
  });
});
