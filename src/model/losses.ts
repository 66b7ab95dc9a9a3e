/** The reference's `GANLoss` and the L1 reconstruction terms. All return scalar means. */
import * as tf from '@tensorflow/tfjs';
import type { GanMode } from './options';

/** GAN loss of discriminator logits against an all-real (1) or all-fake (0) target. */
export function ganLoss(mode: GanMode, prediction: tf.Tensor, targetIsReal: boolean): tf.Scalar {
  return tf.tidy(() => {
    const target = targetIsReal ? 1 : 0;
    if (mode === 'lsgan') return tf.mean(tf.square(tf.sub(prediction, target)));
    // Sigmoid cross-entropy on logits, in the overflow-safe form max(x,0) - x*z + log(1 + e^-|x|).
    const x = prediction;
    const perCell = tf.add(tf.sub(tf.relu(x), tf.mul(x, target)), tf.log1p(tf.exp(tf.neg(tf.abs(x)))));
    return tf.mean(perCell);
  }) as tf.Scalar;
}

/** Mean absolute error, as `torch.nn.L1Loss`. */
export function l1Loss(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b)))) as tf.Scalar;
}
