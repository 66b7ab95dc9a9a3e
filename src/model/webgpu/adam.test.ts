import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { enableNodeWebGPU } from '../nodeWebgpu';
import { FlatAdam } from '../adam';
import { adamGroup, adamParams } from './adam';
import { Plan } from './plan';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { worstRelative } from './testing';

let skip: string | null = 'not checked';
beforeAll(async () => {
  skip = await enableNodeWebGPU();
  if (skip) console.warn(`SKIPPING the Adam kernels: ${skip}`);
  else await tf.setBackend('webgpu');
}, 60_000);

// eleven variables (three dispatches under 8 storage buffers), sizes off the 64-float alignment, one past FlatAdam's own-chunk size
const shapes = [[3, 3, 2, 4], [4], [1, 1, 4, 2], [2], [5], [2, 2, 2, 3], [3], [4, 4, 1, 2], [1], [5000], [7]];
const BETA1 = 0.5; // the config's beta1
const BETA2 = 0.999;
const EPS = 1e-8;
const variables = () => shapes.map((s, i) => tf.variable(tf.randomNormal(s, 0, 1, 'float32', 20 + i)));
/** Gradients that change each step, one tiny (a bias before instance norm), as ../adam.test.ts uses. */
const gradients = (step: number) => shapes.map((s, i) => tf.mul(tf.randomNormal(s, 0, 1, 'float32', 100 * step + i), i === 1 ? 1e-7 : 1));

describe('Adam kernels against FlatAdam (the trainers\' Adam)', () => {
  it('three steps through a learning-rate change: the same weights, updated in the variables\' own buffers, and the same moments', async () => {
    if (skip) return;
    const device = webgpuDevice();
    const ours = variables();
    const theirs = variables();
    const before = await Promise.all(ours.map((v) => v.data()));
    const flat = new FlatAdam(theirs, 2e-3, BETA1, BETA2, EPS);
    const group = adamGroup(ours.map((v) => v.size), BETA1, BETA2, device.limits.maxStorageBuffersPerShaderStage);
    expect(group.dispatches.length).toBe(Math.ceil(shapes.length / (device.limits.maxStorageBuffersPerShaderStage - 3)));
    const plan = new Plan(device);
    const params = plan.buffer(2, 'adam params');
    const grads = plan.buffer(group.size, 'adam gradients');
    const moments = plan.buffer(2 * group.size, 'adam moments');
    for (const d of group.dispatches) plan.add(d.kernel, [params, grads, moments, ...d.variables.map((i) => tensorBuffer(ours[i]))]);
    try {
      const lrs = [2e-3, 2e-3, 5e-4];
      for (let t = 1; t <= 3; t++) {
        const g = gradients(t);
        const packed = new Float32Array(group.size);
        for (const [i, x] of g.entries()) packed.set(await x.data(), group.offsets[i]);
        device.queue.writeBuffer(grads, 0, packed);
        device.queue.writeBuffer(params, 0, adamParams(lrs[t - 1], t, BETA1, BETA2, EPS));
        plan.run();
        flat.learningRate = lrs[t - 1];
        flat.applyGradients(Object.fromEntries(theirs.map((v, i) => [v.name, g[i]])));
        tf.dispose(g);
      }
      const state = await flat.getWeights(); // iterations, then each variable's m, then each v
      const m = await readFloats(device, moments, 2 * group.size);
      let worstW = 0;
      let worstM = 0;
      let moved = 0;
      for (const [i, v] of ours.entries()) {
        const mine = await readFloats(device, tensorBuffer(v), v.size);
        const reference = await theirs[i].data();
        worstW = Math.max(worstW, worstRelative(mine, reference));
        // TF.js reads the variable from the same buffer, so export and checkpoints see the update
        expect(worstRelative(await v.data(), mine)).toBe(0);
        moved = Math.max(moved, worstRelative(mine, before[i]));
        const o = group.offsets[i];
        worstM = Math.max(worstM, worstRelative(m.subarray(o, o + v.size), await state[1 + i].tensor.data()));
        worstM = Math.max(worstM, worstRelative(m.subarray(group.size + o, group.size + o + v.size), await state[1 + shapes.length + i].tensor.data()));
      }
      console.log(`Adam, ${group.dispatches.length} dispatches for ${shapes.length} variables: worst relative weights ${worstW.toExponential(2)}, moments ${worstM.toExponential(2)}; largest move ${moved.toExponential(2)}`);
      expect(moved).toBeGreaterThan(3e-3); // three steps of ~lr each
      expect(worstW).toBeLessThan(1e-6);
      expect(worstM).toBeLessThan(1e-6);
      tf.dispose(state.map((w) => w.tensor));
    } finally {
      plan.dispose();
      flat.dispose();
      tf.dispose([...ours, ...theirs]);
    }
  });

  it('lays each variable\'s slice at a 256-byte boundary and packs variables by the storage-buffer limit', () => {
    const group = adamGroup([10, 64, 65, 1, 3, 2, 7], 0.5, 0.999, 8);
    expect(group.offsets).toEqual([0, 64, 128, 256, 320, 384, 448]);
    expect(group.size).toBe(512);
    expect(group.dispatches.map((d) => d.variables)).toEqual([[0, 1, 2, 3, 4], [5, 6]]);
    expect(adamGroup([10, 64, 65], 0.5, 0.999, 10).dispatches.length).toBe(1);
    expect(() => adamGroup([1], 0.5, 0.999, 3)).toThrow(/at least 4 storage buffers/);
  });
});
