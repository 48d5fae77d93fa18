/**
 * Issue 11 item 6: the studio (createImageBitmap with imageOrientation 'from-image', in
 * src/platform/browser/image-decoder.ts) and the CLI's Node decoder see the same upright pixels for
 * every EXIF orientation. The JPEGs (and a PNG with an eXIf chunk) are generated here.
 */
import { expect, test } from '@playwright/test';
import type { ExifOrientation } from '../../src/core/image/image-header.ts';
import { decodeImage } from '../../src/platform/node/image-decoder.ts';
import { closeColour, jpegWithOrientation, pngWithExif, quadrantColours, quadrantRgba, UPRIGHT, type Rgb } from '../helpers/exif.ts';

const W = 48;
const H = 24;

interface Decoded {
  width: number;
  height: number;
  quadrants: Rgb[];
}

test('every EXIF orientation decodes to the same upright pixels in the studio and in the CLI', async ({ page }) => {
  await page.goto('/');
  const inputs: Array<[string, Uint8Array, string, ExifOrientation]> = [
    ...([1, 2, 3, 4, 5, 6, 7, 8] as ExifOrientation[]).map((o): [string, Uint8Array, string, ExifOrientation] => [`jpeg ${o}`, jpegWithOrientation(W, H, quadrantRgba(W, H), o), 'image/jpeg', o]),
    ['png with eXIf 6', pngWithExif(W, H, quadrantRgba(W, H), 6), 'image/png', 6],
  ];
  for (const [label, bytes, type, orientation] of inputs) {
    const browser: Decoded = await page.evaluate(
      async ({ bytes, type, decoder }) => {
        // The studio's own decoder module, as Vite serves it.
        const { decodePixels } = (await import(/* @vite-ignore */ decoder)) as typeof import('../../src/platform/browser/image-decoder.ts');
        const f = await decodePixels(new Blob([new Uint8Array(bytes)], { type }), 'probe');
        const at = (x: number, y: number) => {
          const i = (Math.floor(y) * f.width + Math.floor(x)) * 4;
          return [f.data[i]!, f.data[i + 1]!, f.data[i + 2]!] as const;
        };
        const [w, h] = [f.width, f.height];
        return { width: w, height: h, quadrants: [at(w / 4, h / 4), at((3 * w) / 4, h / 4), at(w / 4, (3 * h) / 4), at((3 * w) / 4, (3 * h) / 4)] as Rgb[] };
      },
      { bytes: Array.from(bytes), type, decoder: '/src/platform/browser/image-decoder.ts' },
    );
    const node = decodeImage(bytes, label);
    const nodeQuadrants = quadrantColours(node.width, node.height, node.channels, node.data);
    expect([browser.width, browser.height], label).toEqual([node.width, node.height]);
    browser.quadrants.forEach((c, q) => expect(closeColour(c, nodeQuadrants[q]!), `${label} quadrant ${q}: browser ${c}, node ${nodeQuadrants[q]}`).toBe(true));
    UPRIGHT[orientation].forEach((want, q) => expect(closeColour(browser.quadrants[q]!, want), `${label} quadrant ${q}`).toBe(true));
  }
});
