/**
 * A structural JPEG check run on every image at import, without decoding (decoding 12,880 photos would
 * double the import time): the SOI marker at the start, a well-formed marker chain up to a frame
 * header (SOFn, which gives the size), and the EOI marker at the end (a truncated download loses it).
 * Pixel-level damage inside the entropy-coded data is found only when the image is decoded (the
 * evaluation then fails with IMAGE_DECODE naming the image).
 */
import { StudioError } from '../../../core/data/index.ts';

/** Bytes after the EOI marker that are tolerated (some encoders pad the file). */
const EOI_SEARCH = 64;

export interface JpegSize {
  width: number;
  height: number;
}

/** Returns the frame size; throws IMAGE_DECODE naming `label` when the structure is broken. */
export function checkJpeg(bytes: Uint8Array, label: string): JpegSize {
  const fail = (why: string): never => {
    throw new StudioError('IMAGE_DECODE', `${label} is not a valid JPEG: ${why}.`);
  };
  const n = bytes.length;
  if (n < 4 || bytes[0] !== 0xff || bytes[1] !== 0xd8) fail('it does not start with the JPEG start-of-image marker');
  let size: JpegSize | null = null;
  let i = 2;
  while (!size) {
    if (i + 4 > n) fail('it ends before the frame header (truncated)');
    if (bytes[i] !== 0xff) fail(`a marker was expected at byte ${i}`);
    const marker = bytes[i + 1]!;
    if (marker === 0xff) {
      i++; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) fail('the image data starts before its frame header');
    const length = (bytes[i + 2]! << 8) | bytes[i + 3]!;
    if (length < 2) fail(`segment 0xFF${marker.toString(16).toUpperCase()} has length ${length}`);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      if (i + 9 > n) fail('it ends inside the frame header (truncated)');
      const height = (bytes[i + 5]! << 8) | bytes[i + 6]!;
      const width = (bytes[i + 7]! << 8) | bytes[i + 8]!;
      if (width === 0 || height === 0) fail(`the frame header gives a size of ${width}×${height}`);
      size = { width, height };
    }
    i += 2 + length;
  }
  let eoi = false;
  for (let k = n - 2; k >= Math.max(i, n - 2 - EOI_SEARCH); k--) {
    if (bytes[k] === 0xff && bytes[k + 1] === 0xd9) {
      eoi = true;
      break;
    }
  }
  if (!eoi) fail('the end-of-image marker is missing (the file is truncated or damaged)');
  return size;
}
