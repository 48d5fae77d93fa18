/**
 * Which channels of a B-FPGM-pruned EResFD can be physically removed. B-FPGM zeroes whole filters
 * (SPEC §3.3); with eval-mode BN a zero filter's channel is not zero but the constant
 * act(β − mean·γ/√(var+eps)) (SPEC §3.4/§3.5), so a channel can go only if every tensor it is
 * part of is constant and every consumer can absorb that constant exactly.
 *
 * Channels are tied together by the graph (inference-graph.ts, mirroring runGraph):
 *   - residual adds: both branches and the sum share the channel (identity shortcuts in conv4 and
 *     in blocks 2/3 of each stage make a whole stage's residual stream one coupled set);
 *   - the FPN's weighted sums `td`/`agg` tie L_i, P_i, P_{i+1} and c4 (top-down path) and itm_i
 *     with c_i (aggregation), again per channel;
 *   - the FEM concat maps each branch's channel k to its offset in the head input.
 * A coupled set is removed whole or not at all, so every tensor of the graph keeps its channels
 * in ascending original order and the compacted model can run the unchanged runGraph. An FPN term
 * whose fusion weight is 0 (B-FPGM's h0, and P4' in some checkpoints) is still coupled, because
 * runGraph multiplies it by 0 and needs matching shapes; it just constrains nothing.
 *
 * Absorbing a constant c of input channel k into a consumer conv is exact when c = 0, when the conv
 * has no padding (1x1 laterals, shortcuts and heads: bias += c·ΣW), or when its weights on k are all
 * zero. A non-zero constant into a zero-padded 3x3 conv contributes only through the in-bounds taps
 * at the borders. Strategy 'carrier' (default) keeps one constant channel of such a tensor and folds
 * the other removed constants onto it, or else uses a bias map; 'bias-map' always uses a
 * per-input-size bias map (fold.ts); 'keep' keeps such channels. All three are exact.
 */
import type { StateDict } from '../types.ts';
import { convMacs } from '../model/eresfd/architecture.ts';
import { inferenceGraph, fusionCoefficients, type ConvNode, type InferenceGraph } from './inference-graph.ts';
import { foldNetwork, type FoldedNetwork } from '../model/eresfd/eresfd.ts';

/** How non-zero constants into zero-padded convs are handled (see the file header). */
export type BorderStrategy = 'carrier' | 'bias-map' | 'keep';

export const BORDER_STRATEGIES: readonly BorderStrategy[] = ['carrier', 'bias-map', 'keep'];

export const DEFAULT_BORDER_STRATEGY: BorderStrategy = 'carrier';

/**
 * Cost of a bias map in MACs per output element: on WASM (XNNPACK) the unfused conv, the map add
 * and the separate ReLU cost ~2.5–3 ns per output element, a MAC ~0.08 ns (measured at 480×640).
 */
const MAP_COST_PER_OUTPUT = 30;

/**
 * Output-channel tile of the carrier cost model. XNNPACK (WASM) computes output channels in tiles
 * of 8, so one more channel inside a tile is nominally free, but measured at 480×640 a tile-aware
 * model (8) was not faster than plain MACs (1), which is simpler and backend-neutral.
 */
export const DEFAULT_OUTPUT_TILE = 1;

/** Smallest |constant| a carrier may have (its float32 rounding is divided by it when folding). */
const CARRIER_MIN_ABS = 1e-3;

export interface ChannelSet {
  /** Tensors of the set, e.g. `base.m0.layer2 residual stream, FPN P2'`, or the producing conv. */
  name: string;
  /** Channel index inside the named tensor. */
  channel: number;
  /** Every tensor channel of the set, `value[k]`. */
  members: string[];
  /** Producer convs (of needed tensors) whose filter for this channel is all zero / not all zero. */
  zeroFilters: string[];
  nonZeroFilters: string[];
  removable: boolean;
  /** Why the set stays (or what makes it removable). */
  reason: string;
  /** MACs at 480×640 of zero filters in the set that still run because the set stays. */
  wastedMacs: number;
}

export interface ConvChannels {
  name: string;
  /** The conv's output is never used (e.g. itm.3 when its FPN fusion weight is 0). */
  dead: boolean;
  /** Input / output channels the compacted conv keeps, ascending original indices. */
  keptIn: number[];
  keptOut: number[];
  /** Output filters that are all zero after BN folding. */
  zeroFilters: number[];
}

export interface ChannelAnalysis {
  strategy: BorderStrategy;
  graph: InferenceGraph;
  folded: FoldedNetwork;
  /** FPN fusion coefficients (a, b) per `w1` column. */
  coefficients: Array<[number, number]>;
  /** Per graph value: each channel's constant, NaN where the channel varies. */
  constants: Float64Array[];
  /** Per graph value: whether any network output depends on it. */
  needed: boolean[];
  /** Per graph value: kept channels, ascending. */
  live: number[][];
  /**
   * Per graph value: the kept constant channel its padded consumers fold removed constants onto
   * (strategy 'carrier'), or null (then they use a bias map if they need one).
   */
  carriers: Array<number | null>;
  convs: Map<string, ConvChannels>;
  /** Coupled channel sets that contain a zero filter or are removable. */
  sets: ChannelSet[];
}

export interface AnalyzeOptions {
  strategy?: BorderStrategy;
  /** Reuse a folded network (fold.ts foldNetwork) instead of folding the state dict again. */
  folded?: FoldedNetwork;
  /**
   * Strategy 'carrier' cost model: output channels a conv kernel computes per tile (1 = count plain
   * MACs, the default; 8 = XNNPACK's tile on WASM).
   */
  outputTile?: number;
}

class UnionFind {
  private readonly parent: Int32Array;
  constructor(n: number) {
    this.parent = Int32Array.from({ length: n }, (_, i) => i);
  }
  find(a: number): number {
    let r = a;
    while (this.parent[r] !== r) r = this.parent[r]!;
    while (this.parent[a] !== r) {
      const next = this.parent[a]!;
      this.parent[a] = r;
      a = next;
    }
    return r;
  }
  union(a: number, b: number): void {
    const ra = this.find(a), rb = this.find(b);
    if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb);
  }
}

/** Whether filter o of a folded HWIO conv is all zero. */
export function isZeroFilter(filter: Float32Array, taps: number, inChannels: number, outChannels: number, o: number): boolean {
  for (let t = 0; t < taps * inChannels; t++) if (filter[t * outChannels + o] !== 0) return false;
  return true;
}

/** Σ over taps of W[·, i, ·, o], and whether any tap is non-zero. */
function tapSum(filter: Float32Array, taps: number, inChannels: number, outChannels: number, i: number, o: number): { sum: number; any: boolean } {
  let sum = 0;
  let any = false;
  for (let t = 0; t < taps; t++) {
    const w = filter[(t * inChannels + i) * outChannels + o]!;
    if (w !== 0) {
      any = true;
      sum += w;
    }
  }
  return { sum, any };
}

function propagateConstants(graph: InferenceGraph, folded: FoldedNetwork, coefficients: Array<[number, number]>): Float64Array[] {
  const constants = graph.values.map((v) => new Float64Array(v.width).fill(NaN));
  for (const node of graph.nodes) {
    const out = constants[node.output]!;
    switch (node.kind) {
      case 'conv': {
        const { spec } = node;
        const f = folded.get(spec.name)!;
        const taps = spec.kernel * spec.kernel;
        const cin = constants[node.input]!;
        for (let o = 0; o < spec.outChannels; o++) {
          // Constant iff every input channel the filter reads is constant and, when the conv pads,
          // zero (a padded conv of a non-zero constant varies at the borders).
          let acc = f.bias[o]!;
          for (let i = 0; i < spec.inChannels && !Number.isNaN(acc); i++) {
            const { sum, any } = tapSum(f.filter, taps, spec.inChannels, spec.outChannels, i, o);
            if (!any) continue;
            const c = cin[i]!;
            if (Number.isNaN(c) || (c !== 0 && spec.pad > 0)) acc = NaN;
            else acc += sum * c;
          }
          out[o] = spec.relu ? Math.max(acc, 0) : acc;
        }
        break;
      }
      case 'sum': {
        const [a, b] = node.fuse === null ? [1, 1] : coefficients[node.fuse]!;
        const ca = constants[node.inputs[0]]!, cb = constants[node.inputs[1]]!;
        for (let k = 0; k < out.length; k++) out[k] = (a !== 0 ? a * ca[k]! : 0) + (b !== 0 ? b * cb[k]! : 0);
        break;
      }
      case 'concat': {
        let off = 0;
        for (const v of node.inputs) {
          out.set(constants[v]!, off);
          off += constants[v]!.length;
        }
        break;
      }
      case 'view': {
        const cin = constants[node.input]!;
        for (let k = 0; k < out.length; k++) out[k] = node.op === 'relu' ? Math.max(cin[k]!, 0) : cin[k]!;
        break;
      }
    }
  }
  return constants;
}

function neededValues(graph: InferenceGraph, coefficients: Array<[number, number]>): boolean[] {
  const needed = graph.values.map(() => false);
  for (const v of graph.outputs) needed[v] = true;
  for (let n = graph.nodes.length - 1; n >= 0; n--) {
    const node = graph.nodes[n]!;
    if (!needed[node.output]) continue;
    if (node.kind === 'sum') {
      const coeff = node.fuse === null ? [1, 1] : coefficients[node.fuse]!;
      node.inputs.forEach((v, j) => {
        if (coeff[j] !== 0) needed[v] = true;
      });
    } else if (node.kind === 'concat') {
      for (const v of node.inputs) needed[v] = true;
    } else {
      needed[node.input] = true;
    }
  }
  return needed;
}

export function analyzeChannels(stateDict: StateDict, options: AnalyzeOptions = {}): ChannelAnalysis {
  const strategy = options.strategy ?? DEFAULT_BORDER_STRATEGY;
  const tile = options.outputTile ?? DEFAULT_OUTPUT_TILE;
  const graph = inferenceGraph();
  const folded = options.folded ?? foldNetwork(stateDict);
  const w1 = stateDict.get('base.m0.layer6.w1');
  if (!w1) throw new Error('state dict has no base.m0.layer6.w1');
  const coefficients = fusionCoefficients(w1.data as Float32Array);
  const constants = propagateConstants(graph, folded, coefficients);
  const needed = neededValues(graph, coefficients);

  // One element per (value, channel).
  const base: number[] = [];
  let total = 0;
  for (const v of graph.values) {
    base.push(total);
    total += v.width;
  }
  const uf = new UnionFind(total);
  const consumers: ConvNode[][] = graph.values.map(() => []);
  for (const node of graph.nodes) {
    const o = base[node.output]!;
    if (node.kind === 'conv') {
      if (needed[node.output]) consumers[node.input]!.push(node);
    } else if (node.kind === 'sum') {
      // Zero-weight operands are coupled too: runGraph still multiplies them (by 0), so their
      // width must match; they constrain nothing (not needed), see `needed`.
      for (const v of node.inputs) for (let k = 0; k < graph.values[v]!.width; k++) uf.union(o + k, base[v]! + k);
    } else if (node.kind === 'concat') {
      let off = 0;
      for (const v of node.inputs) {
        for (let k = 0; k < graph.values[v]!.width; k++) uf.union(o + off + k, base[v]! + k);
        off += graph.values[v]!.width;
      }
    } else {
      for (let k = 0; k < graph.values[node.input]!.width; k++) uf.union(o + k, base[node.input]! + k);
    }
  }
  const pinned = new Set<number>();
  for (const v of [0, ...graph.outputs]) for (let k = 0; k < graph.values[v]!.width; k++) pinned.add(uf.find(base[v]! + k));

  const members = new Map<number, Array<[number, number]>>();
  graph.values.forEach((v, vi) => {
    for (let k = 0; k < v.width; k++) {
      const r = uf.find(base[vi]! + k);
      let list = members.get(r);
      if (!list) members.set(r, (list = []));
      list.push([vi, k]);
    }
  });

  const zeroFilterSets = new Map<string, Set<number>>();
  for (const [name, node] of graph.convs) {
    const s = node.spec;
    const f = folded.get(name)!;
    const zeros = new Set<number>();
    for (let o = 0; o < s.outChannels; o++) if (isZeroFilter(f.filter, s.kernel * s.kernel, s.inChannels, s.outChannels, o)) zeros.add(o);
    zeroFilterSets.set(name, zeros);
  }

  /** Whether consumer conv `node` reads input channel k at all. */
  const reads = (node: ConvNode, k: number): boolean => {
    const s = node.spec;
    const f = folded.get(s.name)!;
    for (let o = 0; o < s.outChannels; o++) if (tapSum(f.filter, s.kernel * s.kernel, s.inChannels, s.outChannels, k, o).any) return true;
    return false;
  };

  /** Why element (v, k) blocks removal of its set, or null. */
  const blocker = (v: number, k: number): string | null => {
    if (!needed[v]) return null;
    const c = constants[v]![k]!;
    if (Number.isNaN(c)) return 'varies';
    if (c === 0 || strategy !== 'keep') return null;
    for (const node of consumers[v]!) {
      if (node.spec.pad === 0 || !reads(node, k)) continue;
      const s = node.spec;
      return `its constant ${c.toPrecision(4)} in ${graph.values[v]!.label}[${k}] feeds the zero-padded ${s.kernel}x${s.kernel} conv ${s.name}, whose border taps would change (strategy 'keep')`;
    }
    return null;
  };

  const blockers = new Map<number, string>();
  const removedRoots = new Set<number>();
  for (const [root, elems] of members) {
    if (pinned.has(root)) continue;
    let reason: string | null = null;
    for (const [v, k] of elems) {
      reason = blocker(v, k);
      if (reason) break;
    }
    if (reason) blockers.set(root, reason);
    else removedRoots.add(root);
  }
  const isRemoved = (v: number, k: number): boolean => removedRoots.has(uf.find(base[v]! + k));

  const carriers: Array<number | null> = graph.values.map(() => null);
  const carrierRoots = new Set<number>();
  if (strategy === 'carrier') chooseCarriers();

  /**
   * Strategy 'carrier': a tensor whose removed non-zero constants feed zero-padded convs keeps one
   * constant channel (the carrier, value c_T, zero-padded like the removed ones), and the consumers
   * fold W·c_k/c_T of every other removed constant onto it — exact at the borders, no bias map, one
   * fused conv. A carrier costs MACs (its producers' filters, one more input for every consumer of
   * its coupled set), a bias map costs an unfused conv plus an add and a ReLU pass per output
   * element; each tensor takes the cheaper (see MAP_COST_PER_OUTPUT).
   */
  function chooseCarriers(): void {
    const outputElems = (node: ConvNode, keptOut: number): number => convMacs(node.spec, 480, 640, 1, keptOut) / (node.spec.kernel * node.spec.kernel);
    const keptCount = (v: number): number => {
      let n = 0;
      for (let k = 0; k < graph.values[v]!.width; k++) if (!isRemoved(v, k)) n++;
      return n;
    };
    /** Consumers of v that need a border correction (a removed non-zero constant into a padded conv). */
    const needing = (v: number): ConvNode[] =>
      consumers[v]!.filter((node) => {
        if (node.spec.pad === 0) return false;
        for (let k = 0; k < graph.values[v]!.width; k++) {
          const c = constants[v]![k]!;
          if (isRemoved(v, k) && c !== 0 && reads(node, k)) return true;
        }
        return false;
      });
    /** MACs at 480×640 that keeping set `root` live adds. */
    const keepCost = (root: number): number => {
      let macs = 0;
      for (const [v, k] of members.get(root)!) {
        if (!needed[v]) continue;
        const prod = graph.nodes[graph.values[v]!.producer];
        if (prod?.kind === 'conv') {
          const n = keptCount(prod.output);
          const extra = Math.ceil((n + 1) / tile) * tile - Math.ceil(n / tile) * tile;
          macs += convMacs(prod.spec, 480, 640, keptCount(prod.input), extra);
        }
        for (const node of consumers[v]!) if (reads(node, k)) macs += convMacs(node.spec, 480, 640, 1, keptCount(node.output));
      }
      return macs;
    };
    let changed = true;
    while (changed) {
      changed = false;
      for (let v = 0; v < graph.values.length; v++) {
        if (!needed[v] || carriers[v] !== null) continue;
        const need = needing(v);
        if (!need.length) continue;
        // Cancellation in a small constant would amplify its rounding error once divided by it.
        const usable = (k: number): boolean => Math.abs(constants[v]![k]!) >= CARRIER_MIN_ABS;
        const live = [...Array(graph.values[v]!.width).keys()].filter((k) => !isRemoved(v, k) && Number.isFinite(constants[v]![k]!) && usable(k));
        if (live.length) {
          carriers[v] = live.reduce((a, b) => (Math.abs(constants[v]![b]!) > Math.abs(constants[v]![a]!) ? b : a));
          continue;
        }
        const candidates = [...Array(graph.values[v]!.width).keys()].filter((k) => isRemoved(v, k) && usable(k));
        if (!candidates.length) continue;
        const mapCost = MAP_COST_PER_OUTPUT * need.reduce((s, node) => s + outputElems(node, keptCount(node.output)), 0);
        let best = -1, bestCost = Infinity;
        for (const k of candidates) {
          const cost = keepCost(uf.find(base[v]! + k));
          if (cost < bestCost) [best, bestCost] = [k, cost];
        }
        if (bestCost >= mapCost) continue;
        const root = uf.find(base[v]! + best);
        removedRoots.delete(root);
        carrierRoots.add(root);
        carriers[v] = best;
        changed = true;
      }
    }
  }

  const sets: ChannelSet[] = [];
  for (const [root, elems] of members) {
    if (pinned.has(root)) continue;
    let reason: string | null = blockers.get(root) ?? null;
    const zeroFilters: string[] = [];
    const nonZeroFilters: string[] = [];
    let wastedMacs = 0;
    for (const [v, k] of elems) {
      const node = graph.nodes[graph.values[v]!.producer];
      if (!node || node.kind !== 'conv' || !needed[v]) continue;
      if (zeroFilterSets.get(node.spec.name)!.has(k)) {
        zeroFilters.push(node.spec.name);
        wastedMacs += convMacs(node.spec, 480, 640, node.spec.inChannels, 1);
      } else {
        nonZeroFilters.push(node.spec.name);
      }
    }
    const removable = removedRoots.has(root);
    if (!removable && zeroFilters.length === 0) continue; // an ordinary channel: nothing to report
    if (removable) wastedMacs = 0;
    else if (carrierRoots.has(root)) {
      const users = elems.filter(([v, k]) => carriers[v] === k).map(([v]) => graph.values[v]!.label);
      reason = `kept as the border carrier of ${[...new Set(users)].join(', ')}: constant, so padded consumers fold the other removed constants onto it`;
    } else if (reason === 'varies') {
      reason = `varies: the filter is non-zero in ${nonZeroFilters.join(', ') || 'a producer'} (zero in ${zeroFilters.join(', ')})`;
    }
    const named = elems.filter(([v]) => graph.nodes[graph.values[v]!.producer]?.kind !== 'conv' && graph.values[v]!.producer >= 0);
    const shown = named.length ? named : elems;
    const labels = [...new Set(shown.map(([v]) => graph.values[v]!.label))];
    const why =
      reason ??
      (elems.every(([v]) => !needed[v])
        ? 'unused: only reaches an FPN fusion term whose weight is 0'
        : 'constant everywhere, absorbed exactly by every consumer');
    sets.push({
      name: labels.join(', '),
      channel: shown[0]![1],
      members: elems.map(([v, k]) => `${graph.values[v]!.id}[${k}]`),
      zeroFilters,
      nonZeroFilters,
      removable,
      reason: why,
      wastedMacs,
    });
  }

  const live = graph.values.map((v, vi) => {
    const kept: number[] = [];
    for (let k = 0; k < v.width; k++) if (!isRemoved(vi, k)) kept.push(k);
    return kept;
  });
  const convs = new Map<string, ConvChannels>();
  for (const [name, node] of graph.convs) {
    convs.set(name, {
      name,
      dead: !needed[node.output],
      keptIn: live[node.input]!,
      keptOut: live[node.output]!,
      zeroFilters: [...zeroFilterSets.get(name)!].sort((a, b) => a - b),
    });
  }
  return { strategy, graph, folded, coefficients, constants, needed, live, carriers, convs, sets };
}

export interface ChannelSummary {
  removedSets: number;
  /** Sets that stay because a coupled tensor varies (a producer's filter is non-zero). */
  coupled: { sets: number; wastedMacs: number };
  /** Sets kept as border carriers (strategy 'carrier'). */
  carriers: { sets: number; wastedMacs: number };
  /** Sets kept because a non-zero constant feeds a zero-padded conv (strategy 'keep'). */
  padded: { sets: number; wastedMacs: number };
}

/** Counts of the report by why a set stays, with the MACs of zero filters that still run. */
export function summarizeChannels(a: ChannelAnalysis): ChannelSummary {
  const out: ChannelSummary = { removedSets: 0, coupled: { sets: 0, wastedMacs: 0 }, carriers: { sets: 0, wastedMacs: 0 }, padded: { sets: 0, wastedMacs: 0 } };
  for (const s of a.sets) {
    if (s.removable) {
      out.removedSets++;
      continue;
    }
    const bucket = s.reason.startsWith('kept as the border carrier') ? out.carriers : s.reason.startsWith('varies') ? out.coupled : out.padded;
    bucket.sets++;
    bucket.wastedMacs += s.wastedMacs;
  }
  return out;
}

/** One line per reported set: removed ones first, then the ones that stay with the reason. */
export function formatChannelReport(a: ChannelAnalysis): string[] {
  const line = (s: ChannelSet): string =>
    `${s.removable ? 'removed' : 'kept   '}  ${s.name} channel ${s.channel}: ${s.reason}` +
    (s.removable ? '' : ` [${s.wastedMacs.toLocaleString('en-US')} MACs of zero filters still run]`);
  return [...a.sets.filter((s) => s.removable).map(line), ...a.sets.filter((s) => !s.removable).map(line)];
}
