/**
 * Where a run keeps its state and weights between stages, trials and epochs, so that a reload
 * (browser) or a killed process (CLI) resumes where it stopped. Implemented by IndexedDB in the
 * browser and by a folder in Node; an in-memory store serves tests. The same port serves pipeline
 * runs (`RunState`) and plain training runs (`TrainingRunState`, which also keeps Adam's moments).
 */
import type { StateDict } from '../types.ts';
import type { AdamState } from '../train/adam.ts';
import type { RunState } from './records.ts';

export interface RunStore<S extends { id: string } = RunState> {
  loadState(runId: string): Promise<S | null>;
  saveState(state: S): Promise<void>;
  /** Weights by tag: 'pretrained', 'sfp', 'finetune', ... */
  saveWeights(runId: string, tag: string, sd: StateDict): Promise<void>;
  loadWeights(runId: string, tag: string): Promise<StateDict | null>;
  /** Optimiser state by tag (a training run resumes with its Adam moments and step counts). */
  saveOptimizer(runId: string, tag: string, state: AdamState): Promise<void>;
  loadOptimizer(runId: string, tag: string): Promise<AdamState | null>;
}

const copySd = (sd: StateDict): StateDict =>
  new Map([...sd].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape.slice(), data: t.data.slice() as typeof t.data }]));

const copyAdam = (s: AdamState): AdamState => ({
  config: { ...s.config, betas: [s.config.betas[0], s.config.betas[1]] },
  params: Object.fromEntries(Object.entries(s.params).map(([k, p]) => [k, { step: p.step, expAvg: p.expAvg.slice(), expAvgSq: p.expAvgSq.slice() }])),
});

export function createMemoryRunStore<S extends { id: string } = RunState>(): RunStore<S> {
  const states = new Map<string, string>();
  const weights = new Map<string, StateDict>();
  const optimizers = new Map<string, AdamState>();
  return {
    async loadState(id) {
      const s = states.get(id);
      return s ? (JSON.parse(s) as S) : null;
    },
    async saveState(state) {
      states.set(state.id, JSON.stringify(state));
    },
    async saveWeights(id, tag, sd) {
      weights.set(`${id}/${tag}`, copySd(sd));
    },
    async loadWeights(id, tag) {
      const sd = weights.get(`${id}/${tag}`);
      return sd ? copySd(sd) : null;
    },
    async saveOptimizer(id, tag, state) {
      optimizers.set(`${id}/${tag}`, copyAdam(state));
    },
    async loadOptimizer(id, tag) {
      const s = optimizers.get(`${id}/${tag}`);
      return s ? copyAdam(s) : null;
    },
  };
}
