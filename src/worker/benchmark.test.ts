import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { kernelMacs, profileStep } from './benchmark';

describe('benchmark counting', () => {
  it('counts conv multiply-adds forward and backward from kernel shapes', async () => {
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4]));
    const p = await profileStep(async () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.conv2d(x, w as tf.Variable<tf.Rank.R4>, 1, 'same')) as tf.Scalar, [w]);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const forward = 2 * 8 * 8 * 4 * 3 * 3 * 3;
    // forward conv + filter gradient (no input gradient: x is not a variable)
    expect(p.macs).toBe(2 * forward);
    expect(p.kinds.map((k) => k.name)).toContain('Conv2DBackpropFilter');
    tf.dispose([x, w]);
  });
  it('matmul multiply-adds', () => {
    expect(kernelMacs({ name: 'BatchMatMul', inputShapes: [[1, 5, 7], [1, 7, 3]], outputShapes: [[1, 5, 3]] })).toBe(105);
    expect(kernelMacs({ name: 'Add', inputShapes: [[5]], outputShapes: [[5]] })).toBe(0);
  });
});
