/**
 * WIDER FACE datasets in IndexedDB (schema in idb-store.ts): the import's batch writes, commit and
 * rollback, and the reads of the dataset browser and the evaluation. Used by the UI thread, the import
 * worker and the compute worker alike.
 *
 * Atomicity: images and blobs are written in batches tagged with an import id; the dataset records
 * that make them visible are written last, in one transaction. A failed or cancelled import deletes
 * its batches; batches no dataset refers to (a crashed tab) are swept before the next import.
 */
import { StudioError, type WiderSetting } from '../../core/data/index.ts';
import {
  isQuotaError,
  openStudioDb,
  rethrowQuota,
  type StoredDataset,
  type StoredDatasetBlob,
  type StoredDatasetImage,
} from './idb-store.ts';

/** A short name for lists: "WIDER val · 200 of 3,226 images (seed 0)". */
export function datasetLabel(d: Pick<StoredDataset, 'split' | 'images' | 'sourceImages' | 'subset'>): string {
  const n = new Intl.NumberFormat('en-US');
  const of = d.subset.size === 'all' ? `${n.format(d.images)} images` : `${n.format(d.images)} of ${n.format(d.sourceImages)} images, seed ${d.subset.seed}`;
  return `WIDER ${d.split} · ${of}`;
}

/** Image ids are `<datasetId>/<event>/<name>`; blobs share them. */
export function datasetImageId(datasetId: string, key: string): string {
  return `${datasetId}/${key}`;
}

/** Every dataset, newest first. */
export async function listDatasets(): Promise<StoredDataset[]> {
  const d = await openStudioDb();
  return (await d.getAllFromIndex('datasets', 'by-created')).reverse();
}

export async function findDataset(id: string): Promise<StoredDataset | undefined> {
  return (await openStudioDb()).get('datasets', id);
}

export async function getDataset(id: string): Promise<StoredDataset> {
  const dataset = await findDataset(id);
  if (!dataset) throw new StudioError('NOT_FOUND', `No dataset with id ${id.slice(0, 12)}… in this browser (was it deleted?).`);
  return dataset;
}

/** The images of a dataset without their bytes, in annotation-file order. */
export async function listDatasetImages(datasetId: string): Promise<StoredDatasetImage[]> {
  const d = await openStudioDb();
  return d.getAllFromIndex('datasetImages', 'by-dataset', IDBKeyRange.bound([datasetId, -Infinity], [datasetId, Infinity]));
}

export async function getDatasetImage(datasetId: string, key: string): Promise<StoredDatasetImage | undefined> {
  return (await openStudioDb()).get('datasetImages', datasetImageId(datasetId, key));
}

/** The JPEG of one image. */
export async function getImageBlob(datasetId: string, key: string): Promise<Blob> {
  const record = await (await openStudioDb()).get('datasetBlobs', datasetImageId(datasetId, key));
  if (!record) throw new StudioError('NOT_FOUND', `The image ${key} is not stored in this browser.`);
  return record.blob;
}

/** JPEGs of several images (one transaction), same order; undefined where absent. */
export async function getImageBlobs(ids: readonly string[]): Promise<Array<Blob | undefined>> {
  const tx = (await openStudioDb()).transaction('datasetBlobs');
  const out = await Promise.all(ids.map((id) => tx.store.get(id)));
  await tx.done;
  return out.map((r) => r?.blob);
}

/** Deletes a dataset, its images and blobs (one transaction). Its evaluations stay (their APs remain valid). */
export async function deleteDataset(id: string): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction(['datasets', 'datasetImages', 'datasetBlobs'], 'readwrite');
  await tx.objectStore('datasets').delete(id);
  const blobs = tx.objectStore('datasetBlobs');
  let cursor = await tx.objectStore('datasetImages').index('by-dataset').openCursor(IDBKeyRange.bound([id, -Infinity], [id, Infinity]));
  while (cursor) {
    void blobs.delete(cursor.primaryKey);
    await cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
}

/** Writes one batch of an import (images and their blobs, one transaction). Quota → STORAGE_QUOTA. */
export async function writeImageBatch(images: readonly StoredDatasetImage[], blobs: readonly StoredDatasetBlob[]): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction(['datasetImages', 'datasetBlobs'], 'readwrite');
  const puts: Promise<unknown>[] = [];
  for (const image of images) puts.push(tx.objectStore('datasetImages').put(image));
  for (const blob of blobs) puts.push(tx.objectStore('datasetBlobs').put(blob));
  try {
    await Promise.all([...puts, tx.done]);
  } catch (e) {
    rethrowQuota(quotaOf(e, tx.error), 'The images');
  }
}

/** Makes an import visible: writes its dataset records (one transaction). */
export async function commitDatasets(datasets: readonly StoredDataset[]): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction('datasets', 'readwrite');
  try {
    await Promise.all([...datasets.map((ds) => tx.store.put(ds)), tx.done]);
  } catch (e) {
    rethrowQuota(quotaOf(e, tx.error), 'The dataset');
  }
}

/** Deletes every image and blob written by `importId` (a cancelled or failed import). */
export async function rollbackImport(importId: string): Promise<void> {
  await deleteByImport((id) => id === importId);
}

/**
 * Deletes images and blobs of imports that no dataset refers to (left by a tab that closed or crashed
 * mid-import). Call it only while holding the import lock, so no import is running.
 */
export async function sweepUnfinishedImports(): Promise<void> {
  const d = await openStudioDb();
  const live = new Set((await d.getAll('datasets')).map((ds) => ds.importId));
  await deleteByImport((id) => !live.has(id));
}

async function deleteByImport(matches: (importId: string) => boolean): Promise<void> {
  const d = await openStudioDb();
  for (const store of ['datasetImages', 'datasetBlobs'] as const) {
    // Distinct import ids first (key cursor, no values), then one delete transaction per import.
    const ids: string[] = [];
    let keys = await d.transaction(store).store.index('by-import').openKeyCursor(null, 'nextunique');
    while (keys) {
      if (matches(keys.key)) ids.push(keys.key);
      keys = await keys.continue();
    }
    for (const importId of ids) {
      const tx = d.transaction(store, 'readwrite');
      let cursor = await tx.store.index('by-import').openKeyCursor(IDBKeyRange.only(importId));
      while (cursor) {
        void tx.store.delete(cursor.primaryKey);
        cursor = await cursor.continue();
      }
      await tx.done;
    }
  }
}

/** Images and faces of `images` counted in a setting: an image belongs to it with ≥ 1 counted face. */
export function inSetting(image: StoredDatasetImage, setting: WiderSetting): boolean {
  return (image.gt?.[setting].length ?? 0) > 0;
}

function quotaOf(e: unknown, txError: DOMException | null): unknown {
  return isQuotaError(e) ? e : txError && isQuotaError(txError) ? txError : e;
}

/** How much of the origin's quota is used; null where the browser does not tell. */
export async function storageEstimate(): Promise<{ usage: number; quota: number; persisted: boolean } | null> {
  if (!navigator.storage?.estimate) return null;
  const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([navigator.storage.estimate(), navigator.storage.persisted?.() ?? false]);
  return { usage, quota, persisted };
}
