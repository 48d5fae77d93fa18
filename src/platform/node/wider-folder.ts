/**
 * A WIDER FACE folder in the official layout (as `../shared/widerface` and the official zips unpack):
 * `WIDER_{train,val}/images/<event>/*.jpg`, `wider_face_split/wider_face_{train,val}_bbx_gt.txt`,
 * `eval_tools/ground_truth/wider_{face,easy,medium,hard}_val.mat`. Node adapter over the core parsers.
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import {
  StudioError,
  wider,
  widerImageKey,
  type RgbImage,
  type WiderEntry,
  type WiderGroundTruth,
  type WiderImageRef,
} from '../../core/data/index.ts';
import { readImageFile } from './image-decoder.ts';

export type WiderSplit = 'train' | 'val';

const bytes = async (path: string): Promise<Uint8Array> => {
  try {
    const b = await readFile(path);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  } catch {
    throw new StudioError('DATASET_FORMAT', `missing ${path} (expected the official WIDER FACE layout)`);
  }
};

export async function readSplitEntries(dir: string, split: WiderSplit): Promise<WiderEntry[]> {
  const file = `wider_face_${split}_bbx_gt.txt`;
  const text = new TextDecoder().decode(await bytes(join(dir, 'wider_face_split', file)));
  return wider.parseBbxGt(text, { fileName: file });
}

export async function readValGroundTruth(dir: string): Promise<WiderGroundTruth> {
  const gtDir = join(dir, 'eval_tools', 'ground_truth');
  const [easy, medium, hard] = await Promise.all(['easy', 'medium', 'hard'].map((s) => bytes(join(gtDir, `wider_${s}_val.mat`))));
  const faceValPath = join(gtDir, 'wider_face_val.mat');
  const faceVal = existsSync(faceValPath) ? await bytes(faceValPath) : undefined;
  return wider.readWiderGroundTruth({ faceVal, easy: easy!, medium: medium!, hard: hard! });
}

/** The file of `event/name.jpg`; a path that would leave the images folder is refused (DATASET_FORMAT). */
export function imagePath(dir: string, split: WiderSplit, relPath: string): string {
  const root = resolve(dir, `WIDER_${split}`, 'images');
  const path = resolve(root, relPath);
  if (!path.startsWith(root + sep)) throw new StudioError('DATASET_FORMAT', `image path "${relPath}" leaves ${root}`);
  return path;
}

/** Val images that are on disk, in official (.mat) event/image order. */
export async function presentValImages(dir: string, gt: WiderGroundTruth): Promise<WiderImageRef[]> {
  const root = join(dir, 'WIDER_val', 'images');
  const onDisk = new Set<string>();
  for (const event of await readdir(root).catch(() => [] as string[])) {
    for (const f of await readdir(join(root, event)).catch(() => [] as string[])) {
      if (f.endsWith('.jpg')) onDisk.add(widerImageKey(event, f.slice(0, -4)));
    }
  }
  const refs: WiderImageRef[] = [];
  for (const ev of gt.events) for (const im of ev.images) if (onDisk.has(widerImageKey(ev.event, im.file))) refs.push({ event: ev.event, name: im.file });
  if (refs.length === 0) throw new StudioError('DATASET_FORMAT', `no val image of the ground truth under ${root}`);
  return refs;
}

export function loadValImage(dir: string): (ref: WiderImageRef) => Promise<RgbImage> {
  return (ref) => readImageFile(imagePath(dir, 'val', `${ref.event}/${ref.name}.jpg`));
}
