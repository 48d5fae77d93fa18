/**
 * The WIDER FACE val ground truth as `eval_tools/evaluation.py:get_gt_boxes` loads it (SPEC §9):
 * `event_list`, `file_list`, `face_bbx_list` from `wider_face_val.mat`, and `gt_list` (1-based indices
 * of the boxes that count) from `wider_{easy,medium,hard}_val.mat`. Events and images keep .mat order,
 * which is the order the evaluator walks.
 */
import { StudioError } from '../errors.ts';
import { parseMat, type MatArray, type MatCellArray, type MatFile } from './parse-mat.ts';

export type WiderSetting = 'easy' | 'medium' | 'hard';
export const WIDER_SETTINGS: readonly WiderSetting[] = ['easy', 'medium', 'hard'];

export interface WiderGtImage {
  event: string;
  /** Image name without `.jpg`, e.g. `0_Parade_marchingband_1_465`. */
  file: string;
  /** Row-major `[x, y, w, h]` per box (pixels, as annotated). */
  boxes: Int32Array;
  /** 1-based indices into the boxes that count in each setting (as in `gt_list`). */
  easy: Int32Array;
  medium: Int32Array;
  hard: Int32Array;
}

export interface WiderGtEvent {
  event: string;
  images: WiderGtImage[];
}

export interface WiderGroundTruth {
  events: WiderGtEvent[];
}

export interface WiderGtFiles {
  /** `wider_face_val.mat`. Optional: the same boxes are in the three setting files. */
  faceVal?: Uint8Array;
  easy: Uint8Array;
  medium: Uint8Array;
  hard: Uint8Array;
}

const FILE_NAMES = {
  faceVal: 'wider_face_val.mat',
  easy: 'wider_easy_val.mat',
  medium: 'wider_medium_val.mat',
  hard: 'wider_hard_val.mat',
} as const;

interface MatLists {
  fileName: string;
  events: string[];
  files: string[][];
  boxes: Int32Array[][];
  gt?: Int32Array[][];
}

/** Reads and cross-checks the official .mat files. Throws MAT_FORMAT naming the file and variable. */
export function readWiderGroundTruth(files: WiderGtFiles): WiderGroundTruth {
  const settings: Record<WiderSetting, MatLists> = {
    easy: readLists(files.easy, FILE_NAMES.easy, true),
    medium: readLists(files.medium, FILE_NAMES.medium, true),
    hard: readLists(files.hard, FILE_NAMES.hard, true),
  };
  const base = files.faceVal ? readLists(files.faceVal, FILE_NAMES.faceVal, false) : settings.hard;
  for (const setting of WIDER_SETTINGS) assertSameImages(base, settings[setting]);

  const events: WiderGtEvent[] = base.events.map((event, i) => ({
    event,
    images: base.files[i]!.map((file, j) => {
      const boxes = base.boxes[i]![j]!;
      const image: WiderGtImage = { event, file, boxes, easy: settings.easy.gt![i]![j]!, medium: settings.medium.gt![i]![j]!, hard: settings.hard.gt![i]![j]! };
      for (const setting of WIDER_SETTINGS) {
        for (const index of image[setting]) {
          if (index < 1 || index > boxes.length / 4) {
            throw new StudioError('MAT_FORMAT', `${settings[setting].fileName}: gt_list{${i + 1},1}{${j + 1},1} holds index ${index}, but ${event}/${file} has ${boxes.length / 4} boxes`);
          }
        }
      }
      return image;
    }),
  }));
  return { events };
}

export interface WiderGtCounts {
  events: number;
  images: number;
  boxes: number;
  /** Counted faces per setting (Σ len(gt_list) over images). */
  easy: number;
  medium: number;
  hard: number;
}

/** Totals, for display and sanity checks (SPEC §9: 61 / 3,226 / 39,708 / 7,211 / 13,319 / 31,958). */
export function countWiderGroundTruth(gt: WiderGroundTruth, restrictTo?: ReadonlySet<string>): WiderGtCounts {
  const counts: WiderGtCounts = { events: 0, images: 0, boxes: 0, easy: 0, medium: 0, hard: 0 };
  for (const event of gt.events) {
    let any = false;
    for (const image of event.images) {
      if (restrictTo && !restrictTo.has(widerImageKey(image.event, image.file))) continue;
      any = true;
      counts.images++;
      counts.boxes += image.boxes.length / 4;
      for (const setting of WIDER_SETTINGS) counts[setting] += image[setting].length;
    }
    if (any) counts.events++;
  }
  return counts;
}

/** `event/file` (no `.jpg`): the key that names one val image across the dataset, the subset and the evaluator. */
export function widerImageKey(event: string, file: string): string {
  return `${event}/${file}`;
}

function readLists(bytes: Uint8Array, fileName: string, withGtList: boolean): MatLists {
  const mat = parseMat(bytes, { fileName });
  const eventList = cellVariable(mat, fileName, 'event_list');
  const fileList = cellVariable(mat, fileName, 'file_list');
  const boxList = cellVariable(mat, fileName, 'face_bbx_list');
  const gtList = withGtList ? cellVariable(mat, fileName, 'gt_list') : undefined;
  const n = eventList.cells.length;
  for (const [name, list] of [['file_list', fileList], ['face_bbx_list', boxList], ['gt_list', gtList]] as const) {
    if (list && list.cells.length !== n) throw new StudioError('MAT_FORMAT', `${fileName}: ${name} has ${list.cells.length} events, event_list has ${n}`);
  }
  const fail = (where: string, why: string): never => {
    throw new StudioError('MAT_FORMAT', `${fileName}: ${where}: ${why}`);
  };

  const events = eventList.cells.map((c, i) => text(c, () => fail(`event_list{${i + 1},1}`, 'not a string')));
  const files: string[][] = [];
  const boxes: Int32Array[][] = [];
  const gt: Int32Array[][] = [];
  for (let i = 0; i < n; i++) {
    const fileCell = asCell(fileList.cells[i]!, () => fail(`file_list{${i + 1},1}`, 'not a cell array'));
    const boxCell = asCell(boxList.cells[i]!, () => fail(`face_bbx_list{${i + 1},1}`, 'not a cell array'));
    const m = fileCell.cells.length;
    if (boxCell.cells.length !== m) fail(`face_bbx_list{${i + 1},1}`, `${boxCell.cells.length} images, file_list has ${m}`);
    files.push(fileCell.cells.map((c, j) => text(c, () => fail(`file_list{${i + 1},1}{${j + 1},1}`, 'not a string'))));
    boxes.push(boxCell.cells.map((c, j) => boxRows(c, () => fail(`face_bbx_list{${i + 1},1}{${j + 1},1}`, 'not an n×4 numeric array'))));
    if (gtList) {
      const gtCell = asCell(gtList.cells[i]!, () => fail(`gt_list{${i + 1},1}`, 'not a cell array'));
      if (gtCell.cells.length !== m) fail(`gt_list{${i + 1},1}`, `${gtCell.cells.length} images, file_list has ${m}`);
      gt.push(gtCell.cells.map((c, j) => indexList(c, () => fail(`gt_list{${i + 1},1}{${j + 1},1}`, 'not a numeric index list'))));
    }
  }
  return { fileName, events, files, boxes, gt: gtList ? gt : undefined };
}

function cellVariable(mat: MatFile, fileName: string, name: string): MatCellArray {
  const v = mat.variables.get(name);
  if (!v) throw new StudioError('MAT_FORMAT', `${fileName}: variable ${name} is missing (is this a WIDER FACE ground-truth file?)`);
  if (v.class !== 'cell') throw new StudioError('MAT_FORMAT', `${fileName}: variable ${name} is a ${v.class} array, expected a cell array`);
  return v;
}

function asCell(a: MatArray, fail: () => never): MatCellArray {
  return a.class === 'cell' ? a : fail();
}

function text(a: MatArray, fail: () => never): string {
  return a.class === 'char' ? a.text : fail();
}

/** MATLAB's column-major n×4 → row-major [x, y, w, h] per box. */
function boxRows(a: MatArray, fail: () => never): Int32Array {
  if (a.class === 'cell' || a.class === 'char' || a.class === 'struct' || a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) return fail();
  const [n = 0, cols = 0] = a.dims;
  if (a.data.length === 0) return new Int32Array(0);
  if (cols !== 4 || a.dims.length !== 2) return fail();
  const out = new Int32Array(n * 4);
  for (let r = 0; r < n; r++) for (let c = 0; c < 4; c++) out[r * 4 + c] = a.data[r + c * n]!;
  return out;
}

function indexList(a: MatArray, fail: () => never): Int32Array {
  if (a.class === 'cell' || a.class === 'char' || a.class === 'struct' || a.data instanceof BigInt64Array || a.data instanceof BigUint64Array) return fail();
  const out = new Int32Array(a.data.length);
  for (let k = 0; k < out.length; k++) {
    const v = a.data[k]!;
    if (!Number.isInteger(v)) return fail();
    out[k] = v;
  }
  return out;
}

function assertSameImages(a: MatLists, b: MatLists): void {
  if (a === b) return;
  const fail = (why: string): never => {
    throw new StudioError('MAT_FORMAT', `${b.fileName} does not match ${a.fileName}: ${why}. Use the four files of one eval_tools/ground_truth folder.`);
  };
  if (a.events.length !== b.events.length) fail(`${b.events.length} events vs ${a.events.length}`);
  for (let i = 0; i < a.events.length; i++) {
    if (a.events[i] !== b.events[i]) fail(`event ${i + 1} is ${b.events[i]} vs ${a.events[i]}`);
    const fa = a.files[i]!;
    const fb = b.files[i]!;
    if (fa.length !== fb.length) fail(`event ${a.events[i]} has ${fb.length} images vs ${fa.length}`);
    for (let j = 0; j < fa.length; j++) {
      if (fa[j] !== fb[j]) fail(`image ${j + 1} of ${a.events[i]} is ${fb[j]} vs ${fa[j]}`);
      const ba = a.boxes[i]![j]!;
      const bb = b.boxes[i]![j]!;
      if (ba.length !== bb.length || ba.some((v, k) => v !== bb[k])) fail(`the boxes of ${a.events[i]}/${fa[j]} differ`);
    }
  }
}
