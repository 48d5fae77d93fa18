/** Minimal .npy (v1/v2/v3) reader for the PyTorch goldens: little-endian f4/f8/i8/u1/i4, C order. */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';

export interface NpyArray {
  dtype: string;
  shape: number[];
  data: Float32Array | Float64Array | BigInt64Array | Uint8Array | Int32Array | Int16Array | Uint16Array;
}

export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = String.fromCharCode(...bytes.subarray(1, 6));
  if (bytes[0] !== 0x93 || magic !== 'NUMPY') throw new Error('not an .npy file');
  const major = bytes[6]!;
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const headerStart = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(headerStart, headerStart + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1]!;
  const fortran = /'fortran_order':\s*True/.test(header);
  if (fortran) throw new Error('fortran order not supported');
  const shapeStr = /'shape':\s*\(([^)]*)\)/.exec(header)![1]!;
  const shape = shapeStr.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = headerStart + headerLen;
  const body = bytes.slice(offset);
  const buf = body.buffer;
  const dtype = descr.replace(/^[<|=]/, '');
  let data: NpyArray['data'];
  switch (dtype) {
    case 'f4': data = new Float32Array(buf); break;
    case 'f8': data = new Float64Array(buf); break;
    case 'i8': data = new BigInt64Array(buf); break;
    case 'i4': data = new Int32Array(buf); break;
    case 'i2': data = new Int16Array(buf); break;
    case 'u2': data = new Uint16Array(buf); break;
    case 'u1': case 'b1': data = new Uint8Array(buf); break;
    default: throw new Error(`unsupported npy dtype ${descr}`);
  }
  return { dtype, shape, data };
}

export function readNpy(path: string): NpyArray {
  const b = readFileSync(path);
  return parseNpy(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
}

/** Reads every array of an .npz archive (stored or deflated). */
export function readNpz(path: string): Record<string, NpyArray> {
  const b = readFileSync(path);
  const files = unzipSync(new Uint8Array(b.buffer, b.byteOffset, b.byteLength));
  const out: Record<string, NpyArray> = {};
  for (const [name, bytes] of Object.entries(files)) out[name.replace(/\.npy$/, '')] = parseNpy(bytes);
  return out;
}

export function toFloat64(a: NpyArray): Float64Array {
  if (a.data instanceof BigInt64Array) return Float64Array.from(a.data, (v) => Number(v));
  return Float64Array.from(a.data as ArrayLike<number>);
}
