/** TF.js oracles of the conv kernels' tests: the activations as ops, and padding (zero or PyTorch's reflection). */
import * as tf from '@tensorflow/tfjs';
import type { Activation } from './activation';
import type { Conv2dSpec } from './conv2d';

export const OP: Record<Activation, (x: tf.Tensor) => tf.Tensor> = {
  none: (x) => x,
  relu: (x) => tf.relu(x),
  leaky_relu: (x) => tf.leakyRelu(x, 0.2),
  tanh: (x) => tf.tanh(x),
};

/** PyTorch's reflection index of padded coordinate t of a side n padded by p. */
export const reflect = (t: number, n: number, p: number): number => {
  const j = Math.abs(t - p);
  return j >= n ? 2 * (n - 1) - j : j;
};

/**
 * The padded input. Reflection gathers rows then columns: its forward is tf.mirrorPad's (checked below), and its
 * gradient scatters back onto the mirrored sources, which tf.mirrorPad's gradient (a plain slice) does not.
 */
export function padInput(x: tf.Tensor4D, s: Conv2dSpec): tf.Tensor4D {
  const p = s.pad;
  if (s.padMode === 'zero') return tf.pad(x, [[0, 0], [p, p], [p, p], [0, 0]]);
  const rows = tf.tensor1d(Array.from({ length: s.height + 2 * p }, (_, t) => reflect(t, s.height, p)), 'int32');
  const cols = tf.tensor1d(Array.from({ length: s.width + 2 * p }, (_, t) => reflect(t, s.width, p)), 'int32');
  return tf.gather(tf.gather(x, rows, 1), cols, 2);
}

