/**
 * Issue 11 items 2 and 6 for the Node image decoder (the CLI's): EXIF orientation applied as the
 * browser's createImageBitmap does, and oversized images refused from their header before decoding.
 * Every image is generated here.
 */
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../../src/core/checkpoint/zip.ts';
import { isStudioError } from '../../../src/core/errors.ts';
import { readImageHeader, type ExifOrientation } from '../../../src/core/image/image-header.ts';
import { decodeImage, encodePng } from '../../../src/platform/node/image-decoder.ts';
import { concatBytes, deflateBomb, expectStudioError } from '../../core/checkpoint/fixtures.ts';
import { closeColour, jpegWithOrientation, pngWithExif, quadrantColours, quadrantRgba, STORED, UPRIGHT } from '../../helpers/exif.ts';
import { costOfFailure, expectCheap } from '../../helpers/resources.ts';

const W = 48;
const H = 24;

describe('EXIF orientation: JPEGs come out upright, like createImageBitmap', () => {
  for (const littleEndian of [false, true]) {
    for (const o of [1, 2, 3, 4, 5, 6, 7, 8] as ExifOrientation[]) {
      it(`orientation ${o} (${littleEndian ? 'II' : 'MM'} byte order)`, () => {
        const bytes = jpegWithOrientation(W, H, quadrantRgba(W, H), o, littleEndian);
        expect(readImageHeader(bytes)).toEqual({ format: 'jpeg', width: W, height: H, orientation: o });
        const img = decodeImage(bytes);
        expect([img.width, img.height]).toEqual(o >= 5 ? [H, W] : [W, H]);
        const got = quadrantColours(img.width, img.height, img.channels, img.data);
        UPRIGHT[o].forEach((want, q) => expect(closeColour(got[q]!, want), `quadrant ${q}: ${got[q]} vs ${want}`).toBe(true));
      });
    }
  }

  it('a PNG with an eXIf chunk (orientation 6) comes out upright too, as Chromium shows it', () => {
    const img = decodeImage(pngWithExif(W, H, quadrantRgba(W, H), 6));
    expect([img.width, img.height]).toEqual([H, W]);
    quadrantColours(img.width, img.height, img.channels, img.data).forEach((c, q) => expect(c).toEqual(UPRIGHT[6][q]));
  });

  it('a JPEG without EXIF, and a PNG, keep their stored layout', () => {
    const plain = decodeImage(jpegWithOrientation(W, H, quadrantRgba(W, H)));
    quadrantColours(plain.width, plain.height, plain.channels, plain.data).forEach((c, q) => expect(closeColour(c, STORED[q]!)).toBe(true));
    const rgba = quadrantRgba(W, H);
    const png = decodeImage(encodePng({ width: W, height: H, channels: 4, data: rgba }));
    expect([png.width, png.height]).toEqual([W, H]);
    quadrantColours(png.width, png.height, png.channels, png.data).forEach((c, q) => expect(c).toEqual(STORED[q]));
  });
});

/** A structurally real PNG: IHDR, one IDAT that inflates to every row of zeros, IEND. */
function pngBomb(width: number, height: number): Uint8Array {
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const dv = new DataView(out.buffer);
    dv.setUint32(0, data.length);
    const typed = out.subarray(4, 8 + data.length);
    typed.set(Array.from(type, (c) => c.charCodeAt(0)), 0);
    typed.set(data, 4);
    dv.setUint32(8 + data.length, crc32(typed));
    return out;
  };
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB
  const raw = height * (1 + width * 3);
  const deflated = deflateBomb(raw);
  const zlib = new Uint8Array(2 + deflated.length + 4);
  zlib.set([0x78, 0x01], 0);
  zlib.set(deflated, 2);
  new DataView(zlib.buffer).setUint32(2 + deflated.length, (((raw % 65521) << 16) | 1) >>> 0); // adler32 of zeros
  return concatBytes([[0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], chunk('IHDR', ihdr), chunk('IDAT', zlib), chunk('IEND', new Uint8Array(0))]);
}

/** A real small JPEG whose frame header is patched to claim `width`×`height`. */
function jpegClaiming(width: number, height: number): Uint8Array {
  const bytes = jpegWithOrientation(16, 16, quadrantRgba(16, 16));
  for (let i = 2; i + 9 < bytes.length; i++) {
    if (bytes[i] === 0xff && bytes[i + 1] === 0xc0) {
      bytes.set([height >> 8, height & 0xff, width >> 8, width & 0xff], i + 5);
      return bytes;
    }
  }
  throw new Error('no SOF0');
}

describe('oversized images are refused from the header, before decoding', () => {
  const CASES: Array<[string, () => Uint8Array, RegExp]> = [
    ['a 20000×20000 PNG (1.2 GB of pixels in ~1.2 MB)', () => pngBomb(20000, 20000), /20000×20000 = 400 megapixels, over the limit of 100/],
    ['a JPEG claiming 20000×20000', () => jpegClaiming(20000, 20000), /20000×20000 = 400 megapixels/],
    ['a JPEG claiming 10001×10000, just over 100 MP', () => jpegClaiming(10001, 10000), /10001×10000 = 100 megapixels, over the limit/],
  ];
  for (const [name, build, message] of CASES) {
    it(`${name} → IMAGE_TOO_LARGE, < 1 s, RSS + < 200 MB`, async () => {
      const bytes = build();
      const cost = await costOfFailure(() => decodeImage(bytes, 'bomb'));
      expect(isStudioError(cost.error, 'IMAGE_TOO_LARGE'), String(cost.error)).toBe(true);
      expect((cost.error as Error).message).toMatch(message);
      expectCheap(cost);
    });
  }

  it('the PNG bomb is well-formed below the limit: a 64×64 one decodes to black', () => {
    const img = decodeImage(pngBomb(64, 64));
    expect([img.width, img.height]).toEqual([64, 64]);
    expect(img.data.every((v, i) => (i % 4 === 3 ? v === 255 : v === 0))).toBe(true);
  });

  it('damaged headers are IMAGE_DECODE, not crashes', () => {
    expectStudioError(() => decodeImage(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9)), 'IMAGE_DECODE', /without a frame header/);
    expectStudioError(() => decodeImage(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0)), 'IMAGE_DECODE', /no IHDR/);
    expectStudioError(() => decodeImage(new TextEncoder().encode('GIF89a')), 'IMAGE_DECODE', /neither JPEG nor PNG/);
  });
});
