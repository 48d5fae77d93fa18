/**
 * Issue 11 item 7: training lists are checked before the first epoch. A missing image fails with the
 * list's line; a face box entirely outside its image is skipped and counted (and can no longer make
 * the augmentation crop an empty region); no list path leaves the images folder.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { augmentTrain } from '../../../src/core/augment/augment-train.ts';
import { parseBbxGt } from '../../../src/core/dataset/parse-bbx-gt.ts';
import type { ErrorCode } from '../../../src/core/errors.ts';
import { imagePath } from '../../../src/platform/node/wider-folder.ts';
import { widerEntries, type SkippedBox } from '../../../src/platform/node/wider-samples.ts';
import { expectStudioError } from '../../core/checkpoint/fixtures.ts';
import { jpegWithOrientation, quadrantRgba } from '../../helpers/exif.ts';

const LIST = 'wider_face_train_bbx_gt.txt';

/** A WIDER folder with the given train list and images (`event/name.jpg` → JPEG bytes, or 'dir'). */
function widerFolder(list: string, images: Record<string, Uint8Array | 'dir'>): string {
  const dir = mkdtempSync(join(tmpdir(), 'bfpgm-lists-'));
  mkdirSync(join(dir, 'wider_face_split'), { recursive: true });
  writeFileSync(join(dir, 'wider_face_split', LIST), list);
  for (const [rel, bytes] of Object.entries(images)) {
    const path = join(dir, 'WIDER_train', 'images', rel);
    mkdirSync(bytes === 'dir' ? path : join(path, '..'), { recursive: true });
    if (bytes !== 'dir') writeFileSync(path, bytes);
  }
  return dir;
}

const face = (x: number, y: number, w: number, h: number) => `${x} ${y} ${w} ${h} 0 0 0 0 0 0`;
const jpeg64x32 = jpegWithOrientation(64, 32, quadrantRgba(64, 32));
const made: string[] = [];
afterAll(() => made.forEach((d) => rmSync(d, { recursive: true, force: true })));
const folder = (list: string, images: Record<string, Uint8Array | 'dir'>) => {
  const d = widerFolder(list, images);
  made.push(d);
  return d;
};
const entries = (dir: string, onSkippedBox?: (s: SkippedBox) => void) => widerEntries(dir, { split: 'train', size: 'all', seed: 0, onSkippedBox });

describe('the train list is checked before training', () => {
  const REFUSED: Array<[string, string, Record<string, Uint8Array | 'dir'>, ErrorCode, RegExp]> = [
    [
      'a missing image',
      ['0--Parade/a.jpg', '1', face(2, 2, 20, 20), '0--Parade/gone.jpg', '1', face(2, 2, 20, 20)].join('\n'),
      { '0--Parade/a.jpg': jpeg64x32 },
      'DATASET_FORMAT',
      /wider_face_train_bbx_gt\.txt, line 4: 0--Parade\/gone\.jpg: the image file is missing/,
    ],
    [
      'a folder where an image should be',
      ['0--Parade/a.jpg', '1', face(2, 2, 20, 20)].join('\n'),
      { '0--Parade/a.jpg': 'dir' },
      'DATASET_FORMAT',
      /line 1: 0--Parade\/a\.jpg: cannot read the image \(EISDIR\)/,
    ],
    [
      'an image that is not a JPEG',
      ['0--Parade/a.jpg', '1', face(2, 2, 20, 20)].join('\n'),
      { '0--Parade/a.jpg': new TextEncoder().encode('<html>not found</html>') },
      'DATASET_FORMAT',
      /line 1: 0--Parade\/a\.jpg: .*neither JPEG nor PNG/,
    ],
    [
      'a path climbing out with ../',
      ['0--Parade/a.jpg', '1', face(2, 2, 20, 20), '../a.jpg', '1', face(2, 2, 20, 20)].join('\n'),
      { '0--Parade/a.jpg': jpeg64x32 },
      'DATASET_FORMAT',
      /line 4: the image path "\.\.\/a\.jpg" must be event\/name\.jpg inside the images folder/,
    ],
    [
      'a path with sub-folders (0--Parade/../../../etc/x.jpg)',
      ['0--Parade/../../../etc/x.jpg', '1', face(2, 2, 20, 20)].join('\n'),
      {},
      'DATASET_FORMAT',
      /line 1: the image path "0--Parade\/\.\.\/\.\.\/\.\.\/etc\/x\.jpg" must be event\/name\.jpg/,
    ],
  ];
  for (const [what, list, images, code, message] of REFUSED) {
    it(`${what} → ${code} naming the line`, async () => {
      const dir = folder(list, images);
      await expect(entries(dir)).rejects.toSatisfy((e: unknown) => {
        expectStudioError(() => { throw e; }, code, message);
        return true;
      });
    });
  }

  it('imagePath itself never leaves WIDER_<split>/images', () => {
    expectStudioError(() => imagePath('/data/wider', 'train', '../../secret.jpg'), 'DATASET_FORMAT', /leaves \/data\/wider\/WIDER_train\/images/);
    expect(imagePath('/data/wider', 'train', '0--Parade/a.jpg')).toBe('/data/wider/WIDER_train/images/0--Parade/a.jpg');
  });

  it('boxes entirely outside their image are skipped and counted; the EXIF-upright size decides', async () => {
    const rotated = jpegWithOrientation(64, 32, quadrantRgba(64, 32), 6); // upright 32×64
    const list = [
      '0--Parade/a.jpg', '4', face(2, 2, 20, 20), face(64, 0, 10, 10), face(-30, 5, 10, 10), face(10, 40, 5, 5),
      '0--Parade/all-out.jpg', '1', face(100, 100, 10, 10),
      '0--Parade/rot.jpg', '1', face(2, 40, 10, 10),
    ].join('\n');
    const dir = folder(list, { '0--Parade/a.jpg': jpeg64x32, '0--Parade/all-out.jpg': jpeg64x32, '0--Parade/rot.jpg': rotated });
    const skipped: SkippedBox[] = [];
    const got = await entries(dir, (s) => skipped.push(s));
    expect(skipped.map((s) => [s.line, s.box])).toEqual([
      [1, [64, 0, 10, 10]],
      [1, [-30, 5, 10, 10]],
      [1, [10, 40, 5, 5]],
      [7, [100, 100, 10, 10]],
    ]);
    // all-out.jpg has no face left and leaves the set; rot.jpg's box is inside its upright 32×64.
    expect(got.map((e) => [e.path, e.faces.length]).sort()).toEqual([['0--Parade/a.jpg', 1], ['0--Parade/rot.jpg', 1]]);
  });
});

describe('augmentation with a box outside the image (the browser path has no list check)', () => {
  const image = { width: 64, height: 48, channels: 3 as const, data: new Uint8Array(64 * 48 * 3).fill(90) };
  const OUTSIDE: Array<[string, number[]]> = [
    ['right of the image', [70, 10, 90, 30]],
    ['below the image', [10, 60, 30, 80]],
    ['left of the image', [-40, 10, -20, 30]],
    ['above the image', [10, -40, 30, -20]],
  ];
  for (const [where, box] of OUTSIDE) {
    it(`a box ${where} never makes an empty crop, and never becomes a target`, () => {
      for (let seed = 0; seed < 200; seed++) {
        const out = augmentTrain(image, [...box, 8, 8, 40, 40], seed, { size: 64, minFaceSize: 1 });
        expect(out.plan.kept.every((i) => i === 1)).toBe(true);
      }
      for (let seed = 0; seed < 50; seed++) {
        const only = augmentTrain(image, box, seed, { size: 64 });
        expect(only.targets.length).toBe(0);
      }
    });
  }
});

it('parseBbxGt records each entry\'s line', () => {
  const e = parseBbxGt(['a/b.jpg', '1', face(1, 1, 5, 5), 'a/c.jpg', '0', face(0, 0, 0, 0), 'a/d.jpg', '0'].join('\n'));
  expect(e.map((x) => x.line)).toEqual([1, 4, 7]);
});
