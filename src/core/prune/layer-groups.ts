/**
 * Layer groupings as data (SPEC §3.1, §3.5). A group names top-level modules (the `owner` of each conv
 * in architecture.ts); every conv and BN under those modules belongs to the group. Heads are never
 * pruned and belong to no group.
 */
import { CONVS, type ConvSpec } from '../model/eresfd/architecture.ts';

export interface LayerGroup {
  name: string;
  /** Canonical module paths, e.g. `base.conv1`, `base.m0.layer6` (= fpn), `base.m0.layer7` (= FEM_0). */
  modules: string[];
}

export interface Grouping {
  id: string;
  label: string;
  groups: LayerGroup[];
}

const layer = (i: number): string => `base.m0.layer${i}`;
const FEMS = [7, 8, 9, 10, 11, 12].map(layer);

/** The six groups of `main_bayesian_prune.py` (SPEC §3.1): the reference code's default. */
export const CODE_GROUPING: Grouping = {
  id: 'code',
  label: 'Reference code (6 groups)',
  groups: [
    { name: 'stem', modules: ['base.conv1', 'base.conv2', 'base.conv3'] },
    { name: 'conv4+layer1', modules: ['base.conv4', layer(1)] },
    { name: 'layer2-3', modules: [layer(2), layer(3)] },
    { name: 'layer4-5', modules: [layer(4), layer(5)] },
    { name: 'fpn', modules: [layer(6)] },
    { name: 'fem', modules: FEMS },
  ],
};

/** The grouping the released checkpoints fit conv by conv (SPEC §3.5, inferred). */
export const RELEASED_GROUPING: Grouping = {
  id: 'released',
  label: 'Released checkpoints (6 groups)',
  groups: [
    { name: 'conv1-2', modules: ['base.conv1', 'base.conv2'] },
    { name: 'conv3-4', modules: ['base.conv3', 'base.conv4'] },
    { name: 'layer1-2', modules: [layer(1), layer(2)] },
    { name: 'layer3-5', modules: [layer(3), layer(4), layer(5)] },
    { name: 'fpn', modules: [layer(6)] },
    { name: 'fem', modules: FEMS },
  ],
};

export const GROUPINGS: Record<string, Grouping> = {
  [CODE_GROUPING.id]: CODE_GROUPING,
  [RELEASED_GROUPING.id]: RELEASED_GROUPING,
};

/** Module path of a state-dict key's owner (`base.m0.layer3.1.res_layer.0.weight` → `base.m0.layer3`). */
export function ownerOfKey(key: string): string {
  const m = /^(base\.m0\.layer\d+|base\.conv\d|loc\.\d|conf\.\d)(\.|$)/.exec(key);
  return m ? m[1]! : key;
}

export function groupConvs(group: LayerGroup): ConvSpec[] {
  const owners = new Set(group.modules);
  return CONVS.filter((c) => owners.has(c.owner));
}

/** Index of the group that owns a key, or -1 (heads). */
export function groupIndexOfKey(grouping: Grouping, key: string): number {
  const owner = ownerOfKey(key);
  return grouping.groups.findIndex((g) => g.modules.includes(owner));
}
