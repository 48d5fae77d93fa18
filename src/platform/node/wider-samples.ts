/**
 * Training/validation samples from a WIDER folder in the official layout (Node): annotations from
 * `wider_face_split/wider_face_<split>_bbx_gt.txt`, images decoded with jpeg-js. Decoded images are
 * kept in a byte-bounded cache because every epoch revisits them and decoding dominates small runs.
 */
import { open } from 'node:fs/promises';
import {
  StudioError,
  isStudioError,
  imageHeader,
  wider,
  samples,
  type FaceSample,
  type ImageHeader,
  type RgbImage,
  type SampleSource,
  type WiderEntry,
} from '../../core/data/index.ts';
import { readImageFile } from './image-decoder.ts';
import { imagePath, readSplitEntries, type WiderSplit } from './wider-folder.ts';

/** A face row of the list that lies entirely outside its image (after EXIF orientation): not trained on. */
export interface SkippedBox {
  /** `wider_face_<split>_bbx_gt.txt` line of the image path. */
  line: number;
  path: string;
  /** x, y, w, h as in the list. */
  box: [number, number, number, number];
  width: number;
  height: number;
}

export interface WiderSampleOptions {
  split: WiderSplit;
  /** Number of images (stratified by event, seeded) or 'all'. */
  size: number | 'all';
  seed: number;
  /** Only images with at least one face of positive size (the reference loader drops the others). */
  requireFaces?: boolean;
  cacheBytes?: number;
  /** Told about every face row dropped because it lies entirely outside its image. */
  onSkippedBox?: (skipped: SkippedBox) => void;
}

/** Enough of a file for its header; the whole file when the frame header lies further in (big EXIF). */
async function readHeaderOf(path: string): Promise<ImageHeader> {
  const file = await open(path, 'r');
  try {
    const head = new Uint8Array(256 * 1024);
    const { bytesRead } = await file.read(head, 0, head.length, 0);
    try {
      return imageHeader.readImageHeader(head.subarray(0, bytesRead), path);
    } catch (e) {
      if (bytesRead < head.length) throw e;
      return imageHeader.readImageHeader(new Uint8Array(await file.readFile()), path);
    }
  } finally {
    await file.close();
  }
}

/**
 * The chosen images of a split's list, checked before any training starts: every image must exist
 * and have a readable header (else DATASET_FORMAT naming the list's line), and faces lying entirely
 * outside their image are dropped (reported through `onSkippedBox`); an image left without faces
 * then leaves the subset when `requireFaces` is on.
 */
export async function widerEntries(dir: string, options: WiderSampleOptions): Promise<WiderEntry[]> {
  const file = `wider_face_${options.split}_bbx_gt.txt`;
  let entries = await readSplitEntries(dir, options.split);
  const requireFaces = options.requireFaces ?? true;
  const hasFaces = (e: WiderEntry) => e.faces.some((f) => f.w > 0 && f.h > 0);
  if (requireFaces) entries = entries.filter(hasFaces);
  const chosen = wider.selectSubset(entries, { size: options.size, seed: options.seed });
  const checked: WiderEntry[] = [];
  for (const entry of chosen) {
    const where = `${file}, line ${entry.line ?? '?'}: ${entry.path}`;
    let header: ImageHeader;
    try {
      header = await readHeaderOf(imagePath(dir, options.split, entry.path));
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const why = isStudioError(e) ? e.message : err.code === 'ENOENT' ? 'the image file is missing' : `cannot read the image (${err.code ?? err.message})`;
      throw new StudioError('DATASET_FORMAT', `${where}: ${why}`, { cause: e });
    }
    const swap = header.orientation >= 5;
    const width = swap ? header.height : header.width;
    const height = swap ? header.width : header.height;
    const faces = entry.faces.filter((f) => {
      const outside = f.w > 0 && f.h > 0 && (f.x >= width || f.y >= height || f.x + f.w <= 0 || f.y + f.h <= 0);
      if (outside) options.onSkippedBox?.({ line: entry.line ?? 0, path: entry.path, box: [f.x, f.y, f.w, f.h], width, height });
      return !outside;
    });
    const next = faces.length === entry.faces.length ? entry : { ...entry, faces };
    if (!requireFaces || hasFaces(next)) checked.push(next);
  }
  if (checked.length === 0 && chosen.length > 0) {
    throw new StudioError('DATASET_FORMAT', `${file}: none of the ${chosen.length} chosen images has a face inside the image`);
  }
  return checked;
}

export function widerSampleSource(dir: string, split: WiderSplit, entries: readonly WiderEntry[], cacheBytes = 1 << 30): SampleSource {
  const cache = new Map<number, RgbImage>();
  let used = 0;
  return {
    size: entries.length,
    async load(index: number): Promise<FaceSample> {
      const entry = entries[index]!;
      let image = cache.get(index);
      if (!image) {
        image = await readImageFile(imagePath(dir, split, entry.path));
        if (used + image.data.byteLength <= cacheBytes) {
          cache.set(index, image);
          used += image.data.byteLength;
        }
      }
      return { image, boxes: samples.widerBoxes(entry.faces) };
    },
  };
}
