/**
 * Writes `data.pkl` the way `torch.save(state_dict)` does (torch 1.x, pickle protocol 2, CPython's
 * `pickle._Pickler` memo rules), so that a state dict read and written back reproduces the
 * released checkpoints' pickle byte for byte:
 *
 * - the OrderedDict is `GLOBAL collections OrderedDict` + `()` + REDUCE, items in SETITEMS batches
 *   of 1000, then `{'_metadata': OrderedDict(module → {'version': n})}` via BUILD;
 * - each tensor is `_rebuild_tensor_v2((persistent id), offset, size, stride, False, OrderedDict())`
 *   with persistent id `('storage', torch.FloatStorage|LongStorage, '<key>', '<location>', numel)`;
 * - CPython memoizes by object identity: globals, `'storage'`, a storage's key string (one object
 *   per storage: that is what makes aliases share memory after torch.load), the interned
 *   `'version'` and `'cpu'` are reused via BINGET; `'cuda:N'` is built afresh per tensor
 *   (`'cuda:' + str(i)`), so it is written again every time.
 */
import type { ModuleMetadata, MetadataValue } from './types.ts';

const BATCH_SIZE = 1000; // pickle._BATCHSIZE

export interface PickledTensor {
  key: string;
  dtype: 'float32' | 'int64';
  shape: readonly number[];
  /** Storage key (`'0'`, `'1'`, ...); tensors with the same key share one storage. */
  storageKey: string;
  storageNumel: number;
  /** `'cuda:0'` or `'cpu'`. */
  location: string;
}

class ByteSink {
  private buf = new Uint8Array(1 << 16);
  length = 0;
  private ensure(n: number): void {
    if (this.length + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.length + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.length));
    this.buf = next;
  }
  byte(b: number): void {
    this.ensure(1);
    this.buf[this.length++] = b;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.length);
    this.length += b.length;
  }
  u16(v: number): void {
    this.byte(v & 0xff);
    this.byte((v >>> 8) & 0xff);
  }
  u32(v: number): void {
    this.u16(v & 0xffff);
    this.u16(v >>> 16);
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Low-level protocol-2 emitter with CPython's memo numbering. */
export class PickleWriter {
  private readonly out = new ByteSink();
  private readonly enc = new TextEncoder();
  private memoSize = 0;
  /** Identity-memoized objects, keyed by a caller-chosen identity string. */
  private readonly memo = new Map<string, number>();

  constructor(protocol = 2) {
    this.out.byte(0x80);
    this.out.byte(protocol);
  }

  /** BINPUT / LONG_BINPUT of the next memo slot. */
  put(): number {
    const i = this.memoSize++;
    if (i < 256) {
      this.out.byte(0x71);
      this.out.byte(i);
    } else {
      this.out.byte(0x72);
      this.out.u32(i);
    }
    return i;
  }

  get(i: number): void {
    if (i < 256) {
      this.out.byte(0x68);
      this.out.byte(i);
    } else {
      this.out.byte(0x6a);
      this.out.u32(i);
    }
  }

  /** Writes an object once, then BINGETs it for the same identity. */
  memoized(identity: string, write: () => void): void {
    const i = this.memo.get(identity);
    if (i !== undefined) return this.get(i);
    write();
    this.memo.set(identity, this.put());
  }

  op(code: number): void {
    this.out.byte(code);
  }

  global(module: string, name: string): void {
    this.memoized(`global:${module}.${name}`, () => {
      this.out.byte(0x63);
      this.out.bytes(this.enc.encode(`${module}\n${name}\n`));
    });
  }

  /** A fresh str object: BINUNICODE + memo slot. */
  str(s: string): void {
    const b = this.enc.encode(s);
    this.out.byte(0x58);
    this.out.u32(b.length);
    this.out.bytes(b);
    this.put();
  }

  /** A str object shared by identity (interned literal, or the same Python object). */
  sharedStr(identity: string, s: string): void {
    this.memoized(`str:${identity}`, () => {
      const b = this.enc.encode(s);
      this.out.byte(0x58);
      this.out.u32(b.length);
      this.out.bytes(b);
    });
  }

  int(v: number | bigint): void {
    if (typeof v === 'number' && !Number.isSafeInteger(v)) throw new RangeError(`not an integer: ${v}`);
    const n = BigInt(v);
    if (n >= 0n && n <= 0xffn) {
      this.out.byte(0x4b);
      this.out.byte(Number(n));
    } else if (n >= 0n && n <= 0xffffn) {
      this.out.byte(0x4d);
      this.out.u16(Number(n));
    } else if (n >= -0x80000000n && n <= 0x7fffffffn) {
      this.out.byte(0x4a);
      this.out.u32(Number(BigInt.asUintN(32, n)));
    } else {
      // LONG1: minimal little-endian two's complement, as pickle.encode_long.
      let len = 1;
      while (BigInt.asIntN(8 * len, n) !== n) len++;
      const u = BigInt.asUintN(8 * len, n);
      this.out.byte(0x8a);
      this.out.byte(len);
      for (let i = 0; i < len; i++) this.out.byte(Number((u >> BigInt(8 * i)) & 0xffn));
    }
  }

  bool(v: boolean): void {
    this.out.byte(v ? 0x88 : 0x89);
  }

  /** save_tuple: () unmemoized; 1–3 items → TUPLEn; longer → MARK … TUPLE; then memoized. */
  tuple(items: ReadonlyArray<() => void>): void {
    if (items.length === 0) return this.op(0x29);
    if (items.length > 3) this.op(0x28);
    for (const w of items) w();
    this.op(items.length > 3 ? 0x74 : [0, 0x85, 0x86, 0x87][items.length]!);
    this.put();
  }

  intTuple(values: readonly number[]): void {
    this.tuple(values.map((v) => () => this.int(v)));
  }

  /** `OrderedDict()` built by REDUCE, memoized; the caller then adds items. */
  orderedDict(): void {
    this.global('collections', 'OrderedDict');
    this.op(0x29);
    this.op(0x52);
    this.put();
  }

  emptyDict(): void {
    this.op(0x7d);
    this.put();
  }

  /** _batch_setitems: batches of ≤1000 pairs; a batch of one uses SETITEM without MARK. */
  setItems<T>(items: readonly T[], writePair: (item: T) => void): void {
    for (let i = 0; i < items.length; i += BATCH_SIZE) {
      const batch = items.slice(i, i + BATCH_SIZE);
      if (batch.length === 1) {
        writePair(batch[0]!);
        this.op(0x73);
      } else {
        this.op(0x28);
        for (const it of batch) writePair(it);
        this.op(0x75);
      }
    }
  }

  finish(): Uint8Array {
    this.op(0x2e);
    return this.out.result();
  }
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

function metadataValue(w: PickleWriter, v: MetadataValue): void {
  if (v === null) w.op(0x4e);
  else if (typeof v === 'boolean') w.bool(v);
  else if (typeof v === 'number') w.int(v);
  else w.str(v);
}

/**
 * `data.pkl` of `torch.save(state_dict)`: tensors in the given order (contiguous, offset 0),
 * then `_metadata` if given.
 */
export function pickleStateDict(tensors: readonly PickledTensor[], metadata?: readonly ModuleMetadata[]): Uint8Array {
  const w = new PickleWriter(2);
  w.orderedDict();
  w.setItems(tensors, (t) => {
    w.str(t.key);
    w.global('torch._utils', '_rebuild_tensor_v2');
    w.tuple([
      () => {
        w.tuple([
          () => w.sharedStr('storage', 'storage'),
          () => w.global('torch', t.dtype === 'float32' ? 'FloatStorage' : 'LongStorage'),
          () => w.sharedStr(`storage-key:${t.storageKey}`, t.storageKey),
          () => (t.location === 'cpu' ? w.sharedStr('location:cpu', 'cpu') : w.str(t.location)),
          () => w.int(t.storageNumel),
        ]);
        w.op(0x51); // BINPERSID
      },
      () => w.int(0),
      () => w.intTuple(t.shape),
      () => w.intTuple(contiguousStrides(t.shape)),
      () => w.bool(false),
      () => w.orderedDict(), // backward_hooks
    ]);
    w.op(0x52); // REDUCE
    w.put();
  });
  if (metadata) {
    w.emptyDict(); // the OrderedDict's __dict__
    w.setItems([0], () => {
      w.str('_metadata');
      w.orderedDict();
      w.setItems(metadata, ([module, local]) => {
        w.str(module);
        w.emptyDict();
        // Keyword-built dicts (`dict(version=...)`) share one interned key string per name.
        w.setItems(Object.entries(local), ([k, v]) => {
          w.sharedStr(`meta-key:${k}`, k);
          metadataValue(w, v);
        });
      });
    });
    w.op(0x62); // BUILD
  }
  return w.finish();
}
