/**
 * The compute worker's feature APIs of the pruning studio (issue 6): rate editor, side-by-side
 * detection slots and teaching demos. The worker spreads them into its Comlink API; `getModel` is the
 * worker's currently loaded model.
 */
import * as Comlink from 'comlink';
// tfjs-core alone registers no gradients; the soft/hard pruning demo trains a few steps.
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import type { EResFDModel } from '../../src/core/index.ts';
import { createModelSlots } from './model-slots.ts';
import { createPruneWorkbench, type PrunedCheckpoint, type PruneRequest } from './prune-workbench.ts';
import { createTeachDemos, type TeachFilters } from './teach-demos.ts';

export type * from './prune-workbench.ts';
export type * from './model-slots.ts';
export type * from './teach-demos.ts';

export function createFeatureApi(getModel: () => EResFDModel | null) {
  const prune = createPruneWorkbench(getModel);
  const teach = createTeachDemos(getModel);
  return {
    ...prune,
    ...createModelSlots(),
    ...teach,
    /** The pruned checkpoint, its bytes transferred (not copied) to the caller. */
    prunedCheckpoint(request: PruneRequest): PrunedCheckpoint {
      const out = prune.prunedCheckpoint(request);
      return Comlink.transfer(out, [out.bytes]);
    },
    teachFilters(conv: string): TeachFilters {
      const out = teach.teachFilters(conv);
      return Comlink.transfer(out, [out.weights.buffer as ArrayBuffer]);
    },
  };
}
