/**
 * Where a run keeps its state and weights between stages, trials and epochs, so that a reload
 * (browser) or a killed process (CLI) resumes where it stopped. Implemented by IndexedDB in the
 * browser and by a folder in Node; an in-memory store serves tests. The same port serves pipeline
 * runs (`RunState`) and plain training runs (`TrainingRunState`, which also keeps Adam's moments).
 */
import { StudioError } from '../errors.ts';
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

/**
 * Weights a run cannot go on without. Missing is an error, never a fallback to other weights: a
 * resumed run that quietly used the pretrained model would export the unpruned network under the
 * pruned run's numbers.
 */
export async function loadRunWeights(store: Pick<RunStore<{ id: string }>, 'loadWeights'>, runId: string, tag: string): Promise<StateDict> {
  const sd = await store.loadWeights(runId, tag);
  if (!sd) throw new StudioError('RUN_WEIGHTS_MISSING', `run ${runId}: its ${tag} weights are missing (deleted or never written), so the run cannot continue`);
  return sd;
}

/**
 * What a store returned, checked before a run trusts it: a record of `format`, the `version` this
 * code writes, for this run id. A record from another version is refused rather than misread.
 */
export function checkRunRecord<S extends { id: string }>(value: unknown, format: string, version: number, runId: string): S {
  const bad = (why: string) => new StudioError('RUN_STATE', `run ${runId}: the saved state ${why}`);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw bad('is not a run record');
  const r = value as { format?: unknown; version?: unknown; id?: unknown };
  if (r.format !== format) throw bad(`is not a ${format} record (format ${JSON.stringify(r.format)})`);
  if (r.version !== version) throw bad(`has version ${JSON.stringify(r.version)}; this studio reads version ${version}`);
  if (r.id !== runId) throw bad(`belongs to run ${JSON.stringify(r.id)}`);
  return value as S;
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
