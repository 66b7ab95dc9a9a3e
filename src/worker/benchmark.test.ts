import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { countTraffic, kernelMacs, profileStep, quantile } from './benchmark';
import { enableNodeWebGPU } from '../model/nodeWebgpu';

describe('benchmark counting', () => {
  it('counts conv multiply-adds forward and backward from kernel shapes', async () => {
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.variable(tf.randomNormal([3, 3, 3, 4]));
    const p = await profileStep(async () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(tf.conv2d(x, w as tf.Variable<tf.Rank.R4>, 1, 'same')) as tf.Scalar, [w]);
      await value.data();
      tf.dispose([value, ...Object.values(grads)]);
    });
    const forward = 2 * 8 * 8 * 4 * 3 * 3 * 3;
    // forward conv + filter gradient (no input gradient: x is not a variable)
    expect(p.macs).toBe(2 * forward);
    expect(p.kinds.map((k) => k.name)).toContain('Conv2DBackpropFilter');
    tf.dispose([x, w]);
  });
  it('matmul multiply-adds', () => {
    expect(kernelMacs({ name: 'BatchMatMul', inputShapes: [[1, 5, 7], [1, 7, 3]], outputShapes: [[1, 5, 3]] })).toBe(105);
    expect(kernelMacs({ name: 'Add', inputShapes: [[5]], outputShapes: [[5]] })).toBe(0);
  });
  it('quantiles by nearest rank', () => {
    const ms = [50, 10, 40, 20, 30];
    expect([quantile(ms, 0.5), quantile(ms, 0.1), quantile(ms, 0.9), quantile(ms, 0), quantile(ms, 1)]).toEqual([30, 10, 50, 10, 50]);
    expect(quantile([], 0.5)).toBeNaN();
  });
  it('counts GPU dispatches and the bytes moved on webgpu; none on the CPU backend', async () => {
    const run = async () => {
      const x = tf.tensor1d(new Float32Array(4096).fill(1.5)); // made on the CPU: its first use uploads it
      const y = tf.add(x, x);
      await y.data();
      tf.dispose([x, y]);
    };
    expect(await countTraffic(run)).toEqual({ dispatches: null, uploadBytes: 0, uniformBytes: 0, readBytes: 0 });
    const why = await enableNodeWebGPU({ zeroWorkgroupMemory: false });
    if (why) return console.warn(`SKIPPING the webgpu traffic count: ${why}`);
    await tf.setBackend('webgpu');
    try {
      await run(); // compiles the shader
      const t = await countTraffic(run);
      expect(t.dispatches).toBe(1);
      expect(t.uploadBytes).toBe(4 * 4096);
      expect(t.readBytes).toBeGreaterThanOrEqual(4 * 4096);
      expect(t.uniformBytes).toBeGreaterThan(0);
    } finally {
      await tf.setBackend('cpu');
    }
  });
});
