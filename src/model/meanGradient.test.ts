import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import './index';

describe("tf.mean's gradient", () => {
  it('spreads dy evenly over the reduced axes, for any axes and keepDims', async () => {
    const x = tf.randomNormal([2, 3, 4, 5], 0, 1, 'float32', 3);
    for (const [axis, keepDims] of [[[1, 2], true], [[1, 2], false], [3, false], [[0, 3], true], [undefined, false]] as const) {
      const w = tf.randomNormal(tf.mean(x, axis as number[] | number | undefined, keepDims).shape, 0, 1, 'float32', 4);
      const g = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mean(v, axis as number[] | number | undefined, keepDims), w)))(x);
      // expected: w broadcast back over the reduced axes, divided by how many values each mean took
      const axes = axis === undefined ? [0, 1, 2, 3] : typeof axis === 'number' ? [axis] : [...axis];
      const count = axes.reduce((n, a) => n * x.shape[a], 1);
      const expanded = tf.reshape(w, x.shape.map((d, i) => (axes.includes(i) ? 1 : d)));
      const expected = tf.div(tf.broadcastTo(expanded, x.shape), count);
      expect(Math.max(...(await tf.abs(tf.sub(g, expected)).data()))).toBeLessThan(1e-7);
    }
  });
  it('makes no tensor on the CPU for the GPU to upload (no `ones` of the input shape)', async () => {
    const x = tf.randomNormal([1, 16, 16, 8]);
    const { kernels } = await tf.profile(() => tf.grad((v: tf.Tensor) => tf.mean(v, [1, 2]).sum())(x));
    // the stock gradient multiplied dy by a CPU-made ones tensor of x's shape
    expect(kernels.filter((k) => k.name === 'Multiply' && k.inputShapes.some((s) => s.length === 4 && s[1] === 16))).toHaveLength(0);
  });
});
