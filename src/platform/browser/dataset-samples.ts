/**
 * The core's data ports over WIDER FACE datasets imported into IndexedDB (runs in the pipeline
 * worker): a SampleSource of training images (JPEG blob → createImageBitmap → OffscreenCanvas → RGB,
 * boxes as the reference loader reads them, `widerBoxes`) and the evaluation input of a val dataset
 * (ground truth of the images present, official order, pixels on demand). The browser twin of
 * src/platform/node/wider-samples.ts.
 */
import {
  wider,
  StudioError,
  samples,
  widerImageKey,
  type FaceSample,
  type RgbImage,
  type SampleSource,
  type WiderGroundTruth,
  type WiderGtImage,
  type WiderImageRef,
} from '../../core/data/index.ts';
import { FACE_FIELDS, type StoredDatasetImage } from './idb-store.ts';
import { decodePixels } from './image-decoder.ts';
import { datasetLabel, getDataset, getImageBlob, listDatasetImages } from './wider-store.ts';

export interface DatasetSampleOptions {
  /** Images to use (event-stratified, seeded, as the CLI's `--images`) or 'all'. */
  images: number | 'all';
  seed: number;
  /** Decoded images kept in memory (every epoch revisits them); default 512 MB. */
  cacheBytes?: number;
}

export interface DatasetSamples {
  source: SampleSource;
  /** `event/name` of each sample, in sample order. */
  keys: string[];
  /** Images of the dataset that have at least one face of positive size. */
  available: number;
}

/** The `x y w h` rows of a stored image (all faces, as the reference loader reads them). */
function faceRows(image: StoredDatasetImage): Array<{ x: number; y: number; w: number; h: number }> {
  const f = image.faces;
  const rows = [];
  for (let i = 0; i + FACE_FIELDS <= f.length; i += FACE_FIELDS) rows.push({ x: f[i]!, y: f[i + 1]!, w: f[i + 2]!, h: f[i + 3]! });
  return rows;
}

/** RGBA → RGB (a quarter less memory in the cache; the core reads both). */
function toRgb(width: number, height: number, rgba: Uint8ClampedArray): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let p = 0, s = 0, d = 0; p < width * height; p++, s += 4, d += 3) {
    data[d] = rgba[s]!;
    data[d + 1] = rgba[s + 1]!;
    data[d + 2] = rgba[s + 2]!;
  }
  return { width, height, channels: 3, data };
}

/**
 * Training samples from a stored dataset: the images with at least one positive-size face, a seeded
 * event-stratified subset of `images` of them. Throws NOT_FOUND / CONFIG_INVALID when unusable.
 */
export async function datasetSampleSource(datasetId: string, options: DatasetSampleOptions): Promise<DatasetSamples> {
  const dataset = await getDataset(datasetId);
  const usable = (await listDatasetImages(datasetId))
    .map((image) => ({ image, event: image.event, boxes: samples.widerBoxes(faceRows(image)) }))
    .filter((e) => e.boxes.length > 0);
  if (usable.length < 2) throw new StudioError('CONFIG_INVALID', `${datasetLabel(dataset)} has ${usable.length} image(s) with faces; training needs at least 2.`);
  const chosen = wider.selectSubset(usable, { size: options.images, seed: options.seed });
  const cacheBytes = options.cacheBytes ?? 512 * 2 ** 20;
  const cache = new Map<number, RgbImage>();
  let used = 0;
  const source: SampleSource = {
    size: chosen.length,
    async load(index: number): Promise<FaceSample> {
      const entry = chosen[index];
      if (!entry) throw new RangeError(`sample ${index} out of range (${chosen.length})`);
      let image = cache.get(index);
      if (!image) {
        const frame = await decodePixels(await getImageBlob(datasetId, entry.image.key), `${entry.image.key}.jpg`);
        image = toRgb(frame.width, frame.height, frame.data);
        if (used + image.data.byteLength <= cacheBytes) {
          cache.set(index, image);
          used += image.data.byteLength;
        }
      }
      return { image, boxes: entry.boxes };
    },
  };
  return { source, keys: chosen.map((e) => e.image.key), available: usable.length };
}

export interface StoredValEvaluation {
  gt: WiderGroundTruth;
  /** Images with ground truth, official (.mat) order. */
  refs: WiderImageRef[];
  loadImage: (ref: WiderImageRef) => Promise<RgbImage>;
}

/** The pipeline's evaluation input from a val dataset imported with its .mat ground truth. */
export async function storedValEvaluation(datasetId: string): Promise<StoredValEvaluation> {
  const dataset = await getDataset(datasetId);
  if (dataset.split !== 'val' || !dataset.groundTruth) {
    throw new StudioError('EVAL_INPUT', `${datasetLabel(dataset)} has no evaluation ground truth: import WIDER val together with the eval_tools .mat files.`);
  }
  const images = (await listDatasetImages(datasetId)).filter((im) => im.gt).sort((a, b) => a.gt!.order - b.gt!.order);
  if (images.length === 0) throw new StudioError('EVAL_INPUT', `${datasetLabel(dataset)} holds no image with ground truth.`);
  const gt: WiderGroundTruth = { events: [] };
  for (const im of images) {
    const g: WiderGtImage = { event: im.event, file: im.name, boxes: im.gt!.boxes, easy: im.gt!.easy, medium: im.gt!.medium, hard: im.gt!.hard };
    const last = gt.events[gt.events.length - 1];
    if (last?.event === im.event) last.images.push(g);
    else gt.events.push({ event: im.event, images: [g] });
  }
  return {
    gt,
    refs: images.map((im) => ({ event: im.event, name: im.name })),
    async loadImage(ref) {
      const key = widerImageKey(ref.event, ref.name);
      const frame = await decodePixels(await getImageBlob(datasetId, key), `${key}.jpg`);
      return { width: frame.width, height: frame.height, channels: 4, data: frame.data };
    },
  };
}
