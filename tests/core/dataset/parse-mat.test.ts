import { describe, expect, it } from 'vitest';
import { matCharRows, parseMat, type MatArray } from '../../../src/core/dataset/parse-mat.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { MI, MX, MatWriter } from './mat-writer.ts';

function matError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isStudioError(e, 'MAT_FORMAT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a MAT_FORMAT error');
}

function get(file: ReturnType<typeof parseMat>, name: string): MatArray {
  const v = file.variables.get(name);
  if (!v) throw new Error(`no variable ${name}`);
  return v;
}

describe('parseMat on files built by the test writer', () => {
  for (const bigEndian of [false, true]) {
    it(`reads numeric classes from smaller storage types (${bigEndian ? 'big' : 'little'}-endian)`, () => {
      const w = new MatWriter({ bigEndian });
      const bytes = w.file([
        // class double stored as miUINT8, the way WIDER's gt_list is written.
        w.compressed(w.numeric('idx', MX.DOUBLE, [3, 1], MI.UINT8, [1, 7, 255])),
        w.numeric('i32', MX.INT32, [2, 2], MI.INT32, [1, -2, 3, -4]),
        w.numeric('small', MX.INT16, [1, 2], MI.INT16, [-5, 6]), // 4 bytes: small element format
        w.numeric('u16', MX.UINT16, [1, 3], MI.UINT8, [0, 128, 255]),
        w.numeric('f', MX.SINGLE, [1, 2], MI.SINGLE, [0.5, -1.25]),
        w.numeric('d', MX.DOUBLE, [1, 3], MI.DOUBLE, [Math.PI, -0, 1e300]),
        w.numeric('big', MX.INT64, [1, 2], MI.INT64, [-(2n ** 62n), 5n]),
        w.numeric('z', MX.DOUBLE, [1, 2], MI.DOUBLE, [1, 2], [3, -4]),
        w.numeric('u8', MX.UINT8, [1, 3], MI.UINT8, [1, 0, 1]),
      ]);
      const mat = parseMat(bytes, { fileName: 't.mat' });
      expect(mat.littleEndian).toBe(!bigEndian);
      expect(mat.headerText).toBe('MATLAB 5.0 MAT-file, written by the test writer');
      expect([...mat.variables.keys()]).toEqual(['idx', 'i32', 'small', 'u16', 'f', 'd', 'big', 'z', 'u8']);
      const idx = get(mat, 'idx');
      expect(idx.class).toBe('double');
      expect(idx.dims).toEqual([3, 1]);
      expect(idx.class === 'double' && idx.data).toEqual(new Float64Array([1, 7, 255]));
      expect((get(mat, 'i32') as { data: unknown }).data).toEqual(new Int32Array([1, -2, 3, -4]));
      expect((get(mat, 'small') as { data: unknown }).data).toEqual(new Int16Array([-5, 6]));
      expect((get(mat, 'u16') as { data: unknown }).data).toEqual(new Uint16Array([0, 128, 255]));
      expect((get(mat, 'f') as { data: unknown }).data).toEqual(new Float32Array([0.5, -1.25]));
      const d = (get(mat, 'd') as { data: Float64Array }).data;
      expect(d[0]).toBe(Math.PI);
      expect(Object.is(d[1], -0)).toBe(true);
      expect(d[2]).toBe(1e300);
      expect((get(mat, 'big') as { data: unknown }).data).toEqual(new BigInt64Array([-(2n ** 62n), 5n]));
      const z = get(mat, 'z') as { data: unknown; imag: unknown };
      expect(z.data).toEqual(new Float64Array([1, 2]));
      expect(z.imag).toEqual(new Float64Array([3, -4]));
    });
  }

  it('reads nested cells, text in UTF-8 / UTF-16 / uint16 storage, char matrices and structs', () => {
    const w = new MatWriter();
    const inner = w.cell('', [2, 1], [w.char('', 'ab'), w.numeric('', MX.INT32, [0, 1], MI.INT32, [])]);
    const charMatrix = w.matrix('rows', MX.CHAR, [2, 3], [w.element(MI.UINT16, w.values(MI.UINT16, Array.from('adbecf', (c) => c.charCodeAt(0))))]);
    // struct 1×2 with fields a, bb: name length 8, names NUL padded.
    const names = new Uint8Array(16);
    names.set(new TextEncoder().encode('a'), 0);
    names.set(new TextEncoder().encode('bb'), 8);
    const struct = w.matrix('s', MX.STRUCT, [1, 2], [
      w.element(MI.INT32, w.values(MI.INT32, [8])),
      w.element(MI.INT8, names),
      w.numeric('', MX.DOUBLE, [1, 1], MI.DOUBLE, [1]),
      w.char('', 'x'),
      w.numeric('', MX.DOUBLE, [1, 1], MI.DOUBLE, [2]),
      w.char('', 'y'),
    ]);
    const bytes = w.file([
      w.compressed(w.cell('c', [1, 3], [inner, w.char('', 'héllo'), w.element(MI.MATRIX, new Uint8Array(0))])),
      w.char('u16', 'Zoë', MI.UTF16),
      charMatrix,
      w.compressed(struct),
    ]);
    const mat = parseMat(bytes);
    const c = get(mat, 'c');
    if (c.class !== 'cell') throw new Error('cell expected');
    expect(c.dims).toEqual([1, 3]);
    const first = c.cells[0]!;
    expect(first.class === 'cell' && first.cells.map((x) => x.class)).toEqual(['char', 'int32']);
    expect(first.class === 'cell' && first.cells[0]!.class === 'char' && first.cells[0]!.text).toBe('ab');
    expect(c.cells[1]!.class === 'char' && c.cells[1]!.text).toBe('héllo');
    // An empty miMATRIX is MATLAB's [] inside a cell.
    expect(c.cells[2]).toMatchObject({ class: 'double', dims: [0, 0] });
    const u16 = get(mat, 'u16');
    expect(u16.class === 'char' && u16.text).toBe('Zoë');
    const rows = get(mat, 'rows');
    expect(rows.class === 'char' && matCharRows(rows)).toEqual(['abc', 'def']);
    const s = get(mat, 's');
    if (s.class !== 'struct') throw new Error('struct expected');
    expect(s.fieldNames).toEqual(['a', 'bb']);
    expect(s.elements.map((e) => (e.a as { data: Float64Array }).data[0])).toEqual([1, 2]);
    expect(s.elements.map((e) => (e.bb!.class === 'char' ? e.bb!.text : ''))).toEqual(['x', 'y']);
  });

  it('rejects what it cannot read with MAT_FORMAT and a reason', () => {
    const w = new MatWriter();
    expect(matError(() => parseMat(new Uint8Array(50), { fileName: 'short.mat' }))).toMatch(/^short\.mat: too short/);
    const v73 = w.file([]);
    v73.set(new TextEncoder().encode('MATLAB 7.3 MAT-file'), 0);
    expect(matError(() => parseMat(v73))).toMatch(/v7\.3 \(HDF5\)/);
    const noEndian = w.file([]);
    noEndian.set([0, 0], 126);
    expect(matError(() => parseMat(noEndian))).toMatch(/not a MATLAB Level 5/);
    const sparse = w.file([w.matrix('sp', MX.SPARSE, [2, 2], [])]);
    expect(matError(() => parseMat(sparse, { fileName: 'sp.mat' }))).toMatch(/^sp\.mat: element sp at byte \d+: unsupported array class sparse/);
    const wrongCount = w.file([w.numeric('n', MX.DOUBLE, [2, 2], MI.DOUBLE, [1, 2, 3])]);
    expect(matError(() => parseMat(wrongCount))).toMatch(/element n .*data holds 3 values, dimensions say 4/);
  });

  it('names the element and offset of a truncated or corrupt file', () => {
    const w = new MatWriter();
    const plain = w.file([w.numeric('a', MX.DOUBLE, [1, 4], MI.DOUBLE, [1, 2, 3, 4]), w.numeric('b', MX.DOUBLE, [1, 4], MI.DOUBLE, [5, 6, 7, 8])]);
    expect(matError(() => parseMat(plain.subarray(0, plain.length - 9), { fileName: 'cut.mat' }))).toMatch(/^cut\.mat: element #2 at byte \d+: truncated: miMATRIX element claims \d+ bytes, \d+ left/);
    const zipped = w.file([w.compressed(w.cell('c', [1, 2], [w.char('', 'abc'), w.char('', 'def')]))]);
    expect(matError(() => parseMat(zipped.subarray(0, zipped.length - 1), { fileName: 'z.mat' }))).toMatch(/^z\.mat: element #1 at byte 128: truncated: miCOMPRESSED/);
    // Keep the tag's byte count but feed a deflate stream cut in the middle: inflation fails.
    const payload = w.compressed(w.cell('c', [1, 2], [w.char('', 'abc'.repeat(50)), w.char('', 'def')]));
    const tagged = w.element(MI.COMPRESSED, payload.subarray(8, 8 + 20));
    expect(matError(() => parseMat(w.file([tagged]), { fileName: 'z.mat' }))).toMatch(/^z\.mat: element #1 at byte 128: the compressed data does not inflate/);
  });
});

describe.skipIf(!HAS_SHARED)('parseMat on the official WIDER ground truth', () => {
  it('reads wider_hard_val.mat like scipy.io.loadmat', () => {
    const mat = parseMat(readShared('widerface', 'eval_tools', 'ground_truth', 'wider_hard_val.mat'), { fileName: 'wider_hard_val.mat' });
    expect(mat.headerText).toMatch(/^MATLAB 5\.0 MAT-file, Platform: GLNXA64/);
    expect([...mat.variables.keys()].sort()).toEqual([
      'blur_label_list', 'event_list', 'expression_label_list', 'face_bbx_list', 'file_list', 'gt_list',
      'illumination_label_list', 'invalid_label_list', 'occlusion_label_list', 'pose_label_list',
    ]);
    const events = get(mat, 'event_list');
    if (events.class !== 'cell') throw new Error('cell expected');
    expect(events.dims).toEqual([61, 1]);
    expect(events.cells[0]!.class === 'char' && events.cells[0]!.text).toBe('0--Parade');
    const boxes = get(mat, 'face_bbx_list');
    if (boxes.class !== 'cell') throw new Error('cell expected');
    const firstEvent = boxes.cells[0]!;
    if (firstEvent.class !== 'cell') throw new Error('cell expected');
    const firstImage = firstEvent.cells[0]!;
    // scipy: face_bbx_list[0][0][0][0][:2] == [[345, 211, 4, 4], [331, 126, 3, 3]] (int32, column-major here).
    expect(firstImage.class).toBe('int32');
    const n = firstImage.dims[0]!;
    expect(firstImage.dims[1]).toBe(4);
    const data = (firstImage as { data: Int32Array }).data;
    expect([data[0], data[n], data[2 * n], data[3 * n]]).toEqual([345, 211, 4, 4]);
    expect([data[1], data[n + 1], data[2 * n + 1], data[3 * n + 1]]).toEqual([331, 126, 3, 3]);
    const gt = get(mat, 'gt_list');
    const gt0 = gt.class === 'cell' && gt.cells[0]!.class === 'cell' ? gt.cells[0]!.cells[0]! : undefined;
    expect(gt0?.class).toBe('double');
    expect(Array.from((gt0 as { data: Float64Array }).data.slice(0, 3))).toEqual([31, 32, 125]);
  });

  it('fails with MAT_FORMAT naming the file when the real file is truncated', () => {
    const bytes = readShared('widerface', 'eval_tools', 'ground_truth', 'wider_easy_val.mat');
    for (const cut of [100, 128 + 4, 5000, bytes.length - 1]) {
      expect(matError(() => parseMat(bytes.subarray(0, cut), { fileName: 'wider_easy_val.mat' }))).toMatch(/^wider_easy_val\.mat: /);
    }
    // Corrupt one byte inside the first compressed variable: inflation or the structure check fails.
    const corrupt = bytes.slice();
    for (let i = 200; i < 260; i++) corrupt[i] = corrupt[i]! ^ 0xff;
    expect(matError(() => parseMat(corrupt, { fileName: 'wider_easy_val.mat' }))).toMatch(/^wider_easy_val\.mat: element #1 at byte 128/);
  });
});
