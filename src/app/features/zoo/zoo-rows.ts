/** The model zoo's rows: stored models joined with their evaluations and the runs that made or measured them (pure, unit-tested). */
import type { StoredEvaluation, StoredModelSummary, StoredRun } from '../../../platform/browser/idb-store.ts';

export interface ZooAp {
  easy: number;
  medium: number;
  hard: number;
  images: number;
  protocol: string;
  /** Where the numbers come from: an evaluation on the Evaluate page, or a pipeline run. */
  source: 'evaluation' | 'run';
}

export interface ZooRow {
  model: StoredModelSummary;
  kind: 'imported' | 'pruned' | 'trained' | 'compacted';
  ap: ZooAp | null;
  /** Fraction of conv MACs at 480×640 whose filters the run's plan zeroed (null: unknown / none). */
  macsRemoved: number | null;
}

/** The zoo's rows from the stored models, evaluations and runs (pure). */
export function zooRows(models: readonly StoredModelSummary[], evaluations: readonly StoredEvaluation[], runs: readonly StoredRun[]): ZooRow[] {
  return models.map((model) => {
    // Newest evaluation of this model (the list is newest first).
    const ev = evaluations.find((e) => e.modelId === model.id);
    let ap: ZooAp | null = ev ? { ...ev.ap, images: ev.images, protocol: ev.protocol, source: 'evaluation' } : null;
    const origin = model.origin;
    if (!ap && origin?.ap) ap = { ...origin.ap, source: 'run' };
    if (!ap) {
      // A pipeline run started from this model measured it before pruning.
      for (const r of runs) {
        if (r.kind === 'pipeline' && r.meta.modelId === model.id && r.state?.evaluation.before) {
          ap = { ...r.state.evaluation.before, source: 'run' };
          break;
        }
      }
    }
    const run = origin?.runId ? runs.find((r) => r.id === origin.runId) : undefined;
    const macsRemoved = run?.kind === 'pipeline' && run.state?.result ? run.state.result.macsRemoved : null;
    return { model, kind: origin?.kind ?? 'imported', ap, macsRemoved };
  });
}
