/**
 * The EResFD inference graph as data (values and nodes), for channel-level reasoning. Mirrors the
 * wiring of `model/eresfd/graph.ts` `runGraph` exactly (B-FPGM FPN quirks, SPEC §1.2–1.5) except the
 * dead `layer5`, which inference never runs. runGraph executes tensors; this only records which
 * channel of which value feeds what, so compaction and the compacted-model validator share one
 * description of "who consumes whom". If runGraph's wiring changes, this file must change with it
 * (the compaction tests compare both end to end).
 */
import { CONV_BY_NAME, STAGE_BLOCKS, type ConvSpec } from '../model/eresfd/architecture.ts';

export { fusionCoefficients } from '../model/eresfd/graph.ts';

export interface GraphValue {
  id: string;
  width: number;
  /** Index of the node that produces the value; -1 for the network input. */
  producer: number;
  /** Human label used in reports (`base.m0.layer2 residual stream`, `FPN P3`, a conv name, ...). */
  label: string;
}

export interface ConvNode {
  kind: 'conv';
  spec: ConvSpec;
  input: number;
  output: number;
}

/**
 * out = a·in0 + b·in1, channel by channel: residual adds (a = b = 1) and the FPN's normalised
 * weighted fusions `td`/`agg` (column `fuse` of `w1`).
 */
export interface SumNode {
  kind: 'sum';
  inputs: [number, number];
  /** FPN fusion column j of `w1`, or null for a residual add. */
  fuse: number | null;
  output: number;
}

/** FEM output: channels of the inputs at consecutive offsets. */
export interface ConcatNode {
  kind: 'concat';
  inputs: number[];
  output: number;
}

/** Channel-preserving ops: nearest resize (values unchanged) and the heads' ReLU. */
export interface ViewNode {
  kind: 'view';
  op: 'resize' | 'relu';
  input: number;
  output: number;
}

export type GraphNode = ConvNode | SumNode | ConcatNode | ViewNode;

export interface InferenceGraph {
  values: GraphValue[];
  /** In forward order (every input is produced before it is consumed). */
  nodes: GraphNode[];
  valueIndex: Map<string, number>;
  /** Conv name → node, for every conv the inference runs (all but base.m0.layer5). */
  convs: Map<string, ConvNode>;
  /** Values that are network outputs (head maps): never removable. */
  outputs: number[];
}

const spec = (name: string): ConvSpec => CONV_BY_NAME.get(name)!;

/** Convs the inference graph runs: everything but the dead layer5 (SPEC §1.4 quirk). */
export function isInferenceConv(s: ConvSpec): boolean {
  return s.owner !== 'base.m0.layer5';
}

function build(): InferenceGraph {
  const values: GraphValue[] = [];
  const nodes: GraphNode[] = [];
  const valueIndex = new Map<string, number>();
  const convs = new Map<string, ConvNode>();
  const value = (id: string, width: number, label: string): number => {
    if (valueIndex.has(id)) throw new Error(`duplicate value ${id}`);
    values.push({ id, width, producer: nodes.length, label });
    valueIndex.set(id, values.length - 1);
    return values.length - 1;
  };
  const convBn = (name: string, input: number): number => {
    const s = spec(name);
    if (values[input]!.width !== s.inChannels) throw new Error(`${name}: input ${values[input]!.id} has ${values[input]!.width} channels`);
    const output = value(name, s.outChannels, name);
    const node: ConvNode = { kind: 'conv', spec: s, input, output };
    nodes.push(node);
    convs.set(name, node);
    return output;
  };
  const sum = (id: string, label: string, a: number, b: number, fuse: number | null): number => {
    const output = value(id, values[a]!.width, label);
    nodes.push({ kind: 'sum', inputs: [a, b], fuse, output });
    return output;
  };
  const view = (id: string, op: ViewNode['op'], input: number): number => {
    const output = value(id, values[input]!.width, values[input]!.label);
    nodes.push({ kind: 'view', op, input, output });
    return output;
  };

  values.push({ id: 'input', width: 3, producer: -1, label: 'input image' });
  valueIndex.set('input', 0);

  // Stem and conv4 (identity shortcut): mirrors runGraph's first lines and convBlock().
  const block = (prefix: string, owner: string, x: number, withShortcut: boolean): number => {
    const y = convBn(`${prefix}.res_layer.3`, convBn(`${prefix}.res_layer.0`, x));
    const shortcut = withShortcut ? convBn(`${prefix}.shortcut_layer.0`, x) : x;
    return sum(prefix, `${owner} residual stream`, y, shortcut, null);
  };
  let c = convBn('base.conv1.0', 0);
  c = convBn('base.conv2.0', c);
  c = convBn('base.conv3.0', c);
  const sources = [block('base.conv4', 'base.conv4', c, false)];
  for (let s = 1; s <= 4; s++) {
    let y = sources[s - 1]!;
    for (let b = 0; b < STAGE_BLOCKS[s - 1]!; b++) y = block(`base.m0.layer${s}.${b}`, `base.m0.layer${s}`, y, b === 0);
    sources.push(y);
  }

  // FPN (B-FPGM wiring, SPEC §1.4): h0 = td(L4, L4); P3 = td(L3, up(c4)); agg with c_i.
  const fpn = 'base.m0.layer6';
  const lat = sources.map((src, i) => convBn(`${fpn}.laterals.${i}.conv.0`, src));
  const h0 = sum('fpn.h0', 'FPN h0', lat[4]!, lat[4]!, 4);
  const p3 = sum('fpn.P3', 'FPN P3', lat[3]!, view('fpn.up(c4)', 'resize', sources[4]!), 3);
  const p2 = sum('fpn.P2', 'FPN P2', lat[2]!, view('fpn.up(P3)', 'resize', p3), 2);
  const p1 = sum('fpn.P1', 'FPN P1', lat[1]!, view('fpn.up(P2)', 'resize', p2), 1);
  const p0 = sum('fpn.P0', 'FPN P0', lat[0]!, view('fpn.up(P1)', 'resize', p1), 0);
  const q1 = sum("fpn.P1'", "FPN P1'", convBn(`${fpn}.itm.0.conv.0`, p1), sources[1]!, 5);
  const q2 = sum("fpn.P2'", "FPN P2'", convBn(`${fpn}.itm.1.conv.0`, p2), sources[2]!, 6);
  const q3 = sum("fpn.P3'", "FPN P3'", convBn(`${fpn}.itm.2.conv.0`, p3), sources[3]!, 7);
  const q4 = sum("fpn.P4'", "FPN P4'", convBn(`${fpn}.itm.3.conv.0`, h0), sources[4]!, 8);
  const pyramid = [p0, q1, q2, q3, q4, lat[4]!];

  const outputs: number[] = [];
  pyramid.forEach((p, f) => {
    const m = `base.m0.layer${7 + f}`;
    const r1 = convBn(`${m}.res_branch1.0`, p);
    const r2 = convBn(`${m}.res_branch2.3`, convBn(`${m}.res_branch2.0`, r1));
    const r3 = convBn(`${m}.res_branch3.3`, convBn(`${m}.res_branch3.0`, r2));
    const s = value(`fem.${f}`, values[r1]!.width + values[r2]!.width + values[r3]!.width, `FEM_${f} output`);
    nodes.push({ kind: 'concat', inputs: [r1, r2, r3], output: s });
    const a = view(`head-input.${f}`, 'relu', s);
    outputs.push(convBn(`loc.${f}`, a), convBn(`conf.${f}`, a));
  });
  return { values, nodes, valueIndex, convs, outputs };
}

let cached: InferenceGraph | null = null;

/** The (immutable, shared) inference graph. */
export function inferenceGraph(): InferenceGraph {
  cached ??= build();
  return cached;
}

/** Spatial output size of a conv for an input of h×w (explicit symmetric padding). */
export function convOutputSize(s: ConvSpec, h: number, w: number): [number, number] {
  return [Math.floor((h + 2 * s.pad - s.kernel) / s.stride) + 1, Math.floor((w + 2 * s.pad - s.kernel) / s.stride) + 1];
}
