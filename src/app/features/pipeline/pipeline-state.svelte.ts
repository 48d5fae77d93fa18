/**
 * Pipeline runner state: the budget form (laptop or reference preset, every field editable), the
 * model and datasets to run on, the duration estimate (estimatePipelineSeconds with a measured or
 * stored throughput), the stored pipeline runs and the live progress of the one this tab executes,
 * with start / pause / resume / cancel / export. After a reload a run saved as 'running' shows as
 * interrupted, with Resume.
 */
import { DEFAULT_PIPELINE_CONFIG, estimatePipelineSeconds, planPipelineBudgetByStage, plannedTrials, runFile, StudioError, type PipelineConfig, type RunState } from '../../../core/data/index.ts';
import type { PipelineClient } from '../../pipeline-client.ts';
import { saveBlob } from '../../download.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { findRun } from '../../../platform/browser/idb-run-store.ts';
import { listEvaluations } from '../../../platform/browser/evaluation-store.ts';
import type { StoredEvaluation } from '../../../platform/browser/idb-store.ts';
import { RunControlState, type RunEventOf, type RunOf } from '../runs/run-control.svelte.ts';
import type { LiveProgress } from './run-progress.ts';
import { lookupTrainSpeed, storeTrainSpeed, type TrainSpeed } from './train-speed.ts';
import { configFromForm, formFromConfig, PRESETS, validateForm, type PipelineForm, type Preset } from './budget.ts';

export { configFromForm, formFromConfig, PRESETS, type PipelineForm, type Preset };

export type PipelineRun = RunOf<'pipeline'>;

const RUN_LOCK = /^bfpgm-run:(.+)$/;

export class PipelineState extends RunControlState<'pipeline'> {
  backendError = $state.raw<UiError | null>(null);
  valDatasetId = $state('');
  preset = $state<Preset>('laptop');
  form = $state<PipelineForm>(formFromConfig(DEFAULT_PIPELINE_CONFIG));

  check = $derived(validateForm(this.form));
  /** The user chose to set up a new run while an unfinished one is selected. */
  drafting = $state(false);
  /**
   * The run whose settings the New-run form shows, read-only: the run this tab executes, else the
   * selected run while it is unfinished (interrupted by a reload, paused, running in another tab),
   * so the form and its estimate never describe defaults while a run is under way.
   */
  formRun = $derived.by(() => {
    const active = this.activeId ? this.runs.find((r) => r.id === this.activeId) : undefined;
    if (active?.state) return active;
    const sel = this.selected;
    if (this.activeId === null && !this.drafting && sel?.state && sel.state.status !== 'done' && sel.state.status !== 'failed') return sel;
    return null;
  });
  /** What the form shows: the run's settings, or the user's draft. */
  shownForm = $derived(this.formRun?.state ? formFromConfig(this.formRun.state.config) : this.form);
  shownConfig = $derived<PipelineConfig | null>(this.formRun?.state ? this.formRun.state.config : this.check.config);
  /** The budget in image passes (all stages, BO trials included) of what the form shows. */
  budget = $derived(this.shownConfig ? { ...planPipelineBudgetByStage(this.shownConfig), trials: plannedTrials(this.shownConfig) } : null);
  speed = $state.raw<(TrainSpeed & { scaled: boolean }) | null>(null);
  measuring = $state(false);
  estimateSeconds = $derived(this.shownConfig && this.speed ? estimatePipelineSeconds(this.shownConfig, this.speed.imagesPerSec) : null);
  /** Stored evaluations (newest first): the Result panel compares a run with the released checkpoints. */
  evaluations = $state.raw<StoredEvaluation[]>([]);
  /** A run file being opened, and what came of it. */
  importing = $state(false);
  importError = $state.raw<UiError | null>(null);
  importNote = $state('');

  /** Runs whose lock another tab holds. */
  elsewhere = $state.raw<Set<string>>(new Set());
  live = $state.raw<LiveProgress | null>(null);
  exportError = $state.raw<UiError | null>(null);

  // Not while the form shows another run's settings: the draft it would start is hidden.
  canStart = $derived(!!this.modelId && !!this.datasetId && !!this.check.config && this.activeId === null && this.action === 'idle' && this.formRun === null);

  #refreshing: Promise<void> | null = null;

  /** `onModelStored`: a finished run stored its model (the model list elsewhere refreshes). */
  constructor(client: PipelineClient, options: { onModelStored?: () => void } = {}) {
    super('pipeline', { paused: 'Paused: the run resumes from its last finished trial or epoch.', cancelled: 'Cancelled: the run and its weights were deleted.' }, client, options);
  }

  /** Starts the worker (backend shown in the header of the page) and loads the lists. */
  async start(): Promise<void> {
    await this.refresh();
    try {
      this.backend = await this.client.init();
      this.backendError = null;
      this.#loadSpeed();
    } catch (e) {
      this.backendError = toUiError(e);
    }
  }

  /** Leaves the unfinished run's settings and edits a new run (the draft the user had). */
  newDraft(): void {
    this.drafting = true;
    this.#loadSpeed();
  }

  override select(runId: string): void {
    super.select(runId);
    this.drafting = false;
    this.#loadSpeed();
  }

  applyPreset(preset: Preset): void {
    this.preset = preset;
    this.form = formFromConfig(PRESETS[preset].config);
    this.#loadSpeed();
  }

  /** Size or batch changed: look the throughput up again. */
  budgetChanged(): void {
    this.#loadSpeed();
  }

  override async refresh(): Promise<void> {
    this.#refreshing ??= (async () => {
      try {
        await this.loadLists();
        this.evaluations = await listEvaluations();
        this.elsewhere = await heldRunLocks(this.activeId);
        this.#loadSpeed();
      } catch (e) {
        this.error = toUiError(e);
      } finally {
        this.#refreshing = null;
      }
    })();
    return this.#refreshing;
  }

  /** Measures the training throughput for the form's size and batch with the selected model. */
  async measureSpeed(): Promise<void> {
    if (!this.modelId || this.measuring || this.activeId) return;
    this.measuring = true;
    try {
      const m = await this.client.measureSpeed({ modelId: this.modelId, size: this.form.size, batchSize: this.form.batch });
      storeTrainSpeed({ ...m, source: 'probe', at: Date.now() });
      this.speed = { ...m, source: 'probe', at: Date.now(), scaled: false };
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      this.measuring = false;
    }
  }

  async startRun(): Promise<void> {
    const config = this.check.config;
    if (!this.canStart || !config) return;
    const runId = crypto.randomUUID();
    await this.execute(runId, () =>
      this.client.startRun(
        { runId, modelId: this.modelId, datasetId: this.datasetId, valDatasetId: this.valDatasetId || undefined, config: configFromForm(this.form) },
        (e) => this.onEvent(e),
      ),
    );
  }

  /** Downloads one file of a run: the pruned model or a record. */
  async download(runId: string, what: 'checkpoint' | 'trials' | 'epochs' | 'state'): Promise<void> {
    this.exportError = null;
    await this.exportFile(
      runId,
      (out) => {
        const files = {
          checkpoint: { name: `${out.name}.pth`, blob: new Blob([out.checkpoint], { type: 'application/octet-stream' }) },
          trials: { name: `${out.name}-trials.csv`, blob: new Blob([out.trialsCsv], { type: 'text/csv' }) },
          epochs: { name: `${out.name}-epochs.csv`, blob: new Blob([out.epochsCsv], { type: 'text/csv' }) },
          state: { name: `${out.name}-run.json`, blob: new Blob([out.stateJson], { type: 'application/json' }) },
        };
        saveBlob(files[what].blob, files[what].name);
      },
      (e) => (this.exportError = e),
    );
  }

  /** Saves a finished run as one file (plan, rates, trials, epochs, AP, pruned weights). */
  async shareRun(runId: string): Promise<void> {
    this.exportError = null;
    try {
      const out = await this.client.exportRunFile(runId);
      saveBlob(new Blob([out.bytes], { type: 'application/zip' }), out.name);
    } catch (e) {
      this.exportError = toUiError(e);
    }
  }

  /** Opens a run file exported by another browser: it is validated, stored and selected. */
  async openRunFile(file: File): Promise<void> {
    this.importError = null;
    this.importNote = '';
    this.importing = true;
    try {
      if (file.size > runFile.MAX_RUN_FILE_BYTES) {
        throw new StudioError('RUN_FILE_INVALID', `${file.name} is ${(file.size / 1024 / 1024).toFixed(1)} MB; a run file is at most ${runFile.MAX_RUN_FILE_BYTES / 1024 / 1024} MB.`);
      }
      const out = await this.client.importRunFile(await file.arrayBuffer());
      await this.refresh();
      this.select(out.runId);
      this.importNote = out.existed ? 'This run is already in this browser: it is selected.' : `Opened ${file.name}: the run and its pruned model are stored in this browser.`;
      this.onModelStored();
    } catch (e) {
      this.importError = toUiError(e);
    } finally {
      this.importing = false;
    }
  }

  protected override heldElsewhere(runId: string): boolean {
    return this.elsewhere.has(runId);
  }

  protected override resetLive(running: boolean): void {
    this.live = running ? { stage: null, step: null, evaluation: null, stageStartedAt: performance.now() } : null;
  }

  /** The record exists as soon as the worker accepted the run. */
  protected override runCalled(runId: string): void {
    void this.#settleStart(runId);
  }

  async #settleStart(runId: string): Promise<void> {
    for (let i = 0; i < 50 && this.activeId === runId; i++) {
      if (await findRun(runId)) {
        if (this.action === 'starting') this.action = 'idle';
        await this.reload(runId);
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  protected override handleEvent(e: RunEventOf<'pipeline'>): void {
    const ev = e.event;
    const live = this.live ?? { stage: null, step: null, evaluation: null, stageStartedAt: performance.now() };
    switch (ev.type) {
      case 'stage':
        this.live = { ...live, stage: ev.stage, step: null, evaluation: null, stageStartedAt: performance.now() };
        void this.reload(e.runId);
        break;
      case 'step':
        this.live = { ...live, step: { stage: ev.stage, progress: ev.progress } };
        break;
      case 'evaluation-progress':
        this.live = { ...live, evaluation: { which: ev.which, done: ev.done, total: ev.total } };
        break;
      case 'epoch':
        if (this.backend) storeTrainSpeed({ backend: this.backend.active, size: this.shownForm.size, batchSize: this.shownForm.batch, imagesPerSec: ev.row.imagesPerSec, source: 'run', at: Date.now() });
        void this.reload(e.runId);
        break;
      case 'trial':
      case 'evaluation':
        void this.reload(e.runId);
        break;
    }
  }

  #loadSpeed(): void {
    const f = this.shownForm;
    if (this.backend) this.speed = lookupTrainSpeed(this.backend.active, f.size, f.batch);
  }
}

/** Run ids whose Web Lock is held (by another tab, or by this tab's worker for `activeId`). */
async function heldRunLocks(activeId: string | null): Promise<Set<string>> {
  const out = new Set<string>();
  const locks = navigator.locks;
  if (!locks?.query) return out;
  const { held = [] } = await locks.query();
  for (const l of held) {
    const m = RUN_LOCK.exec(l.name ?? '');
    if (m && m[1] !== activeId) out.add(m[1]!);
  }
  return out;
}

export type { RunState };
