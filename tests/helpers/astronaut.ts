/**
 * The astronaut photo of the goldens (public domain, NASA; 512×512 RGB stored as .npy in ../shared/golden)
 * encoded as PNG in memory: the picture the e2e tests detect faces on and the README screenshots show.
 */
import { PNG } from 'pngjs';
import { readNpy } from './npy.ts';
import { sharedPath } from './shared.ts';

export interface FilePayload {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

export function astronautPng(): FilePayload {
  const img = readNpy(sharedPath('golden', 'real', 'astronaut_rgb_u8.npy'));
  const [height, width, channels] = img.shape as [number, number, number];
  if (channels !== 3) throw new Error(`expected an RGB image, got shape ${img.shape}`);
  const png = new PNG({ width, height });
  const rgb = img.data as Uint8Array;
  for (let i = 0, j = 0; i < width * height; i++, j += 3) {
    png.data[i * 4] = rgb[j]!;
    png.data[i * 4 + 1] = rgb[j + 1]!;
    png.data[i * 4 + 2] = rgb[j + 2]!;
    png.data[i * 4 + 3] = 255;
  }
  return { name: 'astronaut.png', mimeType: 'image/png', buffer: PNG.sync.write(png) };
}
