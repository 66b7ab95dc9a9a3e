import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createDiscriminator } from '../networks';
import { DISCRIMINATOR_DEFAULTS } from '../options';
import type { DiscriminatorOptions } from '../options';
import { discriminatorPlan } from './discriminatorPlan';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { Plan } from './plan';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the discriminator plans');

/**
 * Seeded weights scaled so activations stay near 1 through every layer (He-scaled kernels, biases, gamma and beta
 * away from 1 and 0): under the reference's N(0, 0.02) init the logits shrink to ~1e-3, where an error relative to
 * max(1, |value|) could not fail. Running statistics start away from 0 and 1, so their update is checked.
 */
function seedWeights(model: tf.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    const s = seed * 100 + i;
    if (/kernel/.test(w.name)) return tf.randomNormal(shape, 0, Math.sqrt(2 / (shape[0] * shape[1] * shape[2])), 'float32', s);
    if (/gamma/.test(w.name)) return tf.randomNormal(shape, 1, 0.2, 'float32', s);
    if (/moving_variance/.test(w.name)) return tf.randomUniform(shape, 0.5, 2, 'float32', s);
    return tf.randomNormal(shape, 0, 0.3, 'float32', s); // biases, beta, moving_mean
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Largest |a − b| over the largest |b|: a gradient's error relative to that weight's largest gradient. */
function worstScaled(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

/** Weights whose true gradient is zero: the bias of a conv that instance norm follows. */
function zeroByConstruction(model: tf.LayersModel): Set<string> {
  const names = new Set<string>();
  model.layers.forEach((l, i) => {
    if (l.getClassName() === 'Conv2D' && model.layers[i + 1]?.getClassName() === 'InstanceNormalization')
      for (const w of l.weights) if (/bias/.test(w.name)) names.add(w.name);
  });
  return names;
}

interface Case {
  options: Partial<DiscriminatorOptions>;
  batch: number;
  side: number;
  inputGradient: boolean;
  /** Ops (layer passes) the plan should append: forward, backward. */
  dispatches: [number, number];
  /** Replays of the plan, each on a new input, against as many training calls (default 1). */
  steps?: number;
}

// Pairwise over netD × norm × input channels × batch: every netD with every norm, 3 and 6 channels, batch 1 and 2,
// and n_layers_D 1, 2 and 4 (basic is 3); 64 px where 32 px would shrink to nothing (n_layers_D 4).
// Forward: one per conv, two per norm. Backward: one per norm; per conv a filter gradient, a bias gradient unless
// it has no bias or instance norm follows (zero by construction), and an input gradient but on the first conv when
// dInput is not asked. Two cases replay the plan on a second input: gradients overwritten, running statistics updated
// twice.
const cases: Case[] = [
  { options: { netD: 'basic', norm: 'instance', input_nc: 3 }, batch: 1, side: 32, inputGradient: true, dispatches: [5 + 6, 3 + 5 + 2 + 5] },
  { options: { netD: 'basic', norm: 'batch', input_nc: 6 }, batch: 2, side: 32, inputGradient: true, dispatches: [5 + 6, 3 + 5 + 2 + 5], steps: 2 },
  { options: { netD: 'basic', norm: 'none', input_nc: 3 }, batch: 2, side: 32, inputGradient: false, dispatches: [5, 5 + 2 + 4] },
  { options: { netD: 'n_layers', n_layers_D: 1, norm: 'batch', input_nc: 3 }, batch: 1, side: 32, inputGradient: true, dispatches: [3 + 2, 1 + 3 + 2 + 3] },
  { options: { netD: 'n_layers', n_layers_D: 2, norm: 'none', input_nc: 6 }, batch: 1, side: 32, inputGradient: true, dispatches: [4, 4 + 2 + 4] },
  { options: { netD: 'n_layers', n_layers_D: 4, norm: 'instance', input_nc: 6 }, batch: 2, side: 64, inputGradient: true, dispatches: [6 + 8, 4 + 6 + 2 + 6] },
  { options: { netD: 'pixel', norm: 'instance', input_nc: 6 }, batch: 2, side: 32, inputGradient: true, dispatches: [3 + 2, 1 + 3 + 2 + 3] },
  { options: { netD: 'pixel', norm: 'batch', input_nc: 3 }, batch: 1, side: 32, inputGradient: false, dispatches: [3 + 2, 1 + 3 + 1 + 2] },
  { options: { netD: 'pixel', norm: 'none', input_nc: 3 }, batch: 2, side: 32, inputGradient: true, dispatches: [3, 3 + 1 + 3], steps: 2 },
];

const describeCase = (c: Case): string => {
  const o = c.options;
  const net = o.netD === 'n_layers' ? `n_layers ${o.n_layers_D}` : o.netD;
  const steps = c.steps ?? 1;
  return `${net}, norm ${o.norm}, ${o.input_nc} channels, batch ${c.batch}, ${c.side} px${c.inputGradient ? '' : ', no dInput'}${steps > 1 ? `, replayed ${steps} times` : ''}`;
};

describe('discriminator plans against the TF.js discriminator (training call, tf.variableGrads)', () => {
  cases.forEach((c, k) => {
    it(`${describeCase(c)}: ${c.dispatches[0]} ops forward, ${c.dispatches[1]} backward; output, running statistics and every gradient agree`, async () => {
      if (skip()) return;
      const options: DiscriminatorOptions = { ...DISCRIMINATOR_DEFAULTS, ndf: 4, ...c.options };
      const model = createDiscriminator(options);
      seedWeights(model, k + 1);
      const shape = [c.batch, c.side, c.side, options.input_nc];
      const steps = c.steps ?? 1;
      const xs = Array.from({ length: steps }, (_, s) => tf.variable(tf.randomNormal(shape, 0, 1, 'float32', 1000 + 10 * k + s), true, `x${k}-${s}`));
      const before = await Promise.all(model.getWeights().map(async (w) => Float32Array.from(await w.data())));

      // The oracle: training-mode calls, the last one's output and gradients of sum(output · dOutput) w.r.t. every
      // trainable weight and the input, and the running statistics all the calls leave.
      const outs: tf.Tensor[] = [];
      const dOuts: tf.Tensor[] = [];
      const trainable = model.trainableWeights.map((w) => w.read() as tf.Variable);
      let grads: tf.NamedTensorMap = {};
      for (const [s, x] of xs.entries()) {
        tf.dispose(Object.values(grads));
        grads = tf.variableGrads(() => {
          const y = model.apply(x, { training: true }) as tf.Tensor;
          outs.push(tf.keep(y.clone()));
          dOuts.push(tf.keep(tf.randomNormal(y.shape, 0, 1, 'float32', 2000 + 10 * k + s)));
          return tf.sum(tf.mul(y, dOuts[s])) as tf.Scalar;
        }, [x, ...trainable]).grads;
      }
      const x = xs[steps - 1];
      const out = outs[steps - 1];
      const runningNames = model.weights.filter((w) => /moving_/.test(w.name)).map((w) => w.name);
      const runningAfter = await Promise.all(model.weights.filter((w) => /moving_/.test(w.name)).map((w) => w.read().data()));
      // Back to the weights before the call, in fresh buffers: the plan binds them and updates the statistics in place.
      const restore = model.weights.map((w, i) => tf.tensor(before[i], w.shape as number[]));
      model.setWeights(restore);
      tf.dispose(restore);

      const plan = new Plan(webgpuDevice());
      const net = discriminatorPlan({ model, batch: c.batch, height: c.side, width: c.side, inputGradient: c.inputGradient, options });
      try {
        expect(net.outputShape).toEqual(out.shape);
        net.forward(plan);
        const forward = plan.ops;
        net.backward(plan);
        expect([forward, plan.ops - forward]).toEqual(c.dispatches);
        expect(net.dInput === null).toBe(!c.inputGradient);
        for (let s = 0; s < steps; s++) {
          plan.device.queue.writeBuffer(net.input, 0, (await xs[s].data()) as Float32Array);
          plan.device.queue.writeBuffer(net.dOutput, 0, (await dOuts[s].data()) as Float32Array);
          plan.run();
        }

        const read = (b: GPUBuffer, n: number) => readFloats(plan.device, b, n);
        const worst: Record<string, number> = {};
        worst.output = worstRelative(await read(net.output, out.size), await out.data());
        const running = model.weights.filter((w) => /moving_/.test(w.name));
        for (const [i, w] of running.entries()) {
          const ours = await read(tensorBuffer(w.read()), w.read().size);
          worst[runningNames[i]] = worstRelative(ours, runningAfter[i]);
          // the statistics moved, so the update is checked and not the starting values
          expect(worstRelative(ours, before[model.weights.indexOf(w)])).toBeGreaterThan(1e-3);
        }
        if (net.dInput) worst.dInput = worstScaled(await read(net.dInput, x.size), await grads[x.name].data());
        const zero = zeroByConstruction(model);
        let noise = 0;
        for (const [i, w] of model.trainableWeights.entries()) {
          const ours = await read(net.grads[i], w.read().size);
          const theirs = await grads[trainable[i].name].data();
          if (zero.has(w.name)) {
            // Exactly zero here; TF.js's is rounding noise, far below the same layer's kernel gradient.
            expect(maxAbs(ours)).toBe(0);
            const ratio = maxAbs(theirs) / maxAbs(await grads[trainable[i - 1].name].data());
            expect(ratio).toBeLessThan(1e-4);
            noise = Math.max(noise, ratio);
          } else worst[w.name] = worstScaled(ours, theirs);
        }
        const worstOf = (keep: (name: string) => boolean): string => {
          const [name, figure] = Object.entries(worst).filter(([n]) => keep(n)).reduce((a, b) => (b[1] > a[1] ? b : a), ['-', 0]);
          return `${figure.toExponential(2)} (${name})`;
        };
        console.log(`${describeCase(c)}: output ${worst.output.toExponential(2)}, running statistics ${worstOf((n) => /moving_/.test(n))}, gradients ${worstOf((n) => n !== 'output' && !/moving_/.test(n))}${zero.size ? `, ${zero.size} biases exactly 0 (TF.js: ${noise.toExponential(1)} of the kernel's)` : ''}; ops ${forward} forward, ${plan.ops - forward} backward (${plan.dispatches} dispatches)`);
        for (const [what, v] of Object.entries(worst)) expect(v, what).toBeLessThan(1e-4);
      } finally {
        plan.dispose();
        net.dispose();
        tf.dispose([...xs, ...outs, ...dOuts, ...Object.values(grads)]);
        model.dispose();
      }
    });
  });

  it('names the crop that is too small for the layers', () => {
    const options: DiscriminatorOptions = { ...DISCRIMINATOR_DEFAULTS, ndf: 4, netD: 'n_layers', n_layers_D: 4 };
    const model = createDiscriminator(options);
    try {
      expect(() => discriminatorPlan({ model, batch: 1, height: 32, width: 32, inputGradient: false, options })).toThrow(/32×32 image shrinks to nothing at conv 5; use a larger crop/);
    } finally {
      model.dispose();
    }
  });

  it('refuses options that do not match the model', () => {
    const model = createDiscriminator({ ndf: 4, netD: 'basic', norm: 'batch' });
    try {
      const options: DiscriminatorOptions = { ...DISCRIMINATOR_DEFAULTS, ndf: 8, netD: 'basic', norm: 'batch' };
      expect(() => discriminatorPlan({ model, batch: 1, height: 32, width: 32, inputGradient: false, options })).toThrow(/conv 0 holds a \[4,4,3,4\] kernel and a bias, the options make \[4,4,3,8\]/);
    } finally {
      model.dispose();
    }
  });
});
