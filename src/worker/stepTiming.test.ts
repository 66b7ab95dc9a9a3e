import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../model';
import { StepEngine } from './stepEngine';
import { timeOneStep } from './stepTiming';

describe('timing one training step', () => {
  const batch = async () => ({ a: tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D, b: tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D });

  it('gives the time of one step after a warm-up, or null past its budget or once cancelled, and leaks nothing', async () => {
    await tf.setBackend('cpu');
    const t = createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 });
    const engine = new StepEngine(t, 'compiled'); // the CPU backend has TF.js's step only
    const tensors = tf.memory().numTensors;
    const ms = await timeOneStep(engine.step, batch, { warmUp: true, budgetMs: 60_000, cancelled: () => false });
    expect(ms).toBeGreaterThan(0);
    expect(t.step).toBe(2);
    expect(engine.report).toEqual({ engine: 'tfjs', reason: null });
    expect(await timeOneStep(engine.step, batch, { warmUp: false, budgetMs: 60_000, cancelled: () => true })).toBeNull();
    expect(tf.memory().numTensors).toBe(tensors);
    t.dispose();
  });
});
