import { describe, expect, it } from 'vitest';
import {
  ALL_KEYS_IN_ORDER,
  EXPECTED_KEYS,
  EXPECTED_METADATA,
  canonicalKey,
  validateEResFDStateDict,
} from '../../../src/core/checkpoint/state-dict-map.ts';
import type { HostTensor, StateDict } from '../../../src/core/types.ts';
import { HAS_SHARED, readSharedJson } from '../../helpers/shared.ts';
import { expectStudioError } from './fixtures.ts';

interface JsonKey {
  key: string;
  shape: number[];
  dtype: string;
  numel: number;
  kind: string;
  alias_of: string | null;
}

function zeroTensor(shape: readonly number[], dtype: 'float32' | 'int64'): HostTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return { dtype, shape: [...shape], data: dtype === 'float32' ? new Float32Array(n) : new BigInt64Array(n) };
}

function syntheticStateDict(): StateDict {
  return new Map(EXPECTED_KEYS.map((k) => [k.key, zeroTensor(k.shape, k.dtype)]));
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

describe('EResFD state dict layout (derived from the module tree)', () => {
  it('has SPEC §1.8/§2 counts: 920 keys, 475 canonical, 445 aliases, 250 parameter tensors, 92,208 parameters', () => {
    expect(ALL_KEYS_IN_ORDER).toHaveLength(920);
    expect(EXPECTED_KEYS).toHaveLength(475);
    expect(ALL_KEYS_IN_ORDER.filter((k) => k.aliasOf !== null)).toHaveLength(445);
    const params = EXPECTED_KEYS.filter((k) => k.kind === 'parameter');
    expect(params).toHaveLength(250);
    expect(sum(params.map((k) => k.numel))).toBe(92_208);
    const convWeights = params.filter((k) => k.shape.length === 4);
    expect(convWeights).toHaveLength(87);
    expect(sum(convWeights.map((k) => k.numel))).toBe(90_456);
    expect(sum(params.filter((k) => /^(loc|conf)\.\d\.bias$/.test(k.key)).map((k) => k.numel))).toBe(38);
    expect(EXPECTED_KEYS.filter((k) => k.key.endsWith('num_batches_tracked'))).toHaveLength(75);
    expect(sum(EXPECTED_KEYS.filter((k) => /running_(mean|var)$/.test(k.key)).map((k) => k.numel))).toBe(1696);
    expect(sum(EXPECTED_KEYS.map((k) => k.numel))).toBe(93_979);
    expect(sum(ALL_KEYS_IN_ORDER.map((k) => k.numel))).toBe(180_761);
  });

  it('follows the SPEC §2 key order and alias families', () => {
    const keys = ALL_KEYS_IN_ORDER.map((k) => k.key);
    expect(keys[0]).toBe('base.conv1.0.weight');
    expect(keys.indexOf('base.m0.layer6.w1')).toBeGreaterThan(keys.indexOf('base.m0.layer5.1.res_layer.4.num_batches_tracked'));
    expect(keys[450]).toBe('base.m0.layer12.res_branch3.4.num_batches_tracked');
    expect(keys[451]).toBe('base.m0.b2_1.0.shortcut_layer.0.weight');
    expect(keys[637]).toBe('base.m0.fpn.w1');
    expect(keys[692]).toBe('base.m0.FEM_0.res_branch1.0.weight');
    expect(keys[872]).toBe('loc.0.weight');
    expect(keys[884]).toBe('conf.0.weight');
    expect(keys[896]).toBe('loc0.weight');
    expect(keys[908]).toBe('conf0.weight');
    expect(keys[919]).toBe('conf5.bias');
    expect(canonicalKey('base.m0.b2_3.1.res_layer.4.running_var')).toBe('base.m0.layer3.1.res_layer.4.running_var');
    expect(canonicalKey('base.m0.fpn.laterals.2.conv.1.bias')).toBe('base.m0.layer6.laterals.2.conv.1.bias');
    expect(canonicalKey('base.m0.FEM_5.res_branch2.3.weight')).toBe('base.m0.layer12.res_branch2.3.weight');
    expect(canonicalKey('conf3.bias')).toBe('conf.3.bias');
    expect(canonicalKey('loc.3.bias')).toBe('loc.3.bias');
    const shapes = new Map(ALL_KEYS_IN_ORDER.map((k) => [k.key, k.shape]));
    expect(shapes.get('base.conv1.0.weight')).toEqual([8, 3, 5, 5]);
    expect(shapes.get('base.m0.layer6.w1')).toEqual([2, 9]);
    expect(shapes.get('conf.0.weight')).toEqual([4, 16, 1, 1]);
    expect(shapes.get('conf.1.weight')).toEqual([2, 16, 1, 1]);
    expect(shapes.get('base.m0.layer9.res_branch2.0.weight')).toEqual([4, 8, 3, 3]);
  });

  it('lists the 609 _metadata modules, BatchNorm at version 2', () => {
    expect(EXPECTED_METADATA).toHaveLength(609);
    expect(EXPECTED_METADATA[0]).toEqual(['', { version: 1 }]);
    // 75 BNs, and again under the alias names for all but the 5 stem BNs (conv1..conv4)
    expect(EXPECTED_METADATA.filter(([, m]) => m.version === 2)).toHaveLength(75 + 70);
    const names = EXPECTED_METADATA.map(([n]) => n);
    expect(names).toContain('base.m0.layer6.relu1');
    expect(names).toContain('act_conf.5');
    expect(names.at(-1)).toBe('conf5');
  });

  it.skipIf(!HAS_SHARED)('equals reference/eresfd_state_dict.json exactly (keys, order, shapes, dtypes, kinds, alias_of)', () => {
    const ref = readSharedJson<JsonKey[]>('reference', 'eresfd_state_dict.json');
    const ours: JsonKey[] = ALL_KEYS_IN_ORDER.map((k) => ({
      key: k.key,
      shape: [...k.shape],
      dtype: k.dtype,
      numel: k.numel,
      kind: k.kind,
      alias_of: k.aliasOf,
    }));
    expect(ours).toEqual(ref);
  });
});

describe('validateEResFDStateDict', () => {
  it('accepts a complete state dict in any order', () => {
    expect(() => validateEResFDStateDict(syntheticStateDict())).not.toThrow();
    expect(() => validateEResFDStateDict(new Map([...syntheticStateDict()].reverse()))).not.toThrow();
  });

  it('names a renamed key as missing and unexpected', () => {
    const sd = syntheticStateDict();
    const t = sd.get('base.conv1.0.weight')!;
    sd.delete('base.conv1.0.weight');
    sd.set('base.conv1.0.weights', t);
    const e = expectStudioError(() => validateEResFDStateDict(sd), 'CHECKPOINT_ARCHITECTURE');
    expect(e.message).toContain('1 missing: base.conv1.0.weight');
    expect(e.message).toContain('1 unexpected: base.conv1.0.weights [8,3,5,5] float32');
  });

  it('reports shape, dtype and length mismatches', () => {
    const sd = syntheticStateDict();
    sd.set('conf.0.weight', zeroTensor([2, 16, 1, 1], 'float32'));
    sd.set('base.conv1.1.num_batches_tracked', zeroTensor([], 'float32'));
    sd.set('loc.2.bias', { dtype: 'float32', shape: [4], data: new Float32Array(5) });
    const e = expectStudioError(() => validateEResFDStateDict(sd), 'CHECKPOINT_ARCHITECTURE', /3 shape\/dtype mismatches/);
    expect(e.message).toContain('conf.0.weight: expected [4,16,1,1] float32, found [2,16,1,1] float32');
    expect(e.message).toContain('base.conv1.1.num_batches_tracked: expected [] int64, found [] float32');
    expect(e.message).toContain('loc.2.bias holds 5 values');
  });

  it('flags alias keys as unexpected and caps each list at 10 with a count', () => {
    const sd = syntheticStateDict();
    sd.set('loc0.weight', zeroTensor([4, 16, 1, 1], 'float32'));
    expectStudioError(() => validateEResFDStateDict(sd), 'CHECKPOINT_ARCHITECTURE', /loc0\.weight \(alias of loc\.0\.weight\)/);

    const e = expectStudioError(() => validateEResFDStateDict(new Map()), 'CHECKPOINT_ARCHITECTURE', /475 missing: /);
    expect(e.message).toContain('and 465 more');
    expect(e.message).not.toContain('unexpected');
  });
});
