/** Pictures that cross the worker boundary: thumbnails of decoded images, tensors to RGBA and back. */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/demos';
import { resizeRgb } from './datasetLoader';
import { bytesToUnit } from './imageStore';
import type { Picture } from './protocol';

/** A small RGBA copy of an image (48 px high) for the data panel. */
export function thumbnail(im: RgbImage): Picture {
  const small = resizeRgb(im, { width: Math.max(1, Math.round((im.width * 48) / im.height)), height: 48 });
  const data = new Uint8ClampedArray(small.width * small.height * 4);
  for (let i = 0, j = 0; i < small.data.length; i += 3, j += 4) {
    data[j] = small.data[i];
    data[j + 1] = small.data[i + 1];
    data[j + 2] = small.data[i + 2];
    data[j + 3] = 255;
  }
  return { width: small.width, height: small.height, data };
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
