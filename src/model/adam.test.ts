import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FlatAdam } from './adam';

// more than one chunk of 7, with sizes that differ
const shapes = [[3, 3, 2, 4], [4], [1, 1, 4, 2], [2], [5], [2, 2, 2, 3], [3], [4, 4, 1, 2], [1], [7]];
const variables = (seed: number) => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', seed + i)));
/** Gradients that change each step, some tiny (the bias-before-instance-norm case). */
const gradients = (vs: tf.Variable[], step: number) =>
  Object.fromEntries(vs.map((v, i) => [v.name, tf.mul(tf.sin(tf.add(v, step)), i === 1 ? 1e-7 : 1)]));
const values = async (vs: tf.Variable[]) => Promise.all(vs.map(async (v) => Array.from(await v.data())));
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((x, i) => x.map((y, j) => Math.abs(y - b[i][j]))));

describe('FlatAdam', () => {
  it('takes the same steps as TF.js Adam (PyTorch betas and eps), through a learning-rate change', async () => {
    const ours = variables(1);
    const theirs = variables(1);
    const flat = new FlatAdam(ours, 2e-3, 0.5, 0.999, 1e-8);
    const reference = tf.train.adam(2e-3, 0.5, 0.999, 1e-8);
    for (let step = 0; step < 6; step++) {
      if (step === 3) {
        flat.learningRate = 5e-4;
        (reference as unknown as { learningRate: number }).learningRate = 5e-4;
      }
      const g1 = gradients(ours, step);
      const g2 = Object.fromEntries(theirs.map((v, i) => [v.name, g1[ours[i].name]]));
      flat.applyGradients(g1);
      reference.applyGradients(g2);
      tf.dispose(Object.values(g1));
    }
    const moved = maxDiff(await values(ours), await values(variables(1)));
    expect(moved).toBeGreaterThan(5e-3); // six steps of ~lr each
    expect(maxDiff(await values(ours), await values(theirs))).toBeLessThan(1e-6);
    flat.dispose();
    reference.dispose();
    tf.dispose([...ours, ...theirs]);
  });

  it('continues from TF.js Adam state exactly as TF.js Adam would, and saves in the same layout', async () => {
    const ours = variables(10);
    const theirs = variables(10);
    const reference = tf.train.adam(1e-3, 0.5, 0.999, 1e-8);
    for (let step = 0; step < 2; step++) {
      const g = gradients(theirs, step);
      reference.applyGradients(g);
      tf.dispose(Object.values(g));
    }
    ours.forEach((v, i) => v.assign(theirs[i]));
    const flat = new FlatAdam(ours, 1e-3, 0.5, 0.999, 1e-8);
    const saved = await reference.getWeights();
    // restored by position, as checkpoints do
    await flat.setWeights(saved.map((w, i) => (i === 0 ? w : { name: `${ours[(i - 1) % ours.length].name}/${i <= ours.length ? 'm' : 'v'}`, tensor: w.tensor })));
    const mine = await flat.getWeights();
    expect(mine.map((w) => w.tensor.shape)).toEqual(saved.map((w) => w.tensor.shape));
    expect(Array.from(await mine[0].tensor.data())).toEqual([2]);
    const g1 = gradients(ours, 2);
    const g2 = Object.fromEntries(theirs.map((v, i) => [v.name, g1[ours[i].name]]));
    flat.applyGradients(g1);
    reference.applyGradients(g2);
    expect(maxDiff(await values(ours), await values(theirs))).toBeLessThan(1e-6);
    tf.dispose([...Object.values(g1), ...mine.map((w) => w.tensor)]);
    flat.dispose();
    reference.dispose();
    tf.dispose([...ours, ...theirs]);
  });

  it('runs far fewer kernels per step than TF.js Adam', async () => {
    const vs = Array.from({ length: 20 }, (_, i) => tf.variable(tf.ones([i + 1])));
    const count = async (opt: tf.Optimizer) => {
      const g = Object.fromEntries(vs.map((v) => [v.name, tf.onesLike(v)]));
      const { kernels } = await tf.profile(() => opt.applyGradients(g));
      tf.dispose(Object.values(g));
      return kernels.length;
    };
    const flat = new FlatAdam(vs, 1e-3, 0.5, 0.999, 1e-8);
    const reference = tf.train.adam(1e-3, 0.5, 0.999, 1e-8);
    const fewer = await count(flat);
    const more = await count(reference);
    expect(fewer).toBeLessThan(more / 2);
    flat.dispose();
    reference.dispose();
    tf.dispose(vs);
  });
});
