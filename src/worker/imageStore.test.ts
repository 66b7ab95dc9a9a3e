import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { planPreprocess, DATA_DEFAULTS } from '../data/preprocess';
import { ImageStore } from './imageStore';

/** An A|B image (w×h per half) whose B pixel is 255 − the A pixel at the same place. */
function alignedImage(w: number, h: number) {
  const data = new Uint8Array(w * 2 * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        const v = (x * 7 + y * 13 + c * 50) % 256;
        data[(y * w * 2 + x) * 3 + c] = v;
        data[(y * w * 2 + w + x) * 3 + c] = 255 - v;
      }
    }
  }
  return { width: w * 2, height: h, data };
}

describe('ImageStore cuts', () => {
  it('A and B halves of an aligned image crop and flip together', async () => {
    const store = new ImageStore([alignedImage(40, 36)]);
    for (let k = 0; k < 10; k++) {
      const plan = store.plan(0, 'left', { ...DATA_DEFAULTS, preprocess: 'crop', crop_size: 32 }, Math.random);
      const a = store.cut(0, 'left', plan);
      const b = store.cut(0, 'right', plan);
      expect(a.shape).toEqual([32, 32, 3]);
      // in [-1, 1], B = -A exactly when the two halves stay aligned
      const sum = await tf.abs(tf.add(a, b)).max().data();
      expect(sum[0]).toBeLessThan(1e-6);
      tf.dispose([a, b]);
    }
  });
  it('a flip mirrors the crop; pixels map to [-1, 1]', async () => {
    const store = new ImageStore([{ width: 2, height: 1, data: new Uint8Array([0, 0, 0, 255, 255, 255]) }]);
    const plain = store.cut(0, 'whole', { resize: null, crop: null, flip: false });
    const flipped = store.cut(0, 'whole', { resize: null, crop: null, flip: true });
    expect(Array.from(await plain.data())).toEqual([-1, -1, -1, 1, 1, 1]);
    expect(Array.from(await flipped.data())).toEqual([1, 1, 1, -1, -1, -1]);
    tf.dispose([plain, flipped]);
  });
  it('plans never ask to resize again (images are decoded at the resized size)', () => {
    const store = new ImageStore([alignedImage(8, 8)]);
    expect(store.plan(0, 'left', DATA_DEFAULTS, Math.random).resize).toBeNull();
    expect(planPreprocess(8, 8, DATA_DEFAULTS, Math.random).resize).not.toBeNull();
  });
});
