/**
 * What the Result panel (and the rate editor's "Use these rates") shows about a pruned model's quality: the stored models and evaluations
 * joined into the core's candidates (each with the AP measured on the run's own val images when
 * there is one), the references the core picks (the released checkpoint of the nearest sparsity, the
 * unpruned model) and the core's verdict. Pure (no Svelte, no IndexedDB), unit-tested.
 */
import { judgeOutcome, pickReferences, sameMeasurement, type CandidateModel, type MeasuredAp, type Outcome, type EvaluationRecord, type RunState } from '../../../core/data/index.ts';
import type { StoredEvaluation, StoredModelSummary } from '../../../platform/browser/idb-store.ts';

export interface OutcomeRow {
  role: 'before' | 'after' | 'released' | 'unpruned';
  name: string;
  /** Parameter sparsity, fraction (null: not known, e.g. the source of an imported run). */
  sparsity: number | null;
  ap: MeasuredAp | null;
  /** AP measured on other images or with another protocol than the run's (shown, flagged). */
  otherImages: boolean;
}

export interface OutcomeView {
  outcome: Outcome;
  rows: OutcomeRow[];
  /** A released checkpoint is stored but has no AP on the run's images yet. */
  releasedNeedsEvaluation: boolean;
}

const measured = (r: EvaluationRecord | null, datasetId: string | undefined): MeasuredAp | null => (r ? { ...r, ...(datasetId ? { datasetId } : {}) } : null);

/** The stored models as the core's candidates; `like` prefers an evaluation on the same images. */
export function outcomeCandidates(models: readonly StoredModelSummary[], evaluations: readonly StoredEvaluation[], like: MeasuredAp | null): CandidateModel[] {
  return models.map((m) => {
    const mine = evaluations.filter((e) => e.modelId === m.id).map((e): MeasuredAp => ({ ...e.ap, images: e.images, protocol: e.protocol, datasetId: e.datasetId }));
    const ap = (like && mine.find((a) => sameMeasurement(a, like))) ?? mine[0] ?? null;
    return { id: m.id, name: m.name, sparsity: m.info.sparsity / 100, madeHere: !!m.origin, ap };
  });
}

/** A pruned model and the model it came from, with their AP on the same val images. */
export interface PruneResult {
  before: EvaluationRecord | null;
  after: EvaluationRecord | null;
  /** The pruned model's parameter sparsity, fraction. */
  sparsity: number;
  valDatasetId?: string;
  source: { id: string; name: string };
  result: { id?: string; name?: string };
  /** A pipeline run (default) or FPGM once, no training (the rate editor). */
  kind?: 'run' | 'one-shot';
}

/** A finished (or finishing) pipeline run as a PruneResult. */
export function runResult(run: { state: RunState; meta: { modelId: string; modelName: string; valDatasetId?: string; resultModelId?: string } }): PruneResult {
  const s = run.state;
  return {
    before: s.evaluation.before, after: s.evaluation.after, sparsity: s.result?.sparsity ?? 0, valDatasetId: run.meta.valDatasetId,
    source: { id: run.meta.modelId, name: run.meta.modelName }, result: { id: run.meta.resultModelId },
  };
}

/** The verdict and the comparison rows of a pruned model (evaluations newest first). */
export function outcomeView(r: PruneResult, models: readonly StoredModelSummary[], evaluations: readonly StoredEvaluation[]): OutcomeView {
  const before = measured(r.before, r.valDatasetId);
  const after = measured(r.after, r.valDatasetId);
  const sparsity = r.sparsity;
  const candidates = outcomeCandidates(models.filter((m) => m.id !== r.result.id), evaluations, after);
  const refs = pickReferences(candidates, sparsity);
  const source = models.find((m) => m.id === r.source.id);
  const sourceSparsity = source ? source.info.sparsity / 100 : null;
  const comparable = (ap: MeasuredAp | null) => !!(ap && after && sameMeasurement(ap, after));

  const rows: OutcomeRow[] = [
    { role: 'before', name: r.source.name, sparsity: sourceSparsity, ap: before, otherImages: false },
    { role: 'after', name: r.result.name ?? models.find((m) => m.id === r.result.id)?.name ?? 'pruned model', sparsity, ap: after, otherImages: false },
  ];
  if (refs.released) rows.push({ role: 'released', name: refs.released.name, sparsity: refs.released.sparsity, ap: refs.released.ap, otherImages: !!refs.released.ap && !comparable(refs.released.ap) });
  // The unpruned model gets its own row only when the run did not start from it.
  if (refs.unpruned && refs.unpruned.id !== r.source.id && !(sourceSparsity !== null && sourceSparsity < 0.005)) {
    rows.push({ role: 'unpruned', name: refs.unpruned.name, sparsity: refs.unpruned.sparsity, ap: refs.unpruned.ap, otherImages: !!refs.unpruned.ap && !comparable(refs.unpruned.ap) });
  }
  const outcome = judgeOutcome({ before, after, released: refs.released?.ap ?? null, kind: r.kind });
  return { outcome, rows, releasedNeedsEvaluation: !!refs.released && !comparable(refs.released.ap) };
}
