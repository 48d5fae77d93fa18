import { describe, expect, it } from 'vitest';
import { unpickle, type PyValue } from '../../../src/core/checkpoint/pickle.ts';
import { PickleWriter, pickleStateDict } from '../../../src/core/checkpoint/pickle-writer.ts';
import { readZip, readZipEntry } from '../../../src/core/checkpoint/zip.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { ALL_KEYS_IN_ORDER, EXPECTED_METADATA } from '../../../src/core/checkpoint/state-dict-map.ts';
import { HAS_SHARED, readShared } from '../../helpers/shared.ts';
import { expectStudioError, latin1, sameBytes } from './fixtures.ts';

const items = (v: PyValue): PyValue[] => {
  if (v === null || typeof v !== 'object' || (v.type !== 'tuple' && v.type !== 'list')) throw new Error('not a sequence');
  return [...v.items];
};

describe('unpickle: allowed subset', () => {
  it('decodes ints, strings, booleans, None, tuples, lists and dicts', () => {
    const w = new PickleWriter(2);
    w.op(0x7d); // EMPTY_DICT
    w.put();
    w.op(0x28); // MARK
    w.str('ints');
    w.tuple([() => w.int(0), () => w.int(255), () => w.int(256), () => w.int(65536), () => w.int(-5), () => w.int(2n ** 70n), () => w.int(-(2n ** 40n))]);
    w.str('größe ✓');
    w.tuple([() => w.bool(true), () => w.bool(false), () => w.op(0x4e)]);
    w.str('list');
    w.op(0x5d); // EMPTY_LIST
    w.op(0x28);
    w.int(1);
    w.int(2);
    w.op(0x65); // APPENDS
    w.int(3);
    w.op(0x61); // APPEND
    w.op(0x75); // SETITEMS
    const v = unpickle(w.finish());
    if (v === null || typeof v !== 'object' || v.type !== 'dict') throw new Error('expected a dict');
    expect([...v.items.keys()]).toEqual(['ints', 'größe ✓', 'list']);
    expect(items(v.items.get('ints')!)).toEqual([0, 255, 256, 65536, -5, 2n ** 70n, -(2 ** 40)]);
    expect(items(v.items.get('größe ✓')!)).toEqual([true, false, null]);
    expect(items(v.items.get('list')!)).toEqual([1, 2, 3]);
  });

  it('shares memoized objects by identity (BINPUT/BINGET, LONG_BINPUT/LONG_BINGET)', () => {
    // INST is a real opcode but outside the subset (it calls a class): refused, with its offset.
    const w = new PickleWriter(2);
    for (let i = 0; i < 300; i++) w.str(`s${i}`);
    w.op(0x69);
    const bytes = w.finish();
    expectStudioError(() => unpickle(bytes), 'CHECKPOINT_UNSAFE_PICKLE', new RegExp(`0x69 \\(INST\\) at byte ${bytes.length - 2}`));

    const w2 = new PickleWriter(2);
    for (let i = 0; i < 300; i++) w2.str(`s${i}`);
    w2.tuple([]);
    w2.op(0x74); // would need a MARK: corrupt
    expectStudioError(() => unpickle(w2.finish()), 'CHECKPOINT_CORRUPT');

    const w3 = new PickleWriter(2);
    w3.op(0x28);
    w3.tuple([() => w3.int(1), () => w3.int(2)]); // memo 0
    w3.get(0);
    w3.str('long'); // memo 1
    for (let i = 2; i < 300; i++) w3.str('x'); // memo 2..299
    w3.get(299);
    w3.op(0x74); // TUPLE of everything since MARK
    const v = items(unpickle(w3.finish()));
    expect(v[0]).toBe(v[1]); // same tuple object, not a copy
    expect(v[v.length - 1]).toBe('x');
  });

  it('round-trips pickleStateDict: rebuild_tensor_v2 calls, persistent ids, aliases and _metadata', () => {
    const pkl = pickleStateDict(
      [
        { key: 'a.weight', dtype: 'float32', shape: [2, 3], storageKey: '0', storageNumel: 6, location: 'cuda:0' },
        { key: 'a.n', dtype: 'int64', shape: [], storageKey: '1', storageNumel: 1, location: 'cuda:0' },
        { key: 'b.weight', dtype: 'float32', shape: [2, 3], storageKey: '0', storageNumel: 6, location: 'cuda:0' },
      ],
      [['', { version: 1 }], ['a', { version: 2 }]],
    );
    const pids: PyValue[] = [];
    const root = unpickle(pkl, { persistentLoad: (pid) => (pids.push(pid), { type: 'external', value: pids.length - 1 }) });
    if (root === null || typeof root !== 'object' || root.type !== 'dict') throw new Error('expected a dict');
    expect(root.ordered).toBe(true);
    expect([...root.items.keys()]).toEqual(['a.weight', 'a.n', 'b.weight']);
    const t = root.items.get('a.weight')!;
    expect(t).toMatchObject({ type: 'tensor', offset: 0, shape: [2, 3], stride: [3, 1], requiresGrad: false });
    expect(root.items.get('a.n')).toMatchObject({ type: 'tensor', shape: [], stride: [] });
    expect(pids.map((p) => items(p).map((x) => (typeof x === 'object' && x !== null && x.type === 'global' ? x.name : x)))).toEqual([
      ['storage', 'FloatStorage', '0', 'cuda:0', 6],
      ['storage', 'LongStorage', '1', 'cuda:0', 1],
      ['storage', 'FloatStorage', '0', 'cuda:0', 6],
    ]);
    const md = root.state?.get('_metadata');
    if (md === null || typeof md !== 'object' || md?.type !== 'dict') throw new Error('expected _metadata');
    expect([...md.items.keys()]).toEqual(['', 'a']);
  });
});

describe('unpickle: refuses anything that could run code', () => {
  const GLOBAL_CASES: Array<[string, string]> = [
    ['os', 'system'],
    ['builtins', 'eval'],
    ['posix', 'system'],
    ['__main__', 'EResFD'],
    ['torch', 'load'],
    ['collections', 'defaultdict'],
  ];
  for (const [mod, name] of GLOBAL_CASES) {
    it(`GLOBAL ${mod}.${name} → CHECKPOINT_UNSAFE_PICKLE naming it and its offset`, () => {
      // \x80\x02 c<mod>\n<name>\n X"ls" \x85 R .   — what a malicious checkpoint looks like
      const bytes = latin1(`\x80\x02c${mod}\n${name}\nq\x00X\x02\x00\x00\x00lsq\x01\x85q\x02Rq\x03.`);
      expectStudioError(() => unpickle(bytes), 'CHECKPOINT_UNSAFE_PICKLE', new RegExp(`"${mod}\\.${name}" at byte 2\\b`));
    });
  }

  it('an allowed global that is not callable (torch.FloatStorage) cannot be REDUCEd', () => {
    const bytes = latin1('\x80\x02ctorch\nFloatStorage\n)R.');
    expectStudioError(() => unpickle(bytes), 'CHECKPOINT_UNSAFE_PICKLE', /"torch\.FloatStorage" may not be called \(REDUCE at byte 23\)/);
  });

  const OPCODE_CASES: Array<[string, number, string]> = [
    ['INST', 0x69, 'INST'],
    ['OBJ', 0x6f, 'OBJ'],
    ['NEWOBJ', 0x81, 'NEWOBJ'],
    ['NEWOBJ_EX', 0x92, 'NEWOBJ_EX'],
    ['EXT1', 0x82, 'EXT1'],
    ['PERSID (text)', 0x50, 'PERSID'],
    ['byte 0xff', 0xff, 'not a pickle opcode'],
  ];
  for (const [label, op, name] of OPCODE_CASES) {
    it(`opcode ${label} → CHECKPOINT_UNSAFE_PICKLE with its offset`, () => {
      const bytes = Uint8Array.from([0x80, 0x02, 0x29, op, 0x2e]);
      expectStudioError(() => unpickle(bytes), 'CHECKPOINT_UNSAFE_PICKLE', new RegExp(`\\(${name}\\) at byte 3\\b`));
    });
  }

  it('storages of other dtypes are refused as unsupported, not as unsafe', () => {
    expectStudioError(() => unpickle(latin1('\x80\x02ctorch\nDoubleStorage\n.')), 'CHECKPOINT_UNSUPPORTED', /torch\.DoubleStorage/);
  });
});

describe('unpickle: malformed streams', () => {
  const valid = pickleStateDict(
    [{ key: 'w', dtype: 'float32', shape: [4], storageKey: '0', storageNumel: 4, location: 'cpu' }],
    [['', { version: 1 }]],
  );
  const load = (b: Uint8Array) => unpickle(b, { persistentLoad: () => ({ type: 'external', value: 0 }) });

  it('the valid stream loads', () => {
    expect(() => load(valid)).not.toThrow();
  });

  it('every truncation is CHECKPOINT_CORRUPT', () => {
    for (let cut = 0; cut < valid.length; cut++) expectStudioError(() => load(valid.subarray(0, cut)), 'CHECKPOINT_CORRUPT');
  });

  it('memo misses, stack underflow, leftovers, bad UTF-8 and protocol 6 are CHECKPOINT_CORRUPT', () => {
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x02, 0x68, 0x05, 0x2e])), 'CHECKPOINT_CORRUPT', /memo index 5/);
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x02, 0x52, 0x2e])), 'CHECKPOINT_CORRUPT', /underflow/);
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x02, 0x29, 0x29, 0x2e])), 'CHECKPOINT_CORRUPT', /left on the stack/);
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x02, 0x58, 2, 0, 0, 0, 0xc3, 0x28, 0x2e])), 'CHECKPOINT_CORRUPT', /UTF-8/);
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x06, 0x29, 0x2e])), 'CHECKPOINT_CORRUPT', /protocol 6/);
    expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x02, 0x29, 0x29, 0x73, 0x2e])), 'CHECKPOINT_CORRUPT', /SETITEM/);
  });
});

describe.skipIf(!HAS_SHARED)('pickleStateDict against the released data.pkl', () => {
  for (const file of ['EResFD-original.pth', 'EResFD-60-pruned.pth']) {
    it(`${file}: re-pickling its state dict reproduces data.pkl byte for byte`, () => {
      const bytes = readShared('models', file);
      const ckpt = readCheckpoint(bytes);
      const storageOf = new Map<string, string>();
      const tensors = ALL_KEYS_IN_ORDER.map((k) => {
        const canonical = k.aliasOf ?? k.key;
        if (!storageOf.has(canonical)) storageOf.set(canonical, String(storageOf.size));
        const t = ckpt.stateDict.get(canonical)!;
        return { key: k.key, dtype: t.dtype, shape: t.shape, storageKey: storageOf.get(canonical)!, storageNumel: t.data.length, location: 'cuda:0' };
      });
      const ours = pickleStateDict(tensors, EXPECTED_METADATA);
      const theirs = readZipEntry(readZip(bytes), `${ckpt.archiveName}/data.pkl`);
      expect(ours.length).toBe(theirs.length);
      expect(sameBytes(ours, theirs)).toBe(true);
    });
  }
});
