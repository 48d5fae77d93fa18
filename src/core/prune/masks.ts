/**
 * Soft and hard filter masks over TrainableEResFD parameters (HWIO conv weights).
 *
 * - Soft (SFP, `main_sfp.py`, SPEC §3.4): at scheduled epochs FPGM is re-run on the *current* weights
 *   and the selected filters are zeroed; in between they keep training and may regrow, so the
 *   selection can change from one pruning epoch to the next.
 * - Hard (fine-tuning): one fixed plan, its mask multiplied into the weights after every optimiser
 *   step, so pruned filters stay exactly zero whatever the gradient or the optimiser state
 *   (Adam's moments keep pushing a masked weight otherwise). The reference gets the same effect by
 *   accident — its grouped conv weights are frozen through a stale optimiser (SPEC §3.4) — which also
 *   freezes the kept filters; a hard mask freezes only the pruned ones.
 */
import * as tf from '@tensorflow/tfjs-core';
import { StudioError } from '../errors.ts';
import type { Grouping } from './layer-groups.ts';
import { applyPlanToVariables, filterMask, validatePlan, type PruningPlan } from './plan.ts';
import { planFpgmFromParams } from './pruner.ts';

export { isSoftPruneEpoch } from './sfp-schedule.ts';

/** One SFP step: FPGM on the current weights, zero the selection in place; returns the plan used. */
export async function softPrune(params: ReadonlyMap<string, tf.Variable>, grouping: Grouping, rates: readonly number[]): Promise<PruningPlan> {
  const plan = await planFpgmFromParams(params, grouping, rates);
  applyPlanToVariables(params, plan);
  return plan;
}

export interface HardMask {
  readonly plan: PruningPlan;
  /** Multiplies the fixed masks into the weights; call after every optimiser step. */
  apply(params: ReadonlyMap<string, tf.Variable>): void;
  dispose(): void;
}

/** Fixed masks for fine-tuning; the mask tensors live until dispose(). */
export function createHardMask(plan: PruningPlan): HardMask {
  validatePlan(plan);
  const masks = new Map<string, tf.Tensor1D>();
  for (const c of plan.convs) if (c.pruned.length) masks.set(c.key, tf.tensor1d(filterMask(c)));
  return {
    plan,
    apply(params) {
      for (const [key, mask] of masks) {
        const v = params.get(key);
        if (!v || v.rank !== 4 || v.shape[3] !== mask.size) {
          throw new StudioError('CONFIG_INVALID', `No HWIO variable with ${mask.size} output filters for ${key}.`);
        }
        tf.tidy(() => {
          v.assign(tf.mul(v, mask));
        });
      }
    },
    dispose() {
      tf.dispose([...masks.values()]);
      masks.clear();
    },
  };
}
