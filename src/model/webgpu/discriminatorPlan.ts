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
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputCount, conv2dOutputSize } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { tensorBuffer, webgpuDevice } from './gpu';
import type { NetworkPlan, NetworkPlanArgs } from './networkPlan';
import { normApply, normBackward, normGroups, normStatistics, STATS_PER_GROUP } from './norm';
import type { NormKind, NormShape } from './norm';
import { Plan } from './plan';

/** A compiled discriminator; its buffers (activations, gradients) live until `dispose`. */
export interface DiscriminatorPlan extends NetworkPlan {
  /** Destroys the buffers this network owns (not the model's variables). */
  dispose(): void;
}

/** One conv layer as the options define it, before the shapes of a batch are known. */
export interface DiscriminatorLayer {
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
export function discriminatorLayers(o: DiscriminatorOptions): DiscriminatorLayer[] {
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
  const conv4 = (outChannels: number, stride: 1 | 2, bias: boolean, normed: boolean, activation: Activation): DiscriminatorLayer =>
    ({ kernel: 4, stride, pad: 1, outChannels, bias, normed, activation });
  const layers = [conv4(o.ndf, 2, true, false, leaky)];
  for (let n = 1; n < n_layers; n++) layers.push(conv4(o.ndf * Math.min(2 ** n, 8), 2, bias, true, leaky));
  layers.push(conv4(o.ndf * Math.min(2 ** n_layers, 8), 1, bias, true, leaky));
  layers.push(conv4(1, 1, true, false, 'none'));
  return layers;
}

/** The variables of the model's conv and batch norm layers, in layer order, checked against the options. */
function modelVariables(model: tf.LayersModel, o: DiscriminatorOptions, layers: DiscriminatorLayer[]) {
  const where = `discriminator plan (${o.netD}, norm ${o.norm})`;
  const convs = model.layers.filter((l) => l.getClassName() === 'Conv2D');
  const norms = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const expectedNorms = o.norm === 'batch' ? layers.filter((l) => l.normed).length : 0;
  if (convs.length !== layers.length || norms.length !== expectedNorms)
    throw new Error(`${where}: the model has ${convs.length} convs and ${norms.length} batch norms, the options make ${layers.length} and ${expectedNorms}; build the plan from the options the model was made with`);
  let inChannels = o.input_nc;
  const conv = layers.map((s, i) => {
    const [kernel, bias] = convs[i].weights as unknown as tf.LayerVariable[];
    const want = [s.kernel, s.kernel, inChannels, s.outChannels];
    if (kernel.shape.join() !== want.join() || (bias !== undefined) !== s.bias)
      throw new Error(`${where}: conv ${i} holds a [${kernel.shape}] kernel${bias ? ' and a bias' : ''}, the options make [${want}]${s.bias ? ' and a bias' : ''}`);
    inChannels = s.outChannels;
    return { kernel, bias: bias ?? null };
  });
  const named = (vars: tf.LayerVariable[], part: string): tf.LayerVariable => {
    const v = vars.find((w) => w.name.includes(part));
    if (!v) throw new Error(`${where}: a batch norm layer without ${part}`);
    return v;
  };
  const batch = norms.map((l) => {
    const vars = l.weights as unknown as tf.LayerVariable[];
    return { gamma: named(vars, 'gamma'), beta: named(vars, 'beta'), movingMean: named(vars, 'moving_mean'), movingVariance: named(vars, 'moving_variance') };
  });
  return { conv, batch };
}

/** The discriminator of these options compiled for `batch` images of height × width; see the file's doc. */
export function discriminatorPlan(args: NetworkPlanArgs & { options: DiscriminatorOptions; weightGradients?: boolean }): DiscriminatorPlan {
  const { model, batch, height, width, inputGradient, options: o } = args;
  // false: D only passes a gradient back to G (pix2pix's and CycleGAN's G steps), so its filter gradients are skipped
  const weightGradients = args.weightGradients ?? true;
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
  const last = specs[specs.length - 1];
  const outputShape: [number, number, number, number] = [batch, h, w, 1];
  // Owns the buffers only: the caller's plan gets the dispatches.
  const store = new Plan(webgpuDevice());

  const input = store.buffer(batch * height * width * o.input_nc, 'discriminator input');
  const dInput = inputGradient ? store.buffer(batch * height * width * o.input_nc, 'discriminator input gradient') : null;
  const dOutput = store.buffer(conv2dOutputCount(last), 'discriminator output gradient');
  const gradOf = new Map<tf.LayerVariable, GPUBuffer>();
  const gradFor = (v: tf.LayerVariable) => {
    const g = store.buffer(v.shape.reduce((a: number, b) => a * (b ?? 1), 1), `gradient of ${v.name}`);
    gradOf.set(v, g);
    return g;
  };
  let batchNorms = 0;

  // Per layer: its output y and y's gradient dy; before a norm also the conv's output z, z's gradient and the norm's
  // statistics and (batch norm) parameters; the weights' buffers and their gradients.
  const stages = specs.map((spec, i) => {
    const count = conv2dOutputCount(spec);
    const { outHeight, outWidth } = conv2dOutputSize(spec);
    const shape: NormShape = { n: batch, h: outHeight, w: outWidth, c: spec.outChannels };
    const { kernel, bias } = vars.conv[i];
    const label = `discriminator conv ${i}`;
    const bn = normKind === 'batch' && layers[i].normed ? vars.batch[batchNorms++] : null;
    return {
      spec,
      shape,
      y: store.buffer(count, `${label} output`),
      dy: i === specs.length - 1 ? dOutput : store.buffer(count, `${label} output gradient`),
      norm:
        normKind && layers[i].normed
          ? {
              kind: normKind,
              z: store.buffer(count, `${label} pre-norm`),
              dz: store.buffer(count, `${label} pre-norm gradient`),
              stats: store.buffer(normGroups(normKind, shape).groups * STATS_PER_GROUP, `${label} norm statistics`),
              batch: bn && {
                gamma: tensorBuffer(bn.gamma.read()), beta: tensorBuffer(bn.beta.read()),
                movingMean: tensorBuffer(bn.movingMean.read()), movingVariance: tensorBuffer(bn.movingVariance.read()),
                dGamma: gradFor(bn.gamma), dBeta: gradFor(bn.beta),
              },
            }
          : null,
      kernel: tensorBuffer(kernel.read()),
      bias: bias ? tensorBuffer(bias.read()) : null,
      dKernel: gradFor(kernel),
      dBias: bias ? gradFor(bias) : null,
    };
  });
  const grads = (model.trainableWeights as unknown as tf.LayerVariable[]).map((v) => {
    const g = gradOf.get(v);
    if (!g) throw new Error(`discriminator plan: trainable weight ${v.name} is not one of the plan's`);
    return g;
  });
  const activation = (i: number) => layers[i].activation;

  return {
    input,
    output: stages[stages.length - 1].y,
    dOutput,
    dInput,
    grads,
    outputShape,
    dispose: () => store.dispose(),

    forward(p: Plan): void {
      stages.forEach((l, i) => {
        const x = i === 0 ? input : stages[i - 1].y;
        p.add(conv2dForward(l.spec), [x, l.kernel, ...(l.bias ? [l.bias] : []), l.norm ? l.norm.z : l.y]);
        const n = l.norm;
        if (!n) return;
        if (!n.batch) {
          p.add(normStatistics('instance', l.shape), [n.z, n.stats]);
          p.add(normApply('instance', l.shape, activation(i)), [n.z, n.stats, l.y]);
        } else {
          p.add(normStatistics('batch', l.shape, { running: true }), [n.z, n.stats, n.batch.movingMean, n.batch.movingVariance]);
          p.add(normApply('batch', l.shape, activation(i)), [n.z, n.stats, n.batch.gamma, n.batch.beta, l.y]);
        }
      });
    },

    backward(p: Plan): void {
      for (let i = stages.length - 1; i >= 0; i--) {
        const l = stages[i];
        const n = l.norm;
        const x = i === 0 ? input : stages[i - 1].y;
        // What the conv's gradient kernels read: the norm's input gradient, or dy with the activation's folded in.
        let g: GPUBuffer[];
        if (!n) g = l.spec.activation === 'none' ? [l.dy] : [l.y, l.dy];
        else {
          if (!n.batch) p.add(normBackward('instance', l.shape, activation(i)), [n.z, n.stats, l.dy, n.dz]);
          else p.add(normBackward('batch', l.shape, activation(i)), [n.z, n.stats, n.batch.gamma, n.batch.beta, l.dy, n.dz, n.batch.dGamma, n.batch.dBeta]);
          g = [n.dz];
        }
        if (weightGradients) p.add(conv2dBackwardFilter(l.spec), [x, ...g, l.dKernel]);
        // A bias before instance norm shifts a whole (sample, channel) group, which the norm subtracts again: its
        // gradient is exactly zero, and its buffer keeps the zeros it was made with.
        if (weightGradients && l.dBias && n?.kind !== 'instance') p.add(conv2dBackwardBias(l.spec), [...g, l.dBias]);
        const dx = i === 0 ? dInput : stages[i - 1].dy;
        if (dx) p.add(conv2dBackwardInput(l.spec), [...g, l.kernel, dx]);
      }
    },
  };
}
