/**
 * Training feature state: a plain training run of a stored model on a stored WIDER dataset in the
 * pipeline worker (epochs, images, size, batch, LR), its live progress (step, loss_l, loss_c,
 * images/s, ETA), the epochs finished so far (train and validation loss) and start / pause / resume /
 * cancel / export. Every epoch is checkpointed in IndexedDB, so a reload resumes from the last one.
 */
import type { BackendSelection, StepProgress } from '../../../core/index.ts';
import type { PipelineClient, RunEvent } from '../../pipeline-client.ts';
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import { findRun, listRuns } from '../../../platform/browser/idb-run-store.ts';
import { listModels, type StoredModelSummary, type StoredRun } from '../../../platform/browser/idb-store.ts';
import { runStatus, type RunStatus } from '../pipeline/run-progress.ts';
import { saveBlob } from '../../download.ts';

export type TrainingRun = Extract<StoredRun, { kind: 'training' }>;

export interface TrainingForm {
  epochs: number;
  images: number;
  size: number;
  batch: number;
  lr: number;
}

export const DEFAULT_TRAINING_FORM: TrainingForm = { epochs: 2, images: 40, size: 320, batch: 8, lr: 1e-3 };

/** The form's problems ('' when it can start). */
export function trainingFormError(f: TrainingForm): string {
  const int = (v: number, lo: number, hi: number) => Number.isInteger(v) && v >= lo && v <= hi;
  if (!int(f.epochs, 1, 10_000)) return 'Epochs must be a whole number ≥ 1.';
  if (!int(f.images, 2, 1_000_000)) return 'Images must be a whole number ≥ 2 (80 % train, 20 % validation).';
  if (!int(f.size, 32, 2048)) return 'Size must be a whole number in 32–2048.';
  if (!int(f.batch, 1, 256)) return 'Batch must be a whole number in 1–256.';
  if (!(f.lr > 0 && f.lr < 1)) return 'The learning rate must be in (0, 1).';
  return '';
}

export class TrainingState {
  backend = $state.raw<BackendSelection | null>(null);
  models = $state.raw<StoredModelSummary[]>([]);
  modelId = $state('');
  datasetId = $state('');
  form = $state<TrainingForm>({ ...DEFAULT_TRAINING_FORM });
  formError = $derived(trainingFormError(this.form));

  runs = $state.raw<TrainingRun[]>([]);
  selectedId = $state('');
  selected = $derived(this.runs.find((r) => r.id === this.selectedId) ?? null);
  activeId = $state<string | null>(null);
  action = $state<'idle' | 'starting' | 'pausing' | 'cancelling'>('idle');
  step = $state.raw<StepProgress | null>(null);
  error = $state.raw<UiError | null>(null);
  note = $state('');

  canStart = $derived(!!this.modelId && !!this.datasetId && !this.formError && this.activeId === null && this.action === 'idle');

  readonly #client: PipelineClient;

  readonly #onModelStored: () => void;

  /** `onModelStored`: a finished run stored its model (the model list elsewhere refreshes). */
  constructor(client: PipelineClient, options: { onModelStored?: () => void } = {}) {
    this.#client = client;
    this.#onModelStored = options.onModelStored ?? (() => {});
  }

  async start(): Promise<void> {
    await this.refresh();
    try {
      this.backend = await this.#client.init();
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  status(run: TrainingRun): RunStatus {
    return runStatus(run.state, run.id === this.activeId, false);
  }

  async refresh(): Promise<void> {
    try {
      const [runs, models] = await Promise.all([listRuns('training'), listModels()]);
      this.runs = runs as TrainingRun[];
      this.models = models;
      if (!this.models.some((m) => m.id === this.modelId)) this.modelId = this.models[0]?.id ?? '';
      if (this.selectedId && !this.selected) this.selectedId = '';
      if (!this.selectedId && this.runs[0]) this.selectedId = this.runs[0].id;
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  async startRun(): Promise<void> {
    if (!this.canStart) return;
    const runId = crypto.randomUUID();
    const f = this.form;
    await this.#execute(runId, () =>
      this.#client.startTraining({ runId, modelId: this.modelId, datasetId: this.datasetId, epochs: f.epochs, images: f.images, size: f.size, batch: f.batch, lr: f.lr }, (e) => this.#onEvent(e)),
    );
  }

  async resume(runId: string): Promise<void> {
    if (this.activeId !== null || this.action !== 'idle') return;
    await this.#execute(runId, () => this.#client.resumeRun(runId, (e) => this.#onEvent(e)));
  }

  async pause(): Promise<void> {
    if (!this.activeId || this.action !== 'idle') return;
    this.action = 'pausing';
    try {
      await this.#client.pause(this.activeId);
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  async cancel(runId: string): Promise<void> {
    if (this.action !== 'idle') return;
    this.action = 'cancelling';
    try {
      await this.#client.cancel(runId);
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      if (this.activeId !== runId) this.action = 'idle';
      await this.refresh();
    }
  }

  async download(runId: string, what: 'checkpoint' | 'epochs'): Promise<void> {
    try {
      const out = await this.#client.exportRun(runId);
      if (what === 'checkpoint') saveBlob(new Blob([out.checkpoint], { type: 'application/octet-stream' }), `${out.name}.pth`);
      else saveBlob(new Blob([out.epochsCsv], { type: 'text/csv' }), `${out.name}-epochs.csv`);
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  select(runId: string): void {
    this.selectedId = runId;
  }

  async #execute(runId: string, call: () => Promise<{ status: string }>): Promise<void> {
    this.activeId = runId;
    this.action = 'starting';
    this.error = null;
    this.note = '';
    this.step = null;
    this.selectedId = runId;
    try {
      const outcome = await call();
      if (outcome.status === 'paused') this.note = 'Paused: resuming continues from the last finished epoch.';
      if (outcome.status === 'done') this.#onModelStored();
      if (outcome.status === 'cancelled') this.note = 'Cancelled: the run and its checkpoints were deleted.';
    } catch (e) {
      if (isAbortError(e)) this.note = 'Paused.';
      else this.error = toUiError(e);
    } finally {
      this.activeId = null;
      this.action = 'idle';
      this.step = null;
      await this.refresh();
    }
  }

  #onEvent(e: RunEvent): void {
    if (e.kind !== 'training' || e.runId !== this.activeId) return;
    const ev = e.event;
    if (this.action === 'starting') this.action = 'idle';
    if (ev.type === 'step') this.step = ev.progress;
    else void this.#reload(e.runId);
  }

  async #reload(runId: string): Promise<void> {
    const run = await findRun(runId);
    if (!run || run.kind !== 'training') return;
    const i = this.runs.findIndex((r) => r.id === runId);
    this.runs = i >= 0 ? this.runs.map((r) => (r.id === runId ? run : r)) : [run, ...this.runs];
  }
}
