/**
 * Teaching-mode state: which step is open and the live data of each step, all computed by the compute
 * worker from the loaded model (filters, FPGM distance sums, a short soft/hard pruning run) or the core
 * optimiser (the GP demo). Steps fetch their data when first opened; errors stay with their step.
 */
import type { ComputeClient } from '../../compute-client.ts';
import { toUiError, type UiError } from '../../ui-error.ts';
import type { GpDemo, SoftHardResult, TeachFilters } from '../../../../workers/features/index.ts';

export const STEPS = [
  { id: 'filter', title: 'What a filter is' },
  { id: 'median', title: 'The geometric median' },
  { id: 'soft-hard', title: 'Soft vs hard pruning' },
  { id: 'bayes', title: 'The Bayesian optimiser' },
] as const;

export type StepId = (typeof STEPS)[number]['id'];

/** The conv each step starts on: conv1's RGB filters are the easiest to read; layer2's first conv has 16. */
export const DEFAULT_FILTER_CONV = 'base.conv1.0';
export const DEFAULT_MEDIAN_CONV = 'base.m0.layer2.0.res_layer.0';

export class TeachState {
  step = $state(0);
  filterConv = $state(DEFAULT_FILTER_CONV);
  filters = $state.raw<TeachFilters | null>(null);
  filtersError = $state.raw<UiError | null>(null);
  medianConv = $state(DEFAULT_MEDIAN_CONV);
  median = $state.raw<TeachFilters | null>(null);
  medianError = $state.raw<UiError | null>(null);
  /** Rate used to highlight the filters FPGM would zero (fraction). */
  medianRate = $state(0.3);
  softHard = $state.raw<SoftHardResult | null>(null);
  softHardRunning = $state(false);
  softHardError = $state.raw<UiError | null>(null);
  softHardRate = $state(0.5);
  gp = $state.raw<GpDemo | null>(null);
  gpXs = $state.raw<number[]>([]);
  gpBusy = $state(false);
  gpError = $state.raw<UiError | null>(null);
  kappa = $state(2.576);

  readonly #client: ComputeClient;
  #filtersKey = '';
  #medianKey = '';

  constructor(client: ComputeClient) {
    this.#client = client;
  }

  go(step: number): void {
    this.step = Math.max(0, Math.min(STEPS.length - 1, step));
  }

  /** Loads a conv's filters for step 1 (again when the model changed: `modelKey`). */
  async loadFilters(modelKey: string): Promise<void> {
    const conv = this.filterConv;
    const key = `${modelKey}|${conv}`;
    if (key === this.#filtersKey) return;
    this.#filtersKey = key;
    this.filtersError = null;
    try {
      const out = await this.#client.call((api) => api.teachFilters(conv));
      if (this.#filtersKey === key) this.filters = out;
    } catch (e) {
      if (this.#filtersKey === key) this.filtersError = toUiError(e);
    }
  }

  async loadMedian(modelKey: string): Promise<void> {
    const conv = this.medianConv;
    const key = `${modelKey}|${conv}`;
    if (key === this.#medianKey) return;
    this.#medianKey = key;
    this.medianError = null;
    try {
      const out = await this.#client.call((api) => api.teachFilters(conv));
      if (this.#medianKey === key) this.median = out;
    } catch (e) {
      if (this.#medianKey === key) this.medianError = toUiError(e);
    }
  }

  /** Runs the soft vs hard demo on the median step's conv. */
  async runSoftHard(steps = 4): Promise<void> {
    if (this.softHardRunning) return;
    this.softHardRunning = true;
    this.softHardError = null;
    const conv = this.medianConv;
    const rate = this.softHardRate;
    try {
      this.softHard = await this.#client.call((api) => api.teachSoftHard({ conv, rate, steps }));
    } catch (e) {
      this.softHardError = toUiError(e);
    } finally {
      this.softHardRunning = false;
    }
  }

  async #gp(xs: number[]): Promise<void> {
    this.gpBusy = true;
    this.gpError = null;
    try {
      const kappa = this.kappa;
      this.gp = await this.#client.call((api) => api.teachGp({ xs, kappa }), { queue: false });
      this.gpXs = xs;
    } catch (e) {
      this.gpError = toUiError(e);
    } finally {
      this.gpBusy = false;
    }
  }

  /** Starts the GP demo (no observations: the optimiser's first point is random). */
  startGp(): Promise<void> {
    return this.gp ? Promise.resolve() : this.#gp([]);
  }

  /** Evaluates the toy function where the optimiser asked, refits, asks again. */
  probeNext(): Promise<void> {
    if (!this.gp || this.gpBusy) return Promise.resolve();
    return this.#gp([...this.gpXs, this.gp.next]);
  }

  /** Re-asks with another κ (same observations). */
  setKappa(kappa: number): Promise<void> {
    if (!(kappa >= 0 && kappa <= 10)) return Promise.resolve();
    this.kappa = kappa;
    return this.#gp(this.gpXs);
  }

  resetGp(): Promise<void> {
    return this.#gp([]);
  }
}
