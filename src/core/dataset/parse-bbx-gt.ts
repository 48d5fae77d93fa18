/**
 * Parser for the official WIDER FACE annotation lists `wider_face_{train,val}_bbx_gt.txt`
 * (the files `prepare_wider_data.py` reads, SPEC §8).
 *
 * Per image: a path line `event/name.jpg`, a count line, then `count` lines of 10 integers
 * `x y w h blur expression illumination invalid occlusion pose`. An image with count 0 is followed
 * by one all-zero line that is a placeholder, not a face.
 */
import { StudioError } from '../errors.ts';

export interface WiderFace {
  x: number;
  y: number;
  w: number;
  h: number;
  blur: number;
  expression: number;
  illumination: number;
  invalid: number;
  occlusion: number;
  pose: number;
}

export interface WiderEntry {
  /** `event/name.jpg`, as written in the file. */
  path: string;
  /** The folder part of `path`, e.g. `0--Parade`. */
  event: string;
  /** Real faces only (the placeholder row of a count-0 image is not included). */
  faces: WiderFace[];
  /** 1-based line of `path` in the file, for errors about this image found later (missing file, ...). */
  line?: number;
}

const FIELD_NAMES = ['x', 'y', 'w', 'h', 'blur', 'expression', 'illumination', 'invalid', 'occlusion', 'pose'] as const;
const INTEGER = /^-?\d+$/;

export interface ParseBbxGtOptions {
  /** Named in error messages, e.g. `wider_face_val_bbx_gt.txt`. */
  fileName?: string;
}

/** Parses the whole file; entries are returned in file order. Throws DATASET_FORMAT with file and line on any deviation. */
export function parseBbxGt(text: string, options: ParseBbxGtOptions = {}): WiderEntry[] {
  const fileName = options.fileName ?? 'bbx_gt.txt';
  const lines = text.split(/\r?\n/);
  // A trailing newline (or a few blank lines) at the end is normal; blank lines elsewhere are not.
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;

  const fail = (lineIndex: number, why: string): never => {
    throw new StudioError('DATASET_FORMAT', `${fileName}, line ${lineIndex + 1}: ${why}`);
  };
  const readRow = (lineIndex: number, what: string): number[] => {
    if (lineIndex >= end) fail(lineIndex, `file ends early: expected ${what}`);
    const fields = lines[lineIndex]!.trim().split(/\s+/);
    if (fields.length !== 10) {
      fail(lineIndex, `expected ${what} (10 integers), found ${fields.length} field(s) "${clip(lines[lineIndex]!)}"; is the count line above right?`);
    }
    return fields.map((f, k) => (INTEGER.test(f) ? Number(f) : fail(lineIndex, `field ${k + 1} (${FIELD_NAMES[k]}) is not an integer: "${clip(f)}"`)));
  };

  const entries: WiderEntry[] = [];
  let i = 0;
  while (i < end) {
    const path = lines[i]!.trim();
    if (!path.toLowerCase().endsWith('.jpg')) fail(i, `expected an image path ending in .jpg, found "${clip(path)}"`);
    const slash = path.indexOf('/');
    if (slash <= 0 || slash === path.length - 1) fail(i, `expected an image path of the form event/name.jpg, found "${clip(path)}"`);
    // Exactly event/name.jpg: no `..`, no deeper folders, no backslashes, so a list can never name a
    // file outside the dataset's images folder.
    const [event, , ...deeper] = path.split('/');
    if (deeper.length > 0 || /\\|\0/.test(path) || event === '.' || event === '..') {
      fail(i, `the image path "${clip(path)}" must be event/name.jpg inside the images folder (no "..", no sub-folders, no backslashes)`);
    }
    const line = i + 1;
    i++;
    if (i >= end) fail(i, `file ends early: expected the face count of ${path}`);
    const countText = lines[i]!.trim();
    if (!/^\d+$/.test(countText)) fail(i, `expected the face count of ${path} (a non-negative integer), found "${clip(countText)}"`);
    const count = Number(countText);
    i++;
    const faces: WiderFace[] = [];
    if (count === 0) {
      // The official files write one all-zero placeholder row; tolerate its absence (next path or EOF).
      if (i < end && !lines[i]!.trim().toLowerCase().endsWith('.jpg')) {
        const row = readRow(i, 'the placeholder row of a count-0 image');
        if (row.some((v) => v !== 0)) fail(i, `the row after a count of 0 must be all zeros (a placeholder), found "${clip(lines[i]!)}"; is the count line above right?`);
        i++;
      }
    } else {
      for (let k = 0; k < count; k++, i++) {
        const v = readRow(i, `face ${k + 1} of ${count} of ${path}`);
        faces.push({ x: v[0]!, y: v[1]!, w: v[2]!, h: v[3]!, blur: v[4]!, expression: v[5]!, illumination: v[6]!, invalid: v[7]!, occlusion: v[8]!, pose: v[9]! });
      }
    }
    entries.push({ path, event: path.slice(0, slash), faces, line });
  }
  return entries;
}

/** `event/name.jpg` → `event/name`, the image key used by the evaluator and the subset. */
export function imageKeyFromPath(path: string): string {
  return path.toLowerCase().endsWith('.jpg') ? path.slice(0, -4) : path;
}

function clip(s: string): string {
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}
