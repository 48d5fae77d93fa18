import { describe, expect, it } from 'vitest';
import { formatFixed, formatPredictionTxt, parsePredictionTxt } from '../../../src/core/eval/prediction-txt.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { parseNpy, toFloat64 } from '../../helpers/npy.ts';

describe('formatFixed matches Python format(x, ".Nf")', () => {
  // Every expected string was produced by CPython 3 `format(x, f'.{d}f')` on this machine.
  const table: Array<[number, number, string]> = [
    [0.25, 1, '0.2'], // exact tie → even (toFixed gives '0.3')
    [0.75, 1, '0.8'],
    [-0.25, 1, '-0.2'],
    [2.5, 0, '2'], // toFixed: '3'
    [3.5, 0, '4'],
    [0.0625, 3, '0.062'], // toFixed: '0.063'
    [0.1875, 3, '0.188'],
    [2.675, 2, '2.67'], // binary value is below the decimal tie
    [1.005, 2, '1.00'],
    [0.05, 1, '0.1'],
    [0.15, 1, '0.1'],
    [0.35, 1, '0.3'],
    [0.0005, 3, '0.001'],
    [-0, 1, '-0.0'],
    [-0.04, 1, '-0.0'],
    [123456.75, 1, '123456.8'],
    [999.95, 1, '1000.0'],
    [0.9995, 3, '1.000'],
    [178.43207257, 1, '178.4'],
    [1e22, 1, '10000000000000000000000.0'],
    [2 ** 50 + 0.25, 1, '1125899906842624.2'], // a tie beyond 2^52 after scaling
    [2 ** 49 + 0.125, 2, '562949953421312.12'],
    [Number.NaN, 1, 'nan'],
    [Number.NEGATIVE_INFINITY, 3, '-inf'],
  ];
  it.each(table)('format(%d, .%if) = %s', (x, digits, want) => {
    expect(formatFixed(x, digits)).toBe(want);
  });

  it('differs from toFixed exactly on binary ties', () => {
    expect((0.25).toFixed(1)).toBe('0.3');
    expect(formatFixed(0.25, 1)).toBe('0.2');
  });
});

describe('prediction txt', () => {
  it('formats like wider_test.py: path, count, x1 y1 (x2−x1+1) (y2−y1+1) score', () => {
    const txt = formatPredictionTxt('0--Parade/0_Parade_marchingband_1_465.jpg', [
      [178.43207257, 58.61907838, 272.01509012, 175.03257154, 0.99995232],
      [10.25, 0.75, 20, 30.5, 0.0625],
    ]);
    expect(txt).toBe('0--Parade/0_Parade_marchingband_1_465.jpg\n2\n178.4 58.6 94.6 117.4 1.000\n10.2 0.8 10.8 30.8 0.062\n');
    expect(formatPredictionTxt('a/b.jpg', [])).toBe('a/b.jpg\n0\n');
  });

  it('parses what it formats, keyed like read_pred_file', () => {
    const parsed = parsePredictionTxt('0--Parade/0_Parade_x_1.jpg\n2\n1.0 2.0 3.0 4.0 0.500\n5 6 7 8 1e-3\n');
    expect(parsed).toEqual({ header: '0--Parade/0_Parade_x_1.jpg', imageName: '0_Parade_x_1', boxes: [[1, 2, 3, 4, 0.5], [5, 6, 7, 8, 0.001]] });
    expect(parsePredictionTxt('/abs/path/img_9.jpg\r\n0\r\n').imageName).toBe('img_9');
    const back = parsePredictionTxt(formatPredictionTxt('e/n.jpg', [[0.25, 1, 10.75, 20, 0.1875]]));
    expect(back.boxes).toEqual([[0.2, 1, 11.5, 20, 0.188]]);
  });

  it('rejects malformed files with EVAL_INPUT naming file and line', () => {
    const cases: Array<[string, RegExp]> = [
      ['a/b.jpg\n2\n1 2 3 4 0.5\n', /^p\.txt, line 2: the count says 2 boxes but 1 box lines follow/],
      ['a/b.jpg\nx\n', /^p\.txt, line 2: expected the number of boxes/],
      ['a/b.jpg\n1\n1 2 3 4\n', /^p\.txt, line 3: expected "x y w h score", found 4 field/],
      ['a/b.jpg\n1\n1 2 3 0x10 0.5\n', /^p\.txt, line 3: "0x10" is not a number/],
      ['a/b.jpg\n', /^p\.txt, line 2: expected an image path line and a box count line/],
    ];
    for (const [text, re] of cases) {
      try {
        parsePredictionTxt(text, 'p.txt');
        throw new Error(`accepted: ${JSON.stringify(text)}`);
      } catch (e) {
        expect(isStudioError(e, 'EVAL_INPUT'), String(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    }
  });
});

describe.skipIf(!HAS_SHARED)('prediction txt against the reference output', () => {
  it('reproduces golden/real/astronaut.wider.txt from astronaut.wider_dets.npy, line by line', () => {
    const dets = parseNpy(readShared('golden', 'real', 'astronaut.wider_dets.npy'));
    const values = toFloat64(dets);
    expect(dets.shape).toEqual([750, 5]);
    const rows = Array.from({ length: 750 }, (_, i) => Array.from(values.subarray(i * 5, i * 5 + 5)));
    const want = new TextDecoder().decode(readShared('golden', 'real', 'astronaut.wider.txt'));
    expect(formatPredictionTxt('astronaut.jpg', rows)).toBe(want.endsWith('\n') ? want : `${want}\n`);
  });
});
