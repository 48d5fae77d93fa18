/**
 * JPEG/PNG decoding in Node with maintained pure-JS decoders (jpeg-js, pngjs): no native binaries to
 * download, same RGB bytes the browser's decoder gives for baseline JPEGs up to IDCT rounding.
 * Like the browser's createImageBitmap, images are turned upright per their EXIF orientation; the
 * header is read first, so an image over the pixel limit is refused before anything is allocated.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { readFile } from 'node:fs/promises';
import { INPUT_LIMITS, StudioError, imageHeader, type RgbImage } from '../../core/data/index.ts';

export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  const header = imageHeader.readImageHeader(bytes, name);
  imageHeader.checkImageSize(header, name);
  let image: RgbImage;
  try {
    if (header.format === 'jpeg') {
      const img = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: false,
        maxResolutionInMP: INPUT_LIMITS.imagePixels / 1e6,
        maxMemoryUsageInMB: 1024,
      });
      image = { width: img.width, height: img.height, channels: 3, data: img.data };
    } else {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      image = { width: png.width, height: png.height, channels: 4, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
  } catch (e) {
    throw new StudioError('IMAGE_DECODE', `${name}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
  }
  return imageHeader.orientImage(image, header.orientation);
}

export async function readImageFile(path: string): Promise<RgbImage> {
  const buf = await readFile(path);
  return decodeImage(new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength), path);
}

/** Encodes RGB(A) to PNG (used by tests and the CLI to write previews). */
export function encodePng(image: RgbImage): Uint8Array {
  const png = new PNG({ width: image.width, height: image.height });
  for (let p = 0; p < image.width * image.height; p++) {
    png.data[p * 4] = image.data[p * image.channels]!;
    png.data[p * 4 + 1] = image.data[p * image.channels + 1]!;
    png.data[p * 4 + 2] = image.data[p * image.channels + 2]!;
    png.data[p * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png));
}
