import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './index';

/** The same padding built from gathers, whose gradient (a scatter-add) is right by construction. */
function gatherPad(x: tf.Tensor, paddings: [number, number][], mode: 'reflect' | 'symmetric'): tf.Tensor {
  return paddings.reduce((v, [before, after], axis) => {
    const n = x.shape[axis];
    const shift = mode === 'reflect' ? 0 : 1;
    const index = Array.from({ length: before + n + after }, (_, j) => {
      const i = j - before;
      return i < 0 ? -i - shift : i >= n ? 2 * n - 2 - i + shift : i;
    });
    return tf.gather(v, index, axis);
  }, x);
}

describe("tf.mirrorPad's gradient", () => {
  it('folds the mirrored borders back, as PyTorch’s ReflectionPad2d: [1,2,3,4] padded by 1 gives [1,2,2,1]', async () => {
    const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mirrorPad(v as tf.Tensor1D, [[1, 1]], 'reflect')))(tf.tensor1d([1, 2, 3, 4]));
    expect(Array.from(await g.data())).toEqual([1, 2, 2, 1]);
  });

  for (const mode of ['reflect', 'symmetric'] as const) {
    it(`${mode}: equals the gradient of the same padding built from gathers, for the networks' pads and uneven ones`, async () => {
      const x = tf.randomNormal([2, 7, 6, 3], 0, 1, 'float32', 11);
      for (const paddings of [[[0, 0], [3, 3], [3, 3], [0, 0]], [[0, 0], [1, 1], [1, 1], [0, 0]], [[0, 0], [2, 1], [0, 3], [0, 0]]] as [number, number][][]) {
        const pad = tf.mirrorPad(x as tf.Tensor4D, paddings as [[number, number], [number, number], [number, number], [number, number]], mode);
        expect(Array.from(await pad.data())).toEqual(Array.from(await gatherPad(x, paddings, mode).data()));
        const w = tf.randomNormal(pad.shape, 0, 1, 'float32', 12);
        const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mirrorPad(v as tf.Tensor4D, paddings as [[number, number], [number, number], [number, number], [number, number]], mode), w)))(x);
        const expected = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(gatherPad(v, paddings, mode), w)))(x);
        expect(Math.max(...(await tf.abs(tf.sub(ours, expected)).data()))).toBeLessThan(1e-5);
      }
    });
  }
});
