/**
 * The discriminators of patchDiscriminator.ts (`basic`, `n_layers`, `pixel`) compiled for one batch and image size:
 * per layer a conv (zero padding folded in, bias and LeakyReLU fused when no norm follows), else a conv, the norm's
 * statistics (batch norm's running statistics updated in place, as TF.js's training call does) and its apply with
 * LeakyReLU fused; the last conv gives logits. The backward pass runs the same layers in reverse.
 */
import type * as tf from '@tensorflow/tfjs';
import { useBias } from '../blocks';
import type { DiscriminatorOptions } from '../options';
import type { Activation } from './activation';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputSize } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { tensorBuffer } from './gpu';
import type { NetworkPlan, NetworkPlanArgs } from './networkPlan';
import { normApply, normBackward, normGroups, normStatistics, STATS_PER_GROUP } from './norm';
import type { NormKind, NormShape } from './norm';
import type { Plan } from './plan';

/** What discriminatorPlan is built from: the network's args, its options, and the plan that owns its buffers. */
export type DiscriminatorPlanArgs = NetworkPlanArgs & {
  options: DiscriminatorOptions;
  /** Owns every buffer the network keeps (activations, gradients): they live and die with it. */
  plan: Plan;
};

/** One conv layer as the options define it, before the shapes of a batch are known. */
interface LayerShape {
  kernel: number;
  stride: 1 | 2;
  pad: number;
  outChannels: number;
  bias: boolean;
  /** Followed by the options' norm (when it is not 'none'). */
  normed: boolean;
  activation: Activation;
}

/** The conv layers of a discriminator in order, as patchDiscriminator.ts builds them. */
export function discriminatorLayers(o: DiscriminatorOptions): LayerShape[] {
  const bias = useBias(o.norm);
  const leaky = 'leaky_relu' as const;
  if (o.netD === 'pixel') {
    return [
      { kernel: 1, stride: 1, pad: 0, outChannels: o.ndf, bias: true, normed: false, activation: leaky },
      { kernel: 1, stride: 1, pad: 0, outChannels: o.ndf * 2, bias, normed: true, activation: leaky },
      { kernel: 1, stride: 1, pad: 0, outChannels: 1, bias, normed: false, activation: 'none' },
    ];
  }
  const n_layers = o.netD === 'basic' ? 3 : o.n_layers_D;
  const conv4 = (outChannels: number, stride: 1 | 2, bias: boolean, normed: boolean, activation: Activation): LayerShape =>
    ({ kernel: 4, stride, pad: 1, outChannels, bias, normed, activation });
  const layers = [conv4(o.ndf, 2, true, false, leaky)];
  for (let n = 1; n < n_layers; n++) layers.push(conv4(o.ndf * Math.min(2 ** n, 8), 2, bias, true, leaky));
  layers.push(conv4(o.ndf * Math.min(2 ** n_layers, 8), 1, bias, true, leaky));
  layers.push(conv4(1, 1, true, false, 'none'));
  return layers;
}

/** A Keras layer variable as the plan uses it: its name, and the tf.Variable holding its values. */
interface LayerVariable {
  name: string;
  shape: (number | null)[];
  read(): tf.Tensor;
}

/** The variables of the model's conv and batch norm layers, in layer order, checked against the options. */
function modelVariables(model: tf.LayersModel, o: DiscriminatorOptions, layers: LayerShape[]) {
  const where = `discriminator plan (${o.netD}, norm ${o.norm})`;
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
  const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const expectedNorms = o.norm === 'batch' ? layers.filter((l) => l.normed).length : 0;
  if (convs.length !== layers.length || norms.length !== expectedNorms)
    throw new Error(`${where}: the model has ${convs.length} convs and ${norms.length} batch norms, the options make ${layers.length} and ${expectedNorms}; build the plan from the options the model was made with`);
  let inChannels = o.input_nc;
  const conv = layers.map((s, i) => {
    const [kernel, bias] = convs[i].weights as unknown as LayerVariable[];
    const want = [s.kernel, s.kernel, inChannels, s.outChannels];
    if (kernel.shape.join() !== want.join() || (bias !== undefined) !== s.bias)
      throw new Error(`${where}: conv ${i} holds a [${kernel.shape}] kernel${bias ? ' and a bias' : ''}, the options make [${want}]${s.bias ? ' and a bias' : ''}`);
    inChannels = s.outChannels;
    return { kernel, bias: bias ?? null };
  });
  const named = (vars: LayerVariable[], part: string): LayerVariable => {
    const v = vars.find((w) => w.name.includes(part));
    if (!v) throw new Error(`${where}: a batch norm layer without ${part}`);
    return v;
  };
  const batch = norms.map((l) => {
    const vars = l.weights as unknown as LayerVariable[];
    return { gamma: named(vars, 'gamma'), beta: named(vars, 'beta'), movingMean: named(vars, 'moving_mean'), movingVariance: named(vars, 'moving_variance') };
  });
  return { conv, batch };
}

/** The discriminator of these options compiled for `batch` images of height × width; see the file's doc. */
export function discriminatorPlan(args: DiscriminatorPlanArgs): NetworkPlan {
  const { model, batch, height, width, inputGradient, options: o, plan } = args;
  const layers = discriminatorLayers(o);
  const vars = modelVariables(model, o, layers);
  const normKind: NormKind | null = o.norm === 'none' ? null : o.norm;

  // Shapes of every layer, checked before any buffer is made.
  let h = height;
  let w = width;
  let c = o.input_nc;
  const specs = layers.map((l, i): Conv2dSpec => {
    const spec: Conv2dSpec = {
      batch, height: h, width: w, inChannels: c, outChannels: l.outChannels, kernel: l.kernel, stride: l.stride,
      pad: l.pad, padMode: 'zero', bias: l.bias, activation: l.normed && normKind ? 'none' : l.activation,
    };
    const { outHeight, outWidth } = conv2dOutputSize(spec);
    if (outHeight < 1 || outWidth < 1)
      throw new Error(`discriminator plan (${o.netD}${o.netD === 'n_layers' ? ` ${o.n_layers_D}` : ''}): a ${height}×${width} image shrinks to nothing at conv ${i}; use a larger crop or fewer layers`);
    [h, w, c] = [outHeight, outWidth, l.outChannels];
    return spec;
  });
  const count = (s: Conv2dSpec) => { const { outHeight, outWidth } = conv2dOutputSize(s); return s.batch * outHeight * outWidth * s.outChannels; };
  const shapeOf = (s: Conv2dSpec): NormShape => { const { outHeight, outWidth } = conv2dOutputSize(s); return { n: batch, h: outHeight, w: outWidth, c: s.outChannels }; };

  const input = plan.buffer(batch * height * width * o.input_nc, 'discriminator input');
  const dInput = inputGradient ? plan.buffer(batch * height * width * o.input_nc, 'discriminator input gradient') : null;
  // Per layer: its output y (what the next layer reads), and before a norm the conv's output z and its statistics.
  const y = specs.map((s, i) => plan.buffer(count(s), `discriminator conv ${i} output`));
  const z = specs.map((s, i) => (layers[i].normed && normKind ? plan.buffer(count(s), `discriminator conv ${i} pre-norm`) : null));
  const stats = specs.map((s, i) => (z[i] && normKind ? plan.buffer(normGroups(normKind, shapeOf(s)).groups * STATS_PER_GROUP, `discriminator norm ${i} statistics`) : null));
  const dOutput = plan.buffer(count(specs[specs.length - 1]), 'discriminator output gradient');
  // Gradients w.r.t. each layer's output (the last one's is dOutput) and, before a norm, w.r.t. the conv's output.
  const dy = specs.map((s, i) => (i === specs.length - 1 ? dOutput : plan.buffer(count(s), `discriminator conv ${i} output gradient`)));
  const dz = specs.map((s, i) => (z[i] ? plan.buffer(count(s), `discriminator conv ${i} pre-norm gradient`) : null));

  const sizeOf = (v: LayerVariable) => v.shape.reduce((a: number, b) => a * (b ?? 1), 1);
  const gradOf = new Map<LayerVariable, GPUBuffer>();
  const gradFor = (v: LayerVariable) => {
    const g = plan.buffer(sizeOf(v), `gradient of ${v.name}`);
    gradOf.set(v, g);
    return g;
  };
  const weights = vars.conv.map(({ kernel, bias }) => ({
    kernel: tensorBuffer(kernel.read()), bias: bias ? tensorBuffer(bias.read()) : null,
    dKernel: gradFor(kernel), dBias: bias ? gradFor(bias) : null,
  }));
  const batchNorms = vars.batch.map((v) => ({
    gamma: tensorBuffer(v.gamma.read()), beta: tensorBuffer(v.beta.read()),
    movingMean: tensorBuffer(v.movingMean.read()), movingVariance: tensorBuffer(v.movingVariance.read()),
    dGamma: gradFor(v.gamma), dBeta: gradFor(v.beta),
  }));
  // Layer i's batch norm is the k-th of the model's, k counting the normed layers before it.
  const normIndex = layers.map((_, i) => layers.slice(0, i).filter((l) => l.normed).length);
  const grads = (model.trainableWeights as unknown as LayerVariable[]).map((v) => {
    const g = gradOf.get(v);
    if (!g) throw new Error(`discriminator plan: trainable weight ${v.name} is not one of the plan's`);
    return g;
  });
  const last = specs[specs.length - 1];
  const { outHeight, outWidth } = conv2dOutputSize(last);

  return {
    input,
    output: y[y.length - 1],
    dOutput,
    dInput,
    grads,
    outputShape: [batch, outHeight, outWidth, 1],

    forward(p: Plan): void {
      specs.forEach((s, i) => {
        const x = i === 0 ? input : y[i - 1];
        const wb = weights[i].bias ? [weights[i].kernel, weights[i].bias!] : [weights[i].kernel];
        p.add(conv2dForward(s), [x, ...wb, z[i] ?? y[i]]);
        if (!z[i] || !normKind) return;
        const shape = shapeOf(s);
        if (normKind === 'instance') {
          p.add(normStatistics('instance', shape), [z[i]!, stats[i]!]);
          p.add(normApply('instance', shape, layers[i].activation), [z[i]!, stats[i]!, y[i]]);
        } else {
          const bn = batchNorms[normIndex[i]];
          p.add(normStatistics('batch', shape, { running: true }), [z[i]!, stats[i]!, bn.movingMean, bn.movingVariance]);
          p.add(normApply('batch', shape, layers[i].activation), [z[i]!, stats[i]!, bn.gamma, bn.beta, y[i]]);
        }
      });
    },

    backward(p: Plan): void {
      for (let i = specs.length - 1; i >= 0; i--) {
        const s = specs[i];
        const x = i === 0 ? input : y[i - 1];
        // The gradient the conv's kernels read: after the norm's backward, or dy with the activation folded in.
        let g: GPUBuffer[];
        if (z[i] && normKind) {
          const shape = shapeOf(s);
          if (normKind === 'instance') p.add(normBackward('instance', shape, layers[i].activation), [z[i]!, stats[i]!, dy[i], dz[i]!]);
          else {
            const bn = batchNorms[normIndex[i]];
            p.add(normBackward('batch', shape, layers[i].activation), [z[i]!, stats[i]!, bn.gamma, bn.beta, dy[i], dz[i]!, bn.dGamma, bn.dBeta]);
          }
          g = [dz[i]!];
        } else g = s.activation === 'none' ? [dy[i]] : [y[i], dy[i]];
        const { kernel, dKernel, dBias } = weights[i];
        p.add(conv2dBackwardFilter(s), [x, ...g, dKernel]);
        // A bias before instance norm shifts a whole (sample, channel) group, which the norm subtracts again: its
        // gradient is exactly zero, and its buffer keeps the zeros it was made with.
        if (dBias && !(z[i] && normKind === 'instance')) p.add(conv2dBackwardBias(s), [...g, dBias]);
        const dx = i === 0 ? dInput : dy[i - 1];
        if (dx) p.add(conv2dBackwardInput(s), [...g, kernel, dx]);
      }
    },
  };
}
