/** Pictures that cross the worker boundary: thumbnails of decoded images, tensors to RGBA and back. */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/demos';
import { resizeRgb, THUMBNAIL_HEIGHT } from './datasetLoader';
import type { DomainImages } from './domainImages';
import type { LoadedDataset } from './datasetLoader';
import { bytesToUnit } from './imageStore';
import type { Picture, Thumbnail } from './protocol';

/** Most thumbnails one request gets: a page, never the whole set. */
export const MAX_THUMBNAILS = 96;

/** A small RGBA copy of an image (48 px high) for the data panel. */
export function thumbnail(im: RgbImage): Picture {
  const small = resizeRgb(im, { width: Math.max(1, Math.round((im.width * THUMBNAIL_HEIGHT) / im.height)), height: THUMBNAIL_HEIGHT });
  const data = new Uint8ClampedArray(small.width * small.height * 4);
  for (let i = 0, j = 0; i < small.data.length; i += 3, j += 4) {
    data[j] = small.data[i];
    data[j + 1] = small.data[i + 1];
    data[j + 2] = small.data[i + 2];
    data[j + 3] = 255;
  }
  return { width: small.width, height: small.height, data };
}

/** The left and right halves of a picture (a side-by-side A|B image's A and B). */
export function halves(p: Picture): [Picture, Picture] {
  const w = Math.floor(p.width / 2);
  const half = (from: number): Picture => {
    const data = new Uint8ClampedArray(w * p.height * 4);
    for (let y = 0; y < p.height; y++) data.set(p.data.subarray((y * p.width + from) * 4, (y * p.width + from + w) * 4), y * w * 4);
    return { width: w, height: p.height, data };
  };
  return [half(0), half(p.width - w)];
}

/** Aligned and paired data are shown as pairs. */
const inPairs = (d: LoadedDataset) => d.aligned || d.summary.arrangement === 'paired';

/** A grey stand-in for an image that turned out unusable, so a page keeps its places. */
const blank = (): Picture => ({ width: THUMBNAIL_HEIGHT, height: THUMBNAIL_HEIGHT, data: new Uint8ClampedArray(THUMBNAIL_HEIGHT * THUMBNAIL_HEIGHT * 4).fill(128) });

/** Thumbnails of a dataset from `offset`, decoded now: one domain's images, or (aligned and paired data) A beside its B. */
export async function thumbnailPage(d: LoadedDataset, domain: 'A' | 'B', offset: number, count: number): Promise<{ total: number; items: Thumbnail[] }> {
  const pairs = inPairs(d);
  const images = domain === 'B' && !pairs ? d.B! : d.A;
  const from = Math.max(0, Math.floor(offset));
  const to = Math.min(images.length, from + Math.max(0, Math.min(MAX_THUMBNAILS, Math.floor(count))));
  const small = (dom: DomainImages, i: number) => dom.small(i).then(thumbnail, blank);
  const items: Thumbnail[] = [];
  for (let i = from; i < to; i++) {
    const pictures = d.aligned ? halves(await small(images, i)) : pairs ? [await small(d.A, i), await small(d.B!, i)] : [await small(images, i)];
    items.push({ name: images.names[i], pictures });
  }
  return { total: images.length, items };
}

/** The first few usable thumbnails of each domain, as the dataset event carries them (pairs: A[i] beside B[i]). */
export async function firstThumbnails(d: LoadedDataset, count: number): Promise<{ A: Picture[]; B: Picture[] }> {
  const first = async (dom: DomainImages, partner: DomainImages | null) => {
    const out: Picture[][] = [];
    for (let i = 0; i < dom.length && out.length < count; i++) {
      if (!dom.known(i) || dom.bad.has(i) || (partner && (!partner.known(i) || partner.bad.has(i)))) continue;
      const a = thumbnail(await dom.small(i));
      out.push(d.aligned ? halves(a) : partner ? [a, thumbnail(await partner.small(i))] : [a]);
    }
    return out;
  };
  if (inPairs(d)) {
    const list = await first(d.A, d.aligned ? null : d.B);
    return { A: list.map((p) => p[0]), B: list.map((p) => p[1]) };
  }
  return { A: (await first(d.A, null)).map((p) => p[0]), B: (await first(d.B!, null)).map((p) => p[0]) };
}

/** NHWC [1, H, W, 3] tensors in [-1, 1] to RGBA pictures. */
export async function pictures(list: tf.Tensor4D[]): Promise<Picture[]> {
  return Promise.all(
    list.map(async (t) => {
      const [, height, width] = t.shape;
      const rgba = tf.tidy(() => {
        const rgb = tf.cast(tf.clipByValue(tf.round(tf.mul(tf.add(tf.squeeze(t, [0]), 1), 127.5)), 0, 255), 'int32');
        return tf.concat([rgb, tf.fill([height, width, 1], 255, 'int32')], 2);
      });
      const data = new Uint8ClampedArray(await rgba.data());
      rgba.dispose();
      return { width, height, data };
    }),
  );
}

/** An RGBA picture as an NHWC [1, H, W, 3] tensor in [-1, 1]. */
export function pictureTensor(image: Picture): tf.Tensor4D {
  return tf.tidy(() => {
    const rgba = tf.tensor3d(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), [image.height, image.width, 4], 'int32');
    const rgb = tf.slice(rgba, [0, 0, 0], [-1, -1, 3]);
    return tf.expandDims(bytesToUnit(rgb)) as tf.Tensor4D;
  });
}
