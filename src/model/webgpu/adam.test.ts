import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { FlatAdam } from '../adam';
import { adamLayout } from './adam';
import { Plan } from './plan';
import { BoundTensors, tensorBuffer, webgpuDevice } from './gpu';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the Adam kernels');

// eleven variables (three dispatches under 8 storage buffers), sizes off the 64-float alignment, one past FlatAdam's own-chunk size
const shapes = [[3, 3, 2, 4], [4], [1, 1, 4, 2], [2], [5], [2, 2, 2, 3], [3], [4, 4, 1, 2], [1], [5000], [7]];
const BETA1 = 0.5; // the config's beta1
const BETA2 = 0.999;
const EPS = 1e-8;
const variables = () => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 20 + i)));
/** Gradients that change each step, one tiny (a bias before instance norm), as ../adam.test.ts uses. */
const gradients = (step: number) => shapes.map((s, i) => tf.mul(tf.randomNormal(s, 0, 1, 'float32', 100 * step + i), i === 1 ? 1e-7 : 1));

describe('Adam kernels against FlatAdam (the trainers\' Adam)', () => {
  it('three steps through a learning-rate change, on FlatAdam\'s own moments: the same weights and moments as its TF.js update', async () => {
    if (skip()) return;
    const device = webgpuDevice();
    const ours = variables();
    const theirs = variables();
    const before = await Promise.all(ours.map((v) => v.data()));
    const mine = new FlatAdam(ours, 2e-3, BETA1, BETA2, EPS);
    const flat = new FlatAdam(theirs, 2e-3, BETA1, BETA2, EPS);
    const layout = adamLayout(mine, device.limits.maxStorageBuffersPerShaderStage);
    const perDispatch = device.limits.maxStorageBuffersPerShaderStage - 4;
    expect(layout.dispatches.length).toBe(mine.state.reduce((n, c) => n + Math.ceil(c.variables.length / perDispatch), 0));
    const plan = new Plan(device);
    const params = plan.buffer(2, 'adam params');
    const grads = plan.buffer(layout.size, 'adam gradients');
    for (const d of layout.dispatches) {
      const c = mine.state[d.chunk];
      plan.add(d.kernel, [params, grads, tensorBuffer(c.m), tensorBuffer(c.v), ...d.variables.map((i) => tensorBuffer(ours[i]))]);
    }
    const bound = new BoundTensors([...ours, ...mine.state.flatMap((c) => [c.m, c.v])]);
    try {
      const lrs = [2e-3, 2e-3, 5e-4];
      for (let t = 1; t <= 3; t++) {
        const g = gradients(t);
        const packed = new Float32Array(layout.size);
        for (const [i, x] of g.entries()) packed.set(await x.data(), layout.offsets[i]);
        device.queue.writeBuffer(grads, 0, packed);
        mine.learningRate = lrs[t - 1];
        device.queue.writeBuffer(params, 0, new Float32Array(mine.advance()));
        plan.run();
        bound.forgetCpuCopies();
        flat.learningRate = lrs[t - 1];
        flat.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, g[i]])));
        tf.dispose(g);
        // read between steps, as a checkpoint would: TF.js caches the values, which the next step must not leave stale
        if (t < 3) await Promise.all(ours.map((v) => v.data()));
      }
      expect(bound.stale()).toBe(false);
      const state = await flat.getWeights(); // iterations, then each variable's m, then each v
      const myState = await mine.getWeights();
      let worstW = 0;
      let worstM = 0;
      let moved = 0;
      for (const [i, v] of ours.entries()) {
        const w = await v.data();
        worstW = Math.max(worstW, worstRelative(w, await theirs[i].data()));
        moved = Math.max(moved, worstRelative(w, before[i]));
      }
      for (let k = 1; k < state.length; k++) worstM = Math.max(worstM, worstRelative(await myState[k].tensor.data(), await state[k].tensor.data()));
      expect(await myState[0].tensor.data()).toEqual(await state[0].tensor.data()); // the step count, for the bias corrections
      console.log(`Adam, ${layout.dispatches.length} dispatches for ${shapes.length} variables: worst relative weights ${worstW.toExponential(2)}, moments ${worstM.toExponential(2)}; largest move ${moved.toExponential(2)}`);
      expect(moved).toBeGreaterThan(3e-3); // three steps of ~lr each
      expect(worstW).toBeLessThan(1e-6);
      expect(worstM).toBeLessThan(1e-6);
      // TF.js's own update reallocates the variables: a plan bound to the old buffers must be rebuilt
      mine.applyGradients(Object.fromEntries(ours.map((v) => [v.name, tf.zerosLike(v)])));
      expect(bound.stale()).toBe(true);
      tf.dispose([...state, ...myState].map((w) => w.tensor));
    } finally {
      plan.dispose();
      flat.dispose();
      mine.dispose();
      tf.dispose([...ours, ...theirs]);
    }
  });

  it('lays gradients end to end in the optimizer\'s order and packs each chunk\'s variables by the storage-buffer limit', () => {
    const vars = [10, 64, 65, 1, 3, 2, 7, 5000].map((n) => tf.variable(tf.zeros([n])));
    const adam = new FlatAdam(vars, 1e-3, 0.5, 0.999, 1e-8);
    const layout = adamLayout(adam, 8);
    expect(layout.offsets).toEqual([0, 10, 74, 139, 140, 143, 145, 152]);
    expect(layout.size).toBe(5152);
    // FlatAdam's chunks: the first seven small variables, then the large one alone
    expect(layout.dispatches.map((d) => [d.chunk, d.variables])).toEqual([[0, [0, 1, 2, 3]], [0, [4, 5, 6]], [1, [7]]]);
    expect(adamLayout(adam, 12).dispatches.length).toBe(2);
    expect(() => adamLayout(adam, 4)).toThrow(/at least 5 storage buffers/);
    adam.dispose();
    tf.dispose(vars);
  });
});
