/**
 * Side-by-side detection state (issue 6 item 2): two stored models (panes A and B) held by the compute
 * worker in keyed slots, one dropped image or the camera, one score threshold for both panes, and
 * per-pane timings. A frame crosses to the worker once and both models run on it (one request in
 * flight; camera frames arriving meanwhile are dropped, as in the single-model webcam).
 */
import * as Comlink from 'comlink';
import type { Detection, DetectResult } from '../../../core/data/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import { CameraSource } from '../../components/CameraSource/index.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { getModel, type StoredModelSummary } from '../../../platform/browser/idb-store.ts';
import { decodeImage, type RgbaFrame } from '../../../platform/browser/image-decoder.ts';
import type { SlotInfo, SlotKey } from '../../../../workers/features/index.ts';
import { DEFAULT_SCORE_THRESHOLD, visibleDetections } from '../detect/detect-state.svelte.ts';

/** Timings average over the last this many frames. */
const WINDOW = 10;

export const PANES: readonly SlotKey[] = ['a', 'b'];

export interface PaneStats {
  /** Mean forward time of this pane's model over the window, ms. */
  forwardMs: number;
  /** Mean detection time (forward + decoding + NMS), ms. */
  totalMs: number;
  /** Frames per second this model alone would sustain: 1000 / totalMs. */
  fps: number;
}

export class Pane {
  readonly key: SlotKey;
  /** Stored model id picked for this pane. */
  modelId = $state('');
  /** What the worker's slot holds (after loading). */
  info = $state.raw<SlotInfo | null>(null);
  /** Name of the stored model in the slot. */
  name = $state('');
  loadedId = $state('');
  loading = $state(false);
  error = $state.raw<UiError | null>(null);
  result = $state.raw<DetectResult | null>(null);
  stats = $state.raw<PaneStats | null>(null);
  #times: Array<{ forward: number; total: number }> = [];

  constructor(key: SlotKey) {
    this.key = key;
  }

  record(result: DetectResult): void {
    this.result = result;
    this.#times = [...this.#times.slice(1 - WINDOW), { forward: result.forwardMs, total: result.totalMs }];
    const n = this.#times.length;
    const forwardMs = this.#times.reduce((s, t) => s + t.forward, 0) / n;
    const totalMs = this.#times.reduce((s, t) => s + t.total, 0) / n;
    this.stats = { forwardMs, totalMs, fps: totalMs > 0 ? 1000 / totalMs : 0 };
  }

  resetTimes(): void {
    this.#times = [];
    this.stats = null;
    this.result = null;
  }
}

export class CompareState {
  readonly panes: Record<SlotKey, Pane> = { a: new Pane('a'), b: new Pane('b') };
  threshold = $state(DEFAULT_SCORE_THRESHOLD);
  source = $state<'image' | 'webcam'>('image');
  bitmap = $state.raw<ImageBitmap | null>(null);
  imageName = $state('');
  detecting = $state(false);
  error = $state.raw<UiError | null>(null);
  /** The camera; its fps counts frame pairs (both models on one frame). */
  readonly camera: CameraSource;
  ready = $derived(this.panes.a.info !== null && this.panes.b.info !== null && !this.panes.a.loading && !this.panes.b.loading);

  readonly #client: ComputeClient;
  #frame: RgbaFrame | null = null;

  constructor(client: ComputeClient) {
    this.#client = client;
    this.camera = new CameraSource({
      detect: async (frame, signal) => {
        const results = await client.call((api) => api.detectSlots(Comlink.transfer(frame, [frame.data.buffer as ArrayBuffer]), [...PANES]), { signal });
        if (!signal.aborted) for (const r of results) this.panes[r.slot].record(r);
      },
      // Frames arriving while a pane is (re)loading its model are skipped.
      canDetect: () => this.ready,
      onstart: () => {
        for (const k of PANES) this.panes[k].resetTimes();
      },
      onerror: (error) => (this.error = error),
    });
  }

  visible(key: SlotKey): Detection[] {
    return visibleDetections(this.panes[key].result, this.threshold);
  }

  /** Default picks: A = the model in use (or the newest), B = another one, preferring a pruned model. */
  pickDefaults(stored: readonly StoredModelSummary[], currentId: string | undefined): void {
    const a = this.panes.a, b = this.panes.b;
    const ids = new Set(stored.map((s) => s.id));
    if (!ids.has(a.modelId)) a.modelId = currentId && ids.has(currentId) ? currentId : (stored[0]?.id ?? '');
    if (!ids.has(b.modelId) || b.modelId === a.modelId) {
      const others = stored.filter((s) => s.id !== a.modelId);
      const pruned = [...others].sort((x, y) => y.addedAt - x.addedAt).find((s) => s.origin?.kind === 'pruned' || s.info.sparsity > 1);
      b.modelId = (pruned ?? others[0])?.id ?? a.modelId;
    }
  }

  /** Loads the pane's picked model into its worker slot (no-op when already there). */
  async loadPane(key: SlotKey): Promise<void> {
    const pane = this.panes[key];
    const id = pane.modelId;
    if (!id || (pane.loadedId === id && pane.info)) return;
    pane.loading = true;
    pane.error = null;
    try {
      const record = await getModel(id);
      const bytes = record.bytes.slice(0);
      const info = await this.#client.call((api) => api.loadSlot(key, Comlink.transfer(bytes, [bytes])));
      if (pane.modelId !== id) return; // picked another one meanwhile
      pane.info = info;
      pane.name = record.name;
      pane.loadedId = id;
      pane.resetTimes();
    } catch (e) {
      pane.error = toUiError(e);
      pane.info = null;
      pane.loadedId = '';
    } finally {
      pane.loading = false;
    }
    if (this.source === 'image') await this.run();
  }

  async open(file: File): Promise<void> {
    this.error = null;
    try {
      const { bitmap, frame } = await decodeImage(file);
      this.bitmap?.close();
      this.bitmap = bitmap;
      this.imageName = file.name;
      this.#frame = frame;
      for (const k of PANES) this.panes[k].resetTimes();
    } catch (e) {
      this.error = toUiError(e);
      return;
    }
    await this.run();
  }

  /** Runs both models on the current image (again). */
  async run(): Promise<void> {
    const frame = this.#frame;
    if (!frame || !this.ready || this.source !== 'image') return;
    this.detecting = true;
    this.error = null;
    try {
      const copy = { width: frame.width, height: frame.height, data: frame.data.slice() };
      const results = await this.#client.call((api) => api.detectSlots(Comlink.transfer(copy, [copy.data.buffer as ArrayBuffer]), [...PANES]));
      for (const r of results) this.panes[r.slot].record(r);
    } catch (e) {
      this.error = toUiError(e);
    } finally {
      this.detecting = false;
    }
  }

  startCamera(video: HTMLVideoElement): Promise<void> {
    this.error = null;
    return this.camera.start(video);
  }

  dispose(): void {
    this.camera.stop();
    this.bitmap?.close();
    this.bitmap = null;
    this.#frame = null;
    for (const k of PANES) void this.#client.call((api) => api.releaseSlot(k)).catch(() => {});
  }
}
