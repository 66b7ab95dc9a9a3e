import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ganLoss, l1Loss } from './index';

const value = (t: tf.Scalar) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};

describe('GAN losses', () => {
  const logits = tf.tensor([-2, 0, 3]);
  it('lsgan is the mean squared error to 1 or 0', () => {
    expect(value(ganLoss('lsgan', logits, true))).toBeCloseTo((9 + 1 + 4) / 3, 6);
    expect(value(ganLoss('lsgan', logits, false))).toBeCloseTo((4 + 0 + 9) / 3, 6);
  });
  it('vanilla is sigmoid cross-entropy on logits (BCEWithLogitsLoss)', () => {
    const sig = (x: number) => 1 / (1 + Math.exp(-x));
    const real = -[-2, 0, 3].reduce((s, x) => s + Math.log(sig(x)), 0) / 3;
    const fake = -[-2, 0, 3].reduce((s, x) => s + Math.log(1 - sig(x)), 0) / 3;
    expect(value(ganLoss('vanilla', logits, true))).toBeCloseTo(real, 5);
    expect(value(ganLoss('vanilla', logits, false))).toBeCloseTo(fake, 5);
  });
  it('vanilla stays finite for huge logits', () => {
    expect(value(ganLoss('vanilla', tf.tensor([1e4, -1e4]), true))).toBeCloseTo(5e3, 0);
  });
  it('L1 is the mean absolute difference', () => {
    expect(value(l1Loss(tf.tensor([1, 2, 3]), tf.tensor([2, 2, 0])))).toBeCloseTo(4 / 3, 6);
  });
});
