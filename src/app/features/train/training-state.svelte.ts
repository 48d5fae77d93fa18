/**
 * Training feature state: a plain training run of a stored model on a stored WIDER dataset in the
 * pipeline worker (epochs, images, size, batch, LR), its live progress (step, loss_l, loss_c,
 * images/s, ETA), the epochs finished so far (train and validation loss) and start / pause / resume /
 * cancel / export. Every epoch is checkpointed in IndexedDB, so a reload resumes from the last one.
 */
import type { StepProgress } from '../../../core/data/index.ts';
import type { PipelineClient } from '../../pipeline-client.ts';
import { toUiError } from '../../ui-error.ts';
import { saveBlob } from '../../download.ts';
import { RunControlState, type RunEventOf, type RunOf } from '../runs/run-control.svelte.ts';

export type TrainingRun = RunOf<'training'>;

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

export class TrainingState extends RunControlState<'training'> {
  form = $state<TrainingForm>({ ...DEFAULT_TRAINING_FORM });
  formError = $derived(trainingFormError(this.form));

  step = $state.raw<StepProgress | null>(null);

  canStart = $derived(!!this.modelId && !!this.datasetId && !this.formError && this.activeId === null && this.action === 'idle');

  /** `onModelStored`: a finished run stored its model (the model list elsewhere refreshes). */
  constructor(client: PipelineClient, options: { onModelStored?: () => void } = {}) {
    super('training', { paused: 'Paused: resuming continues from the last finished epoch.', cancelled: 'Cancelled: the run and its checkpoints were deleted.' }, client, options);
  }

  async start(): Promise<void> {
    await this.refresh();
    try {
      this.backend = await this.client.init();
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  async startRun(): Promise<void> {
    if (!this.canStart) return;
    const runId = crypto.randomUUID();
    const f = this.form;
    await this.execute(runId, () =>
      this.client.startTraining({ runId, modelId: this.modelId, datasetId: this.datasetId, epochs: f.epochs, images: f.images, size: f.size, batch: f.batch, lr: f.lr }, (e) => this.onEvent(e)),
    );
  }

  async download(runId: string, what: 'checkpoint' | 'epochs'): Promise<void> {
    await this.exportFile(
      runId,
      (out) => {
        if (what === 'checkpoint') saveBlob(new Blob([out.checkpoint], { type: 'application/octet-stream' }), `${out.name}.pth`);
        else saveBlob(new Blob([out.epochsCsv], { type: 'text/csv' }), `${out.name}-epochs.csv`);
      },
      (e) => (this.error = e),
    );
  }

  protected override resetLive(): void {
    this.step = null;
  }

  protected override handleEvent(e: RunEventOf<'training'>): void {
    const ev = e.event;
    if (ev.type === 'step') this.step = ev.progress;
    else void this.reload(e.runId);
  }
}
