/**
 * A restricted unpickler for `data.pkl` of torch.save checkpoints. Mirrors the idea of PyTorch's
 * `torch/_weights_only_unpickler.py`, narrowed to what a state dict needs (SPEC §2): the data
 * opcodes of protocols 2–5 (what `torch.save(..., pickle_protocol=2..5)` writes: FRAME, MEMOIZE,
 * STACK_GLOBAL, SHORT_BINUNICODE, bytes, sets, ...) and five allowed globals. Nothing is ever
 * executed: GLOBAL/STACK_GLOBAL only name a callable from a fixed table and REDUCE builds plain data
 * from it. Any other global, and every opcode that would call or construct something (INST, OBJ,
 * NEWOBJ, EXT*, text PERSID), stops parsing with CHECKPOINT_UNSAFE_PICKLE, naming it and its byte
 * offset.
 *
 * Size, operation count, MARK nesting and memo are capped (INPUT_LIMITS, CHECKPOINT_LIMIT), so a
 * crafted stream cannot exhaust the heap or the stack of the worker that reads it.
 *
 * Opcode semantics follow CPython's `Lib/pickle.py` (`_Unpickler`), including the mark stack.
 */
import { StudioError } from '../errors.ts';
import { INPUT_LIMITS } from '../limits.ts';

export type PyKey = string | number | bigint | boolean | null;

export interface PyTuple { readonly type: 'tuple'; readonly items: readonly PyValue[] }
export interface PyList { readonly type: 'list'; readonly items: PyValue[] }
export interface PyDict {
  readonly type: 'dict';
  /** `collections.OrderedDict` (true) or a plain `dict`. Both keep insertion order. */
  readonly ordered: boolean;
  readonly items: Map<PyKey, PyValue>;
  /** Instance `__dict__` set by BUILD (torch puts `_metadata` here). */
  state?: Map<PyKey, PyValue>;
}
/** bytes / bytearray (BINBYTES*, BYTEARRAY8): a view into the pickle. */
export interface PyBytes { readonly type: 'bytes'; readonly data: Uint8Array }
/** set / frozenset (EMPTY_SET + ADDITEMS, FROZENSET), kept as their items in stream order. */
export interface PySet { readonly type: 'set'; readonly items: PyValue[] }
export interface PyGlobal { readonly type: 'global'; readonly module: string; readonly name: string }
/** What a BINPERSID resolved to; the caller's `persistentLoad` decides its shape. */
export interface PyExternal { readonly type: 'external'; readonly value: unknown }
/** `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, meta])`. */
export interface PyTensor {
  readonly type: 'tensor';
  readonly storage: PyValue;
  readonly offset: number;
  readonly shape: readonly number[];
  readonly stride: readonly number[];
  readonly requiresGrad: boolean;
}

export type PyValue = PyKey | PyTuple | PyList | PyDict | PyBytes | PySet | PyGlobal | PyExternal | PyTensor;

export interface UnpickleOptions {
  /** Resolves a BINPERSID id (torch: `('storage', StorageType, key, location, numel)`). */
  persistentLoad?: (pid: PyValue, offset: number) => PyValue;
}

/** The only globals a checkpoint may name. Storage types are data tags, never called. */
export const ALLOWED_GLOBALS: ReadonlySet<string> = new Set([
  'collections.OrderedDict',
  'torch._utils._rebuild_tensor_v2',
  'torch._utils._rebuild_parameter',
  'torch.FloatStorage',
  'torch.LongStorage',
]);

/** torch storage classes that are harmless data tags but hold a dtype the studio does not read. */
const OTHER_TORCH_STORAGES = new Set([
  'DoubleStorage', 'HalfStorage', 'BFloat16Storage', 'IntStorage', 'ShortStorage', 'CharStorage',
  'ByteStorage', 'BoolStorage', 'ComplexFloatStorage', 'ComplexDoubleStorage', 'UntypedStorage',
]);

/** Names of every pickle opcode (protocols 0–5), for error messages only. */
const OPCODE_NAMES: Record<number, string> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT',
  0x4a: 'BININT', 0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID',
  0x51: 'BINPERSID', 0x52: 'REDUCE', 0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING',
  0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND', 0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT',
  0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET', 0x69: 'INST', 0x6a: 'LONG_BINGET',
  0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT', 0x72: 'LONG_BINPUT',
  0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1',
  0x86: 'TUPLE2', 0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4',
  0x42: 'BINBYTES', 0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8',
  0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET', 0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME', 0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

export function opcodeName(op: number): string {
  return OPCODE_NAMES[op] ?? 'not a pickle opcode';
}

export function describePyValue(v: PyValue): string {
  if (v === null) return 'None';
  if (typeof v === 'object') return v.type === 'global' ? `${v.module}.${v.name}` : v.type;
  return typeof v;
}

const MARK = Symbol('mark');
type StackItem = PyValue | typeof MARK;

/**
 * Unpickles `data` with the restricted opcode/global subset. Returns the object STOP leaves on
 * the stack. Never executes anything.
 */
export function unpickle(data: Uint8Array, opts: UnpickleOptions = {}): PyValue {
  const limits = INPUT_LIMITS;
  if (data.length > limits.pickleBytes) {
    throw new StudioError('CHECKPOINT_LIMIT', `data.pkl is ${data.length} bytes, over the limit of ${limits.pickleBytes}.`);
  }
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  // CPython's memo is a dict and MEMOIZE stores at len(memo): a dense array plus a count of the
  // slots in use keeps both rules (the slot index is capped, so the array stays bounded).
  const memo: Array<PyValue | undefined> = [];
  let memoSize = 0;
  let stack: StackItem[] = [];
  const metastack: StackItem[][] = [];
  let pos = 0;
  let opPos = 0;
  let op = 0;
  let ops = 0;
  let objects = 0;

  const corrupt = (msg: string) =>
    new StudioError('CHECKPOINT_CORRUPT', `data.pkl: ${msg} (opcode ${opcodeName(op)} at byte ${opPos}).`);
  const limit = (msg: string) =>
    new StudioError('CHECKPOINT_LIMIT', `data.pkl: ${msg} (opcode ${opcodeName(op)} at byte ${opPos}).`);
  /** Counts a newly built object against INPUT_LIMITS.pickleObjects. */
  const made = <T extends PyValue>(v: T): T => {
    if (++objects > limits.pickleObjects) throw limit(`more than ${limits.pickleObjects} objects`);
    return v;
  };
  const need = (n: number) => {
    if (pos + n > data.length) throw corrupt(`truncated: ${n} more bytes needed`);
  };
  const pop = (): PyValue => {
    const v = stack.pop();
    if (v === undefined) throw corrupt('stack underflow');
    if (v === MARK) throw corrupt('unexpected MARK');
    return v;
  };
  const top = (): PyValue => {
    const v = stack[stack.length - 1];
    if (v === undefined || v === MARK) throw corrupt('stack underflow');
    return v;
  };
  const popMark = (): PyValue[] => {
    const items = stack;
    const prev = metastack.pop();
    if (!prev) throw corrupt('no MARK to pop to');
    stack = prev;
    return items as PyValue[];
  };
  const readLine = (): string => {
    const end = data.indexOf(0x0a, pos);
    if (end < 0) throw corrupt('truncated: unterminated line');
    if (end - pos > 512) throw corrupt('GLOBAL name too long');
    const s = String.fromCharCode(...data.subarray(pos, end));
    pos = end + 1;
    return s;
  };
  const readBytes = (n: number): Uint8Array => {
    need(n);
    return data.subarray(pos, (pos += n));
  };
  const readString = (n: number): string => {
    made(null); // a string is an object too
    const bytes = readBytes(n);
    try {
      return utf8.decode(bytes);
    } catch {
      throw corrupt('invalid UTF-8 string');
    }
  };
  /** An 8-byte length; anything past the stream is truncation, whatever its size. */
  const readU64 = (): number => {
    need(8);
    const n = dv.getBigUint64(pos, true);
    pos += 8;
    if (n > BigInt(data.length)) throw corrupt(`truncated: ${n} more bytes needed`);
    return Number(n);
  };
  /** LONG1/LONG4: n-byte little-endian two's complement. */
  const readLong = (n: number): number | bigint => {
    if (n > 1024) throw limit(`a ${n}-byte integer`);
    need(n);
    let v = 0n;
    for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[pos + i]!);
    if (n > 0 && data[pos + n - 1]! & 0x80) v -= 1n << BigInt(8 * n);
    pos += n;
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  };
  const memoPut = (i: number, v: PyValue) => {
    if (i >= limits.pickleMemo) throw limit(`memo slot ${i} is over the limit of ${limits.pickleMemo}`);
    if (memo[i] === undefined) memoSize++;
    memo[i] = v;
  };
  const memoGet = (i: number): PyValue => {
    const v = memo[i];
    if (v === undefined) throw corrupt(`memo index ${i} was never stored`);
    return v;
  };
  const toKey = (k: PyValue): PyKey => {
    if (k === null || typeof k !== 'object') return k;
    throw corrupt(`unsupported dict key type ${describePyValue(k)}`);
  };
  const setItems = (target: PyValue, pairs: PyValue[]) => {
    if (!(target !== null && typeof target === 'object' && target.type === 'dict')) {
      throw corrupt(`SETITEM(S) on ${describePyValue(target)}`);
    }
    if (pairs.length % 2) throw corrupt('odd number of items for SETITEMS');
    for (let i = 0; i < pairs.length; i += 2) target.items.set(toKey(pairs[i]!), pairs[i + 1]!);
  };
  const appendItems = (target: PyValue, items: PyValue[], kind: 'list' | 'set') => {
    if (!(target !== null && typeof target === 'object' && target.type === kind)) {
      throw corrupt(`${kind === 'list' ? 'APPEND(S)' : 'ADDITEMS'} on ${describePyValue(target)}`);
    }
    // One by one: push(...items) passes every item as an argument and overflows the stack at ~100k.
    for (const item of items) target.items.push(item);
  };
  const pushGlobal = (module: string, name: string) => {
    const full = `${module}.${name}`;
    if (!ALLOWED_GLOBALS.has(full)) {
      if (module === 'torch' && OTHER_TORCH_STORAGES.has(name)) {
        throw new StudioError(
          'CHECKPOINT_UNSUPPORTED',
          `data.pkl: tensor storage type torch.${name} (byte ${opPos}) is not supported; only float32 and int64 tensors are read.`,
        );
      }
      throw new StudioError(
        'CHECKPOINT_UNSAFE_PICKLE',
        `data.pkl: global "${full}" at byte ${opPos} is not allowed (only OrderedDict, tensor rebuild and float32/int64 storages are).`,
      );
    }
    stack.push(made({ type: 'global', module, name }));
  };

  for (;;) {
    opPos = pos;
    need(1);
    op = data[pos++]!;
    if (++ops > limits.pickleOps) throw limit(`more than ${limits.pickleOps} operations`);
    switch (op) {
      case 0x80: { // PROTO
        need(1);
        const proto = data[pos++]!;
        if (proto > 5) throw corrupt(`unsupported pickle protocol ${proto}`);
        break;
      }
      case 0x95: // FRAME (protocol 4+): a length prefix for buffering; the opcodes inside are read as usual.
        readU64();
        break;
      case 0x63: { // GLOBAL
        const module = readLine();
        pushGlobal(module, readLine());
        break;
      }
      case 0x93: { // STACK_GLOBAL (protocol 4+): module and name from the stack, same allowlist.
        const name = pop();
        const module = pop();
        if (typeof module !== 'string' || typeof name !== 'string') throw corrupt('STACK_GLOBAL needs two strings');
        if (module.length > 512 || name.length > 512) throw corrupt('GLOBAL name too long');
        pushGlobal(module, name);
        break;
      }
      case 0x71: { // BINPUT
        need(1);
        memoPut(data[pos++]!, top());
        break;
      }
      case 0x72: { // LONG_BINPUT
        need(4);
        const i = dv.getUint32(pos, true);
        pos += 4;
        memoPut(i, top());
        break;
      }
      case 0x94: // MEMOIZE (protocol 4+)
        memoPut(memoSize, top());
        break;
      case 0x68: { // BINGET
        need(1);
        stack.push(memoGet(data[pos++]!));
        break;
      }
      case 0x6a: { // LONG_BINGET
        need(4);
        stack.push(memoGet(dv.getUint32(pos, true)));
        pos += 4;
        break;
      }
      case 0x28: // MARK
        if (metastack.length >= limits.pickleDepth) throw limit(`MARKs nested deeper than ${limits.pickleDepth}`);
        metastack.push(stack);
        stack = [];
        break;
      case 0x30: // POP
        if (stack.length === 0) popMark(); // CPython: POP of an empty frame drops the MARK
        else pop();
        break;
      case 0x31: // POP_MARK
        popMark();
        break;
      case 0x32: // DUP
        stack.push(top());
        break;
      case 0x74: { // TUPLE
        const items = popMark(); // before touching `stack`: popMark replaces it
        stack.push(made({ type: 'tuple', items }));
        break;
      }
      case 0x29: // EMPTY_TUPLE
        stack.push(made({ type: 'tuple', items: [] }));
        break;
      case 0x85: // TUPLE1
        stack.push(made({ type: 'tuple', items: [pop()] }));
        break;
      case 0x86: { // TUPLE2
        const b = pop();
        stack.push(made({ type: 'tuple', items: [pop(), b] }));
        break;
      }
      case 0x87: { // TUPLE3
        const c = pop();
        const b = pop();
        stack.push(made({ type: 'tuple', items: [pop(), b, c] }));
        break;
      }
      case 0x7d: // EMPTY_DICT
        stack.push(made({ type: 'dict', ordered: false, items: new Map() }));
        break;
      case 0x64: { // DICT
        const items = popMark();
        const dict: PyDict = made({ type: 'dict', ordered: false, items: new Map() });
        setItems(dict, items);
        stack.push(dict);
        break;
      }
      case 0x5d: // EMPTY_LIST
        stack.push(made({ type: 'list', items: [] }));
        break;
      case 0x6c: // LIST
        stack.push(made({ type: 'list', items: popMark() }));
        break;
      case 0x61: { // APPEND
        const v = pop();
        appendItems(top(), [v], 'list');
        break;
      }
      case 0x65: { // APPENDS
        const items = popMark();
        appendItems(top(), items, 'list');
        break;
      }
      case 0x8f: // EMPTY_SET
        stack.push(made({ type: 'set', items: [] }));
        break;
      case 0x90: { // ADDITEMS
        const items = popMark();
        appendItems(top(), items, 'set');
        break;
      }
      case 0x91: // FROZENSET
        stack.push(made({ type: 'set', items: popMark() }));
        break;
      case 0x58: { // BINUNICODE
        need(4);
        const n = dv.getUint32(pos, true);
        pos += 4;
        stack.push(readString(n));
        break;
      }
      case 0x8c: { // SHORT_BINUNICODE
        need(1);
        const n = data[pos++]!;
        stack.push(readString(n));
        break;
      }
      case 0x8d: // BINUNICODE8
        stack.push(readString(readU64()));
        break;
      case 0x43: { // SHORT_BINBYTES
        need(1);
        const n = data[pos++]!;
        stack.push(made({ type: 'bytes', data: readBytes(n) }));
        break;
      }
      case 0x42: { // BINBYTES
        need(4);
        const n = dv.getUint32(pos, true);
        pos += 4;
        stack.push(made({ type: 'bytes', data: readBytes(n) }));
        break;
      }
      case 0x8e: // BINBYTES8
      case 0x96: // BYTEARRAY8
        stack.push(made({ type: 'bytes', data: readBytes(readU64()) }));
        break;
      case 0x4a: // BININT
        need(4);
        stack.push(dv.getInt32(pos, true));
        pos += 4;
        break;
      case 0x4b: // BININT1
        need(1);
        stack.push(data[pos++]!);
        break;
      case 0x4d: // BININT2
        need(2);
        stack.push(dv.getUint16(pos, true));
        pos += 2;
        break;
      case 0x8a: { // LONG1
        need(1);
        stack.push(readLong(data[pos++]!));
        break;
      }
      case 0x8b: { // LONG4
        need(4);
        const n = dv.getInt32(pos, true);
        pos += 4;
        if (n < 0) throw corrupt('negative LONG4 length');
        stack.push(readLong(n));
        break;
      }
      case 0x47: // BINFLOAT (big-endian double)
        need(8);
        stack.push(dv.getFloat64(pos, false));
        pos += 8;
        break;
      case 0x51: { // BINPERSID
        const pid = pop();
        if (!opts.persistentLoad) throw corrupt('persistent id without a loader');
        stack.push(made(opts.persistentLoad(pid, opPos)));
        break;
      }
      case 0x88: // NEWTRUE
        stack.push(true);
        break;
      case 0x89: // NEWFALSE
        stack.push(false);
        break;
      case 0x4e: // NONE
        stack.push(null);
        break;
      case 0x52: { // REDUCE
        const args = pop();
        const fn = pop();
        stack.push(made(reduce(fn, args, opPos)));
        break;
      }
      case 0x73: { // SETITEM
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case 0x75: { // SETITEMS
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x62: { // BUILD
        const state = pop();
        const inst = top();
        const isDict = (v: PyValue): v is PyDict => v !== null && typeof v === 'object' && v.type === 'dict';
        if (!isDict(inst) || !isDict(state)) {
          throw new StudioError(
            'CHECKPOINT_UNSUPPORTED',
            `data.pkl: BUILD of ${describePyValue(inst)} with ${describePyValue(state)} at byte ${opPos} is not supported.`,
          );
        }
        inst.state ??= new Map();
        for (const [k, v] of state.items) inst.state.set(k, v);
        break;
      }
      case 0x2e: { // STOP
        const result = pop();
        if (stack.length || metastack.length) throw corrupt('values left on the stack at STOP');
        return result;
      }
      case 0x97: // NEXT_BUFFER
      case 0x98: // READONLY_BUFFER
        throw new StudioError(
          'CHECKPOINT_UNSUPPORTED',
          `data.pkl: out-of-band buffer (${opcodeName(op)} at byte ${opPos}); torch.save never writes one.`,
        );
      default:
        throw new StudioError(
          'CHECKPOINT_UNSAFE_PICKLE',
          `data.pkl: opcode 0x${op.toString(16).padStart(2, '0')} (${opcodeName(op)}) at byte ${opPos} is outside the supported subset.`,
        );
    }
  }
}

/** REDUCE for the allowed callables: builds plain data, calls nothing. */
function reduce(fn: PyValue, args: PyValue, at: number): PyValue {
  const fail = (msg: string) => new StudioError('CHECKPOINT_CORRUPT', `data.pkl: ${msg} (REDUCE at byte ${at}).`);
  if (fn === null || typeof fn !== 'object' || fn.type !== 'global') throw fail(`cannot call ${describePyValue(fn)}`);
  if (args === null || typeof args !== 'object' || args.type !== 'tuple') throw fail('arguments are not a tuple');
  const a = args.items;
  const name = `${fn.module}.${fn.name}`;
  switch (name) {
    case 'collections.OrderedDict':
      // torch pickles OrderedDict as OrderedDict() + SETITEMS; initial items would need iteration.
      if (a.length !== 0) {
        throw new StudioError('CHECKPOINT_UNSUPPORTED', `data.pkl: OrderedDict with constructor arguments (byte ${at}).`);
      }
      return { type: 'dict', ordered: true, items: new Map() };
    case 'torch._utils._rebuild_tensor_v2': {
      if (a.length !== 6 && a.length !== 7) throw fail(`_rebuild_tensor_v2 takes 6 or 7 arguments, got ${a.length}`);
      const [storage, offset, size, stride, requiresGrad] = a;
      const ints = (v: PyValue | undefined, what: string): number[] => {
        if (v === null || typeof v !== 'object' || v.type !== 'tuple') throw fail(`tensor ${what} is not a tuple`);
        return v.items.map((x) => {
          if (typeof x !== 'number' || !Number.isSafeInteger(x) || x < 0) throw fail(`tensor ${what} holds ${String(x)}`);
          return x;
        });
      };
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) throw fail('bad storage offset');
      const shape = ints(size, 'size');
      const strides = ints(stride, 'stride');
      if (shape.length !== strides.length) throw fail('size and stride differ in length');
      return { type: 'tensor', storage: storage!, offset, shape, stride: strides, requiresGrad: requiresGrad === true };
    }
    case 'torch._utils._rebuild_parameter': {
      // Parameter(data, requires_grad, backward_hooks): the data tensor is all a state dict needs.
      const t = a[0];
      if (a.length !== 3 || t === null || typeof t !== 'object' || t.type !== 'tensor') throw fail('bad _rebuild_parameter arguments');
      return { ...t, requiresGrad: a[1] === true };
    }
    default:
      throw new StudioError('CHECKPOINT_UNSAFE_PICKLE', `data.pkl: "${name}" may not be called (REDUCE at byte ${at}).`);
  }
}
