/**
 * A MATLAB Level 5 MAT-file reader (the format of WIDER FACE's `eval_tools/ground_truth/*.mat`,
 * read by `scipy.io.loadmat` in `eval_tools/evaluation.py`, SPEC §9).
 *
 * Format (MathWorks "MAT-File Format", Level 5): a 128-byte header (116 text bytes, 8 subsystem
 * offset bytes, version 0x0100, endian indicator 'IM'/'MI'), then tagged data elements. A tag is
 * 8 bytes (type, byte count) or, in the small-element format, 4 bytes (count in the upper 16 bits)
 * followed by up to 4 data bytes. Elements are padded to 8 bytes, except miCOMPRESSED ones, which
 * hold one zlib-compressed element. Arrays are miMATRIX elements: array flags, dimensions, name,
 * then class-specific sub-elements. Numeric data may be stored in a smaller type than its class
 * (WIDER's `gt_list` is class double stored as miUINT8); values are converted to the class type.
 *
 * Supported: cell, struct, char (miUTF8 / miUTF16 / miUINT16 / miUINT8 storage), double, single,
 * int/uint 8/16/32/64, logical, complex. Not supported: sparse, objects, function handles.
 */
import { StudioError } from '../errors.ts';
import { INPUT_LIMITS } from '../limits.ts';
import { inflateBounded } from '../util/inflate.ts';

export type MatNumericClass =
  | 'double' | 'single'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64';

export type MatNumericData =
  | Float64Array | Float32Array
  | Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Uint32Array
  | BigInt64Array | BigUint64Array;

interface MatArrayBase {
  /** Variable name (top level) or '' (inside a cell or struct). */
  name: string;
  /** MATLAB dimensions, at least 2. Element order everywhere is column-major. */
  dims: number[];
}

export interface MatNumericArray extends MatArrayBase {
  class: MatNumericClass;
  /** Column-major values in the class's own type (int64/uint64 as BigInt arrays). */
  data: MatNumericData;
  imag?: MatNumericData;
  logical: boolean;
}

export interface MatCharArray extends MatArrayBase {
  class: 'char';
  /** Characters in column-major order; for a 1×n row vector this is simply the string. */
  text: string;
}

export interface MatCellArray extends MatArrayBase {
  class: 'cell';
  /** Column-major cells. */
  cells: MatArray[];
}

export interface MatStructArray extends MatArrayBase {
  class: 'struct';
  fieldNames: string[];
  /** One record per element, column-major. */
  elements: Array<Record<string, MatArray>>;
}

export type MatArray = MatNumericArray | MatCharArray | MatCellArray | MatStructArray;

export interface MatFile {
  /** Descriptive header text, e.g. `MATLAB 5.0 MAT-file, Platform: GLNXA64, Created on: ...`. */
  headerText: string;
  littleEndian: boolean;
  /** Top-level variables in file order. */
  variables: Map<string, MatArray>;
}

export interface ParseMatOptions {
  /** Named in error messages, e.g. `wider_hard_val.mat`. */
  fileName?: string;
}

// Data types (miXXX) of the Level 5 format.
const MI = {
  INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9,
  INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17, UTF32: 18,
} as const;

const MI_NAMES: Record<number, string> = {
  1: 'miINT8', 2: 'miUINT8', 3: 'miINT16', 4: 'miUINT16', 5: 'miINT32', 6: 'miUINT32', 7: 'miSINGLE',
  9: 'miDOUBLE', 12: 'miINT64', 13: 'miUINT64', 14: 'miMATRIX', 15: 'miCOMPRESSED', 16: 'miUTF8',
  17: 'miUTF16', 18: 'miUTF32',
};

const ELEMENT_SIZE: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8 };

// Array classes (mxXXX_CLASS) in the array-flags sub-element.
const CLASS_NAMES: Record<number, string> = {
  1: 'cell', 2: 'struct', 3: 'object', 4: 'char', 5: 'sparse', 6: 'double', 7: 'single', 8: 'int8',
  9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
  16: 'function handle', 17: 'opaque',
};

const NUMERIC_CLASS: Record<number, MatNumericClass> = {
  6: 'double', 7: 'single', 8: 'int8', 9: 'uint8', 10: 'int16', 11: 'uint16', 12: 'int32', 13: 'uint32', 14: 'int64', 15: 'uint64',
};

const FLAG_COMPLEX = 0x08;

// Decoders are reused: creating one per char array dominates the parse time of WIDER's 13k names.
const LATIN1 = new TextDecoder('latin1');
const UTF8_STRICT = new TextDecoder('utf-8', { fatal: true });
const FLAG_LOGICAL = 0x02;

interface Tag {
  type: number;
  size: number;
  /** Offset of the data bytes. */
  data: number;
  /** Offset of the next element. */
  next: number;
}

/** One buffer being read (the file, or the output of one miCOMPRESSED element) and how to describe it in errors. */
class Block {
  readonly view: DataView;
  constructor(
    readonly bytes: Uint8Array,
    readonly le: boolean,
    readonly fileName: string,
    /** e.g. '' for the file itself, ' (inside the compressed element at byte 128)'. */
    readonly where: string,
  ) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fail(path: string, offset: number, why: string): never {
    const subject = path === '' ? 'element' : `element ${path}`;
    throw new StudioError('MAT_FORMAT', `${this.fileName}: ${subject} at byte ${offset}${this.where}: ${why}`);
  }

  tag(offset: number, end: number, path: string): Tag {
    if (offset + 8 > end) this.fail(path, offset, `truncated: a data element tag needs 8 bytes, ${Math.max(0, end - offset)} left`);
    const first = this.view.getUint32(offset, this.le);
    const small = first >>> 16;
    if (small !== 0) {
      if (small > 4) this.fail(path, offset, `small data element claims ${small} bytes (at most 4)`);
      return { type: first & 0xffff, size: small, data: offset + 4, next: offset + 8 };
    }
    const size = this.view.getUint32(offset + 4, this.le);
    const data = offset + 8;
    if (data + size > end) {
      this.fail(path, offset, `truncated: ${MI_NAMES[first] ?? `type ${first}`} element claims ${size} bytes, ${end - data} left`);
    }
    // Compressed elements are written unpadded; all others are padded to a multiple of 8.
    const padded = first === MI.COMPRESSED ? size : Math.ceil(size / 8) * 8;
    return { type: first, size, data, next: Math.min(data + padded, end) };
  }
}

/** Reads a MAT-file. Throws MAT_FORMAT naming the file and the element on anything malformed. */
export function parseMat(bytes: Uint8Array, options: ParseMatOptions = {}): MatFile {
  const fileName = options.fileName ?? 'file.mat';
  const fail = (why: string): never => {
    throw new StudioError('MAT_FORMAT', `${fileName}: ${why}`);
  };
  if (bytes.byteLength < 128) fail(`too short for a MAT-file header (${bytes.byteLength} of 128 bytes)`);
  const headerText = LATIN1.decode(bytes.subarray(0, 116)).replace(/[\s\0]+$/, '');
  const endian = String.fromCharCode(bytes[126]!, bytes[127]!);
  if (headerText.startsWith('MATLAB 7.3')) fail('this is a MATLAB v7.3 (HDF5) file; save it with -v7 or -v6');
  if (endian !== 'IM' && endian !== 'MI') fail('not a MATLAB Level 5 MAT-file (no IM/MI endian indicator at byte 126)');
  const le = endian === 'IM';
  const version = new DataView(bytes.buffer, bytes.byteOffset).getUint16(124, le);
  if (version !== 0x0100) fail(`unsupported MAT-file version 0x${version.toString(16)}`);

  const file: Block = new Block(bytes, le, fileName, '');
  const variables = new Map<string, MatArray>();
  let offset = 128;
  while (offset < bytes.byteLength) {
    // Trailing zero padding after the last element is harmless.
    if (bytes.byteLength - offset < 8 && bytes.subarray(offset).every((b) => b === 0)) break;
    const index = variables.size + 1;
    const tag = file.tag(offset, bytes.byteLength, `#${index}`);
    let array: MatArray;
    if (tag.type === MI.COMPRESSED) {
      // Bounded like a checkpoint's zip entries (INPUT_LIMITS): a small .mat cannot inflate to gigabytes.
      const inflated = inflateBounded(bytes.subarray(tag.data, tag.data + tag.size), {
        format: 'zlib',
        maxBytes: INPUT_LIMITS.zipEntryBytes,
        // The inner element's tag states its size (+ padding to 8 bytes): nothing may inflate past it.
        sizeFromHead: (head) => 8 + new DataView(head.buffer, head.byteOffset, 8).getUint32(4, le) + 7,
        fail: (why, kind) =>
          file.fail(`#${index}`, offset, kind === 'limit' ? `the compressed element ${why}` : `the compressed data does not inflate: ${why}; the file is truncated or corrupt`),
      });
      const inner = new Block(inflated, le, fileName, ` (inside the compressed element at byte ${offset})`);
      const innerTag = inner.tag(0, inflated.byteLength, `#${index}`);
      if (innerTag.type !== MI.MATRIX) inner.fail(`#${index}`, 0, `expected miMATRIX, found ${MI_NAMES[innerTag.type] ?? `type ${innerTag.type}`}`);
      array = readMatrix(inner, innerTag, `#${index}`);
    } else if (tag.type === MI.MATRIX) {
      array = readMatrix(file, tag, `#${index}`);
    } else {
      file.fail(`#${index}`, offset, `expected miMATRIX or miCOMPRESSED at top level, found ${MI_NAMES[tag.type] ?? `type ${tag.type}`}`);
    }
    variables.set(array.name, array);
    offset = tag.next;
  }
  return { headerText, littleEndian: le, variables };
}

function readMatrix(block: Block, tag: Tag, path: string): MatArray {
  const end = tag.data + tag.size;
  // An empty miMATRIX (0 bytes) is how MATLAB writes [] inside cells.
  if (tag.size === 0) return { class: 'double', name: '', dims: [0, 0], data: new Float64Array(0), logical: false };

  const flagsTag = block.tag(tag.data, end, path);
  if (flagsTag.type !== MI.UINT32 || flagsTag.size !== 8) block.fail(path, tag.data, 'array flags sub-element is not 8 bytes of miUINT32');
  const flags = block.view.getUint32(flagsTag.data, block.le);
  const classId = flags & 0xff;
  const flagBits = (flags >>> 8) & 0xff;

  const dimsTag = block.tag(flagsTag.next, end, path);
  if (dimsTag.type !== MI.INT32 || dimsTag.size % 4 !== 0 || dimsTag.size < 8) block.fail(path, flagsTag.next, 'dimensions sub-element is not miINT32 with at least 2 values');
  const dims: number[] = [];
  for (let k = 0; k < dimsTag.size / 4; k++) {
    const d = block.view.getInt32(dimsTag.data + 4 * k, block.le);
    if (d < 0) block.fail(path, dimsTag.data, `negative dimension ${d}`);
    dims.push(d);
  }
  const count = dims.reduce((a, b) => a * b, 1);

  const nameTag = block.tag(dimsTag.next, end, path);
  if (nameTag.type !== MI.INT8 && nameTag.type !== MI.UINT8) block.fail(path, dimsTag.next, 'array name sub-element is not miINT8');
  const name = LATIN1.decode(block.bytes.subarray(nameTag.data, nameTag.data + nameTag.size));
  const here = path.startsWith('#') && name !== '' ? name : path;
  let offset = nameTag.next;

  const className = CLASS_NAMES[classId];
  switch (classId) {
    case 1: {
      const cells: MatArray[] = [];
      for (let k = 0; k < count; k++) {
        const cellPath = `${here}{${subscript(dims, k)}}`;
        const cellTag = block.tag(offset, end, cellPath);
        if (cellTag.type !== MI.MATRIX) block.fail(cellPath, offset, `cell content is ${MI_NAMES[cellTag.type] ?? `type ${cellTag.type}`}, not miMATRIX`);
        cells.push(readMatrix(block, cellTag, cellPath));
        offset = cellTag.next;
      }
      return { class: 'cell', name, dims, cells };
    }
    case 2: {
      const lenTag = block.tag(offset, end, here);
      if (lenTag.type !== MI.INT32 || lenTag.size !== 4) block.fail(here, offset, 'struct field name length is not one miINT32');
      const nameLength = block.view.getInt32(lenTag.data, block.le);
      const namesTag = block.tag(lenTag.next, end, here);
      if (namesTag.type !== MI.INT8 || nameLength <= 0 || namesTag.size % nameLength !== 0) block.fail(here, lenTag.next, 'struct field names are malformed');
      const fieldNames: string[] = [];
      for (let f = 0; f < namesTag.size / nameLength; f++) {
        const raw = block.bytes.subarray(namesTag.data + f * nameLength, namesTag.data + (f + 1) * nameLength);
        const nul = raw.indexOf(0);
        fieldNames.push(LATIN1.decode(nul < 0 ? raw : raw.subarray(0, nul)));
      }
      offset = namesTag.next;
      const elements: Array<Record<string, MatArray>> = [];
      for (let k = 0; k < count; k++) {
        const record: Record<string, MatArray> = {};
        for (const field of fieldNames) {
          const fieldPath = `${here}(${subscript(dims, k)}).${field}`;
          const fieldTag = block.tag(offset, end, fieldPath);
          if (fieldTag.type !== MI.MATRIX) block.fail(fieldPath, offset, 'struct field is not miMATRIX');
          record[field] = readMatrix(block, fieldTag, fieldPath);
          offset = fieldTag.next;
        }
        elements.push(record);
      }
      return { class: 'struct', name, dims, fieldNames, elements };
    }
    case 4: {
      const dataTag = block.tag(offset, end, here);
      return { class: 'char', name, dims, text: decodeChars(block, dataTag, here, offset, count) };
    }
    default: {
      const numericClass = NUMERIC_CLASS[classId];
      if (numericClass === undefined) block.fail(here, tag.data, `unsupported array class ${className ?? classId}`);
      const dataTag = block.tag(offset, end, here);
      const data = readNumeric(block, dataTag, numericClass, count, here, offset);
      const result: MatNumericArray = { class: numericClass, name, dims, data, logical: (flagBits & FLAG_LOGICAL) !== 0 };
      if ((flagBits & FLAG_COMPLEX) !== 0) {
        const imagTag = block.tag(dataTag.next, end, here);
        result.imag = readNumeric(block, imagTag, numericClass, count, `${here} (imaginary part)`, dataTag.next);
      }
      return result;
    }
  }
}

/** 1-based MATLAB subscript `i,j,...` of column-major linear index k, for error messages. */
function subscript(dims: number[], k: number): string {
  const out: number[] = [];
  let rest = k;
  for (const d of dims) {
    out.push((rest % d) + 1);
    rest = Math.floor(rest / d);
  }
  return out.join(',');
}

function readNumeric(block: Block, tag: Tag, cls: MatNumericClass, count: number, path: string, at: number): MatNumericData {
  const width = ELEMENT_SIZE[tag.type];
  if (width === undefined) block.fail(path, at, `numeric data stored as ${MI_NAMES[tag.type] ?? `type ${tag.type}`}`);
  if (tag.size !== count * width) block.fail(path, at, `data holds ${tag.size / width} values, dimensions say ${count}`);
  const out = allocate(cls, count);
  const v = block.view;
  const le = block.le;
  const read = (k: number): number | bigint => {
    const o = tag.data + k * width;
    switch (tag.type) {
      case MI.INT8: return v.getInt8(o);
      case MI.UINT8: return v.getUint8(o);
      case MI.INT16: return v.getInt16(o, le);
      case MI.UINT16: return v.getUint16(o, le);
      case MI.INT32: return v.getInt32(o, le);
      case MI.UINT32: return v.getUint32(o, le);
      case MI.SINGLE: return v.getFloat32(o, le);
      case MI.DOUBLE: return v.getFloat64(o, le);
      case MI.INT64: return v.getBigInt64(o, le);
      default: return v.getBigUint64(o, le);
    }
  };
  if (out instanceof BigInt64Array || out instanceof BigUint64Array) {
    for (let k = 0; k < count; k++) {
      const x = read(k);
      out[k] = typeof x === 'bigint' ? x : BigInt(Math.trunc(x));
    }
  } else {
    for (let k = 0; k < count; k++) {
      const x = read(k);
      out[k] = typeof x === 'bigint' ? Number(x) : x;
    }
  }
  return out;
}

function allocate(cls: MatNumericClass, n: number): MatNumericData {
  switch (cls) {
    case 'double': return new Float64Array(n);
    case 'single': return new Float32Array(n);
    case 'int8': return new Int8Array(n);
    case 'uint8': return new Uint8Array(n);
    case 'int16': return new Int16Array(n);
    case 'uint16': return new Uint16Array(n);
    case 'int32': return new Int32Array(n);
    case 'uint32': return new Uint32Array(n);
    case 'int64': return new BigInt64Array(n);
    case 'uint64': return new BigUint64Array(n);
  }
}

function decodeChars(block: Block, tag: Tag, path: string, at: number, count: number): string {
  const raw = block.bytes.subarray(tag.data, tag.data + tag.size);
  switch (tag.type) {
    case MI.UTF8:
    case MI.UINT8:
    case MI.INT8: {
      // miUINT8 is how MATLAB writes ASCII-only text; miUTF8 may hold multi-byte characters.
      try {
        return (tag.type === MI.UTF8 ? UTF8_STRICT : LATIN1).decode(raw);
      } catch {
        return block.fail(path, at, 'char data is not valid UTF-8');
      }
    }
    case MI.UINT16:
    case MI.UTF16: {
      if (tag.size !== 2 * count) block.fail(path, at, `char data holds ${tag.size / 2} code units, dimensions say ${count}`);
      let text = '';
      for (let k = 0; k < count; k++) text += String.fromCharCode(block.view.getUint16(tag.data + 2 * k, block.le));
      return text;
    }
    case MI.UTF32: {
      let text = '';
      for (let k = 0; k < tag.size / 4; k++) text += String.fromCodePoint(block.view.getUint32(tag.data + 4 * k, block.le));
      return text;
    }
    default:
      return block.fail(path, at, `char data stored as ${MI_NAMES[tag.type] ?? `type ${tag.type}`}`);
  }
}

/** The rows of a char matrix (MATLAB stores them column-major), right-trimmed of padding spaces. */
export function matCharRows(array: MatCharArray): string[] {
  const [rows = 0] = array.dims;
  if (rows === 0) return [];
  const cols = array.text.length / rows;
  const out: string[] = [];
  for (let r = 0; r < rows; r++) {
    let s = '';
    for (let c = 0; c < cols; c++) s += array.text[r + c * rows];
    out.push(s.replace(/ +$/, ''));
  }
  return out;
}
