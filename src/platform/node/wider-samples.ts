/**
 * Training/validation samples from a WIDER folder in the official layout (Node): annotations from
 * `wider_face_split/wider_face_<split>_bbx_gt.txt`, images decoded with jpeg-js. Decoded images are
 * kept in a byte-bounded cache because every epoch revisits them and decoding dominates small runs.
 */
import { selectSubset, widerBoxes, type FaceSample, type SampleSource, type WiderEntry, type RgbImage } from '../../core/index.ts';
import { readImageFile } from './image-decoder.ts';
import { imagePath, readSplitEntries, type WiderSplit } from './wider-folder.ts';

export interface WiderSampleOptions {
  split: WiderSplit;
  /** Number of images (stratified by event, seeded) or 'all'. */
  size: number | 'all';
  seed: number;
  /** Only images with at least one face of positive size (the reference loader drops the others). */
  requireFaces?: boolean;
  cacheBytes?: number;
}

export async function widerEntries(dir: string, options: WiderSampleOptions): Promise<WiderEntry[]> {
  let entries = await readSplitEntries(dir, options.split);
  if (options.requireFaces ?? true) entries = entries.filter((e) => e.faces.some((f) => f.w > 0 && f.h > 0));
  return selectSubset(entries, { size: options.size, seed: options.seed });
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
      return { image, boxes: widerBoxes(entry.faces) };
    },
  };
}
