/**
 * Imports WIDER FACE split subsets into IndexedDB (runs in the import worker):
 * 1. prepare: index the sources, parse the annotation txt and the val .mat files (prepare-wider.ts);
 * 2. per split: pick the seeded, event-stratified subset (core `selectSubset`), derive the dataset id
 *    from the content, check every chosen image exists;
 * 3. under a cross-tab lock: skip the splits whose identical dataset is already stored (checked here,
 *    not before: a second tab importing the same subset must not rewrite, and on cancel delete, the
 *    images the first tab's dataset points to), sweep unfinished imports, then read only the chosen JPEGs (zip entries
 *    via coalesced `Blob.slice()` reads streamed through fflate, loose files directly), check each
 *    one's JPEG structure and write them in transactional batches tagged with the import id;
 * 4. write the dataset records last (one transaction). Any failure or cancel deletes the batches.
 */
import { StudioError, wider, widerImageKey, type WiderEntry, type WiderGtImage, type WiderSetting } from '../../../core/data/index.ts';
import {
  FACE_FIELDS,
  sha256Hex,
  type StoredDataset,
  type StoredDatasetBlob,
  type StoredDatasetImage,
  type WiderSplit,
} from '../idb-store.ts';
import { commitDatasets, datasetImageId, findDataset, rollbackImport, sweepUnfinishedImports, writeImageBatch } from '../wider-store.ts';
import { checkJpeg } from './check-jpeg.ts';
import { prepareWider, WIDER_SPLITS, type PreparedWider } from './prepare-wider.ts';
import { describeItem, type CatalogItem, type ImportSource } from './wider-sources.ts';
import { extractEntries } from './zip-extract.ts';
import type { ZipIndex } from './zip-index.ts';

export interface SubsetChoice {
  /** Images to import, or 'all'. */
  size: number | 'all';
  seed: number;
}

/** Which splits to import and how much of each. */
export type ImportPlan = Partial<Record<WiderSplit, SubsetChoice>>;

export interface ImportProgress {
  phase: 'preparing' | 'images' | 'finishing';
  /** Images written / to write. */
  done: number;
  total: number;
  /** Source bytes read / to read (compressed sizes for zip entries). */
  bytesDone: number;
  bytesTotal: number;
  elapsedMs: number;
}

export interface ImportedDataset {
  id: string;
  split: WiderSplit;
  images: number;
  faces: number;
  /** 'unchanged': the same dataset was already stored; nothing was written. */
  status: 'imported' | 'unchanged';
}

export interface ImportOutcome {
  importId: string;
  datasets: ImportedDataset[];
}

export interface ImportOptions {
  signal?: AbortSignal;
  onProgress?: (p: ImportProgress) => void;
  /** Images per write transaction (default 48) and bytes per transaction (default 16 MB). */
  batchImages?: number;
  batchBytes?: number;
}

const LOCK_NAME = 'bfpgm-wider-import';
const PROGRESS_INTERVAL_MS = 100;

interface SplitWork {
  split: WiderSplit;
  id: string;
  choice: SubsetChoice;
  sourceImages: number;
  selected: Array<{ entry: WiderEntry; index: number; key: string; item: CatalogItem; gt?: { order: number; image: WiderGtImage } }>;
  sources: string[];
}

export async function importWider(sources: readonly ImportSource[], plan: ImportPlan, options: ImportOptions = {}): Promise<ImportOutcome> {
  const { signal } = options;
  const t0 = performance.now();
  const report = (p: Omit<ImportProgress, 'elapsedMs'>) => options.onProgress?.({ ...p, elapsedMs: performance.now() - t0 });
  report({ phase: 'preparing', done: 0, total: 0, bytesDone: 0, bytesTotal: 0 });

  const importId = crypto.randomUUID();
  const prepared = await prepareWider(sources, signal);
  const outcome: ImportOutcome = { importId, datasets: [] };
  const work: SplitWork[] = [];
  for (const split of WIDER_SPLITS) {
    const choice = plan[split];
    if (!choice) continue;
    work.push(await planSplit(prepared, split, choice));
  }
  signal?.throwIfAborted();

  await withImportLock(signal, async () => {
    // Image ids derive from the dataset id, so an import of a stored dataset would overwrite its images.
    for (const w of [...work]) {
      const existing = await findDataset(w.id);
      if (!existing) continue;
      outcome.datasets.push({ id: w.id, split: w.split, images: existing.images, faces: existing.faces, status: 'unchanged' });
      work.splice(work.indexOf(w), 1);
    }
    if (work.length === 0) return;
    const total = work.reduce((n, w) => n + w.selected.length, 0);
    const bytesTotal = work.reduce((n, w) => n + w.selected.reduce((b, s) => b + s.item.bytes, 0), 0);
    let done = 0;
    let bytesDone = 0;
    let lastReport = 0;
    await sweepUnfinishedImports();
    try {
      const datasets: StoredDataset[] = [];
      for (const w of work) {
        const batch = createBatcher(options);
        const stats = { faces: 0, invalid: 0, bytes: 0 };
        const events = new Map<string, { images: number; faces: number }>();
        const onImage = async (s: SplitWork['selected'][number], bytes: Uint8Array) => {
          signal?.throwIfAborted();
          const label = `WIDER_${w.split}/images/${s.entry.path}`;
          const { width, height } = checkJpeg(bytes, label);
          const faces = new Int32Array(s.entry.faces.length * FACE_FIELDS);
          s.entry.faces.forEach((f, k) => faces.set([f.x, f.y, f.w, f.h, f.blur, f.expression, f.illumination, f.invalid, f.occlusion, f.pose], k * FACE_FIELDS));
          const id = datasetImageId(w.id, s.key);
          const slash = s.key.indexOf('/');
          const image: StoredDatasetImage = {
            id,
            datasetId: w.id,
            importId,
            key: s.key,
            event: s.key.slice(0, slash),
            name: s.key.slice(slash + 1),
            index: s.index,
            width,
            height,
            byteLength: bytes.length,
            faces,
          };
          if (s.gt) {
            const { order, image: g } = s.gt;
            image.gt = { order, boxes: g.boxes, easy: g.easy, medium: g.medium, hard: g.hard };
          }
          await batch.add(image, { id, importId, blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: 'image/jpeg' }) });
          stats.faces += s.entry.faces.length;
          stats.invalid += s.entry.faces.filter((f) => f.invalid === 1).length;
          stats.bytes += bytes.length;
          const ev = events.get(image.event) ?? { images: 0, faces: 0 };
          ev.images++;
          ev.faces += s.entry.faces.length;
          events.set(image.event, ev);
          done++;
          bytesDone += s.item.bytes;
          const now = performance.now();
          if (now - lastReport >= PROGRESS_INTERVAL_MS || done === total) {
            lastReport = now;
            report({ phase: 'images', done, total, bytesDone, bytesTotal });
          }
        };
        await readImages(w, onImage, signal);
        await batch.flush();
        datasets.push(datasetRecord(w, importId, stats, events));
      }
      signal?.throwIfAborted();
      report({ phase: 'finishing', done, total, bytesDone, bytesTotal });
      await commitDatasets(datasets);
      for (const ds of datasets) outcome.datasets.push({ id: ds.id, split: ds.split, images: ds.images, faces: ds.faces, status: 'imported' });
    } catch (e) {
      await rollbackImport(importId);
      throw e;
    }
  });
  return outcome;
}

/** The subset, the content id and the sources of one split; throws before anything is written. */
async function planSplit(prepared: PreparedWider, split: WiderSplit, choice: SubsetChoice): Promise<SplitWork> {
  const { annotation, text, entries } = prepared.splits[split];
  if (!annotation) {
    throw new StudioError('DATASET_FORMAT', `No annotation list for ${split}: add wider_face_split.zip or wider_face_split/wider_face_${split}_bbx_gt.txt.`);
  }
  const size = choice.size === 'all' || choice.size >= entries.length ? 'all' : choice.size;
  if (size !== 'all' && (!Number.isInteger(size) || size < 1)) throw new StudioError('CONFIG_INVALID', `The ${split} subset size must be a whole number ≥ 1 or "all", got ${String(choice.size)}.`);
  if (!Number.isInteger(choice.seed)) throw new StudioError('CONFIG_INVALID', `The subset seed must be a whole number, got ${choice.seed}.`);
  const indexOf = new Map(entries.map((e, i) => [e, i]));
  const subset = wider.selectSubset(entries, { size, seed: choice.seed });

  const gt = split === 'val' ? prepared.groundTruth : null;
  const gtByKey = new Map<string, { order: number; image: WiderGtImage }>();
  if (gt) {
    let order = 0;
    for (const ev of gt.events) for (const image of ev.images) gtByKey.set(widerImageKey(ev.event, image.file), { order: order++, image });
  }

  const found = prepared.catalog.images[split];
  const missing: string[] = [];
  const notInGt: string[] = [];
  const selected: SplitWork['selected'] = [];
  for (const entry of subset) {
    const key = wider.imageKeyFromPath(entry.path);
    const item = found.get(key);
    if (!item) {
      missing.push(entry.path);
      continue;
    }
    const g = gtByKey.get(key);
    if (gt && !g) notInGt.push(entry.path);
    selected.push({ entry, index: indexOf.get(entry)!, key, item, gt: g });
  }
  const annotationName = describeItem(annotation);
  if (missing.length > 0) {
    throw new StudioError(
      'DATASET_FORMAT',
      `${missing.length} image(s) listed in ${annotationName} are not among the chosen files, e.g. WIDER_${split}/images/${missing.slice(0, 3).join(', ')}. Add WIDER_${split}.zip or the WIDER_${split} folder.`,
    );
  }
  if (notInGt.length > 0) {
    throw new StudioError('DATASET_FORMAT', `${notInGt.length} image(s) of ${annotationName} are not in the val ground truth (.mat), e.g. ${notInGt.slice(0, 3).join(', ')}.`);
  }

  const header = JSON.stringify({ format: 'bfpgm-wider-dataset/1', split, size, seed: choice.seed, gt: gt ? prepared.groundTruthDigest : null });
  const id = await sha256Hex(new TextEncoder().encode(`${header}\n${text}`));
  const containers = new Set(selected.map((s) => (s.item.kind === 'zip' ? s.item.zip.name : s.item.path.split('/')[0]!)));
  return { split, id, choice: { size, seed: choice.seed }, sourceImages: entries.length, selected, sources: [annotationName, ...[...containers].slice(0, 8)] };
}

/** Reads the chosen JPEGs: loose files one by one, zip entries archive by archive in offset order. */
async function readImages(w: SplitWork, onImage: (s: SplitWork['selected'][number], bytes: Uint8Array) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const byZip = new Map<ZipIndex, Map<number, SplitWork['selected'][number]>>();
  for (const s of w.selected) {
    if (s.item.kind === 'file') {
      signal?.throwIfAborted();
      await onImage(s, new Uint8Array(await s.item.file.arrayBuffer()));
    } else {
      const positions = byZip.get(s.item.zip) ?? new Map();
      positions.set(s.item.position, s);
      byZip.set(s.item.zip, positions);
    }
  }
  for (const [zip, positions] of byZip) {
    await extractEntries(zip, [...positions.keys()], (position, bytes) => onImage(positions.get(position)!, bytes), { signal });
  }
}

function createBatcher(options: ImportOptions) {
  const maxImages = options.batchImages ?? 48;
  const maxBytes = options.batchBytes ?? 16 << 20;
  let images: StoredDatasetImage[] = [];
  let blobs: StoredDatasetBlob[] = [];
  let bytes = 0;
  const flush = async () => {
    if (images.length === 0) return;
    const [i, b] = [images, blobs];
    images = [];
    blobs = [];
    bytes = 0;
    await writeImageBatch(i, b);
  };
  return {
    flush,
    async add(image: StoredDatasetImage, blob: StoredDatasetBlob) {
      images.push(image);
      blobs.push(blob);
      bytes += image.byteLength;
      if (images.length >= maxImages || bytes >= maxBytes) await flush();
    },
  };
}

function datasetRecord(
  w: SplitWork,
  importId: string,
  stats: { faces: number; invalid: number; bytes: number },
  events: Map<string, { images: number; faces: number }>,
): StoredDataset {
  let groundTruth: StoredDataset['groundTruth'] = null;
  if (w.selected.some((s) => s.gt)) {
    const faces = { easy: 0, medium: 0, hard: 0 } as Record<WiderSetting, number>;
    const images = { easy: 0, medium: 0, hard: 0 } as Record<WiderSetting, number>;
    for (const s of w.selected) {
      for (const setting of wider.WIDER_SETTINGS) {
        const n = s.gt?.image[setting].length ?? 0;
        faces[setting] += n;
        if (n > 0) images[setting]++;
      }
    }
    groundTruth = { faces, images };
  }
  return {
    id: w.id,
    importId,
    split: w.split,
    subset: w.choice,
    sourceImages: w.sourceImages,
    images: w.selected.length,
    faces: stats.faces,
    invalidFaces: stats.invalid,
    bytes: stats.bytes,
    events: [...events].map(([event, c]) => ({ event, ...c })),
    groundTruth,
    sources: w.sources,
    createdAt: Date.now(),
  };
}

/** Runs `fn` holding a lock shared by every tab, so two imports never interleave with a sweep. */
async function withImportLock(signal: AbortSignal | undefined, fn: () => Promise<void>): Promise<void> {
  const locks = (globalThis.navigator as { locks?: LockManager } | undefined)?.locks;
  if (!locks) return fn();
  await locks.request(LOCK_NAME, signal ? { signal } : {}, fn);
}
