/**
 * Dataset feature state: the WIDER FACE datasets stored in this browser, the storage estimate and
 * persistence, and the import — chosen sources, what they hold (inspected in the import worker),
 * the subset choice per split, progress with cancel, and the outcome or error.
 */
import type { ImportClient, ImportOutcome, ImportPlan, ImportProgress, ImportSource, WiderInspection } from '../../import-client.ts';
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import type { StoredDataset, WiderSplit } from '../../../platform/browser/idb-store.ts';
import { deleteDataset, listDatasets, storageEstimate } from '../../../platform/browser/wider-store.ts';

export interface StorageInfo {
  usage: number;
  quota: number;
  persisted: boolean;
}

/** Per split: import it, and how many images ('all' or a whole number, as typed). */
export interface SplitChoice {
  enabled: boolean;
  size: string;
}

export type ImportStatus = 'idle' | 'inspecting' | 'importing' | 'cancelling';

/** '' or 'all' → 'all'; a whole number ≥ 1 → that number; anything else → null (invalid). */
export function parseSubsetSize(text: string): number | 'all' | null {
  const t = text.trim().toLowerCase();
  if (t === '' || t === 'all') return 'all';
  if (!/^\d+$/.test(t)) return null;
  const n = Number(t);
  return n >= 1 ? n : null;
}

export class DatasetState {
  datasets = $state.raw<StoredDataset[]>([]);
  storage = $state.raw<StorageInfo | null>(null);
  /** Outcome of the last persistence request. */
  persistAsked = $state(false);

  sources = $state.raw<ImportSource[]>([]);
  inspection = $state.raw<WiderInspection | null>(null);
  choices = $state<Record<WiderSplit, SplitChoice>>({ train: { enabled: true, size: 'all' }, val: { enabled: true, size: 'all' } });
  seed = $state('0');
  status = $state<ImportStatus>('idle');
  progress = $state.raw<ImportProgress | null>(null);
  outcome = $state.raw<ImportOutcome | null>(null);
  /** Set when the last import was cancelled. */
  cancelled = $state(false);
  error = $state.raw<UiError | null>(null);
  listError = $state.raw<UiError | null>(null);

  busy = $derived(this.status !== 'idle');
  /** Splits the sources can import (an annotation list and at least one JPEG were found). */
  importable = $derived((this.inspection?.splits ?? []).filter((s) => s.annotation !== null && s.imagesFound > 0).map((s) => s.split));
  plan = $derived(this.#plan());
  canImport = $derived(!this.busy && this.plan !== null && Object.keys(this.plan).length > 0);

  readonly #client: ImportClient;
  #abort: AbortController | null = null;

  constructor(client: ImportClient) {
    this.#client = client;
  }

  /** Reloads the dataset list and the storage estimate. */
  async refresh(): Promise<void> {
    try {
      this.datasets = await listDatasets();
      this.listError = null;
    } catch (e) {
      this.listError = toUiError(e);
    }
    try {
      this.storage = await storageEstimate();
    } catch {
      this.storage = null;
    }
  }

  /**
   * Adds picked or dropped files to the sources (same path: replaced) and inspects them all. When the
   * result cannot be read, the error is shown and the sources go back to what they were.
   */
  async addSources(files: readonly ImportSource[]): Promise<void> {
    if (this.busy || files.length === 0) return;
    const previous = { sources: this.sources, inspection: this.inspection };
    const byPath = new Map(this.sources.map((s) => [s.path, s]));
    for (const f of files) byPath.set(f.path, f);
    this.sources = [...byPath.values()];
    this.outcome = null;
    this.cancelled = false;
    if (!(await this.#inspect())) {
      this.sources = previous.sources;
      this.inspection = previous.inspection;
    }
  }

  clearSources(): void {
    if (this.busy) return;
    this.sources = [];
    this.inspection = null;
    this.error = null;
    this.outcome = null;
    this.cancelled = false;
  }

  async startImport(): Promise<void> {
    const plan = this.plan;
    if (!this.canImport || !plan) return;
    this.status = 'importing';
    this.error = null;
    this.outcome = null;
    this.cancelled = false;
    this.progress = null;
    this.#abort = new AbortController();
    void this.requestPersist();
    try {
      this.outcome = await this.#client.importWider(this.sources, plan, (p) => (this.progress = p), this.#abort.signal);
      this.sources = [];
      this.inspection = null;
    } catch (e) {
      if (isAbortError(e)) this.cancelled = true;
      else this.error = toUiError(e);
    } finally {
      this.status = 'idle';
      this.progress = null;
      this.#abort = null;
      await this.refresh();
    }
  }

  /** Stops the running import; it deletes what it wrote before it settles. */
  cancelImport(): void {
    if (this.status !== 'importing') return;
    this.status = 'cancelling';
    this.#abort?.abort();
  }

  async remove(id: string): Promise<void> {
    try {
      await deleteDataset(id);
    } catch (e) {
      this.listError = toUiError(e);
    }
    await this.refresh();
  }

  /** Asks the browser to keep the studio's data under storage pressure (it may decide without asking). */
  async requestPersist(): Promise<void> {
    if (!navigator.storage?.persist || this.storage?.persisted) return;
    this.persistAsked = true;
    try {
      await navigator.storage.persist();
    } catch {
      // Not fatal: the data is stored either way, only eviction under pressure differs.
    }
    this.storage = await storageEstimate().catch(() => null);
  }

  /** Inspects the sources; false (and `error` set) when they cannot be read. */
  async #inspect(): Promise<boolean> {
    this.status = 'inspecting';
    this.error = null;
    this.inspection = null;
    try {
      const inspection = await this.#client.inspect(this.sources);
      // Preselect the splits that can be imported (an annotation list and at least one JPEG).
      for (const split of inspection.splits) this.choices[split.split].enabled = split.annotation !== null && split.imagesFound > 0;
      this.inspection = inspection;
      return true;
    } catch (e) {
      this.error = toUiError(e);
      return false;
    } finally {
      this.status = 'idle';
    }
  }

  #plan(): ImportPlan | null {
    const seed = Number(this.seed.trim() || '0');
    if (!Number.isInteger(seed)) return null;
    const plan: ImportPlan = {};
    for (const split of this.importable) {
      const choice = this.choices[split];
      if (!choice.enabled) continue;
      const size = parseSubsetSize(choice.size);
      if (size === null) return null;
      plan[split] = { size, seed };
    }
    return plan;
  }
}
