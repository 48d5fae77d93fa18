/**
 * The studio's IndexedDB: this module alone owns the schema, its version and the upgrades.
 *
 * Version history (add a step to `upgrade`, never edit an old one):
 *   1: `models` — loaded checkpoints (bytes + model card), keyed by the SHA-256 of the bytes,
 *      index `by-used` on `usedAt` (the most recently used model is restored on reload).
 *   2: WIDER FACE datasets and their evaluations (issue 3):
 *      `datasets` — one record per imported split subset, keyed by a content hash (split, subset,
 *        annotation text, ground-truth files), index `by-created`. Written LAST by an import: an image
 *        without its dataset record is an unfinished import and is swept.
 *      `datasetImages` — per image: annotations, val ground truth, JPEG size; key `<datasetId>/<event>/<name>`,
 *        indexes `by-dataset` ([datasetId, index], file order) and `by-import` (importId, for rollback).
 *      `datasetBlobs` — the original JPEG bytes as a Blob, same key as the image, index `by-import`.
 *      `evaluations` — one WIDER evaluation run (APs, PR curves), index `by-created`, `by-dataset`.
 *      `evaluationImages` — per image of a run: predictions and the protocol's matching (compact),
 *        key `<evaluationId>/<event>/<name>`, index `by-evaluation` ([evaluationId, order]).
 *   3: training and pipeline runs (issues 4 and 6):
 *      `runs` — one record per run: kind (pipeline | training), what it started from, and the core's
 *        resumable state (RunState / TrainingRunState), index `by-updated`.
 *      `runWeights` — a run's weights (a state dict) and optimiser state by tag, key
 *        `<runId>/<tag>/<part>`, index `by-run`.
 *      `models` records may carry an `origin` (pruned or trained by a run); no migration needed.
 * Later issues add stores (plans, ...) as version 4, ... in the same function.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { StudioError, type AdamState, type Grouping, type ModelInfo, type RunState, type StateDict, type TrainingRunState, type WiderProtocol, type WiderSetting } from '../../core/data/index.ts';

export const DB_NAME = 'bfpgm-studio';
export const DB_VERSION = 3;

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
  /** Set when a run of the studio made this model; absent = loaded by the user. */
  origin?: ModelOrigin;
}

/** Where a stored model came from when the studio made it (the zoo shows it). */
export interface ModelOrigin {
  kind: 'pruned' | 'trained' | 'compacted';
  /** The run that made it (`runs` store). */
  runId?: string;
  sourceModelId?: string;
  sourceModelName?: string;
  /** WIDER AP measured by the run (pruned: after fine-tuning), fractions. */
  ap?: { easy: number; medium: number; hard: number; images: number; protocol: WiderProtocol };
  /** FPGM applied once, no training (the rate editor's "Use these rates"): replay with planFpgm. */
  fpgm?: { grouping: Grouping; rates: number[] };
}

/** A stored model without its bytes, for lists. */
export type StoredModelSummary = Omit<StoredModel, 'bytes'> & { byteLength: number };

export type WiderSplit = 'train' | 'val';

/** Per event of a dataset: how many images and faces it holds. */
export interface DatasetEventCount {
  event: string;
  images: number;
  faces: number;
}

/** One imported WIDER FACE split subset. Written last by an import: its presence makes the images visible. */
export interface StoredDataset {
  /** SHA-256 (hex) of split, subset, annotation text and ground-truth files: same input ⇒ same id. */
  id: string;
  /** The import that wrote the images (their `importId`). */
  importId: string;
  split: WiderSplit;
  subset: { size: number | 'all'; seed: number };
  /** Images listed in the annotation file (the subset is drawn from these). */
  sourceImages: number;
  images: number;
  /** Annotated faces (the annotation txt), incl. those marked invalid. */
  faces: number;
  invalidFaces: number;
  /** JPEG bytes stored. */
  bytes: number;
  events: DatasetEventCount[];
  /** Val with the eval_tools .mat files: counted faces and images with ≥ 1 counted face per setting. */
  groundTruth: null | { faces: Record<WiderSetting, number>; images: Record<WiderSetting, number> };
  /** Names of the files it came from (annotation txt, zips or folders). */
  sources: string[];
  createdAt: number;
}

/** Number of Int32 values per face in `StoredDatasetImage.faces`. */
export const FACE_FIELDS = 10;

/** An image of a dataset, without its bytes (those are in `datasetBlobs` under the same id). */
export interface StoredDatasetImage {
  /** `<datasetId>/<event>/<name>`. */
  id: string;
  datasetId: string;
  importId: string;
  /** `event/name` (no `.jpg`): the evaluator's image key. */
  key: string;
  event: string;
  name: string;
  /** Position in the annotation file (listing order). */
  index: number;
  width: number;
  height: number;
  byteLength: number;
  /** FACE_FIELDS per face: x, y, w, h, blur, expression, illumination, invalid, occlusion, pose (the annotation txt). */
  faces: Int32Array;
  /** Val ground truth from the .mat files (what the evaluator uses): boxes [x, y, w, h] and 1-based counted indices. */
  gt?: { order: number; boxes: Int32Array; easy: Int32Array; medium: Int32Array; hard: Int32Array };
}

export interface StoredDatasetBlob {
  id: string;
  importId: string;
  /** The original JPEG bytes. */
  blob: Blob;
}

/** One WIDER evaluation of a model on a val dataset. */
export interface StoredEvaluation {
  /** `<model>-<dataset>-<protocol>`: evaluating the same again replaces it. */
  id: string;
  modelId: string;
  modelName: string;
  modelSparsity: number;
  datasetId: string;
  datasetName: string;
  protocol: WiderProtocol;
  backend: string;
  images: number;
  ap: Record<WiderSetting, number>;
  /** Counted faces per setting (count_face). */
  faces: Record<WiderSetting, number>;
  /** Per setting, 1000 × [precision, recall] interleaved (pr_curve of evaluation.py; NaN at the top thresholds). */
  curves: Record<WiderSetting, Float32Array>;
  predictions: number;
  durationMs: number;
  createdAt: number;
}

/** Outcome codes in `StoredEvaluationImage.outcomes`. */
export const OUTCOME_CODES = { tp: 0, fp: 1, ignored: 2 } as const;

/** The protocol's judgement of one image of an evaluation; predictions are score-descending. */
export interface StoredEvaluationImage {
  /** `<evaluationId>/<event>/<name>`. */
  id: string;
  evaluationId: string;
  key: string;
  /** Official (.mat) order. */
  order: number;
  /** 5 per prediction: x, y, w, h, score, as the official txt rounds them. */
  predictions: Float32Array;
  /** Per setting, per prediction: an OUTCOME_CODES value. */
  outcomes: Record<WiderSetting, Uint8Array>;
  /** Per setting, per ground-truth box: the prediction that matched it as a TP, −1 if none. */
  hitBy: Record<WiderSetting, Int32Array>;
}

export type RunKind = 'pipeline' | 'training';

/** What a run started from; written when the run is created. */
export interface StoredRunMeta {
  modelId: string;
  modelName: string;
  /** WIDER train dataset the images come from. */
  datasetId: string;
  datasetName: string;
  /** WIDER val dataset with ground truth for the AP before/after (pipeline, optional). */
  valDatasetId?: string;
  valDatasetName?: string;
  /** The model this run stored in `models` when it finished. */
  resultModelId?: string;
  /** TF.js backend of the last session that ran it. */
  backend?: string;
  /** Training run: images drawn from the dataset (split 80 % train / 20 % validation). */
  images?: number;
  /** Set when the run was opened from a run file (shared from another browser), epoch ms. */
  importedAt?: number;
}

/** One training or pipeline run. `state` is the core's resumable state, null until first saved. */
export type StoredRun = {
  id: string;
  meta: StoredRunMeta;
  createdAt: number;
  updatedAt: number;
} & ({ kind: 'pipeline'; state: RunState | null } | { kind: 'training'; state: TrainingRunState | null });

/** Weights or optimiser state of a run under a tag ('pretrained', 'sfp', 'ckpt-a', 'final', ...). */
export interface StoredRunWeights {
  /** `<runId>/<tag>/<part>`. */
  id: string;
  runId: string;
  tag: string;
  part: 'weights' | 'optimizer';
  weights?: StateDict;
  optimizer?: AdamState;
}

export interface StudioDbSchema extends DBSchema {
  models: {
    key: string;
    value: StoredModel;
    indexes: { 'by-used': number };
  };
  datasets: {
    key: string;
    value: StoredDataset;
    indexes: { 'by-created': number };
  };
  datasetImages: {
    key: string;
    value: StoredDatasetImage;
    indexes: { 'by-dataset': [string, number]; 'by-import': string };
  };
  datasetBlobs: {
    key: string;
    value: StoredDatasetBlob;
    indexes: { 'by-import': string };
  };
  evaluations: {
    key: string;
    value: StoredEvaluation;
    indexes: { 'by-created': number; 'by-dataset': string };
  };
  evaluationImages: {
    key: string;
    value: StoredEvaluationImage;
    indexes: { 'by-evaluation': [string, number] };
  };
  runs: {
    key: string;
    value: StoredRun;
    indexes: { 'by-updated': number };
  };
  runWeights: {
    key: string;
    value: StoredRunWeights;
    indexes: { 'by-run': string };
  };
}

let dbPromise: Promise<IDBPDatabase<StudioDbSchema>> | null = null;

/** The studio's database, opened (and upgraded) once per realm: UI thread and workers alike. */
export function openStudioDb(): Promise<IDBPDatabase<StudioDbSchema>> {
  return db();
}

function db(): Promise<IDBPDatabase<StudioDbSchema>> {
  dbPromise ??= openDB<StudioDbSchema>(DB_NAME, DB_VERSION, {
    upgrade(database, oldVersion) {
      if (oldVersion < 1) {
        const models = database.createObjectStore('models', { keyPath: 'id' });
        models.createIndex('by-used', 'usedAt');
      }
      if (oldVersion < 2) {
        database.createObjectStore('datasets', { keyPath: 'id' }).createIndex('by-created', 'createdAt');
        const images = database.createObjectStore('datasetImages', { keyPath: 'id' });
        images.createIndex('by-dataset', ['datasetId', 'index']);
        images.createIndex('by-import', 'importId');
        database.createObjectStore('datasetBlobs', { keyPath: 'id' }).createIndex('by-import', 'importId');
        const evaluations = database.createObjectStore('evaluations', { keyPath: 'id' });
        evaluations.createIndex('by-created', 'createdAt');
        evaluations.createIndex('by-dataset', 'datasetId');
        database.createObjectStore('evaluationImages', { keyPath: 'id' }).createIndex('by-evaluation', ['evaluationId', 'order']);
      }
      if (oldVersion < 3) {
        database.createObjectStore('runs', { keyPath: 'id' }).createIndex('by-updated', 'updatedAt');
        database.createObjectStore('runWeights', { keyPath: 'id' }).createIndex('by-run', 'runId');
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

export async function sha256Hex(bytes: BufferSource): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** True for the browser's quota errors (a put, or the transaction it aborted). */
export function isQuotaError(e: unknown): boolean {
  return e instanceof DOMException && e.name === 'QuotaExceededError';
}

/** Turns a quota error into StudioError STORAGE_QUOTA naming `what`; rethrows anything else. */
export function rethrowQuota(e: unknown, what = 'The model'): never {
  if (isQuotaError(e)) throw new StudioError('STORAGE_QUOTA', `${what} could not be stored in the browser.`, { cause: e });
  throw e;
}


/**
 * Stores (or refreshes) a checkpoint and marks it as the most recently used — unless `markUsed` is
 * false (a run's result must not replace the model the user works with on the next reload).
 * A stored model keeps its `origin` when the same bytes are loaded again.
 */
export async function saveModel(input: { name: string; bytes: ArrayBuffer; info: StoredModelInfo; origin?: ModelOrigin; markUsed?: boolean }): Promise<StoredModelSummary> {
  const id = await sha256Hex(input.bytes);
  const d = await db();
  const tx = d.transaction('models', 'readwrite');
  const now = Date.now();
  const previous = await tx.store.get(id);
  const { markUsed = true, origin = previous?.origin, ...rest } = input;
  const record: StoredModel = { id, ...rest, ...(origin ? { origin } : {}), addedAt: previous?.addedAt ?? now, usedAt: markUsed ? now : (previous?.usedAt ?? 0) };
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

/** Gives a stored model another display name (the bytes, and so the id, stay the same). */
export async function renameModel(id: string, name: string): Promise<StoredModelSummary> {
  const d = await db();
  const tx = d.transaction('models', 'readwrite');
  const record = await tx.store.get(id);
  if (!record) {
    tx.abort();
    await tx.done.catch(() => {});
    throw new StudioError('NOT_FOUND', `No stored model with id ${id.slice(0, 12)}….`);
  }
  const renamed = { ...record, name };
  await Promise.all([tx.store.put(renamed), tx.done]);
  return summarize(renamed);
}
