/**
 * The rate editor's "Use these rates" outcome: the AP of the model the rates were applied to and of
 * the FPGM-zeroed copy on a stored WIDER val set (each evaluated on its own instance in the compute
 * worker, or taken from an earlier evaluation on the same images), then the core's verdict beside
 * the released checkpoint of the nearest sparsity (outcome-view.ts).
 */
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { listEvaluations } from '../../../platform/browser/evaluation-store.ts';
import { listModels, type StoredDataset, type StoredEvaluation, type StoredModelSummary } from '../../../platform/browser/idb-store.ts';
import { datasetLabel, listDatasets } from '../../../platform/browser/wider-store.ts';
import { outcomeView, type PruneResult } from '../pipeline/outcome-view.ts';

type ModelRef = { id: string; name: string; info: { sparsity: number } };

const record = (e: StoredEvaluation) => ({ ...e.ap, images: e.images, protocol: e.protocol });

export class OneShotOutcomeState {
  valSets = $state.raw<StoredDataset[]>([]);
  valDatasetId = $state('');
  measuring = $state(false);
  /** What is being evaluated, for the status line. */
  step = $state('');
  error = $state.raw<UiError | null>(null);
  result = $state.raw<PruneResult | null>(null);
  #models = $state.raw<StoredModelSummary[]>([]);
  #evaluations = $state.raw<StoredEvaluation[]>([]);
  view = $derived(this.result ? outcomeView(this.result, this.#models, this.#evaluations) : null);

  readonly #client: ComputeClient;

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  /** Lists the val sets with ground truth (the first one is chosen). */
  async load(): Promise<void> {
    try {
      this.valSets = (await listDatasets()).filter((d) => d.split === 'val' && d.groundTruth);
      if (!this.valSets.some((d) => d.id === this.valDatasetId)) this.valDatasetId = this.valSets[0]?.id ?? '';
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  label(d: StoredDataset): string {
    return datasetLabel(d);
  }

  /** A new pruned model was stored: its outcome is not known yet. */
  reset(): void {
    this.result = null;
    this.error = null;
  }

  /** AP before (`source`) and after (`pruned`) on the chosen val set, single protocol. */
  async measure(source: ModelRef, pruned: ModelRef): Promise<void> {
    const datasetId = this.valDatasetId;
    if (this.measuring || !datasetId) return;
    this.measuring = true;
    this.error = null;
    this.result = null;
    try {
      const apOf = async (m: ModelRef, which: string) => {
        if (!m.id) return null; // not stored: it cannot be evaluated on its own instance
        const done = (await listEvaluations()).find((e) => e.modelId === m.id && e.datasetId === datasetId && e.protocol === 'single');
        if (done) return record(done);
        const request = { datasetId, protocol: 'single' as const, model: { id: m.id, name: m.name, sparsity: m.info.sparsity } };
        const ev = await this.#client.evaluateDataset(request, (p) => (this.step = `${which}: ${p.phase} ${p.done}/${p.total}`), undefined, true);
        return record(ev);
      };
      const before = await apOf(source, 'before');
      const after = await apOf(pruned, 'after');
      [this.#models, this.#evaluations] = await Promise.all([listModels(), listEvaluations()]);
      this.result = {
        before, after, sparsity: pruned.info.sparsity / 100, valDatasetId: datasetId, kind: 'one-shot',
        source: { id: source.id, name: source.name }, result: { id: pruned.id, name: pruned.name },
      };
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      this.measuring = false;
      this.step = '';
    }
  }
}
