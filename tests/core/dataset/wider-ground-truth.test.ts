import { beforeAll, describe, expect, it } from 'vitest';
import { countWiderGroundTruth, readWiderGroundTruth, widerImageKey, type WiderGroundTruth } from '../../../src/core/dataset/wider-ground-truth.ts';
import { parseBbxGt, imageKeyFromPath } from '../../../src/core/dataset/parse-bbx-gt.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { MI, MX, MatWriter } from './mat-writer.ts';

const gtFile = (name: string): Uint8Array => readShared('widerface', 'eval_tools', 'ground_truth', name);

function matError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(isStudioError(e, 'MAT_FORMAT')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected a MAT_FORMAT error');
}

/** A one-event, two-image ground-truth file in the official layout. */
function tinyGt(gtLists?: number[][], boxes: number[][][] = [[[1, 2, 3, 4], [5, 6, 7, 8]], []], event = 'ev'): Uint8Array {
  const w = new MatWriter();
  const boxCell = (rows: number[][]): Uint8Array => {
    const n = rows.length;
    const colMajor: number[] = [];
    for (let c = 0; c < 4; c++) for (const r of rows) colMajor.push(r[c]!);
    return w.numeric('', MX.INT32, [n, n === 0 ? 0 : 4], MI.INT32, colMajor);
  };
  const vars = [
    w.compressed(w.cell('event_list', [1, 1], [w.char('', event)])),
    w.compressed(w.cell('file_list', [1, 1], [w.cell('', [2, 1], [w.char('', 'img_1'), w.char('', 'img_2')])])),
    w.compressed(w.cell('face_bbx_list', [1, 1], [w.cell('', [2, 1], boxes.map(boxCell))])),
  ];
  if (gtLists) {
    vars.push(w.compressed(w.cell('gt_list', [1, 1], [w.cell('', [2, 1], gtLists.map((l) => w.numeric('', MX.DOUBLE, [l.length, 1], MI.UINT8, l)))])));
  }
  return w.file(vars);
}

describe('readWiderGroundTruth on small crafted files', () => {
  it('converts column-major n×4 boxes to rows and keeps the 1-based gt_list indices', () => {
    const gt = readWiderGroundTruth({ faceVal: tinyGt(), easy: tinyGt([[2], []]), medium: tinyGt([[1, 2], []]), hard: tinyGt([[1, 2], []]) });
    expect(gt.events).toHaveLength(1);
    const [a, b] = gt.events[0]!.images;
    expect(a!.event).toBe('ev');
    expect(a!.file).toBe('img_1');
    expect(Array.from(a!.boxes)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(Array.from(a!.easy)).toEqual([2]);
    expect(Array.from(a!.medium)).toEqual([1, 2]);
    expect(b!.boxes).toHaveLength(0);
    expect(countWiderGroundTruth(gt)).toEqual({ events: 1, images: 2, boxes: 2, easy: 1, medium: 2, hard: 2 });
    expect(countWiderGroundTruth(gt, new Set(['ev/img_2']))).toEqual({ events: 1, images: 1, boxes: 0, easy: 0, medium: 0, hard: 0 });
    // faceVal is optional: the setting files hold the same boxes.
    expect(readWiderGroundTruth({ easy: tinyGt([[2], []]), medium: tinyGt([[1, 2], []]), hard: tinyGt([[1, 2], []]) })).toEqual(gt);
  });

  it('rejects inconsistent or incomplete files, naming the file and variable', () => {
    const ok = [[1], []];
    expect(matError(() => readWiderGroundTruth({ easy: tinyGt(), medium: tinyGt(ok), hard: tinyGt(ok) }))).toMatch(/^wider_easy_val\.mat: variable gt_list is missing/);
    expect(matError(() => readWiderGroundTruth({ easy: tinyGt([[3], []]), medium: tinyGt(ok), hard: tinyGt(ok) }))).toMatch(/^wider_easy_val\.mat: gt_list\{1,1\}\{1,1\} holds index 3, but ev\/img_1 has 2 boxes/);
    expect(matError(() => readWiderGroundTruth({ easy: tinyGt(ok), medium: tinyGt(ok, undefined, 'other'), hard: tinyGt(ok) }))).toMatch(/^wider_medium_val\.mat does not match wider_hard_val\.mat: event 1 is other vs ev/);
    expect(matError(() => readWiderGroundTruth({ faceVal: tinyGt(), easy: tinyGt(ok, [[[1, 2, 3, 4], [5, 6, 7, 9]], []]), medium: tinyGt(ok), hard: tinyGt(ok) }))).toMatch(/^wider_easy_val\.mat does not match wider_face_val\.mat: the boxes of ev\/img_1 differ/);
  });
});

describe.skipIf(!HAS_SHARED)('readWiderGroundTruth on the official files', () => {
  let gt: WiderGroundTruth;
  beforeAll(() => {
    gt = readWiderGroundTruth({ faceVal: gtFile('wider_face_val.mat'), easy: gtFile('wider_easy_val.mat'), medium: gtFile('wider_medium_val.mat'), hard: gtFile('wider_hard_val.mat') });
  });

  it('has the SPEC §9 totals: 61 events, 3,226 images, 39,708 boxes, 7,211 / 13,319 / 31,958 counted faces', () => {
    expect(countWiderGroundTruth(gt)).toEqual({ events: 61, images: 3226, boxes: 39708, easy: 7211, medium: 13319, hard: 31958 });
  });

  it('keeps .mat order and values (checked against scipy.io.loadmat)', () => {
    expect(gt.events[0]!.event).toBe('0--Parade');
    expect(gt.events[60]!.event).toBe(gt.events[60]!.images[0]!.event);
    const first = gt.events[0]!.images[0]!;
    expect(first.file).toBe('0_Parade_marchingband_1_465');
    expect(Array.from(first.boxes.subarray(0, 8))).toEqual([345, 211, 4, 4, 331, 126, 3, 3]);
    expect(Array.from(first.hard.subarray(0, 3))).toEqual([31, 32, 125]);
    expect(first.easy).toHaveLength(0);
  });

  it('nests the settings: easy ⊂ medium ⊂ hard for every image', () => {
    const violations: string[] = [];
    for (const e of gt.events) {
      for (const im of e.images) {
        const medium = new Set(im.medium);
        const hard = new Set(im.hard);
        if (!im.easy.every((i) => medium.has(i)) || !im.medium.every((i) => hard.has(i))) violations.push(`${e.event}/${im.file}`);
      }
    }
    expect(violations).toEqual([]);
  });

  it('contains every image of the shared val subset with the same boxes as the annotation txt', () => {
    const entries = parseBbxGt(new TextDecoder().decode(readShared('widerface', 'wider_face_split', 'wider_face_val_bbx_gt.txt')));
    const byKey = new Map(gt.events.flatMap((e) => e.images.map((im) => [widerImageKey(e.event, im.file), im] as const)));
    for (const entry of entries) {
      const im = byKey.get(imageKeyFromPath(entry.path));
      expect(im, entry.path).toBeDefined();
      expect(Array.from(im!.boxes)).toEqual(entry.faces.flatMap((f) => [f.x, f.y, f.w, f.h]));
    }
    const subset = new Set(entries.map((e) => imageKeyFromPath(e.path)));
    expect(countWiderGroundTruth(gt, subset)).toMatchObject({ images: 200, boxes: 2727, events: 5 });
  });

  it('rejects a truncated official file with MAT_FORMAT naming it', () => {
    const hard = gtFile('wider_hard_val.mat');
    expect(matError(() => readWiderGroundTruth({ easy: gtFile('wider_easy_val.mat'), medium: gtFile('wider_medium_val.mat'), hard: hard.subarray(0, 300_000) }))).toMatch(/^wider_hard_val\.mat: element #\d+ at byte \d+: truncated/);
  });
});
