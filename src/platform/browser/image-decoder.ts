/**
 * Browser image decoding: a File/Blob → an ImageBitmap for display plus its RGBA pixels for the
 * compute worker (UI thread), a Blob → pixels inside a worker (stored WIDER JPEGs), and a frame
 * grabber for <video> elements.
 */
import { StudioError } from '../../core/data/index.ts';

/** 8-bit RGBA pixels, row-major, as produced by getImageData. */
export interface RgbaFrame {
  width: number;
  height: number;
  data: Uint8ClampedArray;
}

function context2d(width: number, height: number): OffscreenCanvasRenderingContext2D {
  const ctx = new OffscreenCanvas(width, height).getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new StudioError('IMAGE_DECODE', 'This browser cannot read pixels from a 2D canvas.');
  return ctx;
}

/**
 * Decodes a PNG/JPEG (anything the browser decodes) without colour-space conversion, upright per EXIF
 * orientation (`from-image`, also the default; the Node decoder does the same, so CLI and studio agree).
 */
export async function decodeImage(blob: Blob): Promise<{ bitmap: ImageBitmap; frame: RgbaFrame }> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new StudioError('IMAGE_DECODE', `The file "${blob instanceof File ? blob.name : 'image'}" is not an image this browser can decode.`, { cause: e });
  }
  const ctx = context2d(bitmap.width, bitmap.height);
  ctx.drawImage(bitmap, 0, 0);
  const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
  return { bitmap, frame: { width, height, data } };
}

/** Decodes a stored image to RGBA pixels (works in workers); `label` names it in the IMAGE_DECODE error. */
export async function decodePixels(blob: Blob, label: string): Promise<RgbaFrame> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw new StudioError('IMAGE_DECODE', `${label} could not be decoded by this browser.`, { cause: e });
  }
  try {
    const ctx = context2d(bitmap.width, bitmap.height);
    ctx.drawImage(bitmap, 0, 0);
    const { data, width, height } = ctx.getImageData(0, 0, bitmap.width, bitmap.height);
    return { width, height, data };
  } finally {
    bitmap.close();
  }
}

/**
 * A playing `<video>` element, typed by what the grabber reads: this module is also compiled into worker code
 * (for `decodePixels`), whose lib (WebWorker) has no HTMLVideoElement.
 */
export type VideoFrameSource = CanvasImageSource & { readonly videoWidth: number; readonly videoHeight: number };

/** Grabs the current frame of a playing video at its native size; reuses one canvas per grabber. */
export function createFrameGrabber(): (video: VideoFrameSource) => RgbaFrame | null {
  let ctx: OffscreenCanvasRenderingContext2D | null = null;
  return (video) => {
    const { videoWidth: w, videoHeight: h } = video;
    if (w === 0 || h === 0) return null;
    if (!ctx || ctx.canvas.width !== w || ctx.canvas.height !== h) ctx = context2d(w, h);
    ctx.drawImage(video, 0, 0, w, h);
    const { data } = ctx.getImageData(0, 0, w, h);
    return { width: w, height: h, data };
  };
}
