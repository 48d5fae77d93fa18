import { describe, expect, it } from 'vitest';
import { zipSync } from 'fflate';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { PickleWriter } from '../../../src/core/checkpoint/pickle-writer.ts';
import {
  ALL_KEYS_IN_ORDER,
  EXPECTED_KEYS,
  EXPECTED_METADATA,
  validateEResFDStateDict,
} from '../../../src/core/checkpoint/state-dict-map.ts';
import { writeStateDict } from '../../../src/core/checkpoint/write-checkpoint.ts';
import { readZip, readZipEntry, writeTorchZip, type ZipRecord } from '../../../src/core/checkpoint/zip.ts';
import { HAS_SHARED, readShared, readSharedJson } from '../../helpers/shared.ts';
import { CHECKPOINT_FILES, expectStudioError, f32, latin1, pseudoRandomBytes, zipWithPickle } from './fixtures.ts';

interface ViewSpec {
  key: string;
  shape: number[];
  stride: number[];
  offset: number;
  storageKey: string;
  storageNumel: number;
}

/** A data.pkl with arbitrary (possibly strided) float32 views, which torch.save never writes for a state dict. */
function viewsPickle(views: ViewSpec[], extra?: (w: PickleWriter) => void): Uint8Array {
  const w = new PickleWriter(2);
  w.orderedDict();
  w.op(0x28);
  for (const v of views) {
    w.str(v.key);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.tuple([
      () => {
        w.tuple([() => w.str('storage'), () => w.global('torch', 'FloatStorage'), () => w.str(v.storageKey), () => w.str('cpu'), () => w.int(v.storageNumel)]);
        w.op(0x51);
      },
      () => w.int(v.offset),
      () => w.intTuple(v.shape),
      () => w.intTuple(v.stride),
      () => w.bool(false),
      () => w.orderedDict(),
    ]);
    w.op(0x52);
    w.put();
  }
  extra?.(w);
  w.op(0x75);
  return w.finish();
}

function storageZip(pkl: Uint8Array, storages: Record<string, Float32Array>, archive = 'views'): Uint8Array {
  const records: ZipRecord[] = [{ name: `${archive}/data.pkl`, data: pkl }];
  for (const [k, v] of Object.entries(storages)) records.push({ name: `${archive}/data/${k}`, data: new Uint8Array(v.buffer) });
  return writeTorchZip(records);
}

const iota = (n: number) => Float32Array.from({ length: n }, (_, i) => i);

describe('readCheckpoint on generated archives', () => {
  it('gathers strided views and offsets, and treats an identical view as an alias', () => {
    const pkl = viewsPickle([
      { key: 'transposed', shape: [3, 2], stride: [1, 3], offset: 0, storageKey: '0', storageNumel: 12 },
      { key: 'tail', shape: [2, 2], stride: [2, 1], offset: 6, storageKey: '0', storageNumel: 12 },
      { key: 'same', shape: [3, 2], stride: [1, 3], offset: 0, storageKey: '0', storageNumel: 12 },
      { key: 'bcast', shape: [2, 3], stride: [0, 1], offset: 9, storageKey: '0', storageNumel: 12 },
    ]);
    const ckpt = readCheckpoint(storageZip(pkl, { 0: iota(12) }));
    expect(ckpt.archiveName).toBe('views');
    expect(ckpt.keys).toEqual(['transposed', 'tail', 'same', 'bcast']);
    expect(ckpt.aliases).toEqual({ same: 'transposed' });
    expect(Array.from(ckpt.stateDict.get('transposed')!.data as Float32Array)).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(ckpt.stateDict.get('tail')!.data as Float32Array)).toEqual([6, 7, 8, 9]);
    expect(Array.from(ckpt.stateDict.get('bcast')!.data as Float32Array)).toEqual([9, 10, 11, 9, 10, 11]);
    expect(ckpt.locations).toEqual(['cpu']);
    expect(ckpt.metadata).toBeUndefined();
  });

  it('rejects a view reaching past its storage', () => {
    const pkl = viewsPickle([{ key: 'over', shape: [4], stride: [1], offset: 9, storageKey: '0', storageNumel: 12 }]);
    expectStudioError(() => readCheckpoint(storageZip(pkl, { 0: iota(12) })), 'CHECKPOINT_CORRUPT', /over reaches element 12 of a 12-element storage/);
  });

  it('rejects a broadcast view claiming more elements than its storage (no huge allocation)', () => {
    const pkl = viewsPickle([{ key: 'huge', shape: [1_000_000_000], stride: [0], offset: 0, storageKey: '0', storageNumel: 1 }]);
    expectStudioError(() => readCheckpoint(storageZip(pkl, { 0: iota(1) })), 'CHECKPOINT_CORRUPT', /huge has 1000000000 elements/);
  });

  it('reports missing and short storage records', () => {
    const pkl = viewsPickle([{ key: 'w', shape: [4], stride: [1], offset: 0, storageKey: '0', storageNumel: 4 }]);
    expectStudioError(() => readCheckpoint(storageZip(pkl, {})), 'CHECKPOINT_CORRUPT', /views\/data\/0 is missing/);
    expectStudioError(() => readCheckpoint(storageZip(pkl, { 0: iota(3) })), 'CHECKPOINT_CORRUPT', /holds 12 bytes, 4 × float32 = 16 expected/);
  });

  it('refuses non-tensor values and non-dict roots as unsupported', () => {
    const withEpoch = viewsPickle([{ key: 'w', shape: [4], stride: [1], offset: 0, storageKey: '0', storageNumel: 4 }], (w) => {
      w.str('epoch');
      w.int(9);
    });
    expectStudioError(() => readCheckpoint(storageZip(withEpoch, { 0: iota(4) })), 'CHECKPOINT_UNSUPPORTED', /epoch holds a number/);
    expectStudioError(() => readCheckpoint(zipWithPickle(Uint8Array.from([0x80, 0x02, 0x29, 0x2e]))), 'CHECKPOINT_UNSUPPORTED', /holds a tuple/);
  });

  it('reads Parameters pickled with _rebuild_parameter', () => {
    const w = new PickleWriter(2);
    w.orderedDict();
    w.str('p');
    w.global('torch._utils', '_rebuild_parameter');
    w.tuple([
      () => {
        w.global('torch._utils', '_rebuild_tensor_v2');
        w.tuple([
          () => {
            w.tuple([() => w.str('storage'), () => w.global('torch', 'FloatStorage'), () => w.str('0'), () => w.str('cpu'), () => w.int(3)]);
            w.op(0x51);
          },
          () => w.int(0),
          () => w.intTuple([3]),
          () => w.intTuple([1]),
          () => w.bool(false),
          () => w.orderedDict(),
        ]);
        w.op(0x52);
      },
      () => w.bool(true),
      () => w.orderedDict(),
    ]);
    w.op(0x52);
    w.op(0x73);
    const ckpt = readCheckpoint(storageZip(w.finish(), { 0: Float32Array.of(1.5, -2, 3) }));
    expect(Array.from(ckpt.stateDict.get('p')!.data as Float32Array)).toEqual([1.5, -2, 3]);
  });

  it('tells legacy, tar, random, empty and data.pkl-less files apart', () => {
    const legacy = Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
    expectStudioError(() => readCheckpoint(legacy), 'CHECKPOINT_NOT_ZIP', /legacy non-zip PyTorch format/);
    const tar = new Uint8Array(1024);
    tar.set(latin1('ustar'), 257);
    expectStudioError(() => readCheckpoint(tar), 'CHECKPOINT_NOT_ZIP', /tar/);
    for (let seed = 1; seed <= 5; seed++) expectStudioError(() => readCheckpoint(pseudoRandomBytes(10_000, seed)), 'CHECKPOINT_NOT_ZIP');
    expectStudioError(() => readCheckpoint(new Uint8Array(0)), 'CHECKPOINT_CORRUPT');
    const noPickle = writeTorchZip([{ name: 'archive/version', data: latin1('3\n') }, { name: 'archive/data/0', data: new Uint8Array(8) }]);
    expectStudioError(() => readCheckpoint(noPickle), 'CHECKPOINT_NO_PICKLE', /no <archive>\/data\.pkl record \(2 entries: archive\/version, archive\/data\/0\)/);
    const foreignZip = zipSync({ 'readme.txt': latin1('hello'), 'data.pkl': latin1('\x80\x02}.') });
    expectStudioError(() => readCheckpoint(foreignZip), 'CHECKPOINT_NO_PICKLE');
    const torchScript = writeTorchZip([{ name: 'm/code/__torch__.py', data: latin1('') }, { name: 'm/constants.pkl', data: latin1('\x80\x02).') }]);
    expectStudioError(() => readCheckpoint(torchScript), 'TORCHSCRIPT_ARCHIVE', /TorchScript archive \(torch\.jit\.save: it holds m\/code\/__torch__\.py\)/);
  });

  it('refuses a checkpoint whose data.pkl names os.system, before reading any storage', () => {
    const evil = latin1('\x80\x02cos\nsystem\nq\x00X\x06\x00\x00\x00whoamiq\x01\x85q\x02Rq\x03.');
    expectStudioError(() => readCheckpoint(zipWithPickle(evil)), 'CHECKPOINT_UNSAFE_PICKLE', /"os\.system" at byte 2/);
  });
});

describe.skipIf(!HAS_SHARED)('readCheckpoint on the released checkpoints', () => {
  type Stats = Record<string, { file: string; zero_params: number; total_params: number; fpn_w1: number[][] }>;
  const stats = HAS_SHARED ? readSharedJson<Stats>('reference', 'pruned_stats.json') : {};
  const facts = HAS_SHARED ? readSharedJson<{ fpn_w1: number[][]; num_batches_tracked_values: number[] }>('reference', 'model_facts.json') : null;
  const statsFor = (file: string) => stats[file === 'EResFD-original.pth' ? 'original' : /EResFD-(\d+)-pruned/.exec(file)![1]!]!;
  const expectedAliases = Object.fromEntries(ALL_KEYS_IN_ORDER.filter((k) => k.aliasOf).map((k) => [k.key, k.aliasOf!]));

  for (const file of CHECKPOINT_FILES) {
    it(`${file}: 920 keys in order, 445 aliases, 475 own tensors, valid EResFD, values match the reference stats`, () => {
      const bytes = readShared('models', file);
      const ckpt = readCheckpoint(bytes);
      expect(ckpt.archiveName).toBe(file === 'EResFD-original.pth' ? 'ERES-299' : 'ERes-Stop-9');
      expect(ckpt.keys).toEqual(ALL_KEYS_IN_ORDER.map((k) => k.key));
      expect(ckpt.aliases).toEqual(expectedAliases);
      expect([...ckpt.stateDict.keys()]).toEqual(EXPECTED_KEYS.map((k) => k.key));
      expect(ckpt.locations).toEqual(['cuda:0']);
      expect(ckpt.metadata).toEqual(EXPECTED_METADATA);
      validateEResFDStateDict(ckpt.stateDict);

      // own buffers: nothing aliases the file bytes or another tensor
      const buffers = new Set<ArrayBufferLike>();
      for (const t of ckpt.stateDict.values()) {
        expect(t.data.buffer).not.toBe(bytes.buffer);
        expect(t.data.byteLength).toBe(t.data.buffer.byteLength);
        buffers.add(t.data.buffer);
      }
      expect(buffers.size).toBe(475);

      let params = 0;
      let zeros = 0;
      for (const spec of EXPECTED_KEYS) {
        if (spec.kind !== 'parameter') continue;
        const data = ckpt.stateDict.get(spec.key)!.data as Float32Array;
        params += data.length;
        for (const v of data) if (v === 0) zeros++;
      }
      const ref = statsFor(file);
      expect(params).toBe(92_208);
      expect(params).toBe(ref.total_params);
      expect(zeros).toBe(ref.zero_params);

      const w1 = ckpt.stateDict.get('base.m0.layer6.w1')!;
      expect(Array.from(w1.data as Float32Array)).toEqual(ref.fpn_w1.flat().map(Math.fround));
      const nbt = EXPECTED_KEYS.filter((k) => k.dtype === 'int64').map((k) => ckpt.stateDict.get(k.key)!.data[0]);
      expect(nbt).toHaveLength(75);
      expect(new Set(nbt)).toEqual(new Set([file === 'EResFD-original.pth' ? 483000n : 660100n]));
    });
  }

  it('original: fpn_w1 and num_batches_tracked equal model_facts.json (denormal w1[:,4] kept)', () => {
    const ckpt = readCheckpoint(readShared('models', 'EResFD-original.pth'));
    const w1 = ckpt.stateDict.get('base.m0.layer6.w1')!.data as Float32Array;
    expect(Array.from(w1)).toEqual(facts!.fpn_w1.flat().map(Math.fround));
    expect(w1[4]).toBeLessThan(0);
    expect(Math.abs(w1[4]!)).toBeLessThan(1e-38);
    expect(ckpt.stateDict.get('base.conv1.1.num_batches_tracked')!.data[0]).toBe(BigInt(facts!.num_batches_tracked_values[0]!));
    // a value checked against an independent reading of the zip: conv1 weight = data/0 as little-endian float32
    const zip = readZip(readShared('models', 'EResFD-original.pth'));
    const raw = readZipEntry(zip, 'ERES-299/data/0');
    const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const conv1 = ckpt.stateDict.get('base.conv1.0.weight')!.data as Float32Array;
    expect(conv1.length).toBe(600);
    for (const i of [0, 1, 299, 599]) expect(conv1[i]).toBe(dv.getFloat32(i * 4, true));
  });

  it('reads a checkpoint fast (a few ms; generous bound for a shared CI machine)', () => {
    const bytes = readShared('models', 'EResFD-30-pruned.pth');
    for (let i = 0; i < 3; i++) readCheckpoint(bytes);
    const times: number[] = [];
    for (let i = 0; i < 7; i++) {
      const t = performance.now();
      readCheckpoint(bytes);
      times.push(performance.now() - t);
    }
    times.sort((a, b) => a - b);
    expect(times[3]).toBeLessThan(100);
  });

  it('reads the same tensors from a deflate-compressed re-zip', () => {
    const bytes = readShared('models', 'EResFD-20-pruned.pth');
    const zip = readZip(bytes);
    const files: Record<string, [Uint8Array, { level: 6 }]> = {};
    for (const e of zip.entries) files[e.name] = [readZipEntry(zip, e).slice(), { level: 6 }];
    const deflated = zipSync(files);
    expect(readZip(deflated).entries.some((e) => e.method === 8)).toBe(true);
    const a = readCheckpoint(bytes);
    const b = readCheckpoint(deflated);
    expect(b.keys).toEqual(a.keys);
    for (const [k, t] of a.stateDict) expect(b.stateDict.get(k)!.data).toEqual(t.data);
  });

  describe('damaged or hostile variants of a real checkpoint', () => {
    const bytes = HAS_SHARED ? readShared('models', 'EResFD-original.pth') : new Uint8Array(0);

    it('truncated at many points → CHECKPOINT_CORRUPT', () => {
      const cuts = [4, 30, 64, 100, 1_000, 147_000, 300_000, bytes.length - 30_000, bytes.length - 23, bytes.length - 22, bytes.length - 1];
      for (const cut of cuts) expectStudioError(() => readCheckpoint(bytes.subarray(0, cut)), 'CHECKPOINT_CORRUPT');
    });

    it('a flipped byte inside a storage → CRC mismatch', () => {
      const zip = readZip(bytes);
      const e = zip.byName.get('ERES-299/data/17')!;
      const bad = bytes.slice();
      bad[e.dataOffset + 3]! ^= 0x40;
      expectStudioError(() => readCheckpoint(bad), 'CHECKPOINT_CORRUPT', /CRC mismatch in zip entry ERES-299\/data\/17/);
    });

    const rezip = (patch: (records: ZipRecord[]) => ZipRecord[]) => {
      const zip = readZip(bytes);
      return writeTorchZip(patch(zip.entries.map((e) => ({ name: e.name, data: readZipEntry(zip, e) }))));
    };

    it('without data.pkl → CHECKPOINT_NO_PICKLE', () => {
      expectStudioError(() => readCheckpoint(rezip((r) => r.filter((x) => !x.name.endsWith('data.pkl')))), 'CHECKPOINT_NO_PICKLE');
    });

    it('with a storage record removed → CHECKPOINT_CORRUPT naming it', () => {
      expectStudioError(() => readCheckpoint(rezip((r) => r.filter((x) => x.name !== 'ERES-299/data/3'))), 'CHECKPOINT_CORRUPT', /ERES-299\/data\/3 is missing/);
    });

    it('with an unknown opcode patched into data.pkl → CHECKPOINT_UNSAFE_PICKLE at that byte', () => {
      const patched = rezip((r) =>
        r.map((x) => {
          if (!x.name.endsWith('data.pkl')) return x;
          const pkl = x.data.slice();
          expect(pkl[29]).toBe(0x29); // EMPTY_TUPLE after GLOBAL collections.OrderedDict + BINPUT
          pkl[29] = 0x69; // INST
          return { name: x.name, data: pkl };
        }),
      );
      expectStudioError(() => readCheckpoint(patched), 'CHECKPOINT_UNSAFE_PICKLE', /0x69 \(INST\) at byte 29/);
    });

    it('with OrderedDict swapped for a same-length foreign global → CHECKPOINT_UNSAFE_PICKLE', () => {
      const patched = rezip((r) =>
        r.map((x) => {
          if (!x.name.endsWith('data.pkl')) return x;
          const pkl = x.data.slice();
          // 'collections\nOrderedDict\n' (24 bytes from byte 3) → 'nt\nsystem\n' + filler, same length
          expect(String.fromCharCode(...pkl.subarray(2, 27))).toBe('ccollections\nOrderedDict\n');
          pkl.set(latin1('nt\nsystem\n'.padEnd(24, '\n')), 3);
          return { name: x.name, data: pkl };
        }),
      );
      expectStudioError(() => readCheckpoint(patched), 'CHECKPOINT_UNSAFE_PICKLE', /"nt\.system" at byte 2/);
    });

    it('with a renamed key or a wrong shape → reads, then fails validation with CHECKPOINT_ARCHITECTURE', () => {
      const ckpt = readCheckpoint(bytes);
      const entries = ALL_KEYS_IN_ORDER.map((k) => ({ key: k.key, aliasOf: k.aliasOf, tensor: k.aliasOf ? undefined : ckpt.stateDict.get(k.key) }));

      const [from, to] = ['base.m0.layer3.1.res_layer.3.weight', 'base.m0.layer3.1.res_layer.3.weight_orig'];
      const renamed = entries.map((e) => (e.key === from ? { ...e, key: to } : e.aliasOf === from ? { ...e, aliasOf: to } : e));
      const r = readCheckpoint(writeStateDict(renamed, { archiveName: 'ERES-299' }));
      expect(r.keys).toContain(to);
      expect(r.aliases['base.m0.b2_3.1.res_layer.3.weight']).toBe(to);
      const e1 = expectStudioError(() => validateEResFDStateDict(r.stateDict), 'CHECKPOINT_ARCHITECTURE');
      expect(e1.message).toContain(`1 missing: ${from} [16,16,3,3] float32;`);
      expect(e1.message).toContain(`1 unexpected: ${to} [16,16,3,3] float32.`);

      const reshaped = entries.map((e) => (e.key === 'conf.2.weight' ? { ...e, tensor: f32([4, 16, 1, 1], () => 0) } : e));
      const s = readCheckpoint(writeStateDict(reshaped, { archiveName: 'ERES-299' }));
      expectStudioError(() => validateEResFDStateDict(s.stateDict), 'CHECKPOINT_ARCHITECTURE', /1 shape\/dtype mismatches: conf\.2\.weight: expected \[2,16,1,1\] float32, found \[4,16,1,1\] float32/);
    });
  });
});
