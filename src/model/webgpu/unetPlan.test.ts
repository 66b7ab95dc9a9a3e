import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createGenerator } from '../networks';
import type { GeneratorOptions, Norm } from '../options';
import { readFloats, webgpuDevice } from './gpu';
import { Plan } from './plan';
import { unetPlan } from './unetPlan';
import { dropoutMask } from './dropout';
import { useNodeWebGPU, worstRelative } from './testing';
import { seedWeights } from './stepTesting';

const skip = useNodeWebGPU('the U-Net plan');

/** Largest |a − b| over the largest |b|: a gradient's error relative to that weight's largest gradient. */
function relativeToLargest(a: Float32Array, b: Float32Array): number {
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? diff : diff / scale;
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

interface Case {
  netG: 'unet_32' | 'unet_64' | 'unet_128';
  side: number;
  norm: Norm;
  batch: number;
  ngf: number;
  inputGradient: boolean;
  /** use_dropout, the oracle's StepDropout layers multiplying by the plan's masks (dropoutMask of the same seeds). */
  dropout?: boolean;
}

// Every norm, both networks, batch 1 and 2, ngf 4 and 8 (the compiled-step tests run more); most of a case's time is
// SwiftShader compiling pipelines.
const CASES: Case[] = [
  { netG: 'unet_32', side: 32, norm: 'batch', batch: 2, ngf: 8, inputGradient: true },
  { netG: 'unet_32', side: 32, norm: 'none', batch: 2, ngf: 4, inputGradient: true },
  { netG: 'unet_64', side: 64, norm: 'instance', batch: 2, ngf: 4, inputGradient: true },
  { netG: 'unet_64', side: 64, norm: 'none', batch: 1, ngf: 4, inputGradient: true },
];

const DROPOUT_CASES: Case[] = [
  { netG: 'unet_64', side: 64, norm: 'instance', batch: 1, ngf: 4, inputGradient: false, dropout: true },
  // two dropout layers: their seed slots in model.layers order
  { netG: 'unet_128', side: 128, norm: 'none', batch: 1, ngf: 4, inputGradient: true, dropout: true },
];

/** Makes the model's StepDropout layers multiply by the masks the plan's kernels draw from these seeds. */
function useMasks(model: tf.LayersModel, seeds: number[]): tf.Tensor[] {
  const masks: tf.Tensor[] = [];
  model.layers
    .filter((l) => l.getClassName() === 'StepDropout')
    .forEach((layer, slot) => {
      layer.call = (inputs: tf.Tensor | tf.Tensor[]) => {
        const x = Array.isArray(inputs) ? inputs[0] : inputs;
        const mask = tf.keep(tf.tensor(dropoutMask(seeds[slot], x.size), x.shape));
        masks.push(mask);
        return tf.mul(x, mask);
      };
    });
  return masks;
}

/** Builds the case's generator and plan, runs both from the same weights and inputs, and compares everything. */
function compare(c: Case): void {
  const name = `${c.netG} ${c.side}px norm ${c.norm}, batch ${c.batch}, ngf ${c.ngf}${c.inputGradient ? ', input gradient' : ''}${c.dropout ? ', dropout' : ''}`;
  it(`${name}: output, every weight's gradient, running statistics and dInput equal TF.js's`, async () => {
    if (skip()) return;
    const options: GeneratorOptions = { input_nc: 3, output_nc: 3, ngf: c.ngf, netG: c.netG, norm: c.norm, use_dropout: !!c.dropout };
    const model = createGenerator(options);
    seedWeights(model, 100);
    const seeds = [987_654_321, 12_345];
    const masks = c.dropout ? useMasks(model, seeds) : [];
    const shape: [number, number, number, number] = [c.batch, c.side, c.side, 3];
    const x = tf.randomNormal(shape, 0, 1, 'float32', 1);
    const dOut = tf.randomNormal(shape, 0, 1, 'float32', 2);
    const moving = model.weights.filter((w) => /moving_/.test(w.name));
    // Copies on the CPU: a clone would share the buffer the plan updates in place.
    const movingBefore = await Promise.all(moving.map(async (w) => tf.tensor(await w.read().data(), w.shape as number[])));

    const net = unetPlan({ model, batch: c.batch, height: c.side, width: c.side, inputGradient: c.inputGradient, options });
    const plan = new Plan(webgpuDevice());
    plan.device.queue.writeBuffer(net.input, 0, await x.data());
    plan.device.queue.writeBuffer(net.dOutput, 0, await dOut.data());
    expect(net.seeds !== null).toBe(!!c.dropout);
    if (net.seeds) plan.device.queue.writeBuffer(net.seeds, 0, new Uint32Array(seeds.slice(0, net.seeds.size / 4)));
    net.forward(plan);
    const forwardDispatches = plan.dispatches;
    net.backward(plan);
    const backwardDispatches = plan.dispatches - forwardDispatches;
    plan.run();
    // Replayed as a step would be: gradients are overwritten, not summed (batch norm's running statistics would move twice).
    if (c.norm !== 'batch') plan.run();
    const size = shape.reduce((a, b) => a * b);
    const ours = await readFloats(plan.device, net.output, size);
    const ourGrads = await Promise.all(net.grads.map((g, i) => readFloats(plan.device, g, model.trainableWeights[i].read().size)));
    const ourDx = net.dInput ? await readFloats(plan.device, net.dInput, size) : null;
    const ourMoving = await Promise.all(moving.map(async (w) => Float32Array.from(await w.read().data())));
    plan.dispose();
    net.dispose();

    // The oracle, from the running statistics as they were (the plan updated them in place).
    moving.forEach((w, i) => w.write(movingBefore[i]));
    const xVar = tf.variable(x);
    const vars = [...model.trainableWeights.map((w) => w.read() as tf.Variable), xVar];
    let y: tf.Tensor | null = null;
    const { value, grads } = tf.variableGrads(() => {
      y = tf.keep(model.apply(xVar, { training: true }) as tf.Tensor);
      return tf.sum(tf.mul(y, dOut));
    }, vars);
    const outputError = worstRelative(ours, await y!.data());
    let gradError = 0;
    let worstWeight = '';
    for (const [i, w] of model.trainableWeights.entries()) {
      const theirs = Float32Array.from(await grads[(w.read() as tf.Variable).name].data());
      const layer = model.layers.find((l) => l.trainableWeights.includes(w))!;
      // A bias just before instance norm has a true gradient of 0: both are rounding noise, so measure them against
      // the layer's kernel gradient instead.
      const vanishing = /bias/.test(w.name) && layer.outboundNodes[0]?.outboundLayer?.getClassName() === 'InstanceNormalization';
      const kernelIndex = model.trainableWeights.indexOf(layer.trainableWeights[0]);
      const e = vanishing
        ? Math.max(maxAbs(ourGrads[i]), maxAbs(theirs)) / maxAbs(ourGrads[kernelIndex])
        : relativeToLargest(ourGrads[i], theirs);
      if (e > gradError) [gradError, worstWeight] = [e, w.name];
    }
    const dxError = ourDx ? relativeToLargest(ourDx, Float32Array.from(await grads[xVar.name].data())) : 0;
    let movingError = 0;
    for (const [i, w] of moving.entries()) movingError = Math.max(movingError, worstRelative(ourMoving[i], await w.read().data()));
    console.log(
      `${name}: ${forwardDispatches} forward + ${backwardDispatches} backward dispatches; worst output ${outputError.toExponential(2)}, ` +
        `gradient ${gradError.toExponential(2)} (${worstWeight}), dInput ${ourDx ? dxError.toExponential(2) : 'not asked'}, running stats ${moving.length ? movingError.toExponential(2) : 'none'}`,
    );
    expect(ourGrads.length).toBe(model.trainableWeights.length);
    expect(outputError).toBeLessThan(1e-4);
    expect(gradError).toBeLessThan(1e-4);
    expect(dxError).toBeLessThan(1e-4);
    expect(movingError).toBeLessThan(1e-4);
    if (c.dropout) expect(masks.length).toBeGreaterThan(0);
    tf.dispose([x, dOut, xVar, value, y!, ...Object.values(grads), ...movingBefore, ...masks]);
    model.dispose();
  }, 60_000);
}

describe('U-Net plan against the TF.js generator (no dropout)', () => {
  for (const c of CASES) compare(c);

  it('refuses an image side the U-Net cannot halve down to one pixel', () => {
    const options: GeneratorOptions = { input_nc: 3, output_nc: 3, ngf: 4, netG: 'unet_32', norm: 'none', use_dropout: false };
    const model = createGenerator(options);
    expect(() => unetPlan({ model, batch: 1, height: 48, width: 48, inputGradient: false, options })).toThrow(/multiple of 32/);
    model.dispose();
  });
});

describe('U-Net plan with dropout against the TF.js generator given the same masks', () => {
  for (const c of DROPOUT_CASES) compare(c);
});
