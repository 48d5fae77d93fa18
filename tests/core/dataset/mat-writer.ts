/**
 * A minimal MATLAB Level 5 writer for tests: builds small .mat files element by element so the
 * reader can be checked on layouts the WIDER files do not contain (struct, complex, big-endian,
 * UTF-16 text, uncompressed variables).
 */
import { zlibSync } from 'fflate';

export const MI = { INT8: 1, UINT8: 2, INT16: 3, UINT16: 4, INT32: 5, UINT32: 6, SINGLE: 7, DOUBLE: 9, INT64: 12, UINT64: 13, MATRIX: 14, COMPRESSED: 15, UTF8: 16, UTF16: 17 } as const;
export const MX = { CELL: 1, STRUCT: 2, CHAR: 4, SPARSE: 5, DOUBLE: 6, SINGLE: 7, INT8: 8, UINT8: 9, INT16: 10, UINT16: 11, INT32: 12, UINT32: 13, INT64: 14, UINT64: 15 } as const;

const WIDTH: Record<number, number> = { 1: 1, 2: 1, 3: 2, 4: 2, 5: 4, 6: 4, 7: 4, 9: 8, 12: 8, 13: 8, 16: 1, 17: 2 };

export interface WriterOptions {
  bigEndian?: boolean;
}

export class MatWriter {
  readonly le: boolean;
  constructor(options: WriterOptions = {}) {
    this.le = !options.bigEndian;
  }

  /** A data element of `type` with raw payload bytes; small format when it fits in 4 bytes. */
  element(type: number, payload: Uint8Array, allowSmall = true): Uint8Array {
    if (allowSmall && payload.length <= 4 && type !== MI.MATRIX && type !== MI.COMPRESSED) {
      const out = new Uint8Array(8);
      new DataView(out.buffer).setUint32(0, (payload.length << 16) | type, this.le);
      out.set(payload, 4);
      return out;
    }
    const padded = type === MI.COMPRESSED ? payload.length : Math.ceil(payload.length / 8) * 8;
    const out = new Uint8Array(8 + padded);
    const v = new DataView(out.buffer);
    v.setUint32(0, type, this.le);
    v.setUint32(4, payload.length, this.le);
    out.set(payload, 8);
    return out;
  }

  /** Encodes numbers (or bigints) as `type`. */
  values(type: number, values: ArrayLike<number | bigint>): Uint8Array {
    const w = WIDTH[type]!;
    const out = new Uint8Array(values.length * w);
    const v = new DataView(out.buffer);
    for (let i = 0; i < values.length; i++) {
      const x = values[i]!;
      const o = i * w;
      switch (type) {
        case MI.INT8: v.setInt8(o, Number(x)); break;
        case MI.UINT8: case MI.UTF8: v.setUint8(o, Number(x)); break;
        case MI.INT16: v.setInt16(o, Number(x), this.le); break;
        case MI.UINT16: case MI.UTF16: v.setUint16(o, Number(x), this.le); break;
        case MI.INT32: v.setInt32(o, Number(x), this.le); break;
        case MI.UINT32: v.setUint32(o, Number(x), this.le); break;
        case MI.SINGLE: v.setFloat32(o, Number(x), this.le); break;
        case MI.DOUBLE: v.setFloat64(o, Number(x), this.le); break;
        case MI.INT64: v.setBigInt64(o, BigInt(x), this.le); break;
        case MI.UINT64: v.setBigUint64(o, BigInt(x), this.le); break;
        default: throw new Error(`type ${type}`);
      }
    }
    return out;
  }

  /** miMATRIX: flags, dims, name, then the class-specific sub-elements. */
  matrix(name: string, classId: number, dims: number[], body: Uint8Array[], flagBits = 0): Uint8Array {
    const flags = this.element(MI.UINT32, this.values(MI.UINT32, [classId | (flagBits << 8), 0]));
    const dimEl = this.element(MI.INT32, this.values(MI.INT32, dims));
    const nameEl = this.element(MI.INT8, new TextEncoder().encode(name));
    return this.element(MI.MATRIX, concat([flags, dimEl, nameEl, ...body]));
  }

  numeric(name: string, classId: number, dims: number[], storage: number, data: ArrayLike<number | bigint>, imag?: ArrayLike<number | bigint>): Uint8Array {
    const body = [this.element(storage, this.values(storage, data))];
    if (imag) body.push(this.element(storage, this.values(storage, imag)));
    return this.matrix(name, classId, dims, body, imag ? 0x08 : 0);
  }

  char(name: string, text: string, storage: number = MI.UTF8): Uint8Array {
    const payload = storage === MI.UTF8 ? new TextEncoder().encode(text) : this.values(storage, Array.from(text, (c) => c.charCodeAt(0)));
    return this.matrix(name, MX.CHAR, [1, text.length], [this.element(storage, payload)]);
  }

  cell(name: string, dims: number[], cells: Uint8Array[]): Uint8Array {
    return this.matrix(name, MX.CELL, dims, cells);
  }

  compressed(element: Uint8Array): Uint8Array {
    return this.element(MI.COMPRESSED, zlibSync(element));
  }

  file(elements: Uint8Array[], headerText = 'MATLAB 5.0 MAT-file, written by the test writer'): Uint8Array {
    const header = new Uint8Array(128).fill(0x20);
    header.set(new TextEncoder().encode(headerText), 0);
    header.fill(0, 116, 124);
    new DataView(header.buffer).setUint16(124, 0x0100, this.le);
    header.set(this.le ? [0x49, 0x4d] : [0x4d, 0x49], 126); // 'IM' read in file order
    return concat([header, ...elements]);
  }
}

export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
