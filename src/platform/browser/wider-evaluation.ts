/**
 * Evaluates a model on a stored WIDER val dataset (runs in the compute worker): the images' JPEGs are
 * read from IndexedDB and decoded here (createImageBitmap + OffscreenCanvas), the core runs the
 * `wider_test.py` protocol (`predictWider`) and the official evaluator restricted to the images
 * present (`evaluateWider`, SPEC §9), and the run is stored with its per-image matching.
 */
import {
  StudioError,
  evaluateWider,
  matchImage,
  predictWider,
  widerImageKey,
  wider,
  type EResFDModel,
  type WiderGroundTruth,
  type WiderGtImage,
  type WiderImageRef,
  type WiderProtocol,
  type WiderSetting,
} from '../../core/index.ts';
import { OUTCOME_CODES, type StoredEvaluation, type StoredEvaluationImage } from './idb-store.ts';
import { decodePixels } from './image-decoder.ts';
import { evaluationImageId, saveEvaluation } from './evaluation-store.ts';
import { datasetLabel, getDataset, getImageBlob, listDatasetImages } from './wider-store.ts';

export interface EvaluationRequest {
  datasetId: string;
  protocol: WiderProtocol;
  /** The model in the worker, as the UI knows it (stored id, display name, sparsity %). */
  model: { id: string; name: string; sparsity: number };
}

export interface EvaluationProgress {
  phase: 'loading' | 'predicting' | 'scoring' | 'saving';
  done: number;
  total: number;
  /** The image just finished (`event/name`). */
  key?: string;
  elapsedMs: number;
}

export interface EvaluateStoredOptions {
  backend: string;
  signal?: AbortSignal;
  onProgress?: (p: EvaluationProgress) => void;
}

/** `<model>-<dataset>-<protocol>`: one run per combination, re-running replaces it. */
export function evaluationId(modelKey: string, datasetId: string, protocol: WiderProtocol): string {
  return `${modelKey.slice(0, 16)}-${datasetId.slice(0, 16)}-${protocol}`;
}

export async function evaluateStoredDataset(model: EResFDModel, request: EvaluationRequest, options: EvaluateStoredOptions): Promise<StoredEvaluation> {
  const { signal } = options;
  const t0 = performance.now();
  const report = (p: Omit<EvaluationProgress, 'elapsedMs'>) => options.onProgress?.({ ...p, elapsedMs: performance.now() - t0 });
  report({ phase: 'loading', done: 0, total: 0 });

  const dataset = await getDataset(request.datasetId);
  if (dataset.split !== 'val' || !dataset.groundTruth) {
    throw new StudioError('EVAL_INPUT', `${datasetLabel(dataset)} has no evaluation ground truth: import WIDER val together with the eval_tools .mat files.`);
  }
  const images = (await listDatasetImages(dataset.id)).filter((im) => im.gt).sort((a, b) => a.gt!.order - b.gt!.order);
  if (images.length === 0) throw new StudioError('EVAL_INPUT', `${datasetLabel(dataset)} holds no image with ground truth.`);

  // The ground truth of the images present, in official order.
  const gt: WiderGroundTruth = { events: [] };
  const gtByKey = new Map<string, WiderGtImage>();
  for (const im of images) {
    const g: WiderGtImage = { event: im.event, file: im.name, boxes: im.gt!.boxes, easy: im.gt!.easy, medium: im.gt!.medium, hard: im.gt!.hard };
    const last = gt.events[gt.events.length - 1];
    if (last?.event === im.event) last.images.push(g);
    else gt.events.push({ event: im.event, images: [g] });
    gtByKey.set(im.key, g);
  }
  const refs: WiderImageRef[] = images.map((im) => ({ event: im.event, name: im.name }));
  const total = refs.length;

  const loadImage = async (ref: WiderImageRef) => {
    const key = widerImageKey(ref.event, ref.name);
    const frame = await decodePixels(await getImageBlob(dataset.id, key), `${key}.jpg`);
    return { width: frame.width, height: frame.height, channels: 4 as const, data: frame.data };
  };
  report({ phase: 'predicting', done: 0, total });
  const predictions = await predictWider(model, refs, loadImage, {
    protocol: request.protocol,
    signal,
    onProgress: (p) => report({ phase: 'predicting', done: p.done, total, key: widerImageKey(p.image.event, p.image.name) }),
  });
  signal?.throwIfAborted();

  report({ phase: 'scoring', done: total, total });
  const keys = images.map((im) => im.key);
  const result = evaluateWider(gt, predictions, { restrictTo: keys });
  const id = evaluationId(request.model.id || request.model.name, dataset.id, request.protocol);
  let predictionCount = 0;
  const perImage: StoredEvaluationImage[] = images.map((im) => {
    const rows = predictions[im.event]?.[im.name] ?? [];
    predictionCount += rows.length;
    const g = gtByKey.get(im.key)!;
    const flat = new Float32Array(rows.length * 5);
    rows.forEach((r, h) => flat.set(r.slice(0, 5), h * 5));
    const outcomes = {} as Record<WiderSetting, Uint8Array>;
    const hitBy = {} as Record<WiderSetting, Int32Array>;
    for (const setting of wider.WIDER_SETTINGS) {
      const match = matchImage(g, rows, setting);
      outcomes[setting] = Uint8Array.from(match.outcomes, (o) => OUTCOME_CODES[o]);
      hitBy[setting] = Int32Array.from(match.hitBy);
    }
    return { id: evaluationImageId(id, im.key), evaluationId: id, key: im.key, order: im.gt!.order, predictions: flat, outcomes, hitBy };
  });

  const curves = {} as Record<WiderSetting, Float32Array>;
  for (const setting of wider.WIDER_SETTINGS) curves[setting] = Float32Array.from(result.curves[setting].flat());
  const evaluation: StoredEvaluation = {
    id,
    modelId: request.model.id,
    modelName: request.model.name,
    modelSparsity: request.model.sparsity,
    datasetId: dataset.id,
    datasetName: datasetLabel(dataset),
    protocol: request.protocol,
    backend: options.backend,
    images: result.images,
    ap: { easy: result.easy, medium: result.medium, hard: result.hard },
    faces: result.faces,
    curves,
    predictions: predictionCount,
    durationMs: performance.now() - t0,
    createdAt: Date.now(),
  };
  signal?.throwIfAborted();
  report({ phase: 'saving', done: total, total });
  await saveEvaluation(evaluation, perImage);
  return evaluation;
}
