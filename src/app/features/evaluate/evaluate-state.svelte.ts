/**
 * Evaluation feature state: runs the WIDER protocol in the compute worker on a stored val dataset
 * (progress, cancel), lists the stored runs (AP table), and drives the per-image view of the selected
 * run: one image's predictions judged at a score threshold for one setting.
 */
import { imageOutcomeAt, type WiderProtocol, type WiderSetting, type ImageMatch, type ImageOutcome, type PredictionOutcome } from '../../../core/data/index.ts';
import type { ComputeClient, EvaluationProgress } from '../../compute-client.ts';
import type { CurrentModel } from '../model/model-state.svelte.ts';
import { isAbortError, toUiError, type UiError } from '../../ui-error.ts';
import type { StoredDatasetImage, StoredEvaluation, StoredEvaluationImage } from '../../../platform/browser/idb-store.ts';
import { deleteEvaluation, getEvaluationImage, listEvaluationImageKeys, listEvaluations } from '../../../platform/browser/evaluation-store.ts';
import { getDatasetImage, getImageBlob } from '../../../platform/browser/wider-store.ts';
import type { LabeledBox } from '../../components/AnnotatedImage/index.ts';

export const DEFAULT_EVAL_THRESHOLD = 0.5;

const OUTCOMES: readonly PredictionOutcome[] = ['tp', 'fp', 'ignored'];

/** One image of the selected run, with what the view needs to judge it at any threshold. */
export interface EvaluatedImage {
  key: string;
  result: StoredEvaluationImage;
  /** Null when the dataset was deleted since the run. */
  image: StoredDatasetImage | null;
  url: string | null;
}

export interface JudgedImage {
  boxes: LabeledBox[];
  counts: Record<'tp' | 'fp' | 'missed' | 'ignored' | 'uncounted', number>;
}

/** The protocol's verdicts for `setting` at `threshold` (raw detector score), as boxes to draw. */
export function judgeImage(ev: EvaluatedImage, setting: WiderSetting, threshold: number): JudgedImage {
  const { result, image } = ev;
  const preds = result.predictions;
  const n = preds.length / 5;
  const scores = new Float32Array(n);
  for (let h = 0; h < n; h++) scores[h] = preds[h * 5 + 4]!;
  const gtBoxes = image?.gt?.boxes ?? new Int32Array(0);
  const counted = new Array<boolean>(result.hitBy[setting].length).fill(false);
  for (const i of image?.gt?.[setting] ?? []) counted[i - 1] = true;
  const match: ImageMatch = {
    key: result.key,
    setting,
    outcomes: Array.from(result.outcomes[setting], (c) => OUTCOMES[c]!),
    // Not needed by imageOutcomeAt; the stored run keeps only outcomes and hits.
    matchedGt: [],
    bestIou: [],
    counted,
    hitBy: Array.from(result.hitBy[setting]),
  };
  const outcome: ImageOutcome = imageOutcomeAt(match, scores, threshold);
  const boxes: LabeledBox[] = [];
  const pred = (h: number, kind: string) => boxes.push({ x: preds[h * 5]!, y: preds[h * 5 + 1]!, w: preds[h * 5 + 2]!, h: preds[h * 5 + 3]!, kind });
  const face = (g: number, kind: string) => boxes.push({ x: gtBoxes[g * 4]!, y: gtBoxes[g * 4 + 1]!, w: gtBoxes[g * 4 + 2]!, h: gtBoxes[g * 4 + 3]!, kind });
  let uncounted = 0;
  counted.forEach((c, g) => {
    if (!c && image) {
      face(g, 'uncounted');
      uncounted++;
    }
  });
  outcome.ignored.forEach((h) => pred(h, 'ignored'));
  outcome.missed.forEach((g) => image && face(g, 'missed'));
  outcome.fp.forEach((h) => pred(h, 'fp'));
  outcome.tp.forEach((h) => pred(h, 'tp'));
  return { boxes, counts: { tp: outcome.tp.length, fp: outcome.fp.length, missed: outcome.missed.length, ignored: outcome.ignored.length, uncounted } };
}

export class EvaluateState {
  evaluations = $state.raw<StoredEvaluation[]>([]);
  datasetId = $state('');
  protocol = $state<WiderProtocol>('single');
  status = $state<'idle' | 'running' | 'cancelling'>('idle');
  progress = $state.raw<EvaluationProgress | null>(null);
  error = $state.raw<UiError | null>(null);
  cancelled = $state(false);

  selectedId = $state('');
  selected = $derived(this.evaluations.find((e) => e.id === this.selectedId) ?? null);
  imageKeys = $state.raw<string[]>([]);
  imageIndex = $state(0);
  current = $state.raw<EvaluatedImage | null>(null);
  setting = $state<WiderSetting>('hard');
  threshold = $state(DEFAULT_EVAL_THRESHOLD);
  imageError = $state.raw<UiError | null>(null);

  judged = $derived(this.current ? judgeImage(this.current, this.setting, this.threshold) : null);
  running = $derived(this.status !== 'idle');

  readonly #client: ComputeClient;
  #abort: AbortController | null = null;
  #imageGeneration = 0;

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  async refresh(): Promise<void> {
    try {
      this.evaluations = await listEvaluations();
    } catch (e) {
      this.error = toUiError(e);
    }
    if (this.selectedId && !this.selected) await this.select('');
  }

  async run(model: CurrentModel): Promise<void> {
    if (this.running || !this.datasetId) return;
    this.status = 'running';
    this.error = null;
    this.cancelled = false;
    this.progress = null;
    this.#abort = new AbortController();
    try {
      const request = { datasetId: this.datasetId, protocol: this.protocol, model: { id: model.id, name: model.name, sparsity: model.info.sparsity } };
      const evaluation = await this.#client.evaluateDataset(request, (p) => (this.progress = p), this.#abort.signal);
      await this.refresh();
      await this.select(evaluation.id);
    } catch (e) {
      if (isAbortError(e)) this.cancelled = true;
      else this.error = toUiError(e);
    } finally {
      this.status = 'idle';
      this.progress = null;
      this.#abort = null;
    }
  }

  cancel(): void {
    if (this.status !== 'running') return;
    this.status = 'cancelling';
    this.#abort?.abort();
  }

  /** Selects a run ('' = none) and opens its first image. */
  async select(id: string): Promise<void> {
    this.selectedId = id;
    this.imageKeys = [];
    this.#setCurrent(null);
    if (!id) return;
    try {
      this.imageKeys = await listEvaluationImageKeys(id);
      await this.showImage(0);
    } catch (e) {
      this.imageError = toUiError(e);
    }
  }

  async showImage(index: number): Promise<void> {
    const evaluation = this.selected;
    if (!evaluation || this.imageKeys.length === 0) return;
    const i = Math.min(Math.max(0, index), this.imageKeys.length - 1);
    const key = this.imageKeys[i]!;
    const generation = ++this.#imageGeneration;
    this.imageIndex = i;
    this.imageError = null;
    try {
      const [result, image, blob] = await Promise.all([
        getEvaluationImage(evaluation.id, key),
        getDatasetImage(evaluation.datasetId, key).then((im) => im ?? null),
        getImageBlob(evaluation.datasetId, key).catch(() => null),
      ]);
      if (generation !== this.#imageGeneration) return;
      this.#setCurrent({ key, result, image, url: blob ? URL.createObjectURL(blob) : null });
    } catch (e) {
      if (generation === this.#imageGeneration) this.imageError = toUiError(e);
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await deleteEvaluation(id);
    } catch (e) {
      this.error = toUiError(e);
    }
    await this.refresh();
  }

  dispose(): void {
    this.#abort?.abort();
    this.#setCurrent(null);
  }

  #setCurrent(next: EvaluatedImage | null): void {
    if (this.current?.url) URL.revokeObjectURL(this.current.url);
    this.current = next;
  }
}
