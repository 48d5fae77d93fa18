/**
 * EResFD (width 0.0625) as data: every conv with its BN, shape, stride, padding and the module that
 * owns it, in the checkpoint's canonical names (SPEC §1.3, §2, Appendix A). The forward pass, layer
 * groups, FPGM, MAC counts and compaction all read this one table, so they cannot drift apart.
 */

export interface ConvSpec {
  /** Canonical module path of the conv, e.g. `base.m0.layer1.0.res_layer.0`; weight key = `${name}.weight`. */
  name: string;
  /** Module path of the BatchNorm that follows, or null (heads). */
  bn: string | null;
  inChannels: number;
  outChannels: number;
  kernel: number;
  stride: number;
  /** Symmetric explicit padding (TF 'same' pads strided convs asymmetrically: SPEC §2). */
  pad: number;
  bias: boolean;
  /** ReLU after BN. */
  relu: boolean;
  /** Top-level module that owns the conv (`base.conv1`, `base.m0.layer3`, `loc.2`, ...): what groups name. */
  owner: string;
  /** Feature level whose spatial size the conv outputs (0 = stride 4 ... 5 = stride 128 map of layer5). */
  level: number;
  role: 'stem' | 'block' | 'shortcut' | 'lateral' | 'itm' | 'fem' | 'loc' | 'conf';
}

const C = 16;

function cbn(
  name: string,
  bn: string,
  inChannels: number,
  outChannels: number,
  kernel: number,
  stride: number,
  pad: number,
  relu: boolean,
  owner: string,
  level: number,
  role: ConvSpec['role'],
): ConvSpec {
  return { name, bn, inChannels, outChannels, kernel, stride, pad, bias: false, relu, owner, level, role };
}

/** ConvBlock: res_layer.{0,1} (conv s, BN, ReLU) → res_layer.{3,4} (conv, BN); shortcut_layer.{0,1} when needed. */
function convBlock(prefix: string, owner: string, level: number, stride: number, withShortcut: boolean): ConvSpec[] {
  const convs: ConvSpec[] = [];
  // Checkpoint order puts the shortcut first (SPEC §2 "Key order"); forward order is res_layer first.
  if (withShortcut) {
    convs.push(cbn(`${prefix}.shortcut_layer.0`, `${prefix}.shortcut_layer.1`, C, C, 1, stride, 0, false, owner, level, 'shortcut'));
  }
  convs.push(cbn(`${prefix}.res_layer.0`, `${prefix}.res_layer.1`, C, C, 3, stride, 1, true, owner, level, 'block'));
  convs.push(cbn(`${prefix}.res_layer.3`, `${prefix}.res_layer.4`, C, C, 3, 1, 1, false, owner, level, 'block'));
  return convs;
}

/** Number of ConvBlocks in base.m0.layer1..5. */
export const STAGE_BLOCKS = [3, 3, 3, 2, 2] as const;

function buildConvs(): ConvSpec[] {
  const convs: ConvSpec[] = [
    cbn('base.conv1.0', 'base.conv1.1', 3, 8, 5, 4, 2, false, 'base.conv1', 0, 'stem'),
    cbn('base.conv2.0', 'base.conv2.1', 8, 8, 3, 1, 1, true, 'base.conv2', 0, 'stem'),
    cbn('base.conv3.0', 'base.conv3.1', 8, C, 3, 1, 1, true, 'base.conv3', 0, 'stem'),
    ...convBlock('base.conv4', 'base.conv4', 0, 1, false),
  ];
  STAGE_BLOCKS.forEach((blocks, s) => {
    const owner = `base.m0.layer${s + 1}`;
    for (let b = 0; b < blocks; b++) convs.push(...convBlock(`${owner}.${b}`, owner, s + 1, b === 0 ? 2 : 1, b === 0));
  });
  const fpn = 'base.m0.layer6';
  for (let i = 0; i < 5; i++) {
    convs.push(cbn(`${fpn}.laterals.${i}.conv.0`, `${fpn}.laterals.${i}.conv.1`, C, C, 1, 1, 0, true, fpn, i, 'lateral'));
  }
  for (let i = 0; i < 4; i++) {
    // itm.0..2 refine P1..P3; itm.3 refines h0, which sits at c4's size.
    convs.push(cbn(`${fpn}.itm.${i}.conv.0`, `${fpn}.itm.${i}.conv.1`, C, C, 3, 1, 1, true, fpn, i + 1, 'itm'));
  }
  for (let f = 0; f < 6; f++) {
    const owner = `base.m0.layer${7 + f}`;
    const level = Math.min(f, 4); // FEM_5 works on P5' = L4 (stride 64).
    const fem = (branch: string, i: number, cin: number, cout: number): ConvSpec =>
      cbn(`${owner}.${branch}.${i}`, `${owner}.${branch}.${i + 1}`, cin, cout, 3, 1, 1, true, owner, level, 'fem');
    convs.push(fem('res_branch1', 0, C, C / 2));
    convs.push(fem('res_branch2', 0, C / 2, C / 4), fem('res_branch2', 3, C / 4, C / 4));
    convs.push(fem('res_branch3', 0, C / 4, C / 4), fem('res_branch3', 3, C / 4, C / 4));
  }
  for (let i = 0; i < 6; i++) {
    const level = Math.min(i, 4);
    convs.push({ name: `loc.${i}`, bn: null, inChannels: C, outChannels: 4, kernel: 1, stride: 1, pad: 0, bias: true, relu: false, owner: `loc.${i}`, level, role: 'loc' });
    convs.push({ name: `conf.${i}`, bn: null, inChannels: C, outChannels: i === 0 ? 4 : 2, kernel: 1, stride: 1, pad: 0, bias: true, relu: false, owner: `conf.${i}`, level, role: 'conf' });
  }
  return convs;
}

/** All 87 convs. Order: checkpoint order for the body, then loc/conf pairs per level. */
export const CONVS: readonly ConvSpec[] = Object.freeze(buildConvs());

export const CONV_BY_NAME: ReadonlyMap<string, ConvSpec> = new Map(CONVS.map((c) => [c.name, c]));

export function conv(name: string): ConvSpec {
  const c = CONV_BY_NAME.get(name);
  if (!c) throw new Error(`unknown conv ${name}`);
  return c;
}

/** Spatial size after a 3x3/p1 or 1x1/p0 stride-2 conv, which agree (SPEC §1.3). */
const half = (n: number): number => Math.floor((n - 1) / 2) + 1;

/**
 * Map sizes [h, w] of c0..c5 for an input of H×W: conv1 (k5, s4, p2) then five stride-2 stages.
 * Heads see c0..c4 and, for level 5, c4's size again (P5' = L4).
 */
export function featureSizes(height: number, width: number): Array<[number, number]> {
  const sizes: Array<[number, number]> = [[Math.floor((height - 1) / 4) + 1, Math.floor((width - 1) / 4) + 1]];
  for (let s = 1; s <= 5; s++) {
    const [h, w] = sizes[s - 1]!;
    sizes.push([half(h), half(w)]);
  }
  return sizes;
}

/** Head map sizes per output level (levels 4 and 5 share c4's size). */
export function headSizes(height: number, width: number): Array<[number, number]> {
  const f = featureSizes(height, width);
  return [f[0]!, f[1]!, f[2]!, f[3]!, f[4]!, f[4]!];
}

/** Multiply-accumulates of one conv at an input of H×W (the dead layer5 included, as in SPEC §1.8). */
export function convMacs(spec: ConvSpec, height: number, width: number, inChannels = spec.inChannels, outChannels = spec.outChannels): number {
  const [h, w] = featureSizes(height, width)[spec.level]!;
  return h * w * outChannels * inChannels * spec.kernel * spec.kernel;
}

export function totalMacs(height: number, width: number): number {
  return CONVS.reduce((s, c) => s + convMacs(c, height, width), 0);
}

const BUFFER_SUFFIXES = ['.running_mean', '.running_var', '.num_batches_tracked'];

/** A learned parameter of the state dict, not a BN buffer (running statistics, batch counter). */
export function isParameterKey(key: string): boolean {
  return !BUFFER_SUFFIXES.some((s) => key.endsWith(s));
}
