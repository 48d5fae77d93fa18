import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { ALL_KEYS_IN_ORDER, EXPECTED_KEYS, EXPECTED_METADATA } from '../../../src/core/checkpoint/state-dict-map.ts';
import { writeCheckpoint, writeStateDict, DEFAULT_ARCHIVE_NAME } from '../../../src/core/checkpoint/write-checkpoint.ts';
import { readZip, readZipEntry, TORCH_RECORD_ALIGNMENT } from '../../../src/core/checkpoint/zip.ts';
import type { StateDict } from '../../../src/core/types.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { bytesOf, CHECKPOINT_FILES, expectStudioError, f32, i64, sameBytes } from './fixtures.ts';

/** Every tensor filled with a distinct, exactly representable pattern. */
function patternedStateDict(): StateDict {
  let seed = 1;
  return new Map(
    EXPECTED_KEYS.map((k) =>
      k.dtype === 'int64' ? [k.key, i64([], [BigInt(seed++) * 1000n])] : [k.key, f32([...k.shape], (i) => (seed++ % 997) / 64 - i / 1024)],
    ),
  );
}

function countOccurrences(hay: Uint8Array, needle: string): number {
  const n = Uint8Array.from(needle, (c) => c.charCodeAt(0));
  let count = 0;
  outer: for (let i = 0; i + n.length <= hay.length; i++) {
    for (let j = 0; j < n.length; j++) if (hay[i + j] !== n[j]) continue outer;
    count++;
  }
  return count;
}

describe('writeStateDict (generic)', () => {
  const entries = [
    { key: 'a.weight', tensor: f32([2, 3], (i) => i - 2.5) },
    ...Array.from({ length: 11 }, (_, i) => ({ key: `t${i}`, tensor: f32([i + 1], (j) => i * 100 + j) })),
    { key: 'bn.num_batches_tracked', tensor: i64([], [-(2n ** 62n)]) },
    { key: 'b.weight', aliasOf: 'a.weight' },
  ];

  it('round-trips keys, order, aliases, values and metadata', () => {
    const bytes = writeStateDict(entries, { archiveName: 'tiny', metadata: [['', { version: 1 }], ['bn', { version: 2, note: 'x', flag: true, none: null }]] });
    const ckpt = readCheckpoint(bytes);
    expect(ckpt.archiveName).toBe('tiny');
    expect(ckpt.keys).toEqual(entries.map((e) => e.key));
    expect(ckpt.aliases).toEqual({ 'b.weight': 'a.weight' });
    expect(ckpt.locations).toEqual(['cuda:0']);
    expect(ckpt.metadata).toEqual([['', { version: 1 }], ['bn', { version: 2, note: 'x', flag: true, none: null }]]);
    for (const e of entries) {
      if (!e.tensor) continue;
      const t = ckpt.stateDict.get(e.key)!;
      expect(t.shape).toEqual(e.tensor.shape);
      expect(t.dtype).toBe(e.tensor.dtype);
      expect(t.data).toEqual(e.tensor.data);
    }
    expect(readCheckpoint(writeStateDict(entries)).metadata).toBeUndefined();
  });

  it('writes data.pkl, then data/<key> in string order, then version "3\\n", every record 64-byte aligned', () => {
    const zip = readZip(writeStateDict(entries));
    const names = zip.entries.map((e) => e.name);
    expect(names[0]).toBe(`${DEFAULT_ARCHIVE_NAME}/data.pkl`);
    expect(names.slice(1, -1)).toEqual(['0', '1', '10', '11', '12', '2', '3', '4', '5', '6', '7', '8', '9'].map((k) => `${DEFAULT_ARCHIVE_NAME}/data/${k}`));
    expect(names.at(-1)).toBe(`${DEFAULT_ARCHIVE_NAME}/version`);
    expect(new TextDecoder().decode(readZipEntry(zip, names.at(-1)!))).toBe('3\n');
    for (const e of zip.entries) expect(e.dataOffset % TORCH_RECORD_ALIGNMENT).toBe(0);
  });

  it("memoizes the interned 'cpu' location like CPython, and rewrites 'cuda:0' per tensor like torch", () => {
    const cpu = writeStateDict(entries, { location: 'cpu' });
    expect(readCheckpoint(cpu).locations).toEqual(['cpu']);
    const pkl = (b: Uint8Array) => readZipEntry(readZip(b), `${DEFAULT_ARCHIVE_NAME}/data.pkl`);
    expect(countOccurrences(pkl(cpu), 'cpu')).toBe(1);
    expect(countOccurrences(pkl(writeStateDict(entries)), 'cuda:0')).toBe(entries.length);
  });

  it('rejects bad names, locations, dangling aliases and tensors that do not fill their shape', () => {
    expectStudioError(() => writeStateDict(entries, { archiveName: 'a/b' }), 'CONFIG_INVALID', /Archive name/);
    expectStudioError(() => writeStateDict(entries, { archiveName: '' }), 'CONFIG_INVALID');
    expectStudioError(() => writeStateDict(entries, { location: 'gpu' }), 'CONFIG_INVALID', /location/);
    expectStudioError(() => writeStateDict([{ key: 'x', aliasOf: 'y' }]), 'CONFIG_INVALID', /not an earlier canonical key/);
    expectStudioError(() => writeStateDict([{ key: 'x' }]), 'CONFIG_INVALID', /no tensor/);
    expectStudioError(
      () => writeStateDict([{ key: 'x', tensor: { dtype: 'float32', shape: [3], data: new Float32Array(2) } }]),
      'CHECKPOINT_ARCHITECTURE',
      /do not fill shape \[3\]/,
    );
    expectStudioError(
      () => writeStateDict([{ key: 'x', tensor: { dtype: 'int64', shape: [2], data: new Float32Array(2) } }]),
      'CHECKPOINT_ARCHITECTURE',
    );
  });
});

describe('writeCheckpoint (EResFD)', () => {
  it('writes all 920 keys in order with aliases sharing storage, and the original _metadata', () => {
    const sd = patternedStateDict();
    const bytes = writeCheckpoint(sd);
    const ckpt = readCheckpoint(bytes);
    expect(ckpt.archiveName).toBe(DEFAULT_ARCHIVE_NAME);
    expect(ckpt.keys).toEqual(ALL_KEYS_IN_ORDER.map((k) => k.key));
    expect(ckpt.aliases).toEqual(Object.fromEntries(ALL_KEYS_IN_ORDER.filter((k) => k.aliasOf).map((k) => [k.key, k.aliasOf])));
    expect(ckpt.metadata).toEqual(EXPECTED_METADATA);
    expect(ckpt.locations).toEqual(['cuda:0']);
    expect(readZip(bytes).entries).toHaveLength(1 + 475 + 1);
    for (const [k, t] of sd) expect(sameBytes(bytesOf(ckpt.stateDict.get(k)!), bytesOf(t)), k).toBe(true);
  });

  it('does not depend on the insertion order of the state dict', () => {
    const sd = patternedStateDict();
    const shuffled: StateDict = new Map([...sd].reverse());
    expect(sameBytes(writeCheckpoint(sd), writeCheckpoint(shuffled))).toBe(true);
  });

  it('refuses an incomplete or misshapen state dict with CHECKPOINT_ARCHITECTURE', () => {
    const sd = patternedStateDict();
    sd.delete('base.m0.layer6.w1');
    expectStudioError(() => writeCheckpoint(sd), 'CHECKPOINT_ARCHITECTURE', /1 missing: base\.m0\.layer6\.w1/);
    const sd2 = patternedStateDict();
    sd2.set('loc.1.weight', f32([4, 8, 1, 1], () => 0));
    expectStudioError(() => writeCheckpoint(sd2), 'CHECKPOINT_ARCHITECTURE', /loc\.1\.weight: expected \[4,16,1,1\] float32, found \[4,8,1,1\] float32/);
  });
});

describe.skipIf(!HAS_SHARED)('writeCheckpoint on the released checkpoints', () => {
  for (const file of CHECKPOINT_FILES) {
    it(`${file}: read → write → read is bit-identical for every tensor; with the same archive name the file is byte-identical`, () => {
      const original = readShared('models', file);
      const first = readCheckpoint(original);
      const again = readCheckpoint(writeCheckpoint(first.stateDict));
      expect(again.keys).toEqual(first.keys);
      expect(again.aliases).toEqual(first.aliases);
      expect(again.metadata).toEqual(first.metadata);
      expect([...again.stateDict.keys()]).toEqual([...first.stateDict.keys()]);
      for (const [k, t] of first.stateDict) {
        const u = again.stateDict.get(k)!;
        expect(u.shape).toEqual(t.shape);
        expect(sameBytes(bytesOf(u), bytesOf(t)), k).toBe(true);
      }
      const rewritten = writeCheckpoint(first.stateDict, { archiveName: first.archiveName });
      expect(rewritten.length).toBe(original.length);
      expect(sameBytes(rewritten, original)).toBe(true);
    });
  }
});
