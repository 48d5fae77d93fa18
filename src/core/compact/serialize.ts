/**
 * Compacted EResFD on disk, laid out like a TF.js model (`model.json` + `group1-shard1of1.bin`,
 * float32 little-endian, weights in `weightsManifest` order) so it travels with the usual tooling.
 * The topology is our own (per-conv kept channel lists over the EResFD graph), not a TF.js layers or
 * graph model: it loads with loadCompacted, not tf.loadGraphModel / tf.loadLayersModel.
 * The same manifest + blob pair is what the studio stores and re-imports.
 */
import { StudioError } from '../errors.ts';
import { CONV_BY_NAME } from '../model/eresfd/architecture.ts';
import type { BorderStrategy } from './channel-dependencies.ts';
import { BORDER_STRATEGIES } from './channel-dependencies.ts';
import { createCompactedModel, type CompactedModel } from './compacted-model.ts';
import type { CompactConv, CompactWeights } from './fold.ts';
import { inferenceGraph } from './inference-graph.ts';

export const COMPACT_FORMAT = 'bfpgm-compact-eresfd';
export const COMPACT_FORMAT_VERSION = 1;
export const COMPACT_MODEL_FILE = 'model.json';
export const COMPACT_WEIGHTS_FILE = 'group1-shard1of1.bin';

export interface CompactConvTopology {
  name: string;
  keptIn: number[];
  keptOut: number[];
  dead: boolean;
  /** Whether a `border` weight (bias-map taps) follows the conv's filter and bias. */
  border: boolean;
}

export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: 'float32';
}

export interface CompactManifest {
  format: typeof COMPACT_FORMAT;
  formatVersion: number;
  generatedBy: string;
  convertedBy: null;
  modelTopology: {
    /** EResFD width 0.0625 with the B-FPGM FPN wiring (SPEC §1). */
    architecture: 'EResFD-0.0625-bfpgm';
    /** Checkpoint the model was compacted from. */
    source: string;
    strategy: BorderStrategy;
    convs: CompactConvTopology[];
  };
  weightsManifest: Array<{ paths: string[]; weights: WeightEntry[] }>;
}

const W1 = 'base.m0.layer6.w1';

function entries(weights: CompactWeights): Array<{ entry: WeightEntry; data: Float32Array }> {
  const out: Array<{ entry: WeightEntry; data: Float32Array }> = [];
  for (const c of weights.convs) {
    if (c.dead) continue;
    const k = CONV_BY_NAME.get(c.name)!.kernel;
    const nIn = c.keptIn.length, nOut = c.keptOut.length;
    out.push({ entry: { name: `${c.name}/filter`, shape: [k, k, nIn, nOut], dtype: 'float32' }, data: c.filter });
    out.push({ entry: { name: `${c.name}/bias`, shape: [nOut], dtype: 'float32' }, data: c.bias });
    if (c.border) out.push({ entry: { name: `${c.name}/border`, shape: [k, k, 1, nOut], dtype: 'float32' }, data: c.border });
  }
  out.push({ entry: { name: W1, shape: [2, 9], dtype: 'float32' }, data: weights.w1 });
  return out;
}

export function serializeCompacted(model: CompactedModel | CompactWeights): { manifest: CompactManifest; weights: Uint8Array } {
  const w = 'kind' in model ? model.weights : model;
  const list = entries(w);
  const total = list.reduce((s, e) => s + e.data.length, 0);
  const bytes = new Uint8Array(total * 4);
  const view = new DataView(bytes.buffer);
  let off = 0;
  for (const { data } of list) {
    for (let i = 0; i < data.length; i++, off += 4) view.setFloat32(off, data[i]!, true);
  }
  const manifest: CompactManifest = {
    format: COMPACT_FORMAT,
    formatVersion: COMPACT_FORMAT_VERSION,
    generatedBy: 'B-FPGM Pruning Studio (compact)',
    convertedBy: null,
    modelTopology: {
      architecture: 'EResFD-0.0625-bfpgm',
      source: w.source,
      strategy: w.strategy,
      convs: w.convs.map((c) => ({ name: c.name, keptIn: [...c.keptIn], keptOut: [...c.keptOut], dead: c.dead, border: !!c.border })),
    },
    weightsManifest: [{ paths: [COMPACT_WEIGHTS_FILE], weights: list.map((e) => e.entry) }],
  };
  return { manifest, weights: bytes };
}

const bad = (message: string): StudioError => new StudioError('COMPACT_FORMAT', message);

const sameList = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);

function checkIndexList(list: unknown, width: number, what: string): number[] {
  if (!Array.isArray(list) || !list.every((v, i) => Number.isInteger(v) && v >= 0 && v < width && (i === 0 || v > list[i - 1]))) {
    throw bad(`${what} must be ascending channel indices below ${width}`);
  }
  return list as number[];
}

/**
 * Checks that the kept channel lists fit together the way runGraph combines tensors: each conv reads
 * exactly the channels its input keeps, both operands of every add/fusion keep the same channels,
 * and the heads keep all outputs.
 */
export function validateCompactTopology(convs: ReadonlyArray<Pick<CompactConvTopology, 'name' | 'keptIn' | 'keptOut' | 'dead'>>): void {
  const graph = inferenceGraph();
  const byName = new Map(convs.map((c) => [c.name, c]));
  if (byName.size !== convs.length) throw bad('a conv is listed twice');
  for (const c of convs) if (!graph.convs.has(c.name)) throw bad(`unknown or non-inference conv ${c.name}`);
  const live: number[][] = graph.values.map(() => []);
  live[0] = [0, 1, 2];
  for (const node of graph.nodes) {
    if (node.kind === 'conv') {
      const c = byName.get(node.spec.name);
      if (!c) throw bad(`conv ${node.spec.name} is missing`);
      const keptIn = checkIndexList(c.keptIn, node.spec.inChannels, `${c.name} keptIn`);
      const keptOut = checkIndexList(c.keptOut, node.spec.outChannels, `${c.name} keptOut`);
      if (!sameList(keptIn, live[node.input]!)) throw bad(`${c.name} keeps input channels [${keptIn}] but its input keeps [${live[node.input]}]`);
      if (node.spec.bn === null && keptOut.length !== node.spec.outChannels) throw bad(`head ${c.name} must keep all outputs`);
      live[node.output] = keptOut;
    } else if (node.kind === 'sum') {
      const [a, b] = node.inputs.map((v) => live[v]!);
      if (!sameList(a!, b!)) throw bad(`the operands of ${graph.values[node.output]!.label} keep different channels`);
      live[node.output] = a!;
    } else if (node.kind === 'concat') {
      let off = 0;
      const out: number[] = [];
      for (const v of node.inputs) {
        out.push(...live[v]!.map((k) => k + off));
        off += graph.values[v]!.width;
      }
      live[node.output] = out;
    } else {
      live[node.output] = live[node.input]!;
    }
  }
}

export function loadCompacted(manifest: unknown, weights: Uint8Array): CompactedModel {
  return createCompactedModel(readCompacted(manifest, weights));
}

/** Parses and validates manifest + blob into host weights (no TF.js tensors yet). */
export function readCompacted(manifest: unknown, weights: Uint8Array): CompactWeights {
  const m = manifest as Partial<CompactManifest> | null;
  if (!m || typeof m !== 'object' || m.format !== COMPACT_FORMAT) throw bad(`not a compacted EResFD (format must be '${COMPACT_FORMAT}')`);
  if (m.formatVersion !== COMPACT_FORMAT_VERSION) throw bad(`format version ${String(m.formatVersion)} is not supported (expected ${COMPACT_FORMAT_VERSION})`);
  const topo = m.modelTopology;
  if (!topo || topo.architecture !== 'EResFD-0.0625-bfpgm' || !Array.isArray(topo.convs)) throw bad('modelTopology is missing or not EResFD-0.0625-bfpgm');
  if (!BORDER_STRATEGIES.includes(topo.strategy)) throw bad(`unknown strategy ${String(topo.strategy)}`);
  validateCompactTopology(topo.convs);
  const groups = m.weightsManifest;
  if (!Array.isArray(groups) || groups.length !== 1 || !Array.isArray(groups[0]?.weights)) throw bad('weightsManifest must hold one group');

  const view = new DataView(weights.buffer, weights.byteOffset, weights.byteLength);
  const tensors = new Map<string, Float32Array>();
  let off = 0;
  for (const e of groups[0].weights) {
    if (e.dtype !== 'float32' || !Array.isArray(e.shape)) throw bad(`weight ${e.name}: only float32 is supported`);
    const n = e.shape.reduce((s, d) => s * d, 1);
    if (!Number.isInteger(n) || n < 0 || off + 4 * n > weights.byteLength) throw bad(`weight ${e.name} runs past the end of the ${weights.byteLength}-byte blob`);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++, off += 4) data[i] = view.getFloat32(off, true);
    tensors.set(e.name, data);
  }
  if (off !== weights.byteLength) throw bad(`the blob has ${weights.byteLength - off} bytes the manifest does not describe`);

  const take = (name: string, length: number): Float32Array => {
    const t = tensors.get(name);
    if (!t) throw bad(`weight ${name} is missing`);
    if (t.length !== length) throw bad(`weight ${name} has ${t.length} values, expected ${length}`);
    return t;
  };
  const convs: CompactConv[] = topo.convs.map((c) => {
    if (c.dead) return { name: c.name, dead: true, keptIn: c.keptIn, keptOut: c.keptOut, filter: new Float32Array(0), bias: new Float32Array(0), border: null };
    const k = CONV_BY_NAME.get(c.name)!.kernel;
    const nIn = c.keptIn.length, nOut = c.keptOut.length;
    return {
      name: c.name,
      dead: false,
      keptIn: c.keptIn,
      keptOut: c.keptOut,
      filter: take(`${c.name}/filter`, k * k * nIn * nOut),
      bias: take(`${c.name}/bias`, nOut),
      border: c.border ? take(`${c.name}/border`, k * k * nOut) : null,
    };
  });
  // Keep the graph's conv order whatever order the manifest lists them in.
  const order = [...inferenceGraph().convs.keys()];
  convs.sort((a, b) => order.indexOf(a.name) - order.indexOf(b.name));
  return { source: String(topo.source ?? ''), strategy: topo.strategy, convs, w1: take(W1, 18) };
}
