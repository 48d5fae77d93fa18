/**
 * Model feature state: the active backend, the loaded model (kept inside the compute worker; here only
 * its card), the stored-model list and the loader's status and error. Restores the last model on start.
 */
import type { BackendSelection } from '../../../core/data/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import {
  deleteModel,
  getLastUsedModel,
  getModel,
  listModels,
  renameModel,
  saveModel,
  type ModelOrigin,
  type StoredModelInfo,
  type StoredModelSummary,
} from '../../../platform/browser/idb-store.ts';

/** The public B-FPGM release of the unpruned EResFD. */
export const DEFAULT_MODEL_URL = 'https://github.com/IDT-ITI/B-FPGM/raw/main/Pruned%20Models/EResFD-original.pth';

const FETCH_HINT =
  'The file could not be downloaded (offline, or the server does not allow cross-origin downloads). ' +
  'Download it yourself and drop it on the loader, or pick it with "Choose file".';

export interface CurrentModel {
  id: string;
  name: string;
  byteLength: number;
  info: StoredModelInfo;
  /** How the studio made it (absent: loaded from a file). */
  origin?: ModelOrigin;
  /** When it was first stored, epoch ms (absent: not stored). */
  addedAt?: number;
}

export type ModelStatus = 'starting' | 'idle' | 'loading' | 'restoring';

export class ModelState {
  backend = $state.raw<BackendSelection | null>(null);
  backendError = $state.raw<UiError | null>(null);
  current = $state.raw<CurrentModel | null>(null);
  stored = $state.raw<StoredModelSummary[]>([]);
  status = $state<ModelStatus>('starting');
  /** What is being loaded, for the status line. */
  loadingName = $state('');
  error = $state.raw<UiError | null>(null);
  /** Name of the file or URL that `error` is about. */
  failedName = $state('');
  /** A non-fatal problem (e.g. the model works but could not be stored). */
  warning = $state<string | null>(null);

  busy = $derived(this.status !== 'idle');

  readonly #client: ComputeClient;

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  /** Selects the backend, then restores the most recently used stored model. */
  async start(): Promise<void> {
    this.status = 'starting';
    try {
      this.backend = await this.#client.init();
    } catch (e) {
      this.backendError = toUiError(e);
      this.status = 'idle';
      return;
    }
    let restoring = '';
    try {
      const last = await getLastUsedModel();
      if (last) {
        this.status = 'restoring';
        this.loadingName = restoring = last.name;
        const info = await this.#client.loadModel(last.bytes);
        this.current = { id: last.id, name: last.name, byteLength: last.bytes.byteLength, info, origin: last.origin, addedAt: last.addedAt };
      }
    } catch (e) {
      this.error = toUiError(e);
      this.failedName = restoring;
    } finally {
      this.status = 'idle';
      await this.#refreshList();
    }
  }

  loadFile(file: File): Promise<void> {
    return this.#load(file.name, () => file.arrayBuffer(), 'The file could not be read.');
  }

  loadUrl(url: string): Promise<void> {
    const name = nameFromUrl(url);
    return this.#load(name, async () => {
      let response: Response;
      try {
        response = await fetch(url, { mode: 'cors' });
      } catch (e) {
        throw new Error(`Could not fetch ${url}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
      }
      if (!response.ok) throw new Error(`Could not fetch ${url}: HTTP ${response.status} ${response.statusText}`.trim());
      return response.arrayBuffer();
    }, FETCH_HINT);
  }

  async loadStored(id: string): Promise<void> {
    const record = await getModel(id).catch((e: unknown) => {
      this.error = toUiError(e);
      this.failedName = '';
      return null;
    });
    if (!record) return;
    await this.#load(record.name, async () => record.bytes);
  }

  /** Re-reads the stored-model list (another feature stored a model, e.g. the rate editor's pruned one). */
  refreshStored(): Promise<void> {
    return this.#refreshList();
  }

  async remove(id: string): Promise<void> {
    await deleteModel(id);
    await this.#refreshList();
  }

  /** Renames a stored model (the name is already cleaned); the loaded model's card follows. */
  async rename(id: string, name: string): Promise<void> {
    await renameModel(id, name);
    await this.#refreshList();
  }

  /** `hint` explains failures of `read` that are not StudioErrors. */
  async #load(name: string, read: () => Promise<ArrayBuffer>, hint?: string): Promise<void> {
    if (this.status === 'starting') return;
    this.status = 'loading';
    this.loadingName = name;
    this.error = null;
    this.warning = null;
    try {
      const bytes = await read();
      // The worker receives a transferred copy; `bytes` stays here for storage.
      const info = await this.#client.loadModel(bytes.slice(0));
      try {
        const saved = await saveModel({ name, bytes, info });
        this.current = { id: saved.id, name: saved.name, byteLength: bytes.byteLength, info, origin: saved.origin, addedAt: saved.addedAt };
      } catch (e) {
        this.current = { id: '', name, byteLength: bytes.byteLength, info };
        this.warning = `Loaded, but not stored for the next visit: ${toUiError(e).message}`;
      }
    } catch (e) {
      this.error = toUiError(e, hint);
      this.failedName = name;
    } finally {
      this.status = 'idle';
      await this.#refreshList();
    }
  }

  async #refreshList(): Promise<void> {
    try {
      this.stored = await listModels();
      // A rename elsewhere (the zoo) shows on the loaded model's card too.
      const cur = this.current && this.stored.find((m) => m.id === this.current!.id);
      if (cur && this.current && cur.name !== this.current.name) this.current = { ...this.current, name: cur.name };
    } catch (e) {
      this.warning = `The stored models could not be listed: ${toUiError(e).message}`;
    }
  }
}

function nameFromUrl(url: string): string {
  try {
    const last = new URL(url).pathname.split('/').filter(Boolean).pop();
    return last ? decodeURIComponent(last) : url;
  } catch {
    return url;
  }
}
