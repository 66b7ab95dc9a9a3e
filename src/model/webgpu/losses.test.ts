import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ganLoss, l1Loss } from '../losses';
import { ganLossGradient, ganLossValue, l1LossGradient, l1LossValue } from './losses';
import type { Kernel } from './kernel';
import { Plan } from './plan';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the loss kernels');

/** Runs `kernel` over the inputs' buffers and one output buffer that starts with `initial` (to see writes vs adds). */
async function run(kernel: Kernel, inputs: tf.Tensor[], initial: ArrayLike<number>): Promise<Float32Array> {
  const plan = new Plan(webgpuDevice());
  try {
    const out = plan.buffer(initial.length, 'out');
    plan.device.queue.writeBuffer(out, 0, new Float32Array(initial));
    plan.add(kernel, [...inputs.map(tensorBuffer), out]);
    plan.run();
    return await readFloats(plan.device, out, initial.length);
  } finally {
    plan.dispose();
  }
}

const gradOf = (f: (x: tf.Tensor) => tf.Scalar, x: tf.Tensor) => tf.grad(f)(x);

// 2 × 14 × 14 logits: more than the reducing workgroup's 256 threads, plus saturated ones and an exact 0
const logits = () =>
  tf.tidy(() => tf.concat([tf.mul(tf.randomNormal([2 * 14 * 14 - 6], 0, 1, 'float32', 3), 4), tf.tensor1d([0, 30, -30, 90, -90, 1e-3])]));

describe('loss kernels against ../losses.ts and its gradient', () => {
  for (const mode of ['lsgan', 'vanilla'] as const) {
    for (const real of [true, false]) {
      it(`${mode} vs ${real ? 'real (1)' : 'fake (0)'}: the weighted value lands in its slot (written or added), the weighted gradient is written or added`, async () => {
        if (skip()) return;
        const x = logits();
        const n = x.size;
        const prior = tf.randomNormal([n], 0, 1, 'float32', 9);
        const loss = (await ganLoss(mode, x, real).data())[0];
        const grad = gradOf((v) => tf.mul(ganLoss(mode, v, real), 0.5) as tf.Scalar, x);
        const written = await run(ganLossValue(mode, real, n, { weight: 0.5, slot: 2, accumulate: false }), [x], [7, 7, 7, 7]);
        const added = await run(ganLossValue(mode, real, n, { weight: 0.5, slot: 1, accumulate: true }), [x], [7, 3, 7, 7]);
        const gWritten = await run(ganLossGradient(mode, real, n, { weight: 0.5, accumulate: false }), [x], new Float32Array(n).fill(5));
        const gAdded = await run(ganLossGradient(mode, real, n, { weight: 0.5, accumulate: true }), [x], await prior.data());
        const sum = tf.add(prior, grad);
        const worst = Math.max(
          worstRelative(written, [7, 7, 0.5 * loss, 7]),
          worstRelative(added, [7, 3 + 0.5 * loss, 7, 7]),
          worstRelative(gWritten, await grad.data()),
          worstRelative(gAdded, await sum.data()),
        );
        console.log(`${mode} ${real ? 'real' : 'fake'}: loss ${loss.toFixed(4)}, worst relative ${worst.toExponential(2)}`);
        expect(Number.isFinite(loss)).toBe(true);
        expect(worst).toBeLessThan(1e-5);
        tf.dispose([x, prior, grad, sum]);
      });
    }
  }

  it('L1 (lambda 10): the weighted mean |a − b| in its slot, its gradient w.r.t. a added, ties (a = b) as TF.js takes them', async () => {
    if (skip()) return;
    const n = 2 * 8 * 8 * 3;
    const a = tf.randomNormal([n], 0, 1, 'float32', 4);
    const tie = tf.greater(tf.randomUniform([n], 0, 1, 'float32', 6), 0.8);
    const b = tf.where(tie, a, tf.randomNormal([n], 0, 1, 'float32', 5));
    const prior = tf.randomNormal([n], 0, 1, 'float32', 7);
    const loss = (await l1Loss(a, b).data())[0];
    const grad = gradOf((v) => tf.mul(l1Loss(v, b), 10) as tf.Scalar, a);
    const sum = tf.add(prior, grad);
    const value = await run(l1LossValue(n, { weight: 10, slot: 0, accumulate: false }), [a, b], [9, 9]);
    const added = await run(l1LossValue(n, { weight: 10, slot: 1, accumulate: true }), [a, b], [9, 9]);
    const gWritten = await run(l1LossGradient(n, { weight: 10, accumulate: false }), [a, b], new Float32Array(n).fill(5));
    const gAdded = await run(l1LossGradient(n, { weight: 10, accumulate: true }), [a, b], await prior.data());
    const worst = Math.max(
      worstRelative(value, [10 * loss, 9]),
      worstRelative(added, [9, 9 + 10 * loss]),
      worstRelative(gWritten, await grad.data()),
      worstRelative(gAdded, await sum.data()),
    );
    console.log(`L1: loss ${loss.toFixed(4)}, ${(await tf.sum(tf.cast(tie, 'int32')).data())[0]} ties, worst relative ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([a, tie, b, prior, grad, sum]);
  });

  it('L1 on segments (CycleGAN: rec_A inside G_B\'s batched output): reads a and b from their offsets, writes only its gradient segment', async () => {
    if (skip()) return;
    const n = 2 * 8 * 8 * 3;
    const a = tf.randomNormal([n], 0, 1, 'float32', 11);
    const b = tf.randomNormal([n], 0, 1, 'float32', 12);
    // a after 2n values of junk, b after n; the gradient goes into the middle third of a 3n buffer
    const aBig = tf.concat([tf.fill([2 * n], 50), a]);
    const bBig = tf.concat([tf.fill([n], -50), b, tf.fill([n], 50)]);
    const prior = await tf.randomNormal([3 * n], 0, 1, 'float32', 13).data();
    const loss = (await l1Loss(a, b).data())[0];
    const grad = await gradOf((v) => tf.mul(l1Loss(v, b), 10) as tf.Scalar, a).data();
    const at = { a: 2 * n, b: n, grad: n };
    const value = await run(l1LossValue(n, { weight: 10, slot: 1, accumulate: false }, at), [aBig, bBig], [9, 9]);
    const gAdded = await run(l1LossGradient(n, { weight: 10, accumulate: true }, at), [aBig, bBig], prior);
    const expected = Float32Array.from(prior, (p, i) => (i >= n && i < 2 * n ? p + grad[i - n] : p));
    const worst = Math.max(worstRelative(value, [9, 10 * loss]), worstRelative(gAdded, expected));
    console.log(`L1 on segments: loss ${loss.toFixed(4)}, worst relative ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([a, b, aBig, bBig]);
  });
});
