/**
 * Layer groupings as data (SPEC §3.1, §3.5). A group names top-level modules (the `owner` of each conv
 * in architecture.ts); every conv and BN under those modules belongs to the group and shares the
 * group's pruning rate, applied to each conv separately (`MultiLayerPruner`, SPEC §3.2). Heads are
 * never pruned and belong to no group.
 *
 * Built-in groupings:
 * - `code`     the six groups of `main_bayesian_prune.py` (SPEC §3.1);
 * - `released` the six groups the shipped checkpoints fit conv by conv (SPEC §3.5, inferred);
 * - `coarse`   4 groups, ours: the code grouping with its stem merged into the early backbone and the
 *              FPN merged with the FEMs (shallow backbone | middle | deep | neck). A cheaper search space
 *              for Bayesian optimisation (4 dimensions instead of 6);
 * - `fine`     9 groups, ours: the code grouping split where its groups join parts of different
 *              depth: conv1-3 | conv4 | layer1 | layer2 | layer3 | layer4+5 | fpn | FEM_0-2 | FEM_3-5.
 * Both of ours nest with the code grouping (every `coarse` group is a union of code groups, every code
 * group a union of `fine` groups), so rates found with one can be compared with the others. Like both
 * reference groupings they keep the dead `layer5` (SPEC §1.8) with `layer4`: a group of its own would
 * let the optimiser buy sparsity for free by pruning parameters that never affect the output. The FPN
 * (`layer6`) is one module and stays whole.
 */
import { StudioError } from '../errors.ts';
import { CONVS, convMacs, type ConvSpec } from '../model/eresfd/architecture.ts';

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

/** Four groups (ours): the code grouping coarsened to shallow / middle / deep backbone and neck. */
export const COARSE_GROUPING: Grouping = {
  id: 'coarse',
  label: 'Coarse (4 groups)',
  groups: [
    { name: 'stem+layer1', modules: ['base.conv1', 'base.conv2', 'base.conv3', 'base.conv4', layer(1)] },
    { name: 'layer2-3', modules: [layer(2), layer(3)] },
    { name: 'layer4-5', modules: [layer(4), layer(5)] },
    { name: 'fpn+fem', modules: [layer(6), ...FEMS] },
  ],
};

/** Nine groups (ours): the code grouping refined, one stage per group where the code pairs them. */
export const FINE_GROUPING: Grouping = {
  id: 'fine',
  label: 'Fine (9 groups)',
  groups: [
    { name: 'stem', modules: ['base.conv1', 'base.conv2', 'base.conv3'] },
    { name: 'conv4', modules: ['base.conv4'] },
    { name: 'layer1', modules: [layer(1)] },
    { name: 'layer2', modules: [layer(2)] },
    { name: 'layer3', modules: [layer(3)] },
    { name: 'layer4-5', modules: [layer(4), layer(5)] },
    { name: 'fpn', modules: [layer(6)] },
    { name: 'fem0-2', modules: FEMS.slice(0, 3) },
    { name: 'fem3-5', modules: FEMS.slice(3) },
  ],
};

export const GROUPINGS: Record<string, Grouping> = {
  [CODE_GROUPING.id]: CODE_GROUPING,
  [RELEASED_GROUPING.id]: RELEASED_GROUPING,
  [COARSE_GROUPING.id]: COARSE_GROUPING,
  [FINE_GROUPING.id]: FINE_GROUPING,
};

/** Ids of the built-in groupings (the keys of GROUPINGS). */
export type BuiltinGroupingId = 'code' | 'released' | 'coarse' | 'fine';

/** Groups per built-in grouping, read off GROUPINGS (the rate editor sizes its vector with it). */
export const BUILTIN_GROUP_COUNTS: Readonly<Record<BuiltinGroupingId, number>> = Object.freeze({
  code: CODE_GROUPING.groups.length,
  released: RELEASED_GROUPING.groups.length,
  coarse: COARSE_GROUPING.groups.length,
  fine: FINE_GROUPING.groups.length,
});

/** A built-in grouping by id; own keys only, so `__proto__` or `constructor` name no grouping. */
export function findGrouping(id: string): Grouping | undefined {
  return Object.hasOwn(GROUPINGS, id) ? GROUPINGS[id] : undefined;
}

/** Modules a group may name: every owner of a non-head conv (base.conv1..4, base.m0.layer1..12), in order. */
export const PRUNABLE_MODULES: readonly string[] = Object.freeze([
  ...new Set(CONVS.filter((c) => c.role !== 'loc' && c.role !== 'conf').map((c) => c.owner)),
]);

/** Parameters a module owns besides its convs and BNs: the FPN fusion weights `w1` [2, 9] (SPEC §1.4). */
const EXTRA_PARAMETERS: Readonly<Record<string, number>> = { [layer(6)]: 18 };

/** `base.m0.fpn` → `base.m0.layer6`, `base.m0.FEM_2` → `base.m0.layer9`, `base.m0.b2_1` → `base.m0.layer1`. */
export function canonicalModule(path: string): string {
  const m = /^base\.m0\.(fpn|FEM_(\d)|b2_(\d))$/.exec(path);
  if (!m) return path;
  if (m[1] === 'fpn') return layer(6);
  if (m[2] !== undefined) return layer(7 + Number(m[2]));
  return layer(Number(m[3]));
}

/**
 * Checks a grouping: at least one group, every group named (names unique) and non-empty, every module
 * prunable and in at most one group. Modules in no group are simply not pruned. Throws
 * StudioError CONFIG_INVALID; returns the grouping for chaining.
 */
export function validateGrouping(grouping: Grouping): Grouping {
  const fail = (msg: string): never => {
    throw new StudioError('CONFIG_INVALID', `Grouping "${grouping.label || grouping.id}": ${msg}`);
  };
  if (!grouping.id) fail('it needs an id.');
  if (!Array.isArray(grouping.groups) || grouping.groups.length === 0) fail('it has no groups.');
  const prunable = new Set(PRUNABLE_MODULES);
  const seenModules = new Map<string, string>();
  const seenNames = new Set<string>();
  for (const g of grouping.groups) {
    if (!g.name) fail('every group needs a name.');
    if (seenNames.has(g.name)) fail(`two groups are named "${g.name}".`);
    seenNames.add(g.name);
    if (!g.modules.length) fail(`group "${g.name}" names no module.`);
    for (const m of g.modules) {
      if (!prunable.has(m)) {
        const why = /^(loc|conf)(\.|\d|$)/.test(m) ? 'detection heads are never pruned' : 'not a prunable EResFD module';
        fail(`module "${m}" in group "${g.name}": ${why} (use one of ${PRUNABLE_MODULES.join(', ')}).`);
      }
      const other = seenModules.get(m);
      if (other !== undefined) fail(`module "${m}" is in both "${other}" and "${g.name}".`);
      seenModules.set(m, g.name);
    }
  }
  return grouping;
}

/**
 * A user-defined grouping from module lists (aliases such as `base.m0.fpn` or `base.m0.FEM_0` are
 * accepted and stored canonically). Groups given as bare lists are named `g1`, `g2`, …
 * Throws StudioError CONFIG_INVALID (see validateGrouping).
 */
export function createGrouping(label: string, groups: ReadonlyArray<LayerGroup | readonly string[]>, id = 'custom'): Grouping {
  const grouping: Grouping = {
    id,
    label,
    groups: groups.map((g, i) => {
      const { name, modules } = Array.isArray(g) ? { name: `g${i + 1}`, modules: g as readonly string[] } : (g as LayerGroup);
      return { name, modules: modules.map(canonicalModule) };
    }),
  };
  return validateGrouping(grouping);
}

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

export interface GroupStats {
  name: string;
  modules: string[];
  /** Convs in the group (each pruned separately at the group's rate). */
  convs: number;
  /** Output filters over all its convs. */
  filters: number;
  /** Every parameter the group's modules own: conv weights, BN γ and β, FPN `w1` (SPEC §3.1). */
  parameters: number;
  convWeights: number;
  /** Conv multiply-accumulates at the given input size (dead `layer5` included, SPEC §1.8). */
  macs: number;
}

/** Per-group sizes and compute at an input of height × width (pixels), from the architecture table alone. */
export function groupStats(grouping: Grouping, height: number, width: number): GroupStats[] {
  return grouping.groups.map((g) => {
    const convs = groupConvs(g);
    let filters = 0, convWeights = 0, parameters = 0, macs = 0;
    for (const c of convs) {
      const weights = c.outChannels * c.inChannels * c.kernel * c.kernel;
      filters += c.outChannels;
      convWeights += weights;
      parameters += weights + (c.bias ? c.outChannels : 0) + (c.bn ? 2 * c.outChannels : 0);
      macs += convMacs(c, height, width);
    }
    for (const m of g.modules) parameters += EXTRA_PARAMETERS[m] ?? 0;
    return { name: g.name, modules: [...g.modules], convs: convs.length, filters, parameters, convWeights, macs };
  });
}
