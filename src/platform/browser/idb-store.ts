/**
 * The studio's IndexedDB: this module alone owns the schema, its version and the upgrades.
 *
 * Version history (add a step to `upgrade`, never edit an old one):
 *   1: `models` — loaded checkpoints (bytes + model card), keyed by the SHA-256 of the bytes,
 *      index `by-used` on `usedAt` (the most recently used model is restored on reload).
 * Later issues add stores (datasets, runs, plans) as version 2, 3, ... in the same function.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
// errors.ts directly (dependency-free): the core index would pull TF.js onto the UI thread.
import { StudioError } from '../../core/errors.ts';
import type { ModelInfo } from '../../core/index.ts';

export const DB_NAME = 'bfpgm-studio';
export const DB_VERSION = 1;

/** The model card as stored: the core's ModelInfo plus the checkpoint's archive name. */
export interface StoredModelInfo extends ModelInfo {
  archiveName: string;
}

export interface StoredModel {
  /** SHA-256 of `bytes`, hex: the same file loaded twice is stored once. */
  id: string;
  /** Display name (file name or last URL segment). */
  name: string;
  /** The checkpoint file as loaded (PyTorch zip). */
  bytes: ArrayBuffer;
  info: StoredModelInfo;
  /** Epoch ms when first stored / last loaded. */
  addedAt: number;
  usedAt: number;
}

/** A stored model without its bytes, for lists. */
export type StoredModelSummary = Omit<StoredModel, 'bytes'> & { byteLength: number };

interface StudioDbSchema extends DBSchema {
  models: {
    key: string;
    value: StoredModel;
    indexes: { 'by-used': number };
  };
}

let dbPromise: Promise<IDBPDatabase<StudioDbSchema>> | null = null;

function db(): Promise<IDBPDatabase<StudioDbSchema>> {
  dbPromise ??= openDB<StudioDbSchema>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const models = database.createObjectStore('models', { keyPath: 'id' });
        models.createIndex('by-used', 'usedAt');
      }
    },
    blocking() {
      // A newer tab wants to upgrade: let it, and reopen lazily on the next call.
      void dbPromise?.then((d) => d.close());
      dbPromise = null;
    },
  });
  return dbPromise;
}

function summarize({ bytes, ...rest }: StoredModel): StoredModelSummary {
  return { ...rest, byteLength: bytes.byteLength };
}

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

function rethrowQuota(e: unknown): never {
  if (e instanceof DOMException && e.name === 'QuotaExceededError') {
    throw new StudioError('STORAGE_QUOTA', 'The model could not be stored in the browser.', { cause: e });
  }
  throw e;
}

/** Stores (or refreshes) a checkpoint and marks it as the most recently used. */
export async function saveModel(input: { name: string; bytes: ArrayBuffer; info: StoredModelInfo }): Promise<StoredModelSummary> {
  const id = await sha256Hex(input.bytes);
  const d = await db();
  const tx = d.transaction('models', 'readwrite');
  const now = Date.now();
  const previous = await tx.store.get(id);
  const record: StoredModel = { id, ...input, addedAt: previous?.addedAt ?? now, usedAt: now };
  try {
    await tx.store.put(record);
    await tx.done;
  } catch (e) {
    rethrowQuota(e);
  }
  return summarize(record);
}

/** Every stored model without its bytes, most recently used first. */
export async function listModels(): Promise<StoredModelSummary[]> {
  const d = await db();
  const out: StoredModelSummary[] = [];
  let cursor = await d.transaction('models').store.index('by-used').openCursor(null, 'prev');
  while (cursor) {
    out.push(summarize(cursor.value));
    cursor = await cursor.continue();
  }
  return out;
}

/** One stored model with its bytes; throws NOT_FOUND when absent. */
export async function getModel(id: string): Promise<StoredModel> {
  const record = await (await db()).get('models', id);
  if (!record) throw new StudioError('NOT_FOUND', `No stored model with id ${id.slice(0, 12)}….`);
  return record;
}

/** The most recently used model, if any (restored on reload). */
export async function getLastUsedModel(): Promise<StoredModel | undefined> {
  const d = await db();
  const cursor = await d.transaction('models').store.index('by-used').openCursor(null, 'prev');
  return cursor?.value;
}

export async function deleteModel(id: string): Promise<void> {
  await (await db()).delete('models', id);
}
