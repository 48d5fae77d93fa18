/**
 * Step learning-rate schedule: `lr = base · γ^k`, k = number of milestones ≤ t — torch's
 * `MultiStepLR` (t = epoch) and the reference `adjust_learning_rate` (t = iteration; SPEC §8:
 * ×0.1 at 250k/300k/320k). The caller decides whether t counts epochs or iterations.
 */

export interface MultiStepLrConfig {
  baseLr: number;
  /** Ascending points where the rate is multiplied by gamma (the new rate applies from t = milestone). */
  milestones: readonly number[];
  gamma: number;
}

export const DEFAULT_MULTI_STEP_LR_CONFIG: MultiStepLrConfig = { baseLr: 1e-3, milestones: [250_000, 300_000, 320_000], gamma: 0.1 };

export function validateMultiStepLrConfig(config: Partial<MultiStepLrConfig>): MultiStepLrConfig {
  const c = { ...DEFAULT_MULTI_STEP_LR_CONFIG, ...config };
  if (!(c.baseLr >= 0) || !Number.isFinite(c.baseLr)) throw new RangeError(`lr schedule: invalid base lr ${c.baseLr}`);
  if (!(c.gamma > 0) || !Number.isFinite(c.gamma)) throw new RangeError(`lr schedule: invalid gamma ${c.gamma}`);
  for (let i = 1; i < c.milestones.length; i++) {
    if (!(c.milestones[i]! > c.milestones[i - 1]!)) throw new RangeError('lr schedule: milestones must be strictly increasing');
  }
  return { ...c, milestones: [...c.milestones] };
}

/** Returns `t ↦ lr` for a step schedule. */
export function multiStepLr(config: Partial<MultiStepLrConfig> = {}): (t: number) => number {
  const c = validateMultiStepLrConfig(config);
  return (t: number) => {
    let k = 0;
    while (k < c.milestones.length && c.milestones[k]! <= t) k++;
    return c.baseLr * c.gamma ** k;
  };
}
