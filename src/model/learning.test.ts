/**
 * It learns: on small synthetic sets where B is a fixed colour mapping of A (channels rotated R,G,B → B,R,G),
 * the trained generator moves towards that mapping on held-out images.
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { drawShapes, mapColours, rotateChannels, WARM } from '../data/demoShapes';
import { createTrainer } from './index';
import type { Trainer } from './index';

const side = 32;
const N = 64;

/** Mean |a − b| of two tensors, read asynchronously. */
const meanAbs = async (a: tf.Tensor, b: tf.Tensor) => {
  const d = tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))));
  const v = (await d.data())[0];
  d.dispose();
  return v;
};

/** Trains `steps` steps on batches cycling through A and B (B offset, so CycleGAN's pairs are not aligned). */
async function train(t: Trainer, A: tf.Tensor4D, B: tf.Tensor4D, steps: number, batch: number, bOffset: number) {
  for (let s = 0; s < steps; s++) {
    const i = (s * batch) % N;
    const j = (i + bOffset) % N;
    const a = tf.slice(A, [i, 0, 0, 0], [batch, -1, -1, -1]);
    const b = tf.slice(B, [Math.min(j, N - batch), 0, 0, 0], [batch, -1, -1, -1]);
    const losses = t.trainStep(a, b);
    if (s % 20 === 0) await losses[t.lossNames[0]].data(); // let the backend drain, as the worker will
    tf.dispose([a, b, ...Object.values(losses)]);
  }
}

describe('learning on synthetic colour-mapped shapes', () => {
  it('pix2pix: held-out L1 to the target falls below half of the untrained value within 100 steps', async () => {
    const a = drawShapes(N, side, 1);
    const A = tf.tensor4d(a, [N, side, side, 3]);
    const B = tf.tensor4d(mapColours(a, rotateChannels), [N, side, side, 3]);
    const heldA = drawShapes(8, side, 99);
    const testA = tf.tensor4d(heldA, [8, side, side, 3]);
    const testB = tf.tensor4d(mapColours(heldA, rotateChannels), [8, side, side, 3]);
    const t = createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 8, ndf: 8 });
    const l1 = async () => {
      const y = t.translate(testA, 'AtoB');
      const v = await meanAbs(y, testB);
      y.dispose();
      return v;
    };
    const before = await l1();
    await train(t, A, B, 100, 4, 0);
    const after = await l1();
    console.log(`pix2pix held-out L1 to target: untrained ${before.toFixed(3)} → ${after.toFixed(3)} after 100 steps (batch 4)`);
    expect(after).toBeLessThan(0.5 * before);
    tf.dispose([A, B, testA, testB]);
    t.dispose();
  }, 600_000);

  it('CycleGAN: G_A(x) comes closer to the true mapping of held-out x, and closer to it than to x itself', async () => {
    // Warm colours in A become greens in B, so the two unpaired domains differ and identity is not a solution.
    const A = tf.tensor4d(drawShapes(N, side, 1, WARM), [N, side, side, 3]);
    const B = tf.tensor4d(mapColours(drawShapes(N, side, 2, WARM), rotateChannels), [N, side, side, 3]);
    const heldA = drawShapes(8, side, 99, WARM);
    const x = tf.tensor4d(heldA, [8, side, side, 3]);
    const Tx = tf.tensor4d(mapColours(heldA, rotateChannels), [8, side, side, 3]);
    // lr 5x the reference's default, so the adversarial signal shows within a CPU-sized test
    const t = createTrainer({ model: 'cycle_gan', netG: 'unet_32', ngf: 8, ndf: 8, pool_size: 8, lr: 0.001 });
    const distances = async () => {
      const y = t.translate(x, 'AtoB');
      const d = { toMapping: await meanAbs(y, Tx), toInput: await meanAbs(y, x) };
      y.dispose();
      return d;
    };
    const before = await distances();
    await train(t, A, B, 150, 1, 17);
    const after = await distances();
    const inputToMapping = await meanAbs(x, Tx);
    console.log(
      `CycleGAN held-out L1(G_A(x), T(x)): untrained ${before.toMapping.toFixed(3)} → ${after.toMapping.toFixed(3)} after 150 steps; ` +
        `L1(G_A(x), x) ${after.toInput.toFixed(3)}; L1(x, T(x)) ${inputToMapping.toFixed(3)}`,
    );
    expect(after.toMapping).toBeLessThan(0.5 * before.toMapping);
    expect(after.toMapping).toBeLessThan(0.8 * after.toInput);
    tf.dispose([A, B, x, Tx]);
    t.dispose();
  }, 600_000);
});
