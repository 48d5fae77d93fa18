/**
 * Finds the WIDER FACE files among what the user picked or dropped — the official zips
 * (`WIDER_train.zip`, `WIDER_val.zip`, `wider_face_split.zip`, `eval_tools.zip`), loose files, or
 * folders in the official layout — by their paths, the way `src/platform/node/wider-folder.ts` reads
 * the unpacked folder:
 *   `…/WIDER_{train,val}/images/<event>/<name>.jpg`,
 *   `…/wider_face_{train,val}_bbx_gt.txt`,
 *   `…/wider_{face,easy,medium,hard}_val.mat`.
 * Zips are indexed from their central directory only; nothing is read here but that.
 */
import { StudioError, widerImageKey } from '../../../core/data/index.ts';
import type { WiderSplit } from '../idb-store.ts';
import { readEntry } from './zip-extract.ts';
import { readZipIndex, type ZipIndex } from './zip-index.ts';

/** A file handed over by the UI, with the path it was picked or dropped under. */
export interface ImportSource {
  /** `webkitRelativePath` of a folder pick, the entry path of a dropped folder, or the file name. */
  path: string;
  file: File;
}

export type GtFileName = 'faceVal' | 'easy' | 'medium' | 'hard';

/** Where the bytes of one recognised file are: a loose file or an entry of an indexed zip. */
export type CatalogItem =
  | { kind: 'file'; path: string; file: File; bytes: number }
  | { kind: 'zip'; path: string; zip: ZipIndex; position: number; bytes: number };

export interface SourceSummary {
  /** A zip's or loose file's path, or a folder's name. */
  name: string;
  kind: 'zip' | 'folder' | 'file';
  bytes: number;
  /** WIDER FACE files recognised in it. */
  recognized: number;
}

export interface WiderCatalog {
  /** Per split, image key `event/name` → where its JPEG is. */
  images: Record<WiderSplit, Map<string, CatalogItem>>;
  annotations: Partial<Record<WiderSplit, CatalogItem>>;
  groundTruth: Partial<Record<GtFileName, CatalogItem>>;
  sources: SourceSummary[];
}

export const GT_FILE_NAMES: Record<GtFileName, string> = {
  faceVal: 'wider_face_val.mat',
  easy: 'wider_easy_val.mat',
  medium: 'wider_medium_val.mat',
  hard: 'wider_hard_val.mat',
};

const EXPECTED =
  'expected WIDER_train/images/<event>/*.jpg, WIDER_val/images/<event>/*.jpg, ' +
  'wider_face_split/wider_face_{train,val}_bbx_gt.txt or eval_tools/ground_truth/wider_*_val.mat';

const IMAGE_PATH = /(?:^|\/)WIDER_(train|val)\/images\/([^/]+)\/([^/]+)\.jpe?g$/i;
const ANNOTATION_NAME = /^wider_face_(train|val)_bbx_gt\.txt$/i;
const GT_NAME = /^wider_(face|easy|medium|hard)_val\.mat$/i;

type Recognized =
  | { type: 'image'; split: WiderSplit; key: string }
  | { type: 'annotation'; split: WiderSplit }
  | { type: 'gt'; file: GtFileName };

/** What a path is in the official layout, or null. */
export function recognizeWiderPath(path: string): Recognized | null {
  const p = path.replace(/\\/g, '/');
  if (p.endsWith('/') || p.includes('__MACOSX/')) return null;
  const base = p.slice(p.lastIndexOf('/') + 1);
  if (base.startsWith('._')) return null;
  const image = IMAGE_PATH.exec(p);
  if (image) return { type: 'image', split: image[1]!.toLowerCase() as WiderSplit, key: widerImageKey(image[2]!, image[3]!) };
  const annotation = ANNOTATION_NAME.exec(base);
  if (annotation) return { type: 'annotation', split: annotation[1]!.toLowerCase() as WiderSplit };
  const gt = GT_NAME.exec(base);
  if (gt) {
    const which = gt[1]!.toLowerCase();
    return { type: 'gt', file: which === 'face' ? 'faceVal' : (which as GtFileName) };
  }
  return null;
}

/** Indexes every source; throws DATASET_FORMAT for a zip without WIDER files or when nothing is recognised. */
export async function catalogSources(sources: readonly ImportSource[], signal?: AbortSignal): Promise<WiderCatalog> {
  const catalog: WiderCatalog = { images: { train: new Map(), val: new Map() }, annotations: {}, groundTruth: {}, sources: [] };
  const folders = new Map<string, SourceSummary>();

  const add = (item: CatalogItem): boolean => {
    const what = recognizeWiderPath(item.path);
    if (!what) return false;
    if (what.type === 'image') {
      const images = catalog.images[what.split];
      if (!images.has(what.key)) images.set(what.key, item);
    } else if (what.type === 'annotation') {
      catalog.annotations[what.split] ??= item;
    } else {
      catalog.groundTruth[what.file] ??= item;
    }
    return true;
  };

  for (const { path, file } of sources) {
    signal?.throwIfAborted();
    if (/\.zip$/i.test(file.name)) {
      const zip = await readZipIndex(file, path);
      let recognized = 0;
      zip.entries.forEach((entry, position) => {
        if (add({ kind: 'zip', path: entry.name, zip, position, bytes: entry.compressedSize })) recognized++;
      });
      if (recognized === 0) throw new StudioError('DATASET_FORMAT', `${path} holds no WIDER FACE files (${EXPECTED}).`);
      catalog.sources.push({ name: path, kind: 'zip', bytes: file.size, recognized });
      continue;
    }
    const recognized = add({ kind: 'file', path, file, bytes: file.size }) ? 1 : 0;
    const slash = path.indexOf('/');
    if (slash > 0) {
      const name = path.slice(0, slash);
      const folder = folders.get(name) ?? { name, kind: 'folder' as const, bytes: 0, recognized: 0 };
      folder.bytes += file.size;
      folder.recognized += recognized;
      if (!folders.has(name)) {
        folders.set(name, folder);
        catalog.sources.push(folder);
      }
    } else {
      catalog.sources.push({ name: path, kind: 'file', bytes: file.size, recognized });
    }
  }
  const total = catalog.sources.reduce((n, s) => n + s.recognized, 0);
  if (total === 0) {
    const names = sources.slice(0, 3).map((s) => s.path).join(', ');
    throw new StudioError('DATASET_FORMAT', `None of the chosen files is a WIDER FACE file (${names}${sources.length > 3 ? ', …' : ''}): ${EXPECTED}.`);
  }
  return catalog;
}

/** The whole content of a (small) catalog item: an annotation txt or a .mat file. */
export async function readCatalogItem(item: CatalogItem, signal?: AbortSignal): Promise<Uint8Array> {
  if (item.kind === 'zip') return readEntry(item.zip, item.position, signal);
  return new Uint8Array(await item.file.arrayBuffer());
}

/** Human-readable location of an item, for messages. */
export function describeItem(item: CatalogItem): string {
  return item.kind === 'zip' ? `${item.path} in ${item.zip.name}` : item.path;
}
