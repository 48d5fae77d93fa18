/**
 * Host path vs TF.js-ops path (cpu and wasm): same selections for every conv of the original
 * checkpoint at rates 0.1…0.8; on synthetic weights, scores agree and both match a naive definition.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { NODE_BACKENDS, useBackend } from '../../helpers/backends.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/index.ts';
import { CODE_GROUPING, FINE_GROUPING } from '../../../src/core/prune/layer-groups.ts';
import { fpgmScores } from '../../../src/core/prune/importance/fpgm.ts';
import { fpgmDistanceSumsOps } from '../../../src/core/backend/kernels/fpgm-distances.ts';
import { createFpgmPlanner, planFpgm, planFpgmFromParams, planFpgmTf } from '../../../src/core/prune/pruner.ts';
import { createRng } from '../../../src/core/util/random.ts';
import { toHwio } from '../../../src/core/model/eresfd/eresfd.ts';
import { CONV_BY_NAME } from '../../../src/core/model/eresfd/architecture.ts';
import type { StateDict } from '../../../src/core/types.ts';
import { syntheticStateDict } from './synthetic-state-dict.ts';

const RATES = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8];

function naiveScores(w: Float32Array, n: number): number[] {
  const d = w.length / n;
  return Array.from({ length: n }, (_, i) => {
    let total = 0;
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < d; k++) s += (w[i * d + k]! - w[j * d + k]!) ** 2;
      total += Math.sqrt(s);
    }
    return total;
  });
}

describe('fpgmScores (host)', () => {
  it('is the sum of Euclidean distances on raw weights', () => {
    const rng = createRng(3);
    const w = Float32Array.from({ length: 6 * 10 }, () => rng() * 2 - 1);
    const got = fpgmScores(w, 6);
    naiveScores(w, 6).forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
  });
  it('ties identical filters exactly', () => {
    const w = new Float32Array([1, 2, 0, 0, 3, -1, 0, 0, 1e-41, 0]);
    const s = fpgmScores(w, 5);
    expect(s[1]).toBe(s[3]);
    expect(s[1]).toBe(s[4]); // a denormal filter ties with the zero filter, as in float32 torch
  });
});

describe.each(NODE_BACKENDS)('TF.js-ops path on %s', (backend) => {
  beforeAll(async () => {
    await useBackend(backend);
  });

  it('scores agree with the host path on random filters and free their tensors', () => {
    const rng = createRng(7);
    const B = 3, n = 16, d = 144;
    const w = Float32Array.from({ length: B * n * d }, () => (rng() * 2 - 1) * 0.2);
    const before = tf.memory().numTensors;
    const x = tf.tensor3d(w, [B, n, d]);
    const out = fpgmDistanceSumsOps(x);
    const got = out.dataSync();
    tf.dispose([x, out]);
    expect(tf.memory().numTensors).toBe(before);
    for (let b = 0; b < B; b++) {
      const host = fpgmScores(w.subarray(b * n * d, (b + 1) * n * d), n);
      host.forEach((v, i) => expect(Math.abs(got[b * n + i]! - v)).toBeLessThanOrEqual(1e-4 * v));
    }
  });

  it('plans from HWIO variables equal plans from the state dict', async () => {
    const sd = syntheticStateDict(5);
    const params = new Map<string, tf.Tensor>();
    for (const [key, t] of sd) {
      const spec = CONV_BY_NAME.get(key.replace(/\.weight$/, ''));
      if (spec && key.endsWith('.weight')) params.set(key, tf.tensor4d(toHwio(t.data as Float32Array, spec), [spec.kernel, spec.kernel, spec.inChannels, spec.outChannels]));
    }
    const rates = [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.1, 0.25, 0.45];
    const host = planFpgm(sd, FINE_GROUPING, rates);
    expect(await planFpgmFromParams(params, FINE_GROUPING, rates)).toEqual(host);
    expect(await planFpgmTf(sd, FINE_GROUPING, rates)).toEqual(host);
    tf.dispose([...params.values()]);
  });
});

describe.skipIf(!HAS_SHARED)('host vs TF.js ops on the original checkpoint', () => {
  let sd: StateDict;
  beforeAll(() => {
    sd = readCheckpoint(readShared('models', 'EResFD-original.pth')).stateDict;
  });
  afterAll(() => tf.disposeVariables());

  it.each(NODE_BACKENDS)('%s: same selection for every conv at rates 0.1…0.8', async (backend) => {
    await useBackend(backend);
    const planner = createFpgmPlanner(sd);
    const before = tf.memory().numTensors;
    for (const r of RATES) {
      const rates = CODE_GROUPING.groups.map(() => r);
      const host = planner.plan(CODE_GROUPING, rates);
      const ops = await planFpgmTf(sd, CODE_GROUPING, rates);
      expect(ops.convs.length).toBe(75);
      ops.convs.forEach((c, i) => expect(c.pruned, `rate ${r} ${c.key}`).toEqual(host.convs[i]!.pruned));
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});
