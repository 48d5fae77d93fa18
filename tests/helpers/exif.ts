/**
 * Test images with EXIF orientation, generated (no committed binaries): a four-colour quadrant image
 * encoded with jpeg-js, with an APP1 `Exif` segment carrying tag 0x0112 inserted after SOI, as a
 * phone writes it. Used by the Node decoder tests and the browser agreement e2e test.
 */
import jpeg from 'jpeg-js';
import { crc32 } from '../../src/core/checkpoint/zip.ts';
import { encodePng } from '../../src/platform/node/image-decoder.ts';
import type { ExifOrientation } from '../../src/core/image/image-header.ts';

export type Rgb = readonly [number, number, number];
export const RED: Rgb = [230, 20, 20];
export const GREEN: Rgb = [20, 200, 40];
export const BLUE: Rgb = [30, 40, 220];
export const WHITE: Rgb = [245, 245, 245];

/** Quadrant colours top-left, top-right, bottom-left, bottom-right. */
export type Quadrants = readonly [Rgb, Rgb, Rgb, Rgb];
export const STORED: Quadrants = [RED, GREEN, BLUE, WHITE];

/** RGBA pixels of a W×H image in the four quadrant colours. */
export function quadrantRgba(width: number, height: number, q: Quadrants = STORED): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = q[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)]!;
      out.set([c[0], c[1], c[2], 255], (y * width + x) * 4);
    }
  }
  return out;
}

/** An APP1 Exif segment holding only IFD0 with the orientation tag, in either byte order. */
export function exifSegment(orientation: number, littleEndian = false): Uint8Array {
  const tiff = new Uint8Array(8 + 2 + 12 + 4);
  const dv = new DataView(tiff.buffer);
  tiff.set(littleEndian ? [0x49, 0x49] : [0x4d, 0x4d], 0);
  dv.setUint16(2, 42, littleEndian);
  dv.setUint32(4, 8, littleEndian); // IFD0 right after the header
  dv.setUint16(8, 1, littleEndian); // one entry
  dv.setUint16(10, 0x0112, littleEndian); // Orientation
  dv.setUint16(12, 3, littleEndian); // SHORT
  dv.setUint32(14, 1, littleEndian); // count 1
  dv.setUint16(18, orientation, littleEndian); // value, left-justified
  dv.setUint32(22, 0, littleEndian); // no next IFD
  const payload = new Uint8Array(6 + tiff.length);
  payload.set([0x45, 0x78, 0x69, 0x66, 0, 0], 0); // "Exif\0\0"
  payload.set(tiff, 6);
  const seg = new Uint8Array(4 + payload.length);
  seg.set([0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff], 0);
  seg.set(payload, 4);
  return seg;
}

/** A JPEG of `rgba` with an EXIF orientation tag (none for `orientation` undefined). */
export function jpegWithOrientation(width: number, height: number, rgba: Uint8Array, orientation?: ExifOrientation, littleEndian = false): Uint8Array {
  const plain = new Uint8Array(jpeg.encode({ width, height, data: rgba }, 95).data);
  if (orientation === undefined) return plain;
  const seg = exifSegment(orientation, littleEndian);
  const out = new Uint8Array(plain.length + seg.length);
  out.set(plain.subarray(0, 2), 0); // SOI
  out.set(seg, 2);
  out.set(plain.subarray(2), 2 + seg.length);
  return out;
}

/** A PNG with an eXIf chunk (the TIFF body of an APP1 Exif segment) inserted after IHDR. */
export function pngWithExif(width: number, height: number, rgba: Uint8Array, orientation: number): Uint8Array {
  const png = encodePng({ width, height, channels: 4, data: rgba });
  const tiff = exifSegment(orientation).subarray(4 + 6);
  const chunk = new Uint8Array(12 + tiff.length);
  const dv = new DataView(chunk.buffer);
  dv.setUint32(0, tiff.length);
  chunk.set([0x65, 0x58, 0x49, 0x66], 4); // "eXIf"
  chunk.set(tiff, 8);
  dv.setUint32(8 + tiff.length, crc32(chunk.subarray(4, 8 + tiff.length)));
  const ihdrEnd = 8 + 25;
  const out = new Uint8Array(png.length + chunk.length);
  out.set(png.subarray(0, ihdrEnd), 0);
  out.set(chunk, ihdrEnd);
  out.set(png.subarray(ihdrEnd), ihdrEnd + chunk.length);
  return out;
}

/**
 * How the stored quadrants look once shown upright, per orientation, from the EXIF definitions
 * (row 0 / column 0 placement), written out by hand: 6 turns the photo a quarter clockwise, etc.
 */
export const UPRIGHT: Record<ExifOrientation, Quadrants> = {
  1: [RED, GREEN, BLUE, WHITE],
  2: [GREEN, RED, WHITE, BLUE],
  3: [WHITE, BLUE, GREEN, RED],
  4: [BLUE, WHITE, RED, GREEN],
  5: [RED, BLUE, GREEN, WHITE],
  6: [BLUE, RED, WHITE, GREEN],
  7: [WHITE, GREEN, BLUE, RED],
  8: [GREEN, WHITE, RED, BLUE],
};

/** The colour at the centre of each quadrant of an RGB(A) image. */
export function quadrantColours(width: number, height: number, channels: number, data: ArrayLike<number>): Rgb[] {
  return [
    [width / 4, height / 4],
    [(3 * width) / 4, height / 4],
    [width / 4, (3 * height) / 4],
    [(3 * width) / 4, (3 * height) / 4],
  ].map(([x, y]) => {
    const i = (Math.floor(y!) * width + Math.floor(x!)) * channels;
    return [data[i]!, data[i + 1]!, data[i + 2]!] as const;
  });
}

/** True when every channel is within `tolerance` (JPEG rounding). */
export const closeColour = (a: Rgb, b: Rgb, tolerance = 40): boolean => a.every((v, k) => Math.abs(v - b[k]!) <= tolerance);
