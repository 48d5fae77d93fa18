/**
 * Rate-editor state: the architecture and groupings (from the worker), the grouping in use, the FPGM
 * scores of the loaded model, the live preview of the current rates and the settled ms/frame timing.
 *
 * Nothing here computes: every number comes from the compute worker (workers/features/). Dragging stays
 * smooth because requests never block an input handler: `request()` only records the wanted rates;
 * one preview is in flight at a time and, when it returns, the newest wanted rates (if they changed)
 * go next, at most once per animation frame. The last result stays on screen meanwhile. Timing (many
 * forwards) starts only after the rates have been still for MEASURE_DELAY_MS.
 */
import { BUILTIN_GROUP_COUNTS, maxRate, modelNames, type Grouping, type GroupStats, type LayerGroup } from '../../../core/data/index.ts';
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import { saveModel, type StoredModelSummary } from '../../../platform/browser/idb-store.ts';
import type { PruneArchitecture, PrunePreview, PruneRequest, PruneTiming } from '../../../../workers/features/index.ts';
import type { ModelState } from '../model/model-state.svelte.ts';
import type { GroupingId, RatesState } from './rates.svelte.ts';
import { carryRates } from './rate-math.ts';

/** Quiet time after the last change before the masked model is timed. */
export const MEASURE_DELAY_MS = 600;

export interface CustomDraft {
  groups: number;
  /** Module → group index, or -1 (not pruned). */
  assignment: Record<string, number>;
}

type TimingStatus = 'idle' | 'waiting' | 'measuring';

export class PruneState {
  architecture = $state.raw<PruneArchitecture | null>(null);
  error = $state.raw<UiError | null>(null);
  /** FPGM distance sums of the loaded model, by conv name; null until fetched. */
  scores = $state.raw<Record<string, number[]> | null>(null);
  scoresModelId = $state<string | null>(null);
  preview = $state.raw<PrunePreview | null>(null);
  previewError = $state.raw<UiError | null>(null);
  /** A newer preview is wanted than the one shown. */
  stale = $state(false);
  timing = $state.raw<PruneTiming | null>(null);
  timingStatus = $state<TimingStatus>('idle');
  timingError = $state.raw<UiError | null>(null);
  /** Stats of the custom grouping in use. */
  customStats = $state.raw<GroupStats[] | null>(null);
  draft = $state.raw<CustomDraft | null>(null);
  draftError = $state.raw<UiError | null>(null);
  /** The module whose filters are shown. */
  selectedModule = $state('base.m0.layer2');
  saving = $state(false);
  saved = $state.raw<StoredModelSummary | null>(null);
  savedUrl = $state<string | null>(null);
  saveError = $state.raw<UiError | null>(null);

  readonly rates: RatesState;
  readonly #client: ComputeClient;
  readonly #model: ModelState;
  #wanted: PruneRequest | null = null;
  #wantedKey = '';
  #shownKey = '';
  #inFlight = false;
  #measureTimer: ReturnType<typeof setTimeout> | undefined;
  #measuredKey = '';
  #measuring = false;
  /** The custom groups `customStats` describes. */
  #statsFor: LayerGroup[] | null = null;

  /** The grouping the rates refer to (null until the architecture arrived). */
  grouping = $derived.by((): Grouping | null => {
    const arch = this.architecture;
    if (!arch) return null;
    if (this.rates.groupingId === 'custom') {
      const groups = this.rates.custom ?? [];
      return { id: 'custom', label: `Custom (${groups.length} group${groups.length === 1 ? '' : 's'})`, groups };
    }
    return arch.groupings.find((g) => g.grouping.id === this.rates.groupingId)?.grouping ?? null;
  });

  /** Per-group sizes of the grouping in use. */
  stats = $derived.by((): GroupStats[] | null => {
    if (this.rates.groupingId === 'custom') return this.customStats;
    return this.architecture?.groupings.find((g) => g.grouping.id === this.rates.groupingId)?.stats ?? null;
  });

  /** Group index of every prunable module under the grouping in use (-1 = not pruned). */
  groupOf = $derived.by((): Map<string, number> => {
    const map = new Map<string, number>();
    this.grouping?.groups.forEach((g, i) => g.modules.forEach((m) => map.set(m, i)));
    return map;
  });

  maxRate = $derived.by(() => maxRate(this.rates.target));

  constructor(client: ComputeClient, rates: RatesState, model: ModelState) {
    this.#client = client;
    this.rates = rates;
    this.#model = model;
  }

  /** Fetches the network table and the built-in groupings (once). */
  async start(): Promise<void> {
    if (this.architecture) return;
    try {
      this.architecture = await this.#client.call((api) => api.pruneArchitecture());
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  /** Fetches the loaded model's FPGM scores when the model changed. */
  async loadScores(modelId: string): Promise<void> {
    if (this.scoresModelId === modelId && this.scores) return;
    this.scoresModelId = modelId;
    try {
      const scores = await this.#client.call((api) => api.pruneScores());
      if (this.scoresModelId === modelId) this.scores = scores;
    } catch (e) {
      this.previewError = toUiError(e);
    }
  }

  /** Switches to a built-in grouping, carrying the current rates over module by module. */
  useGrouping(id: Exclude<GroupingId, 'custom'>): void {
    const arch = this.architecture;
    const from = this.grouping;
    const to = arch?.groupings.find((g) => g.grouping.id === id)?.grouping;
    if (!to) return;
    const rates = from ? carryRates(from, this.rates.rates, to) : new Array<number>(BUILTIN_GROUP_COUNTS[id]).fill(0);
    this.rates.set(id, rates.map((r) => Math.min(r, this.maxRate)), { source: 'editor' });
  }

  /** Opens the custom-grouping builder, starting from the grouping in use. */
  openDraft(): void {
    const arch = this.architecture;
    if (!arch) return;
    const assignment: Record<string, number> = {};
    for (const m of arch.modules) assignment[m] = this.groupOf.get(m) ?? -1;
    this.draft = { groups: Math.max(1, this.grouping?.groups.length ?? 1), assignment };
    this.draftError = null;
  }

  closeDraft(): void {
    this.draft = null;
    this.draftError = null;
  }

  setDraftGroups(count: number): void {
    if (!this.draft || !Number.isInteger(count) || count < 1 || count > 12) return;
    const assignment = { ...this.draft.assignment };
    for (const m of Object.keys(assignment)) if (assignment[m]! >= count) assignment[m] = count - 1;
    this.draft = { groups: count, assignment };
  }

  assign(module: string, group: number): void {
    if (!this.draft) return;
    this.draft = { ...this.draft, assignment: { ...this.draft.assignment, [module]: group } };
  }

  /** Validates the draft in the worker and switches to it; problems show in the builder. */
  async applyDraft(): Promise<void> {
    const draft = this.draft;
    const arch = this.architecture;
    if (!draft || !arch) return;
    const groups: LayerGroup[] = Array.from({ length: draft.groups }, (_, i) => ({
      name: `g${i + 1}`,
      modules: arch.modules.filter((m) => draft.assignment[m] === i),
    }));
    try {
      const stats = await this.#client.call((api) => api.pruneGroupingStats({ id: 'custom', label: 'Custom', groups }));
      const from = this.grouping;
      const to: Grouping = { id: 'custom', label: 'Custom', groups };
      const rates = from ? carryRates(from, this.rates.rates, to) : new Array<number>(groups.length).fill(0);
      this.customStats = stats;
      this.rates.set('custom', rates.map((r) => Math.min(r, this.maxRate)), { custom: groups, source: 'editor' });
      this.#statsFor = this.rates.custom;
      this.draft = null;
      this.draftError = null;
    } catch (e) {
      this.draftError = toUiError(e);
    }
  }

  /** Custom groups set from outside (the BO dashboard's "apply best rates"): fetch their sizes. */
  syncCustom(): void {
    const groups = this.rates.groupingId === 'custom' ? this.rates.custom : null;
    if (!groups || !this.architecture || groups === this.#statsFor) return;
    void this.#refreshCustomStats(groups);
  }

  async #refreshCustomStats(groups: LayerGroup[]): Promise<void> {
    this.#statsFor = groups;
    try {
      this.customStats = await this.#client.call((api) => api.pruneGroupingStats({ id: 'custom', label: 'Custom', groups: $state.snapshot(groups) }));
    } catch (e) {
      this.error = toUiError(e);
    }
  }

  /** Sets the target sparsity (fraction or null) and clamps the rates to the new bound. */
  setTarget(target: number | null): void {
    this.rates.target = target;
    const max = maxRate(target);
    if (this.rates.rates.some((r) => r > max)) this.rates.set(this.rates.groupingId, this.rates.rates.map((r) => Math.min(r, max)), { custom: this.rates.custom, source: this.rates.source });
  }

  /** The request for the current rates, or null when they do not fit the grouping (yet). */
  currentRequest(): PruneRequest | null {
    const grouping = this.grouping;
    const rates = this.rates.rates;
    if (!grouping || grouping.groups.length !== rates.length || grouping.groups.length === 0) return null;
    return { grouping: $state.snapshot(grouping) as Grouping, rates: [...rates], target: this.rates.target };
  }

  /**
   * Records the rates to preview (the newest wins) and restarts the timing countdown. Returns at once:
   * safe to call from input handlers and effects.
   */
  request(): void {
    const req = this.currentRequest();
    if (!req || !this.#model.current) return;
    const key = `${this.#model.current.id}|${JSON.stringify(req)}`;
    if (key === this.#wantedKey) return;
    this.#wanted = req;
    this.#wantedKey = key;
    this.stale = key !== this.#shownKey;
    void this.#pump();
    this.#scheduleMeasure();
  }

  async #pump(): Promise<void> {
    if (this.#inFlight) return;
    this.#inFlight = true;
    try {
      while (this.#wanted && this.#wantedKey !== this.#shownKey) {
        const req = this.#wanted;
        const key = this.#wantedKey;
        try {
          // Host-only work in the worker (a few ms): it may pass a long queued run such as an evaluation.
          this.preview = await this.#client.call((api) => api.prunePreview(req), { queue: false });
          this.previewError = null;
        } catch (e) {
          this.previewError = toUiError(e);
        }
        this.#shownKey = key;
        this.stale = this.#wantedKey !== this.#shownKey;
        // At most one preview per frame while the rates keep moving.
        if (this.stale) await new Promise((r) => requestAnimationFrame(() => r(null)));
      }
    } finally {
      this.#inFlight = false;
    }
  }

  #scheduleMeasure(): void {
    clearTimeout(this.#measureTimer);
    if (this.#wantedKey === this.#measuredKey) return;
    this.timingStatus = this.#measuring ? 'measuring' : 'waiting';
    this.#measureTimer = setTimeout(() => void this.#measure(), MEASURE_DELAY_MS);
  }

  async #measure(): Promise<void> {
    if (this.#measuring) return; // re-scheduled when the running one ends
    const req = this.#wanted;
    const key = this.#wantedKey;
    if (!req || key === this.#measuredKey) return;
    this.#measuring = true;
    this.timingStatus = 'measuring';
    try {
      this.timing = await this.#client.call((api) => api.pruneMeasure(req));
      this.timingError = null;
      this.#measuredKey = key;
    } catch (e) {
      this.timingError = toUiError(e);
      this.#measuredKey = key; // do not retry the same rates in a loop
    } finally {
      this.#measuring = false;
      this.timingStatus = 'idle';
      if (this.#wantedKey !== this.#measuredKey) this.#scheduleMeasure();
    }
  }

  /** "Use these rates": the FPGM-zeroed model (no training) into the models store. */
  async saveCurrent(): Promise<void> {
    const req = this.currentRequest();
    const source = this.#model.current;
    if (!req || !source) return;
    this.saving = true;
    this.saveError = null;
    try {
      const out = await this.#client.call((api) => api.prunedCheckpoint(req));
      // Short and readable; the grouping, rates and source are in the model card (origin).
      const name = modelNames.oneShotModelName(out.info.sparsity / 100, new Date());
      const url = URL.createObjectURL(new Blob([out.bytes], { type: 'application/octet-stream' }));
      this.saved = await saveModel({
        name,
        bytes: out.bytes,
        info: out.info,
        origin: { kind: 'pruned', sourceModelId: source.id || undefined, sourceModelName: source.name, fpgm: { grouping: req.grouping, rates: req.rates } },
        markUsed: false,
      });
      if (this.savedUrl) URL.revokeObjectURL(this.savedUrl);
      this.savedUrl = url;
      await this.#model.refreshStored();
    } catch (e) {
      this.saveError = toUiError(e);
    } finally {
      this.saving = false;
    }
  }

  dispose(): void {
    clearTimeout(this.#measureTimer);
    if (this.savedUrl) URL.revokeObjectURL(this.savedUrl);
  }
}
