import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { catalogSources, recognizeWiderPath } from '../../../../src/platform/browser/wider-import/index.ts';

describe('recognizeWiderPath', () => {
  it('recognises the official layout in zips and folders', () => {
    expect(recognizeWiderPath('WIDER_val/images/0--Parade/0_Parade_1.jpg')).toEqual({ type: 'image', split: 'val', key: '0--Parade/0_Parade_1' });
    expect(recognizeWiderPath('widerface/WIDER_train/images/1--Handshaking/x.JPG')).toEqual({ type: 'image', split: 'train', key: '1--Handshaking/x' });
    expect(recognizeWiderPath('wider_face_split/wider_face_train_bbx_gt.txt')).toEqual({ type: 'annotation', split: 'train' });
    expect(recognizeWiderPath('eval_tools/ground_truth/wider_hard_val.mat')).toEqual({ type: 'gt', file: 'hard' });
    expect(recognizeWiderPath('wider_face_val.mat')).toEqual({ type: 'gt', file: 'faceVal' });
  });

  it('ignores other files, directories and macOS metadata', () => {
    for (const p of ['WIDER_val/images/0--Parade/', 'readme.txt', 'wider_face_split/wider_face_test_filelist.txt', '__MACOSX/WIDER_val/images/0--Parade/a.jpg', 'WIDER_val/images/0--Parade/._a.jpg', 'WIDER_val/0--Parade/a.jpg']) {
      expect(recognizeWiderPath(p)).toBeNull();
    }
  });
});

describe('catalogSources', () => {
  const file = (bytes: Uint8Array, name: string) => new File([bytes as Uint8Array<ArrayBuffer>], name);

  it('indexes zips, loose files and folders', async () => {
    const valZip = zipSync({ 'WIDER_val/images/0--Parade/a.jpg': new Uint8Array(3), 'WIDER_val/images/0--Parade/b.jpg': new Uint8Array(4) });
    const catalog = await catalogSources([
      { path: 'WIDER_val.zip', file: file(valZip, 'WIDER_val.zip') },
      { path: 'widerface/wider_face_split/wider_face_val_bbx_gt.txt', file: file(new Uint8Array(1), 'wider_face_val_bbx_gt.txt') },
      { path: 'widerface/README', file: file(new Uint8Array(1), 'README') },
      { path: 'wider_easy_val.mat', file: file(new Uint8Array(1), 'wider_easy_val.mat') },
    ]);
    expect([...catalog.images.val.keys()]).toEqual(['0--Parade/a', '0--Parade/b']);
    expect(catalog.annotations.val?.path).toBe('widerface/wider_face_split/wider_face_val_bbx_gt.txt');
    expect(catalog.groundTruth.easy?.path).toBe('wider_easy_val.mat');
    expect(catalog.sources).toEqual([
      { name: 'WIDER_val.zip', kind: 'zip', bytes: valZip.length, recognized: 2 },
      { name: 'widerface', kind: 'folder', bytes: 2, recognized: 1 },
      { name: 'wider_easy_val.mat', kind: 'file', bytes: 1, recognized: 1 },
    ]);
  });

  it('rejects a zip that is not WIDER FACE and a choice with no WIDER file', async () => {
    const other = zipSync({ 'hello.txt': new Uint8Array(5) });
    await expect(catalogSources([{ path: 'photos.zip', file: file(other, 'photos.zip') }])).rejects.toThrow(/photos\.zip holds no WIDER FACE files/);
    await expect(catalogSources([{ path: 'a.txt', file: file(new Uint8Array(1), 'a.txt') }])).rejects.toMatchObject({ code: 'DATASET_FORMAT' });
  });
});
