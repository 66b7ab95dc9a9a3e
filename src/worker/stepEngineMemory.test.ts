import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../model';
import { Plan } from '../model/webgpu/plan';
import { restoreWeights, saveWeights } from './snapshot';
import { StepEngine } from './stepEngine';
import { useNodeWebGPU } from '../model/webgpu/testing';

const skip = useNodeWebGPU("the step engine's memory on WebGPU");

/** What a leak would grow: TF.js's tensors and GPU bytes in use, and the compiled step's own buffers. */
const usage = () => ({ tensors: tf.memory().numTensors, gpuBytes: (tf.memory() as tf.MemoryInfo & { numBytesInGPU: number }).numBytesInGPU, planBuffers: Plan.liveBuffers });

describe("the compiled step's memory", () => {
  it('stays flat over 200 steps, rebuilds after restored weights included, and nothing is left once disposed', async () => {
    if (skip()) return;
    const before = usage();
    const t = createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4, netD: 'pixel', norm: 'none' });
    const engine = new StepEngine(t, 'compiled');
    let pending: tf.Tensor1D[] = [];
    let settled: ReturnType<typeof usage> | null = null;
    for (let s = 1; s <= 200; s++) {
      const a = tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D;
      const b = tf.randomUniform([1, 32, 32, 3], -1, 1) as tf.Tensor4D;
      pending.push(await engine.step(a, b));
      tf.dispose([a, b]);
      // the losses read in one go every 20 steps, as the training loop reads them
      if (s % 20 === 0) {
        const packed = tf.stack(pending);
        expect(Array.from(await packed.data()).every(Number.isFinite)).toBe(true);
        tf.dispose([packed, ...pending]);
        pending = [];
        settled ??= usage();
      }
      // a restored checkpoint moves every variable: the step is rebuilt, the old one destroyed
      if (s % 50 === 25) restoreWeights(t, await saveWeights(t));
    }
    expect(engine.report).toMatchObject({ engine: 'compiled', reason: null });
    expect(t.step).toBe(200);
    const after = usage();
    console.log(`after 20 steps ${JSON.stringify(settled)}, after 200 ${JSON.stringify(after)}`);
    expect(after).toEqual(settled);
    engine.dispose();
    t.dispose();
    expect(usage()).toEqual(before);
  }, 180_000);
});
