import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { imageKeyFromPath, parseBbxGt } from '../../../src/core/dataset/parse-bbx-gt.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, sharedPath } from '../../helpers/shared.ts';

const readText = (name: string): string => readFileSync(sharedPath('widerface', 'wider_face_split', name), 'utf8');

/** Runs fn, expects a DATASET_FORMAT StudioError, returns its message. */
function formatError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isStudioError(e, 'DATASET_FORMAT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a DATASET_FORMAT error');
}

describe('parseBbxGt on crafted input', () => {
  const good = [
    '0--Parade/0_Parade_a_1.jpg',
    '2',
    '10 20 30 40 0 0 0 0 0 0 ',
    '5 6 7 8 2 1 1 1 2 1 ',
    '1--Handshaking/1_Handshaking_b_2.jpg',
    '0',
    '0 0 0 0 0 0 0 0 0 0 ',
    '0--Parade/0_Parade_c_3.jpg',
    '1',
    '1 2 3 4 0 0 0 0 0 0',
    '',
  ].join('\n');

  it('reads entries in file order with typed faces; the count-0 placeholder row is not a face', () => {
    const entries = parseBbxGt(good);
    expect(entries.map((e) => e.path)).toEqual(['0--Parade/0_Parade_a_1.jpg', '1--Handshaking/1_Handshaking_b_2.jpg', '0--Parade/0_Parade_c_3.jpg']);
    expect(entries.map((e) => e.event)).toEqual(['0--Parade', '1--Handshaking', '0--Parade']);
    expect(entries[0]!.faces).toEqual([
      { x: 10, y: 20, w: 30, h: 40, blur: 0, expression: 0, illumination: 0, invalid: 0, occlusion: 0, pose: 0 },
      { x: 5, y: 6, w: 7, h: 8, blur: 2, expression: 1, illumination: 1, invalid: 1, occlusion: 2, pose: 1 },
    ]);
    expect(entries[1]!.faces).toEqual([]);
    expect(entries[2]!.faces).toHaveLength(1);
  });

  it('accepts CRLF line endings and a count-0 image without its placeholder row', () => {
    expect(parseBbxGt(good.replace(/\n/g, '\r\n'))).toEqual(parseBbxGt(good));
    const noPlaceholder = 'a/b.jpg\n0\nc/d.jpg\n1\n1 1 1 1 0 0 0 0 0 0\n';
    expect(parseBbxGt(noPlaceholder).map((e) => e.faces.length)).toEqual([0, 1]);
    expect(parseBbxGt('a/b.jpg\n0\n').map((e) => e.faces.length)).toEqual([0]);
  });

  it('names the file and line of every kind of malformation', () => {
    const lines = good.split('\n');
    const edit = (i: number, v: string): string => lines.map((l, k) => (k === i ? v : l)).join('\n');
    const opts = { fileName: 'wider_face_val_bbx_gt.txt' };

    // Count too large: the next path line is read as a face row.
    expect(formatError(() => parseBbxGt(edit(1, '3'), opts))).toMatch(/^wider_face_val_bbx_gt\.txt, line 5: expected face 3 of 3 .* found 1 field/);
    // Count too small: a face row appears where a path is expected.
    expect(formatError(() => parseBbxGt(edit(1, '1'), opts))).toMatch(/line 4: expected an image path ending in \.jpg/);
    expect(formatError(() => parseBbxGt(edit(1, 'two'), opts))).toMatch(/line 2: expected the face count/);
    expect(formatError(() => parseBbxGt(edit(1, '-1'), opts))).toMatch(/line 2: expected the face count/);
    expect(formatError(() => parseBbxGt(edit(2, '10 20 3x 40 0 0 0 0 0 0'), opts))).toMatch(/line 3: field 3 \(w\) is not an integer: "3x"/);
    expect(formatError(() => parseBbxGt(edit(2, '10 20 30 40 0 0 0 0 0'), opts))).toMatch(/line 3: .*found 9 field/);
    expect(formatError(() => parseBbxGt(edit(2, '10 20 30 40 0 0 0 0 0 0 0'), opts))).toMatch(/line 3: .*found 11 field/);
    expect(formatError(() => parseBbxGt(edit(2, '10.5 20 30 40 0 0 0 0 0 0'), opts))).toMatch(/line 3: field 1 \(x\)/);
    expect(formatError(() => parseBbxGt(edit(0, '0--Parade/0_Parade_a_1.png'), opts))).toMatch(/line 1: expected an image path ending in \.jpg/);
    expect(formatError(() => parseBbxGt(edit(0, '0_Parade_a_1.jpg'), opts))).toMatch(/line 1: expected an image path of the form event\/name\.jpg/);
    // The placeholder after a 0 count must be all zeros (else the count was probably wrong).
    expect(formatError(() => parseBbxGt(edit(6, '1 2 3 4 0 0 0 0 0 0'), opts))).toMatch(/line 7: the row after a count of 0 must be all zeros/);
    // A blank line inside the list is not skipped silently.
    expect(formatError(() => parseBbxGt(edit(3, ''), opts))).toMatch(/line 4: .*found 1 field/);
  });

  it('reports a premature end of file', () => {
    expect(formatError(() => parseBbxGt('a/b.jpg\n2\n1 2 3 4 0 0 0 0 0 0\n', { fileName: 'x.txt' }))).toMatch(/^x\.txt, line 4: file ends early: expected face 2 of 2/);
    expect(formatError(() => parseBbxGt('a/b.jpg\n'))).toMatch(/line 2: file ends early: expected the face count/);
  });

  it('imageKeyFromPath drops the .jpg suffix only', () => {
    expect(imageKeyFromPath('0--Parade/0_Parade_marchingband_1_465.jpg')).toBe('0--Parade/0_Parade_marchingband_1_465');
    expect(imageKeyFromPath('a/b_jpg')).toBe('a/b_jpg');
  });
});

describe.skipIf(!HAS_SHARED)('parseBbxGt on the shared WIDER FACE subset', () => {
  it.each([
    ['wider_face_train_bbx_gt.txt', 400, 2035],
    ['wider_face_val_bbx_gt.txt', 200, 2727],
  ])('%s: %i images, %i face rows', (name, images, faces) => {
    const text = readText(name);
    const entries = parseBbxGt(text, { fileName: name });
    expect(entries).toHaveLength(images);
    expect(entries.reduce((n, e) => n + e.faces.length, 0)).toBe(faces);
    expect(new Set(entries.map((e) => e.event)).size).toBe(5);
    // Cross-check against a plain count of the count lines (every line after a .jpg line).
    const lines = text.split('\n');
    const counted = lines.reduce((n, l, i) => (i > 0 && lines[i - 1]!.endsWith('.jpg') ? n + Number(l) : n), 0);
    expect(counted).toBe(faces);
    for (const e of entries) expect(e.path.startsWith(`${e.event}/`)).toBe(true);
  });

  it('keeps the first val entry exactly as written', () => {
    const [first] = parseBbxGt(readText('wider_face_val_bbx_gt.txt'));
    const lines = readText('wider_face_val_bbx_gt.txt').split('\n');
    expect(first!.path).toBe(lines[0]);
    expect(first!.faces).toHaveLength(Number(lines[1]));
    const row = lines[2]!.trim().split(/\s+/).map(Number);
    expect(Object.values(first!.faces[0]!)).toEqual(row);
  });
});
