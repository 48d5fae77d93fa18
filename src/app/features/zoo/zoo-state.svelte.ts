/**
 * Model zoo state: every model stored in this browser (loaded, pruned or trained by a run) with its
 * card numbers, its WIDER AP (the newest stored evaluation of the model, else what a run measured),
 * the MACs a run's plan removes, and the inference time measured on demand in the compute worker;
 * export (download the .pth, or a compacted ONNX file) and delete.
 */
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { deleteModel, getModel, listModels, renameModel } from '../../../platform/browser/idb-store.ts';
import { modelNames } from '../../../core/data/index.ts';
import { listEvaluations } from '../../../platform/browser/evaluation-store.ts';
import { listRuns } from '../../../platform/browser/idb-run-store.ts';
import { saveBlob } from '../../download.ts';
import { zooRows, type ZooRow } from './zoo-rows.ts';

export { zooRows, type ZooRow };

export class ZooState {
  rows = $state.raw<ZooRow[]>([]);
  loading = $state(false);
  error = $state.raw<UiError | null>(null);
  /** ms per 480×640 frame by model id, measured in this session. */
  timings = $state.raw<Record<string, { ms: number; compactMs: number | null; backend: string; protocol: string }>>({});
  measuring = $state.raw<Set<string>>(new Set());

  readonly #client: ComputeClient;

  readonly #onModelsChanged: () => void;

  /** `onModelsChanged`: a model was deleted here (the model list elsewhere refreshes). */
  constructor(client: ComputeClient, options: { onModelsChanged?: () => void } = {}) {
    this.#client = client;
    this.#onModelsChanged = options.onModelsChanged ?? (() => {});
  }

  async refresh(): Promise<void> {
    this.loading = true;
    try {
      const [models, evaluations, runs] = await Promise.all([listModels(), listEvaluations(), listRuns()]);
      this.rows = zooRows(models, evaluations, runs);
      this.error = null;
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      this.loading = false;
    }
  }

  /** Median forward time at 480×640 (and of the compacted copy) in the compute worker (queued behind detection calls). */
  async benchmark(modelId: string): Promise<void> {
    if (this.measuring.has(modelId)) return;
    this.measuring = new Set([...this.measuring, modelId]);
    try {
      const r = await this.#client.call((api) => api.benchmark(modelId));
      this.timings = { ...this.timings, [modelId]: { ms: r.msPerFrame, compactMs: r.compactMsPerFrame, backend: r.backend, protocol: r.protocol } };
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      const next = new Set(this.measuring);
      next.delete(modelId);
      this.measuring = next;
    }
  }

  async download(modelId: string): Promise<void> {
    try {
      const record = await getModel(modelId);
      saveBlob(new Blob([record.bytes], { type: 'application/octet-stream' }), modelNames.modelFileName(record.name, record.id, !!record.origin));
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  /** Renames a stored model (the name is already cleaned); the model list elsewhere follows. */
  async rename(modelId: string, name: string): Promise<void> {
    await renameModel(modelId, name);
    this.#onModelsChanged();
    await this.refresh();
  }

  /** The model as a compacted ONNX file (built in the compute worker). */
  async downloadOnnx(modelId: string): Promise<void> {
    try {
      const { bytes, name } = await this.#client.call((api) => api.exportOnnx(modelId));
      saveBlob(new Blob([bytes], { type: 'application/octet-stream' }), name);
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  async remove(modelId: string): Promise<void> {
    try {
      await deleteModel(modelId);
      this.#onModelsChanged();
    } catch (e) {
      this.error = toUiError(e);
    }
    await this.refresh();
  }
}
