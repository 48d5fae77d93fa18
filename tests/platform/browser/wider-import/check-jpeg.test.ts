import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { checkJpeg } from '../../../../src/platform/browser/wider-import/index.ts';
import { HAS_SHARED, sharedPath } from '../../../helpers/shared.ts';
import jpeg from 'jpeg-js';

function tinyJpeg(width: number, height: number): Uint8Array {
  const data = Buffer.alloc(width * height * 4, 128);
  return new Uint8Array(jpeg.encode({ data, width, height }, 80).data);
}

describe('checkJpeg', () => {
  it('reads the frame size of a valid JPEG', () => {
    expect(checkJpeg(tinyJpeg(37, 21), 'x.jpg')).toEqual({ width: 37, height: 21 });
  });

  it('tolerates padding after the end-of-image marker', () => {
    const j = tinyJpeg(8, 8);
    const padded = new Uint8Array(j.length + 10);
    padded.set(j);
    expect(checkJpeg(padded, 'x.jpg')).toEqual({ width: 8, height: 8 });
  });

  it('rejects a truncated JPEG, a non-JPEG and an empty file, naming the file', () => {
    const j = tinyJpeg(64, 64);
    expect(() => checkJpeg(j.subarray(0, j.length >> 1), 'a/b.jpg')).toThrow(/a\/b\.jpg is not a valid JPEG: the end-of-image marker is missing/);
    expect(() => checkJpeg(new TextEncoder().encode('hello world'), 'h.jpg')).toThrow(/start-of-image/);
    expect(() => checkJpeg(new Uint8Array(0), 'e.jpg')).toThrow(expect.objectContaining({ code: 'IMAGE_DECODE' }));
    expect(() => checkJpeg(j.subarray(0, 30), 'c.jpg')).toThrow(/truncated/);
  });

  it.skipIf(!HAS_SHARED)('accepts every image of the shared WIDER subset with its true size', () => {
    const dir = sharedPath('widerface', 'WIDER_val', 'images', '0--Parade');
    for (const f of readdirSync(dir).slice(0, 20)) {
      const b = readFileSync(`${dir}/${f}`);
      const decoded = jpeg.decode(b, { useTArray: true });
      expect(checkJpeg(new Uint8Array(b), f)).toEqual({ width: decoded.width, height: decoded.height });
    }
  });
});
