/**
 * The EResFD (width 0.0625) state dict as PyTorch lays it out, derived from the module tree rather
 * than shipped as data (SPEC §1.3, §2; the core ships without ../shared).
 *
 * The tree mirrors `models/eresfd.py` + `eresfd_16.py` + `sepfpn.py` of B-FPGM: the same module
 * object is registered under two names (`base.m0.layer1` and `base.m0.b2_1`, `loc.0` and `loc0`,
 * ...), and `nn.Module.state_dict()` walks `_modules` in registration order visiting both, so each
 * tensor appears twice. Walking this tree the same way (own parameters, then buffers, then
 * children; `_metadata[prefix] = {version}` on entry) reproduces the 920 keys in file order, their
 * aliases (the first path that reached a module is canonical) and the 609 `_metadata` entries.
 */
import { StudioError } from '../errors.ts';
import type { StateDict } from '../types.ts';
import type { ModuleMetadata } from './types.ts';

export interface StateDictKeySpec {
  key: string;
  shape: readonly number[];
  dtype: 'float32' | 'int64';
  numel: number;
  kind: 'parameter' | 'buffer';
  /** Canonical key this alias shares its tensor with; null for canonical keys. */
  aliasOf: string | null;
}

interface TensorSpec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int64';
  kind: 'parameter' | 'buffer';
}

/** A module: `_version`, own tensors in `_parameters` then `_buffers` order, `_modules` in order. */
interface ModuleNode {
  version: number;
  tensors: TensorSpec[];
  children: Array<[string, ModuleNode]>;
}

const WIDTH_MULT = 0.0625;
const STEM = Math.floor(128 * WIDTH_MULT); // 8
const C = Math.floor(256 * WIDTH_MULT); // 16
const LEVELS = 6;
/** ConvBlocks per stage layer1..5; the first of each has the stride-2 shortcut. */
const STAGE_BLOCKS = [3, 3, 3, 2, 2];
const FPN_LATERALS = 5;
const FPN_ITM = 4;
/** Level 0 conf: 3 background max-out channels + 1 face (SPEC §1.5). */
const CONF0_OUT = 4;

const node = (version: number, tensors: TensorSpec[], children: Array<[string, ModuleNode]> = []): ModuleNode => ({
  version,
  tensors,
  children,
});
const param = (name: string, shape: number[]): TensorSpec => ({ name, shape, dtype: 'float32', kind: 'parameter' });

/** nn.Sequential: children named 0, 1, 2, ... */
const seq = (...mods: ModuleNode[]): ModuleNode => node(1, [], mods.map((m, i) => [String(i), m]));

const conv = (cin: number, cout: number, k: number, bias = false): ModuleNode =>
  node(1, bias ? [param('weight', [cout, cin, k, k]), param('bias', [cout])] : [param('weight', [cout, cin, k, k])]);

/** BatchNorm2d (`_version = 2`): affine parameters, then running stats. */
const bn = (c: number): ModuleNode =>
  node(2, [
    param('weight', [c]),
    param('bias', [c]),
    { name: 'running_mean', shape: [c], dtype: 'float32', kind: 'buffer' },
    { name: 'running_var', shape: [c], dtype: 'float32', kind: 'buffer' },
    { name: 'num_batches_tracked', shape: [], dtype: 'int64', kind: 'buffer' },
  ]);

const relu = (): ModuleNode => node(1, []);

/** eresfd_16.ConvBlock: `shortcut_layer` is registered before `res_layer` when present. */
function convBlock(withShortcut: boolean): ModuleNode {
  const children: Array<[string, ModuleNode]> = [];
  if (withShortcut) children.push(['shortcut_layer', seq(conv(C, C, 1), bn(C))]);
  children.push(['res_layer', seq(conv(C, C, 3), bn(C), relu(), conv(C, C, 3), bn(C))]);
  return node(1, [], children);
}

/** sepfpn.Conv with BN and ReLU: a module holding `conv = Sequential(conv, BN, ReLU)`. */
const cbr = (k: number): ModuleNode => node(1, [], [['conv', seq(conv(C, C, k), bn(C), relu())]]);

/** sepfpn.FullySepFPN (B-FPGM): `w1` [2, 9], laterals (1x1), itm (3x3), relu1. */
const fpn = (): ModuleNode =>
  node(1, [param('w1', [2, 9])], [
    ['laterals', seq(...Array.from({ length: FPN_LATERALS }, () => cbr(1)))],
    ['itm', seq(...Array.from({ length: FPN_ITM }, () => cbr(3)))],
    ['relu1', relu()],
  ]);

/** eresfd_16.CPM3_BN: branches C→C/2, C/2→C/4→C/4, C/4→C/4→C/4, each conv + BN + ReLU. */
const fem = (): ModuleNode =>
  node(1, [], [
    ['res_branch1', seq(conv(C, C / 2, 3), bn(C / 2), relu())],
    ['res_branch2', seq(conv(C / 2, C / 4, 3), bn(C / 4), relu(), conv(C / 4, C / 4, 3), bn(C / 4), relu())],
    ['res_branch3', seq(conv(C / 4, C / 4, 3), bn(C / 4), relu(), conv(C / 4, C / 4, 3), bn(C / 4), relu())],
  ]);

function buildEResFD(): ModuleNode {
  const stages = STAGE_BLOCKS.map((n) => seq(...Array.from({ length: n }, (_, b) => convBlock(b === 0))));
  const layer6 = fpn();
  const fems = Array.from({ length: LEVELS }, fem);
  const m0 = node(1, [], [
    ...stages.map((s, i): [string, ModuleNode] => [`layer${i + 1}`, s]),
    ['layer6', layer6],
    ...fems.map((f, i): [string, ModuleNode] => [`layer${7 + i}`, f]),
    // Second names of the same module objects (eresfd.py keeps both attribute sets).
    ...stages.map((s, i): [string, ModuleNode] => [`b2_${i + 1}`, s]),
    ['fpn', layer6],
    ...fems.map((f, i): [string, ModuleNode] => [`FEM_${i}`, f]),
  ]);
  const base = node(1, [], [
    ['conv1', seq(conv(3, STEM, 5), bn(STEM))], // no ReLU after conv1 (SPEC §1.3)
    ['conv2', seq(conv(STEM, STEM, 3), bn(STEM), relu())],
    ['conv3', seq(conv(STEM, C, 3), bn(C), relu())],
    ['conv4', convBlock(false)],
    ['m0', m0],
  ]);
  const locs = Array.from({ length: LEVELS }, () => conv(C, 4, 1, true));
  const confs = Array.from({ length: LEVELS }, (_, i) => conv(C, i === 0 ? CONF0_OUT : 2, 1, true));
  const relus = () => seq(...Array.from({ length: LEVELS }, relu));
  return node(1, [], [
    ['base', base],
    ['act_loc', relus()],
    ['act_conf', relus()],
    ['loc', seq(...locs)],
    ['conf', seq(...confs)],
    ...locs.map((m, i): [string, ModuleNode] => [`loc${i}`, m]),
    ...confs.map((m, i): [string, ModuleNode] => [`conf${i}`, m]),
  ]);
}

/** `nn.Module.state_dict()` traversal. */
function walk(root: ModuleNode): { keys: StateDictKeySpec[]; metadata: ModuleMetadata[] } {
  const keys: StateDictKeySpec[] = [];
  const metadata: ModuleMetadata[] = [];
  const firstPrefix = new Map<ModuleNode, string>();
  const visit = (m: ModuleNode, prefix: string): void => {
    metadata.push([prefix, { version: m.version }]);
    const canonical = firstPrefix.get(m);
    if (canonical === undefined) firstPrefix.set(m, prefix);
    const dot = prefix === '' ? '' : `${prefix}.`;
    for (const t of m.tensors) {
      keys.push({
        key: dot + t.name,
        shape: t.shape,
        dtype: t.dtype,
        numel: t.shape.reduce((a, b) => a * b, 1),
        kind: t.kind,
        aliasOf: canonical === undefined ? null : `${canonical === '' ? '' : `${canonical}.`}${t.name}`,
      });
    }
    for (const [name, child] of m.children) visit(child, dot + name);
  };
  visit(root, '');
  return { keys, metadata };
}

const LAYOUT = walk(buildEResFD());

const freeze = <T extends object>(items: T[]): readonly Readonly<T>[] => Object.freeze(items.map((x) => Object.freeze(x)));

/** All 920 keys in `EResFD-original.pth` order, aliases included. */
export const ALL_KEYS_IN_ORDER: readonly Readonly<StateDictKeySpec>[] = freeze(LAYOUT.keys);

/** The 475 canonical keys (a StateDict's keys), in file order. */
export const EXPECTED_KEYS: readonly Readonly<StateDictKeySpec>[] = freeze(LAYOUT.keys.filter((k) => k.aliasOf === null));

/** The 609 `state_dict._metadata` entries torch.save writes for EResFD, in order. */
export const EXPECTED_METADATA: readonly ModuleMetadata[] = Object.freeze(LAYOUT.metadata);

const EXPECTED_BY_KEY: ReadonlyMap<string, Readonly<StateDictKeySpec>> = new Map(EXPECTED_KEYS.map((k) => [k.key, k]));
const ALIAS_TO_CANONICAL: ReadonlyMap<string, string> = new Map(
  ALL_KEYS_IN_ORDER.filter((k) => k.aliasOf !== null).map((k) => [k.key, k.aliasOf!]),
);

/** Canonical key for an alias key (`base.m0.b2_1.0.…` → `base.m0.layer1.0.…`), or the key itself. */
export function canonicalKey(key: string): string {
  return ALIAS_TO_CANONICAL.get(key) ?? key;
}

const LIST_LIMIT = 10;

function listed(title: string, items: string[]): string {
  const shown = items.slice(0, LIST_LIMIT).join(', ');
  const more = items.length > LIST_LIMIT ? `, … and ${items.length - LIST_LIMIT} more` : '';
  return `${items.length} ${title}: ${shown}${more}`;
}

const fmtShape = (s: readonly number[]) => `[${s.join(',')}]`;
const fmtSpec = (spec: Readonly<StateDictKeySpec>) => `${fmtShape(spec.shape)} ${spec.dtype}`;

/**
 * Checks that `sd` holds exactly the 475 canonical EResFD tensors with the expected shapes and
 * dtypes (order is free). Throws CHECKPOINT_ARCHITECTURE naming each offending key with the expected
 * and the found shape/dtype (the first 10 of each list, with counts).
 */
export function validateEResFDStateDict(sd: StateDict): void {
  const missing: string[] = [];
  const unexpected: string[] = [];
  const mismatched: string[] = [];
  for (const spec of EXPECTED_KEYS) if (!sd.has(spec.key)) missing.push(`${spec.key} ${fmtSpec(spec)}`);
  for (const [key, t] of sd) {
    const spec = EXPECTED_BY_KEY.get(key);
    if (!spec) {
      const canonical = ALIAS_TO_CANONICAL.get(key);
      unexpected.push(canonical ? `${key} (alias of ${canonical})` : `${key} ${fmtShape(t.shape)} ${t.dtype}`);
      continue;
    }
    const shapeOk = t.shape.length === spec.shape.length && t.shape.every((d, i) => d === spec.shape[i]);
    const expectedArray = spec.dtype === 'float32' ? Float32Array : BigInt64Array;
    if (!shapeOk || t.dtype !== spec.dtype) {
      mismatched.push(`${key}: expected ${fmtSpec(spec)}, found ${fmtShape(t.shape)} ${t.dtype}`);
    } else if (!(t.data instanceof expectedArray)) {
      mismatched.push(`${key}: expected ${spec.dtype} data, found ${t.data.constructor.name}`);
    } else if (t.data.length !== spec.numel) {
      mismatched.push(`${key} holds ${t.data.length} values, shape ${fmtShape(spec.shape)} needs ${spec.numel}`);
    }
  }
  if (missing.length || unexpected.length || mismatched.length) {
    // A different network altogether (an nn.Linear, a ResNet): say so before the key lists.
    const foreign = missing.length === EXPECTED_KEYS.length ? ` None of its ${sd.size} keys is an EResFD key: this is a different network.` : '';
    const parts = [
      mismatched.length ? listed('shape/dtype mismatches', mismatched) : '',
      missing.length ? listed('missing', missing) : '',
      unexpected.length ? listed('unexpected', unexpected) : '',
    ].filter(Boolean);
    throw new StudioError('CHECKPOINT_ARCHITECTURE', `Not an EResFD (width ${WIDTH_MULT}) state dict.${foreign} ${parts.join('; ')}.`);
  }
}
