/**
 * The run control shared by the pipeline and training states: the stored runs of one kind, the
 * selection, the run this tab executes (start / pause / resume / cancel), its outcome note and
 * errors, and the reload of a run after a worker event. Subclasses say how a run starts, what its
 * events update and what can be downloaded.
 */
import type { BackendSelection } from '../../../core/data/index.ts';
import type { PipelineClient, RunEvent, RunExport } from '../../pipeline-client.ts';
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import { findRun, listRuns } from '../../../platform/browser/idb-run-store.ts';
import { listModels, type StoredModelSummary, type StoredRun } from '../../../platform/browser/idb-store.ts';
import { runStatus, type RunStatus } from '../pipeline/run-progress.ts';

export type RunKind = StoredRun['kind'];
export type RunOf<K extends RunKind> = Extract<StoredRun, { kind: K }>;
export type RunEventOf<K extends RunKind> = Extract<RunEvent, { kind: K }>;

/** The notes shown when a run ends by pause or cancel. */
export interface RunNotes {
  paused: string;
  cancelled: string;
}

export class RunControlState<K extends RunKind> {
  backend = $state.raw<BackendSelection | null>(null);
  models = $state.raw<StoredModelSummary[]>([]);
  modelId = $state('');
  datasetId = $state('');

  runs = $state.raw<RunOf<K>[]>([]);
  selectedId = $state('');
  selected = $derived(this.runs.find((r) => r.id === this.selectedId) ?? null);
  /** The run this tab executes, and what it is doing. */
  activeId = $state<string | null>(null);
  action = $state<'idle' | 'starting' | 'pausing' | 'cancelling'>('idle');
  error = $state.raw<UiError | null>(null);
  /** The last run ended by pause or cancel (a short note). */
  note = $state('');

  protected readonly client: PipelineClient;
  protected readonly onModelStored: () => void;
  readonly #kind: K;
  readonly #notes: RunNotes;

  /** `onModelStored`: a finished run stored its model (the model list elsewhere refreshes). */
  constructor(kind: K, notes: RunNotes, client: PipelineClient, options: { onModelStored?: () => void } = {}) {
    this.#kind = kind;
    this.#notes = notes;
    this.client = client;
    this.onModelStored = options.onModelStored ?? (() => {});
  }

  status(run: RunOf<K>): RunStatus {
    return runStatus(run.state, run.id === this.activeId, this.heldElsewhere(run.id));
  }

  async refresh(): Promise<void> {
    try {
      await this.loadLists();
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  async resume(runId: string): Promise<void> {
    if (this.activeId !== null || this.action !== 'idle') return;
    await this.execute(runId, () => this.client.resumeRun(runId, (e) => this.onEvent(e)));
  }

  async pause(): Promise<void> {
    if (!this.activeId || this.action !== 'idle') return;
    this.action = 'pausing';
    try {
      await this.client.pause(this.activeId);
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  /** Cancels the run (running here or not) and deletes it. */
  async cancel(runId: string): Promise<void> {
    if (this.action !== 'idle') return;
    this.action = 'cancelling';
    try {
      await this.client.cancel(runId);
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      if (this.activeId !== runId) this.action = 'idle';
      await this.refresh();
    }
  }

  select(runId: string): void {
    this.selectedId = runId;
  }

  /** Whether another tab holds the run (shown as running elsewhere). */
  protected heldElsewhere(_runId: string): boolean {
    return false;
  }

  /** Reads the runs of this kind and the models, and keeps the model and run selection valid. */
  protected async loadLists(): Promise<void> {
    const [runs, models] = await Promise.all([listRuns(this.#kind), listModels()]);
    this.runs = runs as RunOf<K>[];
    this.models = models;
    if (!this.models.some((m) => m.id === this.modelId)) this.modelId = this.models[0]?.id ?? '';
    if (this.selectedId && !this.selected) this.selectedId = '';
    if (!this.selectedId && this.runs[0]) this.selectedId = this.runs[0].id;
  }

  /** Exports a run and saves the one file `pick` chooses; an error goes to `onError`. */
  protected async exportFile(runId: string, pick: (out: RunExport) => void, onError: (e: UiError) => void): Promise<void> {
    try {
      pick(await this.client.exportRun(runId));
    } catch (e) {
      onError(toUiError(e));
    }
  }

  /** The live progress is reset as a run starts and again as it ends. */
  protected resetLive(_running: boolean): void {}

  /** The run call has been made (the worker may not have accepted it yet). */
  protected runCalled(_runId: string): void {}

  /** One event of the active run (the action is no longer 'starting'). */
  protected handleEvent(_e: RunEventOf<K>): void {}

  /** Runs `call` (a start or resume) as this tab's active run until it ends. */
  protected async execute(runId: string, call: () => Promise<{ status: string }>): Promise<void> {
    this.activeId = runId;
    this.action = 'starting';
    this.error = null;
    this.note = '';
    this.resetLive(true);
    this.selectedId = runId;
    try {
      const started = call();
      this.runCalled(runId);
      const outcome = await started;
      if (outcome.status === 'paused') this.note = this.#notes.paused;
      if (outcome.status === 'done') this.onModelStored();
      if (outcome.status === 'cancelled') this.note = this.#notes.cancelled;
    } catch (e) {
      if (isAbortError(e)) this.note = 'Paused.';
      else this.error = toUiError(e);
    } finally {
      this.activeId = null;
      this.action = 'idle';
      this.resetLive(false);
      await this.refresh();
    }
  }

  protected onEvent(e: RunEvent): void {
    if (e.kind !== this.#kind || e.runId !== this.activeId) return;
    if (this.action === 'starting') this.action = 'idle';
    this.handleEvent(e as RunEventOf<K>);
  }

  /** Re-reads one run from IndexedDB (the worker saved it before emitting). */
  protected async reload(runId: string): Promise<void> {
    const found = await findRun(runId);
    if (!found || found.kind !== this.#kind) return;
    const run = found as RunOf<K>;
    const i = this.runs.findIndex((r) => r.id === runId);
    this.runs = i >= 0 ? this.runs.map((r) => (r.id === runId ? run : r)) : [run, ...this.runs];
  }
}
