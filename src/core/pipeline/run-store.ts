/**
 * Where a pipeline run keeps its state and weights between stages, trials and epochs, so that a
 * reload (browser) or a killed process (CLI) resumes where it stopped. Implemented by IndexedDB in the
 * browser and by a folder in Node; an in-memory store serves tests.
 */
import type { StateDict } from '../types.ts';
import type { RunState } from './records.ts';

export interface RunStore {
  loadState(runId: string): Promise<RunState | null>;
  saveState(state: RunState): Promise<void>;
  /** Weights by tag: 'pretrained', 'sfp', 'finetune', ... */
  saveWeights(runId: string, tag: string, sd: StateDict): Promise<void>;
  loadWeights(runId: string, tag: string): Promise<StateDict | null>;
}

const copySd = (sd: StateDict): StateDict =>
  new Map([...sd].map(([k, t]) => [k, { dtype: t.dtype, shape: t.shape.slice(), data: t.data.slice() as typeof t.data }]));

export function createMemoryRunStore(): RunStore {
  const states = new Map<string, string>();
  const weights = new Map<string, StateDict>();
  return {
    async loadState(id) {
      const s = states.get(id);
      return s ? (JSON.parse(s) as RunState) : null;
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
  };
}
