import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createGenerator } from './index';
import { runAtAnySize } from './ganStudioLayers.js';

const maxDiff = (a: tf.Tensor, b: tf.Tensor) => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('runAtAnySize (the helper exported models ship)', () => {
  const net = createGenerator({ netG: 'unet_32', ngf: 4, norm: 'instance' });

  it('takes a 68×100 image through unet_32, which alone needs sides a multiple of 32', () => {
    const x = tf.randomUniform([1, 68, 100, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
    expect(() => tf.tidy(() => net.apply(x) as tf.Tensor)).toThrow();
    const before = tf.memory().numTensors;
    const y = runAtAnySize(tf, net, x, 32);
    expect(y.shape).toEqual([1, 68, 100, 3]);
    expect(tf.memory().numTensors).toBe(before + 1);
    tf.dispose([x, y]);
  });

  it('pads by reflection split evenly, smaller half first, and crops the same window back', () => {
    const x = tf.randomUniform([1, 37, 50, 3], -1, 1, 'float32', 2) as tf.Tensor4D;
    // 37 → 64: 13 rows before, 14 after; 50 → 64: 7 columns each side
    const expected = tf.tidy(() => {
      const padded = tf.mirrorPad(x, [[0, 0], [13, 14], [7, 7], [0, 0]], 'reflect');
      return tf.slice(net.apply(padded) as tf.Tensor4D, [0, 13, 7, 0], [-1, 37, 50, -1]);
    });
    const y = runAtAnySize(tf, net, x, 32);
    expect(maxDiff(y, expected)).toBe(0);
    tf.dispose([x, y, expected]);
  });

  it('pads images smaller than the padding in several passes, even 1×1, and keeps a 3D image 3D', () => {
    for (const [h, w] of [[5, 3], [1, 1], [1, 40]]) {
      const x = tf.randomUniform([h, w, 3], -1, 1, 'float32', 3) as tf.Tensor3D;
      const y = runAtAnySize(tf, net, x, 32);
      expect(y.shape).toEqual([h, w, 3]);
      expect(Number.isFinite(tf.tidy(() => tf.sum(y).dataSync()[0]))).toBe(true);
      tf.dispose([x, y]);
    }
  });

  it('leaves sizes that already fit untouched: the same as applying the network', () => {
    const x = tf.randomUniform([2, 32, 64, 3], -1, 1, 'float32', 4) as tf.Tensor4D;
    const direct = net.apply(x) as tf.Tensor;
    const y = runAtAnySize(tf, net, x, 32);
    expect(maxDiff(y, direct)).toBe(0);
    tf.dispose([x, y, direct]);
  });
});
