/**
 * What an image file says about itself before any pixel is decoded: format, stored size and the EXIF
 * orientation. The decoders use it to refuse oversized images from their header (a 388 KB PNG can
 * claim 20000×20000 = 1.6 GB of RGBA) and to turn EXIF-rotated photos upright, as the browser's
 * `createImageBitmap` (`imageOrientation: 'from-image'`, the default) does, so the CLI and the studio
 * see the same pixels.
 */
import { StudioError } from '../errors.ts';
import { INPUT_LIMITS } from '../limits.ts';
import type { RgbImage } from '../types.ts';

/** EXIF orientation (TIFF tag 0x0112): 1 = upright, 2–8 = the mirrorings and quarter turns. */
export type ExifOrientation = 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8;

export interface ImageHeader {
  format: 'jpeg' | 'png';
  /** As stored, before orientation. */
  width: number;
  height: number;
  orientation: ExifOrientation;
}

const be16 = (b: Uint8Array, at: number) => (b[at]! << 8) | b[at + 1]!;
const be32 = (b: Uint8Array, at: number) => ((b[at]! << 24) | (b[at + 1]! << 16) | (b[at + 2]! << 8) | b[at + 3]!) >>> 0;

/** Orientation from a TIFF structure (EXIF's body); 1 when absent or unreadable. */
function tiffOrientation(b: Uint8Array, tiff: number, end: number): ExifOrientation {
  if (tiff + 8 > end) return 1;
  const le = b[tiff] === 0x49 && b[tiff + 1] === 0x49; // "II" little-endian, "MM" big-endian
  if (!le && !(b[tiff] === 0x4d && b[tiff + 1] === 0x4d)) return 1;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const u16 = (at: number) => dv.getUint16(at, le);
  const ifd0 = tiff + dv.getUint32(tiff + 4, le);
  if (ifd0 + 2 > end) return 1;
  const count = u16(ifd0);
  for (let i = 0; i < count; i++) {
    const entry = ifd0 + 2 + i * 12;
    if (entry + 12 > end) return 1;
    if (u16(entry) !== 0x0112) continue;
    const v = u16(entry + 8); // SHORT, stored left-justified in the value field
    return v >= 1 && v <= 8 ? (v as ExifOrientation) : 1;
  }
  return 1;
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

function jpegHeader(b: Uint8Array, name: string): ImageHeader {
  let orientation: ExifOrientation = 1;
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) throw new StudioError('IMAGE_DECODE', `${name}: damaged JPEG (no marker at byte ${at})`);
    const marker = b[at + 1]!;
    if (marker === 0xff) { at++; continue; } // fill byte
    if (marker === 0xd8 || (marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) { at += 2; continue; }
    const len = be16(b, at + 2);
    const body = at + 4;
    if (len < 2 || body - 2 + len > b.length) break;
    if (marker === 0xe1 && len >= 8 && b[body] === 0x45 && b[body + 1] === 0x78 && b[body + 2] === 0x69 && b[body + 3] === 0x66 && b[body + 4] === 0 && b[body + 5] === 0) {
      orientation = tiffOrientation(b, body + 6, body - 2 + len); // after "Exif\0\0"
    } else if (SOF_MARKERS.has(marker) && len >= 7) {
      return { format: 'jpeg', height: be16(b, body + 1), width: be16(b, body + 3), orientation };
    } else if (marker === 0xda || marker === 0xd9) {
      break; // scan data (or the end) before any frame header
    }
    at = body - 2 + len;
  }
  throw new StudioError('IMAGE_DECODE', `${name}: JPEG without a frame header (truncated or not a JPEG)`);
}

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** Orientation from a PNG's eXIf chunk (a bare TIFF body, before the first IDAT), as Chromium applies it. */
function pngOrientation(b: Uint8Array): ExifOrientation {
  for (let at = 8; at + 12 <= b.length; ) {
    const len = be32(b, at);
    const type = String.fromCharCode(...b.subarray(at + 4, at + 8));
    if (type === 'IDAT' || type === 'IEND' || at + 12 + len > b.length) break;
    if (type === 'eXIf') return tiffOrientation(b, at + 8, at + 8 + len);
    at += 12 + len;
  }
  return 1;
}

/** Reads the header of a JPEG or PNG. Throws IMAGE_DECODE for anything else or a damaged header. */
export function readImageHeader(bytes: Uint8Array, name = 'image'): ImageHeader {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return jpegHeader(bytes, name);
  if (PNG_SIGNATURE.every((v, i) => bytes[i] === v)) {
    // The first chunk must be IHDR: length 13, then width and height.
    if (bytes.length < 24 || be32(bytes, 8) !== 13 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
      throw new StudioError('IMAGE_DECODE', `${name}: damaged PNG (no IHDR chunk first)`);
    }
    return { format: 'png', width: be32(bytes, 16), height: be32(bytes, 20), orientation: pngOrientation(bytes) };
  }
  throw new StudioError('IMAGE_DECODE', `${name}: neither JPEG nor PNG`);
}

/** Refuses an image above INPUT_LIMITS.imagePixels (or of zero size) from its header, before decoding. */
export function checkImageSize(header: ImageHeader, name = 'image'): void {
  const pixels = header.width * header.height;
  if (pixels > INPUT_LIMITS.imagePixels) {
    throw new StudioError(
      'IMAGE_TOO_LARGE',
      `${name}: ${header.width}×${header.height} = ${(pixels / 1e6).toFixed(0)} megapixels, over the limit of ${INPUT_LIMITS.imagePixels / 1e6}.`,
    );
  }
  if (pixels === 0) throw new StudioError('IMAGE_DECODE', `${name}: the header gives a size of ${header.width}×${header.height}`);
}

/**
 * Turns stored pixels upright per EXIF orientation (what `createImageBitmap` does by default, for
 * JPEG's APP1 Exif and PNG's eXIf alike):
 * 2 mirror, 3 half turn, 4 vertical mirror, 5 transpose, 6 quarter turn clockwise, 7 transverse,
 * 8 quarter turn anticlockwise. Orientation 1 returns the image itself.
 */
export function orientImage(image: RgbImage, orientation: ExifOrientation): RgbImage {
  if (orientation === 1) return image;
  const { width: W, height: H, channels: c, data } = image;
  const swap = orientation >= 5;
  const ow = swap ? H : W;
  const oh = swap ? W : H;
  const out = new Uint8Array(ow * oh * c);
  // Source pixel of output (x, y), per orientation (EXIF 2.32, tag 0x0112).
  const source: (x: number, y: number) => number = {
    2: (x: number, y: number) => y * W + (W - 1 - x),
    3: (x: number, y: number) => (H - 1 - y) * W + (W - 1 - x),
    4: (x: number, y: number) => (H - 1 - y) * W + x,
    5: (x: number, y: number) => x * W + y,
    6: (x: number, y: number) => (H - 1 - x) * W + y,
    7: (x: number, y: number) => (H - 1 - x) * W + (W - 1 - y),
    8: (x: number, y: number) => x * W + (W - 1 - y),
  }[orientation];
  for (let y = 0, o = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++, o += c) {
      const s = source(x, y) * c;
      for (let k = 0; k < c; k++) out[o + k] = data[s + k]!;
    }
  }
  return { width: ow, height: oh, channels: c, data: out };
}
