/**
 * Issue 11 item 2: the checkpoint reader (the same code runs in the browser's workers) refuses
 * resource bombs quickly, with a clear code, without growing the process by more than 200 MB; and
 * issue 11 item 3: protocol 4/5 data opcodes are read, still without running anything.
 * Every input is generated here; none is committed.
 */
import { deflateSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { isStudioError, type ErrorCode } from '../../../src/core/errors.ts';
import { INPUT_LIMITS } from '../../../src/core/limits.ts';
import { unpickle, type PyValue } from '../../../src/core/checkpoint/pickle.ts';
import { readCheckpoint } from '../../../src/core/checkpoint/read-checkpoint.ts';
import { crc32, readZip, readZipEntry } from '../../../src/core/checkpoint/zip.ts';
import { pickleStateDict } from '../../../src/core/checkpoint/pickle-writer.ts';
import { parseMat } from '../../../src/core/dataset/parse-mat.ts';
import { costOfFailure, expectCheap } from '../../helpers/resources.ts';
import { concatBytes, deflateBomb, expectStudioError, latin1, rawZip, rawZipMany, zipWithPickle } from './fixtures.ts';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

/** PROTO 2, `body`, STOP. */
const pickleOf = (...parts: Array<Uint8Array | number[]>): Uint8Array => concatBytes([[0x80, 0x02], ...parts, [0x2e]]);
const repeated = (byte: number, n: number) => new Uint8Array(n).fill(byte);
const u32 = (v: number) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];

/** data.pkl of a one-tensor state dict {'w': float32[numel]} whose storage is `archive/data/0`. */
const pickleWithStorage = (numel: number): Uint8Array =>
  pickleStateDict([{ key: 'w', dtype: 'float32', shape: [numel], storageKey: '0', storageNumel: numel, location: 'cpu' }]);

interface BombCase {
  name: string;
  /** Builds the input (not measured). */
  build: () => Uint8Array;
  parse: (bytes: Uint8Array) => unknown;
  code: ErrorCode;
  message: RegExp;
}

const BOMBS: BombCase[] = [
  {
    name: '25 M nested MARKs, deflated into a ~25 KB zip entry (the 48 KB file of the issue)',
    build: () => rawZip('archive/data.pkl', deflateSync(pickleOf(repeated(0x28, 25_000_000)), { level: 9 }), { method: 8, declaredSize: 25_000_003 }),
    parse: readCheckpoint,
    code: 'CHECKPOINT_LIMIT',
    message: /declares 25000003 bytes from \d+ compressed, over the limit/,
  },
  {
    name: '25 M nested MARKs, stored (reaches the unpickler)',
    build: () => zipWithPickle(pickleOf(repeated(0x28, 25_000_000))),
    parse: readCheckpoint,
    code: 'CHECKPOINT_LIMIT',
    message: new RegExp(`MARKs nested deeper than ${INPUT_LIMITS.pickleDepth} \\(opcode MARK at byte ${2 + INPUT_LIMITS.pickleDepth}\\)`),
  },
  {
    name: '25 M empty dicts side by side (no nesting)',
    build: () => pickleOf(repeated(0x7d, 25_000_000)),
    parse: (b) => unpickle(b),
    code: 'CHECKPOINT_LIMIT',
    message: new RegExp(`more than ${INPUT_LIMITS.pickleObjects} objects`),
  },
  {
    name: '25 M Nones (no objects, only operations)',
    build: () => pickleOf(repeated(0x4e, 25_000_000)),
    parse: (b) => unpickle(b),
    code: 'CHECKPOINT_LIMIT',
    message: new RegExp(`more than ${INPUT_LIMITS.pickleOps} operations`),
  },
  {
    name: 'a data.pkl over the size limit',
    build: () => pickleOf(repeated(0x29, INPUT_LIMITS.pickleBytes)),
    parse: (b) => unpickle(b),
    code: 'CHECKPOINT_LIMIT',
    message: /data\.pkl is \d+ bytes, over the limit/,
  },
  {
    name: 'LONG_BINPUT at memo slot 2^31',
    build: () => pickleOf([0x29, 0x72, ...u32(2 ** 31)]),
    parse: (b) => unpickle(b),
    code: 'CHECKPOINT_LIMIT',
    message: /memo slot 2147483648 is over the limit/,
  },
  {
    name: 'LONG4 claiming a 100 MB integer',
    build: () => pickleOf([0x8b, ...u32(100_000_000)]),
    parse: (b) => unpickle(b),
    code: 'CHECKPOINT_LIMIT',
    message: /a 100000000-byte integer/,
  },
  {
    name: 'a 1 MB zip entry declaring its true 1 GiB',
    build: () => rawZip('x.bin', deflateBomb(GiB), { method: 8, declaredSize: GiB }),
    parse: (b) => readZipEntry(readZip(b), 'x.bin'),
    code: 'CHECKPOINT_LIMIT',
    message: /declares 1073741824 bytes from \d+ compressed, over the limit/,
  },
  {
    name: 'a 1 MB zip entry declaring 1 MiB but inflating to 1 GiB (stopped while streaming)',
    build: () => rawZip('x.bin', deflateBomb(GiB), { method: 8, declaredSize: MiB }),
    parse: (b) => readZipEntry(readZip(b), 'x.bin'),
    code: 'CHECKPOINT_CORRUPT',
    message: /inflates past its stated 1048576 bytes/,
  },
  {
    name: 'a 100 KB zip entry without a declared size limit of its own, inflating to 100 MiB (ratio over 100:1)',
    build: () => rawZip('x.bin', deflateBomb(100 * MiB), { method: 8, declaredSize: 100 * MiB + 200 }),
    parse: (b) => readZipEntry(readZip(b), 'x.bin'),
    code: 'CHECKPOINT_LIMIT',
    message: /over the limit of \d+ \(at most 100:1/,
  },
  {
    name: 'a 1 MB MATLAB .mat whose compressed element inflates to 1 GiB (ground-truth files share the limits)',
    build: () => {
      const header = new Uint8Array(128).fill(0x20);
      header.set(latin1('MATLAB 5.0 MAT-file'), 0);
      header.set([0x00, 0x01, 0x49, 0x4d], 124); // version 0x0100, "IM" (little-endian)
      const zlib = new Uint8Array([0x78, 0x01, ...deflateBomb(GiB), 0, 0, 0, 0]);
      const tag = new Uint8Array(8);
      new DataView(tag.buffer).setUint32(0, 15, true); // miCOMPRESSED
      new DataView(tag.buffer).setUint32(4, zlib.length, true);
      return new Uint8Array([...header, ...tag, ...zlib]);
    },
    parse: (b) => parseMat(b, { fileName: 'wider_hard_val.mat' }),
    code: 'MAT_FORMAT',
    message: /wider_hard_val\.mat: element #1 at byte 128: .*inflates past its stated 15 bytes/,
  },
];

describe('hostile checkpoints (and .mat files) fail fast, with a clear code, without exhausting memory', () => {
  for (const c of BOMBS) {
    it(`${c.name} → ${c.code}`, async () => {
      const input = c.build();
      const cost = await costOfFailure(() => c.parse(input));
      expect(isStudioError(cost.error), String(cost.error)).toBe(true);
      const e = cost.error as { code: string; message: string };
      expect(e.code, e.message).toBe(c.code);
      expect(e.message).toMatch(c.message);
      expectCheap(cost);
    });
  }

  it('the deflate bomb is real: its first megabytes inflate to zeros (so the limits, not bad data, stop it)', async () => {
    const { inflateRawSync } = await import('node:zlib');
    const small = inflateRawSync(deflateBomb(3 * MiB));
    expect(small.length).toBe(3 * MiB);
    expect(small.every((v) => v === 0)).toBe(true);
  });

  it('a storage declared with more bytes than numel · itemsize is refused before it is inflated', () => {
    const pkl = pickleWithStorage(4);
    const zip = rawZipMany([
      { name: 'archive/data.pkl', data: pkl, method: 0, declaredSize: pkl.length, crc: crc32(pkl) },
      { name: 'archive/data/0', data: deflateBomb(GiB), method: 8, declaredSize: GiB },
    ]);
    expectStudioError(() => readCheckpoint(zip), 'CHECKPOINT_CORRUPT', /archive\/data\/0 holds 1073741824 bytes, 4 × float32 = 16 expected/);
  });
});

describe('APPENDS and SETITEMS with 300 k items (no spread onto the call stack)', () => {
  it('a list of 300 000 items loads', () => {
    const body = [0x5d, 0x28, ...new Array<number>(300_000).fill(0).flatMap(() => [0x4b, 7]), 0x65];
    const v = unpickle(pickleOf(body));
    if (v === null || typeof v !== 'object' || v.type !== 'list') throw new Error('expected a list');
    expect(v.items).toHaveLength(300_000);
    expect(v.items[299_999]).toBe(7);
  });
});

describe('protocol 4/5 data opcodes (still nothing executed)', () => {
  const s = (t: string) => [0x8c, t.length, ...latin1(t)];
  const dictOf = (v: PyValue) => {
    if (v === null || typeof v !== 'object' || v.type !== 'dict') throw new Error(`expected a dict, got ${String(v)}`);
    return v;
  };
  it('FRAME, STACK_GLOBAL (allowlisted), MEMOIZE, SHORT_BINUNICODE, BINUNICODE8, BYTEARRAY8, sets, POP/DUP', () => {
    const pkl = Uint8Array.from([
      0x80, 0x05, 0x95, ...u32(60), 0, 0, 0, 0, // PROTO 5, FRAME(60)
      ...s('collections'), 0x94, ...s('OrderedDict'), 0x94, 0x93, 0x94, 0x29, 0x52, 0x94, // OrderedDict() → memo 3
      ...s('k'), 0x8d, 3, 0, 0, 0, 0, 0, 0, 0, ...latin1('abc'), 0x73, // d['k'] = 'abc' (BINUNICODE8)
      ...s('b'), 0x96, 2, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0x73, // d['b'] = bytearray(b'\x01\x02')
      ...s('set'), 0x8f, 0x28, 0x4b, 1, 0x4b, 2, 0x90, 0x73, // d['set'] = {1, 2}
      0x29, 0x32, 0x30, 0x30, // () DUP POP POP
      ...s('same'), 0x68, 3, 0x73, // d['same'] = memo[3]: the dict itself, by identity
      0x2e,
    ]);
    const d = dictOf(unpickle(pkl));
    expect(d.ordered).toBe(true);
    expect(d.items.get('k')).toBe('abc');
    expect(d.items.get('b')).toEqual({ type: 'bytes', data: Uint8Array.of(1, 2) });
    expect(d.items.get('set')).toEqual({ type: 'set', items: [1, 2] });
    expect(d.items.get('same')).toBe(d);
  });

  const REFUSED: Array<[string, number[], ErrorCode, RegExp]> = [
    ['STACK_GLOBAL os.system', [...s('os'), ...s('system'), 0x93], 'CHECKPOINT_UNSAFE_PICKLE', /global "os\.system" at byte 14 is not allowed/],
    ['STACK_GLOBAL builtins.eval', [...s('builtins'), ...s('eval'), 0x93], 'CHECKPOINT_UNSAFE_PICKLE', /"builtins\.eval"/],
    ['STACK_GLOBAL of a non-string', [0x4b, 1, 0x4b, 2, 0x93], 'CHECKPOINT_CORRUPT', /STACK_GLOBAL needs two strings/],
    ['NEWOBJ after an allowed STACK_GLOBAL', [...s('collections'), ...s('OrderedDict'), 0x93, 0x29, 0x81], 'CHECKPOINT_UNSAFE_PICKLE', /\(NEWOBJ\)/],
    ['NEXT_BUFFER (out-of-band data)', [0x97], 'CHECKPOINT_UNSUPPORTED', /out-of-band buffer/],
    ['FRAME longer than the file', [0x95, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], 'CHECKPOINT_CORRUPT', /truncated/],
    ['BINBYTES8 longer than the file', [0x8e, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'CHECKPOINT_CORRUPT', /truncated/],
  ];
  for (const [name, body, code, message] of REFUSED) {
    it(`${name} → ${code}`, () => {
      expectStudioError(() => unpickle(Uint8Array.from([0x80, 0x04, ...body, 0x2e])), code, message);
    });
  }
});
