/**
 * The per-image prediction txt of the WIDER FACE protocol: written by `wider_test.py` (SPEC §6.2
 * step 8), read by `eval_tools/evaluation.py:read_pred_file` (SPEC §9 step 1).
 *
 *   line 1  image path as written (`event/name.jpg`); the reader keeps only the last path part
 *   line 2  number of boxes
 *   then    `{x1:.1f} {y1:.1f} {x2 − x1 + 1:.1f} {y2 − y1 + 1:.1f} {score:.3f}` per box
 *
 * Numbers are formatted like Python's `format(x, '.Nf')`: the exact binary value correctly rounded,
 * exact ties to even (JS toFixed breaks ties upwards: 0.25 → '0.3' where Python writes '0.2').
 */
import { StudioError } from '../errors.ts';
import type { Detection } from '../types.ts';
import type { WiderPrediction } from './evaluate-wider.ts';

export interface PredictionTxt {
  /** Line 1 as written. */
  header: string;
  /** The evaluator's image key within an event: last path part of line 1 without `.jpg`. */
  imageName: string;
  /** `[x, y, w, h, score]` per box, in file order. */
  boxes: WiderPrediction[];
}

/** The txt for one image from detections `[x1, y1, x2, y2, score]` in original pixels. */
export function formatPredictionTxt(imagePath: string, detections: readonly (Detection | readonly number[])[]): string {
  const lines = [imagePath, String(detections.length)];
  for (const d of detections) {
    const [x1, y1, x2, y2, s] = d as readonly number[];
    lines.push(`${formatFixed(x1!, 1)} ${formatFixed(y1!, 1)} ${formatFixed(x2! - x1! + 1, 1)} ${formatFixed(y2! - y1! + 1, 1)} ${formatFixed(s!, 3)}`);
  }
  return `${lines.join('\n')}\n`;
}

/** Parses one txt. Stricter than the reference (which ignores line 2): a wrong count is an EVAL_INPUT error. */
export function parsePredictionTxt(text: string, fileName = 'prediction txt'): PredictionTxt {
  const lines = text.split(/\r?\n/);
  let end = lines.length;
  while (end > 0 && lines[end - 1]!.trim() === '') end--;
  const fail = (line: number, why: string): never => {
    throw new StudioError('EVAL_INPUT', `${fileName}, line ${line + 1}: ${why}`);
  };
  if (end < 2) fail(end, 'expected an image path line and a box count line');
  const header = lines[0]!.trim();
  const base = header.split('/').pop()!;
  if (base === '') fail(0, 'the first line must name the image (event/name.jpg)');
  // The reference uses .rstrip('.jpg') (strips any trailing '.', 'j', 'p', 'g'); identical for WIDER
  // names, which end in digits, and a plain suffix cut is what was meant.
  const imageName = base.toLowerCase().endsWith('.jpg') ? base.slice(0, -4) : base;
  const countText = lines[1]!.trim();
  if (!/^\d+$/.test(countText)) fail(1, `expected the number of boxes, found "${countText}"`);
  const count = Number(countText);
  if (end - 2 !== count) fail(1, `the count says ${count} boxes but ${end - 2} box lines follow`);
  const boxes: WiderPrediction[] = [];
  for (let i = 2; i < end; i++) {
    const fields = lines[i]!.trim().split(/\s+/);
    if (fields.length !== 5) fail(i, `expected "x y w h score", found ${fields.length} field(s)`);
    const values = fields.map((f) => parsePythonFloat(f) ?? fail(i, `"${f}" is not a number`));
    boxes.push(values);
  }
  return { header, imageName, boxes };
}

/** Python's `format(x, '.{digits}f')` for a float. */
export function formatFixed(x: number, digits: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (!Number.isInteger(digits) || digits < 0 || digits > 20) throw new RangeError(`formatFixed: digits must be 0..20, got ${digits}`);
  const sign = x < 0 || Object.is(x, -0) ? '-' : '';
  const a = Math.abs(x);
  if (a < 1e21) {
    const scaled = a * 10 ** digits;
    // A tie needs a·10^d = n + ½ exactly. Below 2^52 that sum is representable, so the float product
    // shows the .5 whenever a true tie exists; above, only an exact check can tell (a < 2^53 still
    // has fraction bits). Everything that is not a tie toFixed already rounds exactly.
    const maybeTie = scaled < 2 ** 52 ? scaled - Math.floor(scaled) === 0.5 : a < 2 ** 53;
    if (!maybeTie || !isExactTie(a, digits)) return sign + a.toFixed(digits);
  }
  return sign + exactFixed(a, digits);
}

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Python's float() for the spellings a txt can hold; undefined when Python would raise. */
function parsePythonFloat(f: string): number | undefined {
  if (DECIMAL.test(f)) return Number(f);
  const m = /^([+-]?)(inf|infinity|nan)$/i.exec(f);
  if (!m) return undefined;
  if (m[2]!.toLowerCase() === 'nan') return NaN;
  return m[1] === '-' ? -Infinity : Infinity;
}

/** a = m·2^e exactly; is a·10^d·2 an odd integer? */
function isExactTie(a: number, digits: number): boolean {
  const { mantissa, exponent } = decompose(a);
  if (exponent >= 0) return false;
  const num = mantissa * 10n ** BigInt(digits) * 2n;
  const den = 1n << BigInt(-exponent);
  return num % den === 0n && (num / den) % 2n === 1n;
}

/** Correct rounding of the exact binary value with ties to even, via BigInt (ties and |x| ≥ 1e21 only). */
function exactFixed(a: number, digits: number): string {
  const { mantissa, exponent } = decompose(a);
  const scale = 10n ** BigInt(digits);
  let q: bigint;
  if (exponent >= 0) {
    q = (mantissa << BigInt(exponent)) * scale;
  } else {
    const num = mantissa * scale;
    const den = 1n << BigInt(-exponent);
    q = num / den;
    const rem2 = (num % den) * 2n;
    if (rem2 > den || (rem2 === den && q % 2n === 1n)) q += 1n;
  }
  const s = q.toString().padStart(digits + 1, '0');
  return digits === 0 ? s : `${s.slice(0, -digits)}.${s.slice(-digits)}`;
}

function decompose(a: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, a);
  const hi = view.getUint32(0);
  const lo = view.getUint32(4);
  const biased = (hi >>> 20) & 0x7ff;
  const fraction = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (biased === 0) return { mantissa: fraction, exponent: -1074 };
  return { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}
