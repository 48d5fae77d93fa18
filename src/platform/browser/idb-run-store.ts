/**
 * Training and pipeline runs in IndexedDB (schema in idb-store.ts): the core's RunStore port over the
 * `runs` and `runWeights` stores, plus the run records' lifecycle (create, list, update the meta,
 * delete). Used by the pipeline worker (runs) and by the UI thread (lists, the zoo's APs).
 *
 * State dicts and Adam moments are stored as structured clones (Maps of typed arrays), not as .pth
 * files: no encoding on the hot path of a per-epoch checkpoint. Only type imports from the core, so
 * the UI thread can list runs without loading TF.js.
 */
import { StudioError, type RunStore, type RunState, type TrainingRunState } from '../../core/data/index.ts';
import { isQuotaError, openStudioDb, rethrowQuota, type RunKind, type StoredRun, type StoredRunMeta, type StoredRunWeights } from './idb-store.ts';

type StateOf<K extends RunKind> = K extends 'pipeline' ? RunState : TrainingRunState;

const weightsId = (runId: string, tag: string, part: StoredRunWeights['part']): string => `${runId}/${tag}/${part}`;
const ofRun = (runId: string) => IDBKeyRange.only(runId);

async function put(record: StoredRunWeights): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction('runWeights', 'readwrite');
  try {
    await Promise.all([tx.store.put(record), tx.done]);
  } catch (e) {
    rethrowQuota(isQuotaError(e) ? e : (tx.error ?? e), 'The run checkpoint');
  }
}

/**
 * The RunStore of runs of one kind. The run record must exist (`createRun`): saving the state of a
 * deleted (cancelled) run fails with NOT_FOUND instead of bringing it back.
 */
export function createIdbRunStore<K extends RunKind>(kind: K): RunStore<StateOf<K>> {
  return {
    async loadState(runId) {
      const run = await (await openStudioDb()).get('runs', runId);
      if (!run) return null;
      if (run.kind !== kind) throw new StudioError('NOT_FOUND', `Run ${runId} is a ${run.kind} run, not a ${kind} run.`);
      return run.state as StateOf<K> | null;
    },
    async saveState(state) {
      const d = await openStudioDb();
      const tx = d.transaction('runs', 'readwrite');
      const run = await tx.store.get(state.id);
      if (!run) {
        tx.abort();
        await tx.done.catch(() => {});
        throw new StudioError('NOT_FOUND', `Run ${state.id} was deleted.`);
      }
      try {
        await Promise.all([tx.store.put({ ...run, state, updatedAt: Date.now() } as StoredRun), tx.done]);
      } catch (e) {
        rethrowQuota(isQuotaError(e) ? e : (tx.error ?? e), 'The run state');
      }
    },
    async saveWeights(runId, tag, sd) {
      await put({ id: weightsId(runId, tag, 'weights'), runId, tag, part: 'weights', weights: sd });
    },
    async loadWeights(runId, tag) {
      return (await (await openStudioDb()).get('runWeights', weightsId(runId, tag, 'weights')))?.weights ?? null;
    },
    async saveOptimizer(runId, tag, optimizer) {
      await put({ id: weightsId(runId, tag, 'optimizer'), runId, tag, part: 'optimizer', optimizer });
    },
    async loadOptimizer(runId, tag) {
      return (await (await openStudioDb()).get('runWeights', weightsId(runId, tag, 'optimizer')))?.optimizer ?? null;
    },
  };
}

/** Creates the record of a new run (no state yet). */
export async function createRun(id: string, kind: RunKind, meta: StoredRunMeta): Promise<StoredRun> {
  const now = Date.now();
  const run = { id, kind, meta, state: null, createdAt: now, updatedAt: now } as StoredRun;
  const d = await openStudioDb();
  try {
    await d.add('runs', run);
  } catch (e) {
    if (e instanceof DOMException && e.name === 'ConstraintError') throw new StudioError('CONFIG_INVALID', `A run with id ${id} exists already.`);
    rethrowQuota(e, 'The run');
  }
  return run;
}

/** Every run (optionally of one kind), most recently updated first. */
export async function listRuns(kind?: RunKind): Promise<StoredRun[]> {
  const all = (await (await openStudioDb()).getAllFromIndex('runs', 'by-updated')).reverse();
  return kind ? all.filter((r) => r.kind === kind) : all;
}

export async function findRun(id: string): Promise<StoredRun | undefined> {
  return (await openStudioDb()).get('runs', id);
}

export async function getRun(id: string): Promise<StoredRun> {
  const run = await findRun(id);
  if (!run) throw new StudioError('NOT_FOUND', `No run with id ${id.slice(0, 12)}… in this browser (was it cancelled?).`);
  return run;
}

/** Merges `patch` into a run's meta (e.g. the id of the model it produced). */
export async function updateRunMeta(id: string, patch: Partial<StoredRunMeta>): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction('runs', 'readwrite');
  const run = await tx.store.get(id);
  if (run) await tx.store.put({ ...run, meta: { ...run.meta, ...patch } });
  await tx.done;
}

/** Deletes a run record with all its weights (one transaction). */
export async function deleteRun(id: string): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction(['runs', 'runWeights'], 'readwrite');
  await tx.objectStore('runs').delete(id);
  const weights = tx.objectStore('runWeights');
  let cursor = await weights.index('by-run').openKeyCursor(ofRun(id));
  while (cursor) {
    void weights.delete(cursor.primaryKey);
    cursor = await cursor.continue();
  }
  await tx.done;
}

/** Deletes a run's weights except the tags in `keep` (a finished run needs only its final model). */
export async function dropRunWeights(id: string, keep: readonly string[]): Promise<void> {
  const d = await openStudioDb();
  const tx = d.transaction('runWeights', 'readwrite');
  let cursor = await tx.store.index('by-run').openCursor(ofRun(id));
  while (cursor) {
    if (!keep.includes(cursor.value.tag)) void cursor.delete();
    cursor = await cursor.continue();
  }
  await tx.done;
}

/** Tags of the weights a run holds (diagnostics, tests). */
export async function runWeightTags(id: string): Promise<string[]> {
  const keys = await (await openStudioDb()).getAllKeysFromIndex('runWeights', 'by-run', ofRun(id));
  return [...new Set(keys.map((k) => k.slice(id.length + 1).replace(/\/(weights|optimizer)$/, '')))];
}
