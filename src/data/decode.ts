/**
 * Decoding in the worker: `createImageBitmap` (jpg, png, webp, bmp, gif's first frame), downscaled while
 * decoding when the image is larger than needed, to RGB bytes (grayscale and alpha become RGB).
 */
import type { RgbImage } from './demos';
import { timed } from './cpuClock';
import { readImageSize } from './imageSize';

/** Images with a side above this are downscaled at decode time, whatever the options say. */
export const MAX_DECODE_SIDE = 2048;

/** Decodes a file to RGB; `target` is the size training needs, or null for the original (capped) size. */
export async function decodeImage(blob: Blob, target: ((w: number, h: number) => { width: number; height: number }) | null): Promise<RgbImage> {
  const header = readImageSize(new Uint8Array(await blob.slice(0, 256 * 1024).arrayBuffer()));
  const options: ImageBitmapOptions = { premultiplyAlpha: 'none', colorSpaceConversion: 'none', imageOrientation: 'from-image' };
  if (header) {
    // may throw the caller's own reason (too small, odd width) before any decoding
    const size = cap(target ? target(header.width, header.height) : header);
    if (size.width !== header.width || size.height !== header.height) {
      Object.assign(options, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(blob, options);
  } catch {
    throw new Error(header ? `corrupt ${header.format} image: it could not be decoded` : 'not a readable image (corrupt, or a format the browser cannot decode)');
  }
  try {
    if (!header && (target || Math.max(bitmap.width, bitmap.height) > MAX_DECODE_SIDE)) {
      // No header to size from: decode once, then scale the bitmap.
      const size = cap(target ? target(bitmap.width, bitmap.height) : bitmap);
      const scaled = await createImageBitmap(bitmap, { resizeWidth: size.width, resizeHeight: size.height, resizeQuality: 'high' });
      bitmap.close();
      bitmap = scaled;
    }
    return timed(() => toRgb(bitmap));
  } finally {
    bitmap.close();
  }
}

const cap = (s: { width: number; height: number }) => {
  const k = Math.min(1, MAX_DECODE_SIDE / Math.max(s.width, s.height));
  return { width: Math.max(1, Math.round(s.width * k)), height: Math.max(1, Math.round(s.height * k)) };
};

/** Reads a bitmap's pixels as RGB bytes. */
export function toRgb(bitmap: ImageBitmap): RgbImage {
  const { width, height } = bitmap;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  const rgba = ctx.getImageData(0, 0, width, height).data;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    data[j] = rgba[i];
    data[j + 1] = rgba[i + 1];
    data[j + 2] = rgba[i + 2];
  }
  return { width, height, data };
}
