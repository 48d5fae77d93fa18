/**
 * TorchAdam against golden/train_step (README "Adam step"): params_before + grads_all → the
 * params after one torch.optim.Adam step (lr 1e-3, wd 1e-5), with the 15 grad-None layer5 tensors
 * skipped. Plus state export/import, the lr schedule and tensor hygiene.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '../../helpers/tf-gradients.ts';
import { HAS_SHARED, readSharedJson, sharedPath } from '../../helpers/shared.ts';
import { readNpy } from '../../helpers/npy.ts';
import { createTorchAdam } from '../../../src/core/train/adam.ts';
import { multiStepLr } from '../../../src/core/train/lr-schedule.ts';
import { createRng } from '../../../src/core/util/random.ts';

interface ParamEntry { name: string; shape: number[]; offset: number; numel: number; grad_is_none: boolean }

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!HAS_SHARED)('TorchAdam vs golden/train_step', () => {
  it('reproduces params_after_step from params_before and the stored gradients', async () => {
    const G = 'golden/train_step';
    const index = readSharedJson<ParamEntry[]>(G, 'param_index.json');
    const before = readNpy(sharedPath(G, 'params_before_flat.npy')).data as Float32Array;
    const after = readNpy(sharedPath(G, 'params_after_step_flat.npy')).data as Float32Array;
    const gradsFlat = readNpy(sharedPath(G, 'grads_all_flat.npy')).data as Float32Array;
    expect(index.length).toBe(250);

    const params = new Map<string, tf.Variable>();
    const grads = new Map<string, tf.Tensor | null>();
    for (const e of index) {
      params.set(e.name, tf.tidy(() => tf.variable(tf.tensor(before.subarray(e.offset, e.offset + e.numel), e.shape), true, `adam-golden/${e.name}`)));
      grads.set(e.name, e.grad_is_none ? null : tf.tensor(gradsFlat.subarray(e.offset, e.offset + e.numel), e.shape));
    }
    const adam = createTorchAdam(params, { lr: 1e-3, weightDecay: 1e-5 });
    adam.step(grads);

    let maxErr = 0;
    let skipped = 0;
    for (const e of index) {
      const got = await params.get(e.name)!.data();
      for (let i = 0; i < e.numel; i++) maxErr = Math.max(maxErr, Math.abs(got[i]! - after[e.offset + i]!));
      if (e.grad_is_none) {
        skipped++;
        expect(adam.stepOf(e.name)).toBe(0);
        // Untouched: bit-identical to the checkpoint.
        expect(Array.from(got)).toEqual(Array.from(before.subarray(e.offset, e.offset + e.numel)));
      } else {
        expect(adam.stepOf(e.name)).toBe(1);
      }
    }
    expect(skipped).toBe(15);
    // torch op order in float32: measured 3.7e-9 (92,206 of 92,208 bit-identical); README bound 2e-7.
    expect(maxErr).toBeLessThanOrEqual(2e-8);

    const state = await adam.exportState();
    expect(state.params['base.m0.layer5.0.res_layer.0.weight']?.step ?? 0).toBe(0);
    adam.dispose();
    tf.dispose([...params.values(), ...[...grads.values()].filter((g): g is tf.Tensor => g !== null)]);
  });
});

describe('TorchAdam', () => {
  function setup(seed: number) {
    const rng = createRng(seed);
    const shapes: Record<string, number[]> = { a: [3, 4], b: [5], c: [2, 2, 2] };
    const init = Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float32Array.from({ length: s.reduce((x, y) => x * y, 1) }, () => rng() - 0.5)]));
    const grads = Array.from({ length: 4 }, () => Object.fromEntries(Object.entries(shapes).map(([k, s]) => [k, Float32Array.from({ length: init[k]!.length }, () => rng() - 0.5)])));
    const makeParams = (tag: string) => new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tidy(() => tf.variable(tf.tensor(init[k]!, s), true, `${tag}/${k}`))]));
    return { shapes, grads, makeParams };
  }

  /** Scalar float64 reference of torch's formula (what float32 rounding is measured against). */
  function reference(p0: number, gs: number[], lr: number, wd: number): number {
    let p = p0, m = 0, v = 0;
    gs.forEach((g, i) => {
      const t = i + 1;
      const ge = g + wd * p;
      m = 0.9 * m + 0.1 * ge;
      v = 0.999 * v + 0.001 * ge * ge;
      p -= (lr / (1 - 0.9 ** t)) * m / (Math.sqrt(v) / Math.sqrt(1 - 0.999 ** t) + 1e-8);
    });
    return p;
  }

  it('follows the torch update over several steps, skipping absent gradients', async () => {
    const { shapes, grads, makeParams } = setup(1);
    const params = makeParams('multi');
    const init = Object.fromEntries(await Promise.all([...params].map(async ([k, v]) => [k, Float32Array.from(await v.data() as Float32Array)] as const)));
    const adam = createTorchAdam(params, { lr: 1e-2, weightDecay: 5e-4 });
    grads.forEach((g, i) => {
      // 'c' has no gradient on step 2 (index 1): torch skips it and its step count lags.
      const map = new Map(Object.entries(shapes).map(([k, s]) => [k, k === 'c' && i === 1 ? null : tf.tensor(g[k]!, s)]));
      adam.step(map);
      tf.dispose([...map.values()].filter((t): t is tf.Tensor => t !== null));
    });
    expect(adam.stepOf('a')).toBe(4);
    expect(adam.stepOf('c')).toBe(3);
    for (const k of Object.keys(shapes)) {
      const got = await params.get(k)!.data();
      for (let i = 0; i < got.length; i++) {
        const gs = grads.map((g, s) => (k === 'c' && s === 1 ? null : g[k]![i]!)).filter((x): x is number => x !== null);
        expect(Math.abs(got[i]! - reference(init[k]![i]!, gs, 1e-2, 5e-4))).toBeLessThanOrEqual(1e-6);
      }
    }
    adam.dispose();
    tf.dispose([...params.values()]);
  });

  it('resumes bit-identically from an exported state', async () => {
    const { shapes, grads, makeParams } = setup(2);
    const stepWith = (adam: ReturnType<typeof createTorchAdam>, g: Record<string, Float32Array>) => {
      const map = new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(g[k]!, s)]));
      adam.step(map);
      tf.dispose([...map.values()]);
    };
    const pa = makeParams('resume-a');
    const a = createTorchAdam(pa, { lr: 3e-3, weightDecay: 1e-4 });
    grads.forEach((g) => stepWith(a, g));

    const pb = makeParams('resume-b');
    const b1 = createTorchAdam(pb, { lr: 3e-3, weightDecay: 1e-4 });
    stepWith(b1, grads[0]!);
    stepWith(b1, grads[1]!);
    const state = await b1.exportState();
    b1.dispose();
    const b2 = createTorchAdam(pb, { lr: 1 });
    b2.importState(state);
    expect(b2.lr).toBe(3e-3);
    stepWith(b2, grads[2]!);
    stepWith(b2, grads[3]!);
    for (const k of Object.keys(shapes)) {
      expect(Array.from(await pb.get(k)!.data())).toEqual(Array.from(await pa.get(k)!.data()));
    }
    a.dispose();
    b2.dispose();
    tf.dispose([...pa.values(), ...pb.values()]);
  });

  it('keeps its moments when stepped inside the caller\'s tf.tidy', async () => {
    const { shapes, grads, makeParams } = setup(4);
    const pa = makeParams('tidy-a'), pb = makeParams('tidy-b');
    const a = createTorchAdam(pa), b = createTorchAdam(pb);
    for (const g of grads.slice(0, 3)) {
      tf.tidy(() => a.step(new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(g[k]!, s)]))));
      const map = new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(g[k]!, s)]));
      b.step(map);
      tf.dispose([...map.values()]);
    }
    for (const k of Object.keys(shapes)) expect(Array.from(await pa.get(k)!.data())).toEqual(Array.from(await pb.get(k)!.data()));
    a.dispose();
    b.dispose();
    tf.dispose([...pa.values(), ...pb.values()]);
  });

  it('holds a constant number of tensors across steps', () => {
    const { shapes, grads, makeParams } = setup(3);
    const params = makeParams('hygiene');
    const adam = createTorchAdam(params, { weightDecay: 1e-5 });
    const map = new Map(Object.entries(shapes).map(([k, s]) => [k, tf.tensor(grads[0]![k]!, s)]));
    const before = tf.memory().numTensors;
    adam.step(map);
    const n = tf.memory().numTensors;
    for (let i = 0; i < 5; i++) adam.step(map);
    expect(tf.memory().numTensors).toBe(n);
    adam.dispose();
    expect(tf.memory().numTensors).toBe(before);
    tf.dispose([...map.values(), ...params.values()]);
  });

  it('accepts tf.variableGrads output (keyed by variable name) and rejects unrelated keys', async () => {
    const params = new Map([['w', tf.tidy(() => tf.variable(tf.ones([3]), true, 'named-grads/w#1'))]]);
    const adam = createTorchAdam(params, { lr: 0.1 });
    const { value, grads } = tf.variableGrads(() => tf.sum(tf.square(params.get('w')!)) as tf.Scalar);
    expect(Object.keys(grads)).toEqual(['named-grads/w#1']);
    adam.step(grads);
    expect(adam.stepOf('w')).toBe(1);
    expect(Array.from(await params.get('w')!.data()).every((v) => Math.abs(v - 0.9) < 1e-6)).toBe(true);
    expect(() => adam.step({ other: grads['named-grads/w#1']! })).toThrow(/none of the gradients/);
    adam.step({}); // no gradients at all: nothing to do, like torch with every grad None
    expect(adam.stepOf('w')).toBe(1);
    tf.dispose([value, ...Object.values(grads), params.get('w')!]);
    adam.dispose();
  });

  it('rejects a gradient of the wrong shape', () => {
    const params = new Map([['w', tf.tidy(() => tf.variable(tf.zeros([2, 2]), true, 'shape-check/w'))]]);
    const adam = createTorchAdam(params);
    const g = tf.zeros([4]);
    expect(() => adam.step({ w: g })).toThrow(/shape/);
    tf.dispose([g, params.get('w')!]);
  });
});

describe('multiStepLr', () => {
  it('multiplies by gamma from each milestone on', () => {
    const lr = multiStepLr({ baseLr: 1e-3, milestones: [10, 20], gamma: 0.1 });
    expect(lr(0)).toBe(1e-3);
    expect(lr(9)).toBe(1e-3);
    expect(lr(10)).toBeCloseTo(1e-4, 15);
    expect(lr(19)).toBeCloseTo(1e-4, 15);
    expect(lr(20)).toBeCloseTo(1e-5, 15);
    expect(lr(1e9)).toBeCloseTo(1e-5, 15);
  });

  it('defaults to the reference schedule (×0.1 at 250k/300k/320k)', () => {
    const lr = multiStepLr();
    expect(lr(249_999)).toBe(1e-3);
    expect(lr(250_000)).toBeCloseTo(1e-4, 15);
    expect(lr(320_000)).toBeCloseTo(1e-6, 15);
  });

  it('rejects unordered milestones', () => {
    expect(() => multiStepLr({ milestones: [5, 5] })).toThrow(RangeError);
  });
});
