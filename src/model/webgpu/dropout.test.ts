import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { dropoutBackward, dropoutForward, dropoutMask } from './dropout';
import type { Kernel } from './kernel';
import { Plan } from './plan';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the dropout kernels');

/** Runs `kernel` with a seeds buffer holding `seeds` (u32), the input's buffer and a fresh output; returns the output. */
async function run(kernel: Kernel, seeds: number[], input: tf.Tensor): Promise<Float32Array> {
  const plan = new Plan(webgpuDevice());
  try {
    const seedBuffer = plan.buffer(seeds.length, 'seeds');
    plan.device.queue.writeBuffer(seedBuffer, 0, new Uint32Array(seeds));
    const out = plan.buffer(input.size, 'out');
    plan.add(kernel, [seedBuffer, tensorBuffer(input), out]);
    plan.run();
    return await readFloats(plan.device, out, input.size);
  } finally {
    plan.dispose();
  }
}

const fraction = (a: ArrayLike<number>, f: (v: number, i: number) => boolean) => Array.from(a).filter(f).length / a.length;

// 8 × 8 × 512: the size of unet_256's innermost dropout at batch 1, times 4 for a tight rate
const n = 2 * 8 * 8 * 512;
// values in [1, 2): never 0, so a 0 in y means dropped
const input = () => tf.randomUniform([n], 1, 2, 'float32', 11);

describe('dropout kernels (rate 0.5, seeded per step)', () => {
  it('drops about half, scales the rest by 2, and is the mask dropoutMask gives (TF.js x · mask as the oracle)', async () => {
    if (skip()) return;
    const x = input();
    const y = await run(dropoutForward(n, 1), [77, 2_000_000_123, 5], x);
    const mask = dropoutMask(2_000_000_123, n);
    const oracle = tf.mul(x, tf.tensor1d(mask));
    const worst = worstRelative(y, await oracle.data());
    const dropped = fraction(y, (v) => v === 0);
    console.log(`dropout: ${(100 * dropped).toFixed(2)}% of ${n} dropped; worst relative to x · mask ${worst.toExponential(2)}`);
    expect(Math.abs(dropped - 0.5)).toBeLessThan(0.01); // σ is 0.002 at this size
    expect(worst).toBe(0);
    const xs = await x.data();
    expect(fraction(y, (v, i) => v === 0 || v === 2 * xs[i])).toBe(1);
    tf.dispose([x, oracle]);
  });

  it('gives the same mask for the same seed, an unrelated one for a new seed, and reads its own slot', async () => {
    if (skip()) return;
    const x = input();
    const zero = (y: Float32Array) => y.map((v) => (v === 0 ? 1 : 0));
    const first = zero(await run(dropoutForward(n, 0), [41, 42], x));
    const again = zero(await run(dropoutForward(n, 0), [41, 99], x));
    const next = zero(await run(dropoutForward(n, 0), [42, 41], x));
    const slot1 = zero(await run(dropoutForward(n, 1), [42, 41], x));
    expect(again).toEqual(first);
    expect(slot1).toEqual(first);
    const differ = fraction(next, (v, i) => v !== first[i]);
    console.log(`dropout: seeds 41 and 42 disagree on ${(100 * differ).toFixed(2)}% of elements`);
    // independent masks of rate 0.5 disagree on half the elements
    expect(Math.abs(differ - 0.5)).toBeLessThan(0.01);
    tf.dispose(x);
  });

  it('backward regenerates the forward\'s mask: dx = dy · mask / 0.5, equal to tf.grad of x · mask', async () => {
    if (skip()) return;
    const x = input();
    const dy = tf.randomNormal([n], 0, 1, 'float32', 12);
    const seeds = [123456789];
    const y = await run(dropoutForward(n, 0), seeds, x);
    const dx = await run(dropoutBackward(n, 0), seeds, dy);
    const mask = tf.tensor1d(dropoutMask(seeds[0], n));
    const grad = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.mul(v, mask), dy)))(x);
    const worst = worstRelative(dx, await grad.data());
    console.log(`dropout backward: worst relative to tf.grad ${worst.toExponential(2)}`);
    expect(worst).toBe(0);
    expect(fraction(dx, (v, i) => (v === 0) === (y[i] === 0))).toBe(1);
    expect(dropoutForward(n, 0).key).toBe(dropoutBackward(n, 0).key);
    tf.dispose([x, dy, mask, grad]);
  });
});
