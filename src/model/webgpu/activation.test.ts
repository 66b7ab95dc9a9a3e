import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { activationBackward, activationForward } from './activation';
import type { Activation } from './activation';
import { runKernel, useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the activation kernels');

const oracle: Record<Activation, (x: tf.Tensor) => tf.Tensor> = {
  none: (x) => tf.clone(x),
  relu: (x) => tf.relu(x),
  leaky_relu: (x) => tf.leakyRelu(x, 0.2),
  tanh: (x) => tf.tanh(x),
};

describe('activation kernels against TF.js', () => {
  for (const kind of ['none', 'relu', 'leaky_relu', 'tanh'] as const) {
    it(`${kind}: forward, and backward from the output, equal TF.js's op and its gradient`, async () => {
      if (skip()) return;
      const n = 1000;
      const x = tf.randomNormal([n], 0, 1, 'float32', 7);
      const dy = tf.randomNormal([n], 0, 1, 'float32', 8);
      const y = oracle[kind](x);
      const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(oracle[kind](v), dy)))(x);
      const [ours] = await runKernel(activationForward(kind, n), [x], [n]);
      expect(worstRelative(ours, await y.data())).toBeLessThan(1e-6);
      const [oursDx] = await runKernel(activationBackward(kind, n), [y, dy], [n]);
      expect(worstRelative(oursDx, await dx.data())).toBeLessThan(1e-6);
      tf.dispose([x, dy, y, dx]);
    });
  }
});
