/**
 * Is a pruned model any good? The verdict a finished run (or a one-shot prune) shows next to its AP:
 * how much AP it lost against the model it started from, how it compares with B-FPGM's released
 * checkpoint of the nearest sparsity when the user has that checkpoint, and what to do when the drop
 * is large. Plain data in and out (no TF.js), so the studio, the CLI and the tests share one rule.
 */
import type { WiderSetting } from '../dataset/index.ts';

export const AP_SETTINGS: readonly WiderSetting[] = ['easy', 'medium', 'hard'];

export type ApScores = Record<WiderSetting, number>;

/** AP measured on a val set: which images (dataset, count) and protocol, so comparisons stay fair. */
export interface MeasuredAp extends ApScores {
  images: number;
  protocol: 'single' | 'full';
  datasetId?: string;
}

/** A stored model as the reference picker sees it. */
export interface CandidateModel {
  id: string;
  name: string;
  /** Zero-parameter sparsity, fraction. */
  sparsity: number;
  /** Made by a run of the studio (pruned/trained); such models are never references. */
  madeHere: boolean;
  /** The newest AP measured for it, if any. */
  ap: MeasuredAp | null;
}

/** B-FPGM's release names its pruned checkpoints `EResFD-<percent>-pruned.pth`. */
const RELEASED_NAME = /(?:^|[\\/])EResFD-(\d{1,2})-pruned(?:\.pth)?$/i;

/** The nominal sparsity (fraction) of a released B-FPGM checkpoint, from its file name; null for other names. */
export function releasedSparsity(name: string): number | null {
  const m = RELEASED_NAME.exec(name.trim());
  return m ? Number(m[1]) / 100 : null;
}

/** A released checkpoint farther than this from the result (in sparsity) is not "similar". */
export const RELEASED_SPARSITY_TOLERANCE = 0.1;
/** Below this sparsity a loaded (not made-here) model counts as unpruned. */
const UNPRUNED_SPARSITY = 0.005;

export interface OutcomeReferences {
  /** The released checkpoint of the nearest sparsity, within RELEASED_SPARSITY_TOLERANCE. */
  released: CandidateModel | null;
  /** A stored unpruned model (the original). */
  unpruned: CandidateModel | null;
}

/**
 * Picks the references for a result of `sparsity` (fraction) among the stored models: the released
 * checkpoint whose measured sparsity is nearest (ties: the lower sparsity), and the unpruned model
 * (preferring one named "original", then one with a measured AP).
 */
export function pickReferences(models: readonly CandidateModel[], sparsity: number): OutcomeReferences {
  let released: CandidateModel | null = null;
  for (const m of models) {
    if (m.madeHere || releasedSparsity(m.name) === null) continue;
    const d = Math.abs(m.sparsity - sparsity);
    if (d > RELEASED_SPARSITY_TOLERANCE) continue;
    const best = released ? Math.abs(released.sparsity - sparsity) : Infinity;
    if (d < best - 1e-9 || (Math.abs(d - best) <= 1e-9 && released && m.sparsity < released.sparsity)) released = m;
  }
  const unpruned = [...models]
    .filter((m) => !m.madeHere && m.sparsity < UNPRUNED_SPARSITY)
    .sort((a, b) => rank(b) - rank(a))[0] ?? null;
  return { released, unpruned };
}

const rank = (m: CandidateModel): number => (/original/i.test(m.name) ? 2 : 0) + (m.ap ? 1 : 0);

/** Whether two AP measurements were taken on the same images with the same protocol. */
export function sameMeasurement(a: MeasuredAp, b: MeasuredAp): boolean {
  return a.protocol === b.protocol && a.images === b.images && (a.datasetId === undefined || b.datasetId === undefined || a.datasetId === b.datasetId);
}

export type Verdict = 'unknown' | 'good' | 'fair' | 'large-drop' | 'dead';

/** An AP drop of at least this much (absolute, any setting) is "large". */
export const LARGE_DROP = 0.1;
/** A drop of at least this much is worth mentioning. */
export const FAIR_DROP = 0.03;
/** Below this AP on every setting the model finds (almost) no faces. */
export const DEAD_AP = 0.05;
/** Trailing the released checkpoint by more than this (same images) is a large gap. */
export const RELEASED_GAP = 0.05;

export interface OutcomeInput {
  /** AP of the model the prune started from (a run's "before"). */
  before: MeasuredAp | null;
  /** AP of the pruned model. */
  after: MeasuredAp | null;
  /** The released checkpoint of similar sparsity, when stored and measured. */
  released?: MeasuredAp | null;
  /** How the model was pruned: a pipeline run (default) or FPGM once without training (the rate editor). */
  kind?: 'run' | 'one-shot';
}

export interface Outcome {
  verdict: Verdict;
  /** The setting with the largest drop (after vs before) and that drop, when both are known. */
  worstDrop: { setting: WiderSetting; drop: number } | null;
  /** The largest gap to the released checkpoint (positive: the release is better), same images only. */
  releasedGap: { setting: WiderSetting; gap: number } | null;
  /** One plain sentence. */
  headline: string;
  /** What to do next (empty when the result is fine). */
  advice: string[];
}

const pts = (x: number): string => `${(100 * x).toFixed(1)} points`;

function largest(a: ApScores, b: ApScores): { setting: WiderSetting; value: number } {
  let out = { setting: AP_SETTINGS[0]!, value: -Infinity };
  for (const s of AP_SETTINGS) if (a[s] - b[s] > out.value) out = { setting: s, value: a[s] - b[s] };
  return out;
}

const MORE_BUDGET =
  'Run again with more budget: more training images and more SFP and fine-tuning epochs (the reference preset shows the paper’s recipe), or choose a lower target.';
const FINE_TUNE =
  'FPGM alone zeroes filters without retraining: run the B-FPGM pipeline at this target (Pipeline page) so soft pruning and fine-tuning recover the accuracy, or lower the rates.';

/** The verdict on a pruned model's AP (see the thresholds above). */
export function judgeOutcome({ before, after, released = null, kind = 'run' }: OutcomeInput): Outcome {
  const remedy = kind === 'one-shot' ? FINE_TUNE : MORE_BUDGET;
  if (!after) {
    return { verdict: 'unknown', worstDrop: null, releasedGap: null, headline: 'No AP was measured: choose a WIDER val set to see whether the model still finds faces.', advice: [] };
  }
  const worst = before ? largest(before, after) : null;
  const worstDrop = worst ? { setting: worst.setting, drop: worst.value } : null;
  const gap = released && sameMeasurement(released, after) ? largest(released, after) : null;
  const releasedGap = gap ? { setting: gap.setting, gap: gap.value } : null;

  if (AP_SETTINGS.every((s) => after[s] < DEAD_AP) && (!before || AP_SETTINGS.some((s) => before[s] >= DEAD_AP))) {
    return {
      verdict: 'dead', worstDrop, releasedGap,
      headline: 'This model finds almost no faces: pruning destroyed it.',
      advice: [remedy, 'Do not use this model as it is.'],
    };
  }
  const large = (worstDrop && worstDrop.drop >= LARGE_DROP) || (releasedGap && releasedGap.gap > RELEASED_GAP);
  if (large) {
    const parts: string[] = [];
    if (worstDrop && worstDrop.drop >= LARGE_DROP) parts.push(`AP fell by ${pts(worstDrop.drop)} (${worstDrop.setting})`);
    if (releasedGap && releasedGap.gap > RELEASED_GAP) parts.push(`B-FPGM’s released checkpoint is ${pts(releasedGap.gap)} better (${releasedGap.setting})`);
    return { verdict: 'large-drop', worstDrop, releasedGap, headline: `Large loss of accuracy: ${parts.join('; ')}.`, advice: [remedy] };
  }
  if (worstDrop && worstDrop.drop >= FAIR_DROP) {
    return { verdict: 'fair', worstDrop, releasedGap, headline: `Some accuracy lost: AP fell by ${pts(worstDrop.drop)} (${worstDrop.setting}).`, advice: [] };
  }
  return {
    verdict: before || releasedGap ? 'good' : 'unknown', worstDrop, releasedGap,
    headline: before ? 'Accuracy kept: AP within a few points of the model it started from.' : 'AP measured; evaluate the starting model on the same images to see the drop.',
    advice: [],
  };
}
