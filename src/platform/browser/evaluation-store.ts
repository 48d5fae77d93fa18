/**
 * WIDER evaluations in IndexedDB (schema in idb-store.ts): a run's APs and PR curves in `evaluations`,
 * its per-image predictions and matching in `evaluationImages` (read one image at a time by the
 * per-image view, so listing runs never loads them).
 */
import { StudioError } from '../../core/data/index.ts';
import { isQuotaError, openStudioDb, rethrowQuota, type StoredEvaluation, type StoredEvaluationImage } from './idb-store.ts';

export function evaluationImageId(evaluationId: string, key: string): string {
  return `${evaluationId}/${key}`;
}

const perEvaluation = (id: string) => IDBKeyRange.bound([id, -Infinity], [id, Infinity]);

/** Stores a run, replacing a previous run with the same id and its per-image records (one transaction). */
export async function saveEvaluation(evaluation: StoredEvaluation, images: readonly StoredEvaluationImage[]): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction(['evaluations', 'evaluationImages'], 'readwrite');
  const perImage = tx.objectStore('evaluationImages');
  try {
    let cursor = await perImage.index('by-evaluation').openKeyCursor(perEvaluation(evaluation.id));
    while (cursor) {
      void perImage.delete(cursor.primaryKey);
      cursor = await cursor.continue();
    }
    await Promise.all([tx.objectStore('evaluations').put(evaluation), ...images.map((im) => perImage.put(im)), tx.done]);
  } catch (e) {
    rethrowQuota(isQuotaError(e) ? e : (tx.error ?? e), 'The evaluation');
  }
}

/** Every run, newest first. */
export async function listEvaluations(): Promise<StoredEvaluation[]> {
  return (await (await openStudioDb()).getAllFromIndex('evaluations', 'by-created')).reverse();
}

/** Image keys of a run, official order. */
export async function listEvaluationImageKeys(evaluationId: string): Promise<string[]> {
  const d = await openStudioDb();
  const keys = await d.getAllKeysFromIndex('evaluationImages', 'by-evaluation', perEvaluation(evaluationId));
  return keys.map((k) => k.slice(evaluationId.length + 1));
}

export async function getEvaluationImage(evaluationId: string, key: string): Promise<StoredEvaluationImage> {
  const record = await (await openStudioDb()).get('evaluationImages', evaluationImageId(evaluationId, key));
  if (!record) throw new StudioError('NOT_FOUND', `The evaluation has no result for ${key}.`);
  return record;
}

export async function deleteEvaluation(id: string): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction(['evaluations', 'evaluationImages'], 'readwrite');
  const perImage = tx.objectStore('evaluationImages');
  await tx.objectStore('evaluations').delete(id);
  let cursor = await perImage.index('by-evaluation').openKeyCursor(perEvaluation(id));
  while (cursor) {
    void perImage.delete(cursor.primaryKey);
    cursor = await cursor.continue();
  }
  await tx.done;
}
