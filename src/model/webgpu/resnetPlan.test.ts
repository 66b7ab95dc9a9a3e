import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
// PyTorch's reflection-padding gradient (the oracle's, as the app registers it in model/index.ts).
import '../mirrorPadGradient';
import { createGenerator } from '../networks';
import { GENERATOR_DEFAULTS } from '../options';
import type { GeneratorOptions, Norm } from '../options';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { Plan } from './plan';
import { resnetPlan } from './resnetPlan';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the ResNet plan');

/**
 * Seeded weights at a scale that keeps activations near 1 (N(0, 1/fan-in) filters; biases, beta and gamma − 1 at
 * N(0, 0.1); running statistics away from 0 and 1), so every term of the forward and backward shows in the figures.
 */
function seed(model: tf.LayersModel): void {
  let s = 100;
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    if (/kernel/.test(w.name)) return tf.randomNormal(shape, 0, 1 / Math.sqrt(shape[0] * shape[1] * shape[3]), 'float32', s++);
    if (/gamma/.test(w.name)) return tf.randomNormal(shape, 1, 0.1, 'float32', s++);
    if (/moving_variance/.test(w.name)) return tf.randomUniform(shape, 0.5, 2, 'float32', s++);
    return tf.randomNormal(shape, 0, 0.1, 'float32', s++);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** |ours − oracle| at worst, over the oracle's largest |value| (a weight's gradient scale). */
function worstScaled(ours: Float32Array, oracle: Float32Array): { worst: number; scale: number } {
  let scale = 0;
  let diff = 0;
  for (let i = 0; i < oracle.length; i++) {
    scale = Math.max(scale, Math.abs(oracle[i]));
    diff = Math.max(diff, Math.abs(ours[i] - oracle[i]));
  }
  return { worst: diff / scale, scale };
}

interface Case {
  blocks: 6 | 9;
  norm: Norm;
  batch: number;
  height: number;
  width: number;
}

// Small sides on purpose: at 128 px and ngf 32 with a norm, float32 rounding alone moves TF.js's own gradients by
// ~1e-2 of their largest (its input nudged by 1e-6 relative, on an H200), and the plan stays as close to it as that.
const cases: Case[] = [
  // every norm once, batch 2 where samples could mix (the compiled-step tests run the other sizes)
  { blocks: 6, norm: 'instance', batch: 2, height: 32, width: 32 },
  { blocks: 6, norm: 'batch', batch: 2, height: 32, width: 32 },
  { blocks: 6, norm: 'none', batch: 1, height: 32, width: 32 },
  { blocks: 9, norm: 'instance', batch: 1, height: 48, width: 32 },
];

describe('resnetPlan against our TF.js ResNet generator (training mode, no dropout)', () => {
  for (const c of cases) {
    it(`resnet_${c.blocks}blocks ngf 4, ${c.norm} norm, N=${c.batch} ${c.height}x${c.width}: output, running statistics, every weight's gradient and dInput equal TF.js's`, async () => {
      if (skip()) return;
      const options: GeneratorOptions = { ...GENERATOR_DEFAULTS, netG: `resnet_${c.blocks}blocks`, ngf: 4, input_nc: 3, output_nc: 3, norm: c.norm, use_dropout: false };
      const model = createGenerator(options);
      seed(model);
      const shape: [number, number, number, number] = [c.batch, c.height, c.width, 3];
      const x = tf.variable(tf.randomNormal(shape, 0, 0.5, 'float32', 1));
      const dy = tf.randomNormal(shape, 0, 1, 'float32', 2);
      const moving = model.weights.filter((w) => /moving_/.test(w.name));
      const movingBefore = await Promise.all(moving.map((w) => w.read().data() as Promise<Float32Array>));

      const device = webgpuDevice();
      const net = resnetPlan({ model, batch: c.batch, height: c.height, width: c.width, inputGradient: true, options, blocks: c.blocks });
      const forward = new Plan(device);
      const backward = new Plan(device);
      net.forward(forward);
      net.backward(backward);
      expect(net.outputShape).toEqual(shape);
      device.queue.writeBuffer(net.input, 0, await x.data());
      device.queue.writeBuffer(net.dOutput, 0, await dy.data());
      forward.run();
      backward.run();
      const count = x.size;
      const output = await readFloats(device, net.output, count);
      const dInput = await readFloats(device, net.dInput!, count);
      const grads = await Promise.all(net.grads.map((g, i) => readFloats(device, g, model.trainableWeights[i].read().size)));
      const movingOurs = await Promise.all(moving.map((w) => readFloats(device, tensorBuffer(w.read()), w.read().size)));
      moving.forEach((w, i) => w.write(tf.tensor(movingBefore[i], w.shape as number[])));

      // The oracle: one training-mode call (which updates the running statistics once, as our forward does).
      const vars = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let y: tf.Tensor | null = null;
      const oracle = tf.variableGrads(() => {
        const out = model.apply(x, { training: true }) as tf.Tensor;
        y = tf.keep(out.clone());
        return tf.sum(tf.mul(out, dy)) as tf.Scalar;
      }, [x, ...vars]);
      const worstOutput = worstRelative(output, await y!.data());
      const worstMoving = Math.max(0, ...(await Promise.all(moving.map(async (w, i) => worstRelative(movingOurs[i], (await w.read().data()) as Float32Array)))));
      const worstInput = worstScaled(dInput, (await oracle.grads[x.name].data()) as Float32Array).worst;
      const oracleGrads = await Promise.all(vars.map(async (v) => (await oracle.grads[v.name].data()) as Float32Array));
      const largest = (g: Float32Array) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      let worstGrad = 0;
      let worstName = '';
      let worstNoise = 0;
      for (let i = 0; i < vars.length; i++) {
        const name = vars[i].name;
        // A conv bias before instance norm has a true gradient of 0 (the norm subtracts each channel's mean): ours is
        // exactly 0, TF.js's rounding noise, held to 1e-4 of the same layer's filter gradient.
        if (c.norm === 'instance' && name.endsWith('/bias') && i !== vars.length - 1) {
          expect(largest(grads[i])).toBe(0);
          const kernel = oracleGrads[vars.findIndex((v) => v.name === name.replace(/bias$/, 'kernel'))];
          worstNoise = Math.max(worstNoise, largest(oracleGrads[i]) / largest(kernel));
          continue;
        }
        const { worst } = worstScaled(grads[i], oracleGrads[i]);
        if (worst > worstGrad) [worstGrad, worstName] = [worst, name];
      }
      console.log(
        `resnet_${c.blocks}blocks ${c.norm} N=${c.batch}: worst relative output ${worstOutput.toExponential(2)}, running stats ${worstMoving.toExponential(2)}, ` +
          `dInput ${worstInput.toExponential(2)}, weight gradients ${worstGrad.toExponential(2)} (${worstName})${c.norm === 'instance' ? `, TF.js's zero bias gradients at ${worstNoise.toExponential(2)} of the filter's` : ''}; ops forward ${forward.ops} (${forward.dispatches} dispatches), backward ${backward.ops} (${backward.dispatches})`,
      );
      const normed = c.norm !== 'none';
      expect([forward.ops, backward.ops]).toEqual(normed ? [16 + 7 * c.blocks, 18 + 7 * c.blocks] : [6 + 3 * c.blocks, 13 + 5 * c.blocks]);
      expect(worstOutput).toBeLessThan(1e-4);
      expect(worstMoving).toBeLessThan(1e-4);
      expect(worstInput).toBeLessThan(1e-4);
      expect(worstGrad).toBeLessThan(1e-4);
      expect(worstNoise).toBeLessThan(1e-4);
      if (c.norm === 'batch') expect(worstRelative(movingBefore[0], movingOurs[0])).toBeGreaterThan(1e-3);

      forward.dispose();
      backward.dispose();
      net.dispose();
      tf.dispose([x, dy, y!, oracle.value, ...Object.values(oracle.grads)]);
      model.dispose();
    }, 60_000);
  }
});

describe('resnetPlan options', () => {
  const options: GeneratorOptions = { ...GENERATOR_DEFAULTS, netG: 'resnet_6blocks', ngf: 4, input_nc: 3, output_nc: 3, norm: 'instance', use_dropout: false };
  const args = { batch: 1, height: 16, width: 16, inputGradient: false, options, blocks: 6 as const };

  it('without inputGradient, has no dInput and one op fewer backward (the first conv’s input gradient)', () => {
    if (skip()) return;
    const model = createGenerator(options);
    const count = (inputGradient: boolean) => {
      const net = resnetPlan({ ...args, model, inputGradient });
      const plan = new Plan(webgpuDevice());
      net.backward(plan);
      const n = plan.ops;
      plan.dispose();
      net.dispose();
      return { n, dInput: net.dInput };
    };
    const without = count(false);
    const withInput = count(true);
    expect(without.dInput).toBeNull();
    expect(withInput.dInput).not.toBeNull();
    expect(withInput.n - without.n).toBe(1);
    model.dispose();
  });

  it('refuses dropout, sides not a multiple of 4, and a model other than the options describe, saying why', () => {
    if (skip()) return;
    const model = createGenerator(options);
    expect(() => resnetPlan({ ...args, model, options: { ...options, use_dropout: true } })).toThrow(/no_dropout/);
    expect(() => resnetPlan({ ...args, model, height: 18 })).toThrow(/multiples of 4, got 18×16/);
    expect(() => resnetPlan({ ...args, model, options: { ...options, ngf: 8 } })).toThrow(/options \(ngf 8.*imply/);
    expect(() => resnetPlan({ ...args, model, blocks: 9 })).toThrow(/has 18 conv layers, resnet_9blocks has 24/);
    expect(() => resnetPlan({ ...args, model, options: { ...options, norm: 'batch' } })).toThrow(/0 batch norms/);
    model.dispose();
  });
});
