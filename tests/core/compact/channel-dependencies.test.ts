/**
 * Channel dependency rules of compaction on a synthetic EResFD (random weights, chosen zero filters):
 * residual streams and FPN sums couple channels, the FEM concat maps them to offsets, constants into
 * zero-padded convs need bias maps (or stay, under 'keep'), zero FPN weights make convs dead. Every
 * case is checked end to end against the dense model. Needs no shared data.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { useBackend } from '../../helpers/backends.ts';
import { CONVS } from '../../../src/core/model/eresfd/architecture.ts';
import { createEResFD } from '../../../src/core/model/eresfd/eresfd.ts';
import { analyzeChannels, type BorderStrategy, type ChannelAnalysis } from '../../../src/core/compact/channel-dependencies.ts';
import { compactEResFD } from '../../../src/core/compact/compacted-model.ts';
import { loadCompacted, serializeCompacted } from '../../../src/core/compact/serialize.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import type { HostTensor, StateDict } from '../../../src/core/types.ts';

/** Deterministic uniform [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Edit {
  /** conv name → filters to zero. */
  zero?: Record<string, number[]>;
  /** BN beta for chosen channels: conv name → [channel, beta]. Mean is set to 0 there. */
  beta?: Record<string, Array<[number, number]>>;
  /** Raw w1 entries [index, value] (index = row·9 + column). */
  w1?: Array<[number, number]>;
}

function syntheticStateDict(edit: Edit = {}, seed = 7): StateDict {
  const r = rng(seed);
  const sd: StateDict = new Map();
  const f32 = (shape: number[], gen: () => number): HostTensor => ({ dtype: 'float32', shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, gen) });
  for (const c of CONVS) {
    const fan = c.inChannels * c.kernel * c.kernel;
    const w = f32([c.outChannels, c.inChannels, c.kernel, c.kernel], () => (r() * 2 - 1) * Math.sqrt(3 / fan));
    for (const o of edit.zero?.[c.name] ?? []) (w.data as Float32Array).fill(0, o * fan, (o + 1) * fan);
    sd.set(`${c.name}.weight`, w);
    if (c.bias) sd.set(`${c.name}.bias`, f32([c.outChannels], () => r() - 0.5));
    if (c.bn) {
      const beta = f32([c.outChannels], () => r() - 0.5);
      const mean = f32([c.outChannels], () => (r() - 0.5) * 0.2);
      for (const [k, b] of edit.beta?.[c.name] ?? []) {
        (beta.data as Float32Array)[k] = b;
        (mean.data as Float32Array)[k] = 0;
      }
      sd.set(`${c.bn}.weight`, f32([c.outChannels], () => 0.5 + r()));
      sd.set(`${c.bn}.bias`, beta);
      sd.set(`${c.bn}.running_mean`, mean);
      sd.set(`${c.bn}.running_var`, f32([c.outChannels], () => 0.5 + r()));
    }
  }
  const w1 = f32([2, 9], () => 0.2 + r());
  for (const [i, v] of edit.w1 ?? []) (w1.data as Float32Array)[i] = v;
  sd.set('base.m0.layer6.w1', w1);
  return sd;
}

const H = 96, W = 128;

/** Dense vs compacted max |diff| over all head maps, relative to the head magnitude. */
async function compareToDense(sd: StateDict, strategy: BorderStrategy = 'bias-map'): Promise<{ rel: number; analysis: ChannelAnalysis; biasMaps: number }> {
  const dense = createEResFD(sd);
  const { model, analysis } = compactEResFD(sd, { strategy });
  const x = tf.tidy(() => tf.randomUniform([1, H, W, 3], -120, 130, 'float32', 3) as tf.Tensor4D);
  try {
    const a = tf.tidy(() => { const o = dense.predict(x); return tf.concat([tf.reshape(o.loc, [-1]), tf.reshape(o.conf, [-1])]); });
    const b = tf.tidy(() => { const o = model.predict(x); return tf.concat([tf.reshape(o.loc, [-1]), tf.reshape(o.conf, [-1])]); });
    const [da, db] = [await a.data(), await b.data()];
    tf.dispose([a, b]);
    let diff = 0, mag = 1;
    for (let i = 0; i < da.length; i++) {
      diff = Math.max(diff, Math.abs(da[i]! - db[i]!));
      mag = Math.max(mag, Math.abs(da[i]!));
    }
    return { rel: diff / mag, analysis, biasMaps: model.describe().biasMaps };
  } finally {
    x.dispose();
    dense.dispose();
    model.dispose();
  }
}

const setOf = (a: ChannelAnalysis, member: string) => a.sets.find((s) => s.members.includes(member));

const LAYER2_STREAM = ['base.m0.layer2.0.shortcut_layer.0', 'base.m0.layer2.0.res_layer.3', 'base.m0.layer2.1.res_layer.3', 'base.m0.layer2.2.res_layer.3', 'base.m0.layer6.itm.1.conv.0'];

describe('compaction channel dependencies (synthetic EResFD, wasm)', () => {
  beforeAll(async () => {
    await useBackend('wasm');
  });

  it('a residual-stream channel zero in one producer only stays, and the report says where it is not zero', async () => {
    const sd = syntheticStateDict({ zero: { 'base.m0.layer2.1.res_layer.3': [5] } });
    const a = analyzeChannels(sd);
    const set = setOf(a, 'base.m0.layer2.1.res_layer.3[5]')!;
    expect(set.removable).toBe(false);
    expect(set.name).toContain('base.m0.layer2 residual stream');
    expect(set.zeroFilters).toEqual(['base.m0.layer2.1.res_layer.3']);
    expect(set.nonZeroFilters).toContain('base.m0.layer2.0.shortcut_layer.0');
    expect(set.reason).toMatch(/non-zero in .*shortcut_layer\.0/);
    expect(set.wastedMacs).toBeGreaterThan(0);
    expect(a.convs.get('base.m0.layer2.1.res_layer.3')!.keptOut).toHaveLength(16);
  });

  it('a residual-stream channel zero in every producer (incl. the FPN itm it is summed with) goes', async () => {
    const zero = Object.fromEntries(LAYER2_STREAM.map((n) => [n, [5]]));
    const sd = syntheticStateDict({ zero });
    const { rel, analysis, biasMaps } = await compareToDense(sd);
    expect(rel).toBeLessThanOrEqual(1e-5);
    expect(setOf(analysis, 'base.m0.layer2.2[5]')!.removable).toBe(true);
    for (const n of LAYER2_STREAM) expect(analysis.convs.get(n)!.keptOut).not.toContain(5);
    // Every consumer reads one channel less: the next stage, the lateral, the 3x3 res_layer.0s.
    for (const n of ['base.m0.layer3.0.shortcut_layer.0', 'base.m0.layer6.laterals.2.conv.0', 'base.m0.layer2.1.res_layer.0']) {
      expect(analysis.convs.get(n)!.keptIn).toHaveLength(15);
    }
    expect(biasMaps).toBeGreaterThan(0); // the stream constant feeds padded 3x3 convs

    const keep = await compareToDense(sd, 'keep');
    expect(keep.rel).toBeLessThanOrEqual(1e-5);
    expect(setOf(keep.analysis, 'base.m0.layer2.2[5]')!.removable).toBe(false);
    expect(setOf(keep.analysis, 'base.m0.layer2.2[5]')!.reason).toMatch(/zero-padded 3x3 conv/);
  });

  it('a zero filter whose ReLU constant is 0 goes under both strategies; a positive one needs a bias map', async () => {
    const conv = 'base.m0.layer1.0.res_layer.0';
    const neg = syntheticStateDict({ zero: { [conv]: [3] }, beta: { [conv]: [[3, -0.4]] } });
    const pos = syntheticStateDict({ zero: { [conv]: [3] }, beta: { [conv]: [[3, 0.4]] } });
    for (const strategy of ['keep', 'bias-map'] as const) {
      const r = await compareToDense(neg, strategy);
      expect(r.rel).toBeLessThanOrEqual(1e-5);
      expect(r.analysis.convs.get(conv)!.keptOut).not.toContain(3);
      expect(r.analysis.convs.get('base.m0.layer1.0.res_layer.3')!.keptIn).not.toContain(3);
    }
    const keep = await compareToDense(pos, 'keep');
    expect(keep.analysis.convs.get(conv)!.keptOut).toContain(3);
    const map = await compareToDense(pos, 'bias-map');
    expect(map.rel).toBeLessThanOrEqual(1e-5);
    expect(map.analysis.convs.get(conv)!.keptOut).not.toContain(3);
    expect(map.biasMaps).toBe(1);
  });

  it('bias maps are computed once per input size, not per frame, and freed with the model', async () => {
    const sd = syntheticStateDict({ zero: Object.fromEntries(LAYER2_STREAM.map((n) => [n, [5]])) });
    const empty = tf.memory().numTensors;
    const { model } = compactEResFD(sd, { strategy: 'bias-map' });
    const maps = model.describe().biasMaps;
    expect(maps).toBeGreaterThan(1);
    const start = tf.memory().numTensors;
    const run = async (h: number) => {
      const x = tf.zeros([1, h, W, 3]) as tf.Tensor4D;
      const info = await tf.profile(() => tf.tidy(() => tf.concat([tf.reshape(model.predict(x).loc, [-1])])));
      tf.dispose([x, info.result as tf.Tensor]);
      return info.kernels.filter((k) => k.name === 'Conv2D').length; // unfused: maps and the convs that add them
    };
    expect(await run(H)).toBe(2 * maps); // first frame: every map once, plus its conv
    expect(await run(H)).toBe(maps); // cached
    expect(await run(H + 32)).toBe(2 * maps); // a new size
    expect(await run(H)).toBe(maps); // the first size is still cached
    expect(tf.memory().numTensors).toBe(start + 2 * maps);
    model.dispose();
    expect(tf.memory().numTensors).toBe(empty);
  });

  it("strategy 'carrier' keeps one constant channel and folds the other removed constants onto it", async () => {
    const conv = 'base.m0.layer1.0.res_layer.0';
    const sd = syntheticStateDict({ zero: { [conv]: [3, 5, 9] }, beta: { [conv]: [[3, 0.4], [5, 0.25], [9, -0.3]] } });
    const r = await compareToDense(sd, 'carrier');
    expect(r.rel).toBeLessThanOrEqual(1e-5);
    expect(r.biasMaps).toBe(0);
    const v = r.analysis.graph.valueIndex.get(conv)!;
    expect(r.analysis.carriers[v]).toBe(3); // the largest constant
    expect(r.analysis.convs.get(conv)!.keptOut).toContain(3);
    expect(r.analysis.convs.get(conv)!.keptOut).not.toContain(5);
    expect(r.analysis.convs.get(conv)!.keptOut).not.toContain(9); // ReLU'd to 0: needs nothing
    expect(r.analysis.sets.find((s) => s.members.includes(`${conv}[3]`))!.reason).toMatch(/carrier/);

    // A residual stream can carry too: every producer zero at 5 (non-zero summed constant).
    const stream = syntheticStateDict({ zero: Object.fromEntries(LAYER2_STREAM.map((n) => [n, [5, 7]])) });
    const s2 = await compareToDense(stream, 'carrier');
    expect(s2.rel).toBeLessThanOrEqual(1e-5);
  });

  it('FEM concat: a branch channel maps to its offset in the head input; whole branches can go', async () => {
    const sd = syntheticStateDict({
      zero: {
        'base.m0.layer9.res_branch2.3': [2], // FEM_2 output channel 8 + 2
        'base.m0.layer10.res_branch3.3': [0, 1, 2, 3], // FEM_3 loses its third branch entirely
        'base.m0.layer11.res_branch1.0': [0, 1, 2, 3, 4, 5, 6, 7], // FEM_4: res_branch2.0 reads only constants
      },
    });
    const { rel, analysis } = await compareToDense(sd);
    expect(rel).toBeLessThanOrEqual(1e-5);
    expect(analysis.convs.get('loc.2')!.keptIn).not.toContain(10);
    expect(analysis.convs.get('loc.2')!.keptIn).toHaveLength(15);
    expect(analysis.convs.get('conf.3')!.keptIn).toEqual([...Array(12).keys()]);
    expect(analysis.convs.get('base.m0.layer10.res_branch3.3')!.keptOut).toEqual([]);
    expect(analysis.convs.get('base.m0.layer11.res_branch2.0')!.keptIn).toEqual([]);
  });

  it('FPN weights of 0: itm.3 is dead when P4\' ignores it; P4\' is constant when it ignores c4', async () => {
    // w1 column 8 is P4' = agg(itm.3(h0), c4); column 4 (h0) is 0 in every B-FPGM checkpoint.
    const ignoreItm = syntheticStateDict({ w1: [[4, -1e-42], [13, -1e-42], [8, -0.003]] });
    const a = await compareToDense(ignoreItm);
    expect(a.rel).toBeLessThanOrEqual(1e-5);
    expect(a.analysis.convs.get('base.m0.layer6.itm.3.conv.0')!.dead).toBe(true);

    // As in EResFD-30: h0 ≡ 0 ⇒ itm.3 is constant ⇒ P4' is constant. runGraph still multiplies c4
    // by its zero weight, so P4' stays coupled to c4 (same width) and its channels stay live.
    const ignoreC4 = syntheticStateDict({ w1: [[4, -1e-42], [13, -1e-42], [17, -4e-29]] });
    const b = await compareToDense(ignoreC4);
    expect(b.rel).toBeLessThanOrEqual(1e-5);
    const p4 = b.analysis.constants[b.analysis.graph.valueIndex.get("fpn.P4'")!]!;
    expect([...p4].every(Number.isFinite)).toBe(true);
    expect(b.analysis.convs.get('base.m0.layer6.itm.3.conv.0')!.dead).toBe(false);
  });

  it('loadCompacted rejects manifests that do not fit the graph or the blob', () => {
    const sd = syntheticStateDict({ zero: { 'base.m0.layer1.0.res_layer.0': [1, 2] } });
    const { model } = compactEResFD(sd);
    const { manifest, weights } = serializeCompacted(model);
    model.dispose();
    const clone = () => JSON.parse(JSON.stringify(manifest));
    const expectCode = (m: unknown, w: Uint8Array, re: RegExp) => {
      try {
        loadCompacted(m, w).dispose();
      } catch (e) {
        expect(isStudioError(e, 'COMPACT_FORMAT'), String(e)).toBe(true);
        expect((e as Error).message).toMatch(re);
        return;
      }
      throw new Error('expected COMPACT_FORMAT');
    };
    expectCode({ ...clone(), format: 'tfjs-graph' }, weights, /not a compacted EResFD/);
    const m1 = clone();
    m1.modelTopology.convs.find((c: { name: string }) => c.name === 'base.m0.layer1.0.res_layer.3').keptIn = [0, 1, 2];
    expectCode(m1, weights, /res_layer\.3 keeps input channels/);
    const m2 = clone();
    m2.modelTopology.convs = m2.modelTopology.convs.filter((c: { name: string }) => c.name !== 'loc.3');
    expectCode(m2, weights, /loc\.3 is missing/);
    expectCode(clone(), weights.subarray(0, weights.length - 8), /runs past the end|is missing/);
    expectCode(clone(), new Uint8Array(weights.length + 4), /bytes the manifest does not describe/);
  });
});
