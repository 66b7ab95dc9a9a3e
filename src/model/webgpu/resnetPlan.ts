/**
 * The ResNet generator (resnetGenerator.ts) compiled as a NetworkPlan: a chain of stages, each a conv (or transposed
 * conv) and its norm with ReLU fused, plus one add per residual block; backward walks the stages in reverse, summing
 * each block's skip gradient with its path's. Built without dropout (CycleGAN's default no_dropout).
 * Dispatches (n blocks): forward 16 + 7n under instance or batch norm, 6 + 3n without; backward 18 + 7n, 13 + 5n without
 * (one fewer without dInput). Activations and gradients live in buffers the network owns, so its forward and backward
 * may go into one plan or two; the model's variables are bound as built, so rebuild it if TF.js reallocates them.
 */
import type * as tf from '@tensorflow/tfjs';
import type { GeneratorOptions, Norm } from '../options';
import type { Activation } from './activation';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputSize } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { convTransposeBackwardBias, convTransposeBackwardFilter, convTransposeBackwardInput, convTransposeForward } from './convTranspose';
import type { ConvTransposeSpec } from './convTranspose';
import { tensorBuffer, webgpuDevice } from './gpu';
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Kernel } from './kernel';
import type { NetworkPlan, NetworkPlanArgs } from './networkPlan';
import { normApply, normBackward, normGroups, normStatistics, STATS_PER_GROUP } from './norm';
import type { NormShape } from './norm';
import { Plan } from './plan';

/** What resnetPlan is built from: the model, its shapes, the options it was created with, and its block count. */
export interface ResnetPlanArgs extends NetworkPlanArgs {
  options: GeneratorOptions;
  blocks: 6 | 9;
}

/** A compiled ResNet generator; its buffers (activations, gradients) live until `dispose`. */
export interface ResnetPlan extends NetworkPlan {
  /** Destroys the buffers this network owns (not the model's variables). */
  dispose(): void;
}

/** out = a + b over n values: b0 a, b1 b, b2 out (a residual block's output, and its input's two gradients summed). */
export function addKernel(n: number): Kernel {
  const bindings = ['read', 'read', 'write'] as const;
  return {
    name: 'residual add',
    key: `resnet-add-${n}`,
    bindings: [...bindings],
    workgroups: groupsFor(n),
    source: `${declareBindings([...bindings])}
${MAIN_1D}
  if (i >= ${n}u) { return; }
  b2[i] = b0[i] + b1[i];
}`,
  };
}

/** A weight of the model: its buffer, and the gradient buffer that `grads` holds for it. */
interface Bound {
  value: GPUBuffer;
  grad: GPUBuffer;
}

/** A gradient in backward: its buffer, and which rotating scratch buffer it is (−1: none of them). */
interface Grad {
  buffer: GPUBuffer;
  slot: number;
}

/** One conv (or transposed conv) and the norm after it, with the activation fused into whichever comes last. */
interface Stage {
  conv: { kind: 'conv'; spec: Conv2dSpec } | { kind: 'tconv'; spec: ConvTransposeSpec };
  kernel: Bound;
  bias: Bound | null;
  /** The stage's input (kept for the filter gradient). */
  x: GPUBuffer;
  /** The conv's output; the stage's output too when there is no norm. */
  z: GPUBuffer;
  norm: null | {
    shape: NormShape;
    stats: GPUBuffer;
    /** Batch norm's gamma, beta and running mean/variance; null under instance norm. */
    batch: null | { gamma: Bound; beta: Bound; movingMean: GPUBuffer; movingVariance: GPUBuffer };
  };
  /** The stage's output after norm and activation. */
  y: GPUBuffer;
  activation: Activation;
  /** Values in x and in y. */
  inCount: number;
  outCount: number;
}

/** Builds the plan of `resnetGenerator(options, blocks)` for a batch and image size, binding `model`'s variables. */
export function resnetPlan(args: ResnetPlanArgs): ResnetPlan {
  const { model, batch, height, width, options: o, blocks } = args;
  if (o.use_dropout) throw new Error('resnetPlan: build the generator with no_dropout (use_dropout false); the plan has no dropout');
  if (height % 4 !== 0 || width % 4 !== 0) throw new Error(`resnetPlan: sides must be multiples of 4, got ${height}×${width}`);
  const store = new Plan(webgpuDevice());
  const norm: Norm = o.norm;
  const bias = norm === 'instance';

  // The model's convs and batch norms in order along the chain (the skips hold no layers with weights).
  const convLayers = model.layers.filter((l) => ['Conv2D', 'Conv2DTranspose'].includes(l.getClassName()));
  const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  const expectedConvs = 2 * blocks + 6;
  if (convLayers.length !== expectedConvs)
    throw new Error(`resnetPlan: model ${model.name} has ${convLayers.length} conv layers, resnet_${blocks}blocks has ${expectedConvs}`);
  if (bnLayers.length !== (norm === 'batch' ? expectedConvs - 1 : 0))
    throw new Error(`resnetPlan: model ${model.name} has ${bnLayers.length} batch norms, not what norm '${norm}' builds`);

  /** The layer's variable named `suffix`, checked against the shape the options imply. */
  const variable = (layer: tf.layers.Layer, suffix: string, shape: number[]): tf.LayerVariable => {
    const v = layer.weights.find((w) => w.name.endsWith(`/${suffix}`));
    if (!v) throw new Error(`resnetPlan: layer ${layer.name} has no ${suffix}`);
    if (v.shape.join() !== shape.join())
      throw new Error(`resnetPlan: ${v.name} is [${v.shape}], the options (ngf ${o.ngf}, input_nc ${o.input_nc}, output_nc ${o.output_nc}) imply [${shape}]`);
    return v;
  };
  const gradOf = new Map<tf.LayerVariable, GPUBuffer>();
  /** A trainable variable's buffer, and a gradient buffer of its size that `grads` will list. */
  const bind = (layer: tf.layers.Layer, suffix: string, shape: number[]): Bound => {
    const v = variable(layer, suffix, shape);
    const grad = store.buffer(shape.reduce((p, q) => p * q, 1), `gradient of ${v.name}`);
    gradOf.set(v, grad);
    return { value: tensorBuffer(v.read()), grad };
  };

  const stages: Stage[] = [];
  let convIndex = 0;
  /** Appends a stage reading `x` [batch, h, w, cin]; returns its output buffer and sides. */
  const addStage = (
    x: GPUBuffer,
    h: number,
    w: number,
    cin: number,
    cout: number,
    layout: { kind: 'conv'; kernel: number; stride: 1 | 2; pad: number; padMode: 'zero' | 'reflect' } | { kind: 'tconv' },
    stageNorm: Norm,
    activation: Activation,
    hasBias: boolean,
  ): { y: GPUBuffer; h: number; w: number } => {
    const layer = convLayers[convIndex++];
    // The activation goes into the conv when nothing follows it, else into the norm's apply.
    const convAct: Activation = stageNorm === 'none' ? activation : 'none';
    let conv: Stage['conv'];
    let kernel: Bound;
    let oh: number;
    let ow: number;
    if (layout.kind === 'conv') {
      const spec: Conv2dSpec = { batch, height: h, width: w, inChannels: cin, outChannels: cout, kernel: layout.kernel, stride: layout.stride, pad: layout.pad, padMode: layout.padMode, bias: hasBias, activation: convAct };
      ({ outHeight: oh, outWidth: ow } = conv2dOutputSize(spec));
      kernel = bind(layer, 'kernel', [layout.kernel, layout.kernel, cin, cout]);
      conv = { kind: 'conv', spec };
    } else {
      const spec: ConvTransposeSpec = { batch, height: h, width: w, inChannels: cin, outChannels: cout, kernel: 3, bias: hasBias, activation: convAct };
      [oh, ow] = [2 * h, 2 * w];
      kernel = bind(layer, 'kernel', [3, 3, cout, cin]);
      conv = { kind: 'tconv', spec };
    }
    const biasBound = hasBias ? bind(layer, 'bias', [cout]) : null;
    const outCount = batch * oh * ow * cout;
    const z = store.buffer(outCount, `${layer.name} output`);
    let stageNormValue: Stage['norm'] = null;
    let y = z;
    if (stageNorm !== 'none') {
      const shape: NormShape = { n: batch, h: oh, w: ow, c: cout };
      const stats = store.buffer(normGroups(stageNorm, shape).groups * STATS_PER_GROUP, `${layer.name} norm statistics`);
      let bn: NonNullable<Stage['norm']>['batch'] = null;
      if (stageNorm === 'batch') {
        const bnLayer = bnLayers[convIndex - 1];
        bn = {
          gamma: bind(bnLayer, 'gamma', [cout]),
          beta: bind(bnLayer, 'beta', [cout]),
          movingMean: tensorBuffer(variable(bnLayer, 'moving_mean', [cout]).read()),
          movingVariance: tensorBuffer(variable(bnLayer, 'moving_variance', [cout]).read()),
        };
      }
      stageNormValue = { shape, stats, batch: bn };
      y = store.buffer(outCount, `${layer.name} norm output`);
    }
    stages.push({ conv, kernel, bias: biasBound, x, z, norm: stageNormValue, y, activation, inCount: batch * h * w * cin, outCount });
    return { y, h: oh, w: ow };
  };

  const input = store.buffer(batch * height * width * o.input_nc, 'resnet input');
  // Residual blocks: the stage index of each block's first conv, its input, and its output.
  const residuals: { first: number; input: GPUBuffer; output: GPUBuffer; count: number }[] = [];
  let a = addStage(input, height, width, o.input_nc, o.ngf, { kind: 'conv', kernel: 7, stride: 1, pad: 3, padMode: 'reflect' }, norm, 'relu', bias);
  const down = { kind: 'conv' as const, kernel: 3, stride: 2 as const, pad: 1, padMode: 'zero' as const };
  a = addStage(a.y, a.h, a.w, o.ngf, o.ngf * 2, down, norm, 'relu', bias);
  a = addStage(a.y, a.h, a.w, o.ngf * 2, o.ngf * 4, down, norm, 'relu', bias);
  const dim = o.ngf * 4;
  const same = { kind: 'conv' as const, kernel: 3, stride: 1 as const, pad: 1, padMode: 'reflect' as const };
  for (let b = 0; b < blocks; b++) {
    const first = stages.length;
    const h1 = addStage(a.y, a.h, a.w, dim, dim, same, norm, 'relu', bias);
    const h2 = addStage(h1.y, h1.h, h1.w, dim, dim, same, norm, 'none', bias);
    const count = batch * a.h * a.w * dim;
    const output = store.buffer(count, `resnet block ${b} output`);
    residuals.push({ first, input: a.y, output, count });
    a = { y: output, h: h2.h, w: h2.w };
  }
  a = addStage(a.y, a.h, a.w, dim, o.ngf * 2, { kind: 'tconv' }, norm, 'relu', bias);
  a = addStage(a.y, a.h, a.w, o.ngf * 2, o.ngf, { kind: 'tconv' }, norm, 'relu', bias);
  const last = addStage(a.y, a.h, a.w, o.ngf, o.output_nc, { kind: 'conv', kernel: 7, stride: 1, pad: 3, padMode: 'reflect' }, 'none', 'tanh', true);

  const grads = model.trainableWeights.map((v) => {
    const g = gradOf.get(v);
    if (!g) throw new Error(`resnetPlan: trainable weight ${v.name} is not one the ResNet generator has`);
    return g;
  });
  const output = last.y;
  const outCount = stages[stages.length - 1].outCount;
  const dOutput = store.buffer(outCount, 'resnet output gradient');
  const dInput = args.inputGradient ? store.buffer(batch * height * width * o.input_nc, 'resnet input gradient') : null;
  // Three rotating gradient buffers of the largest activation: a block's skip gradient stays while its path runs.
  const largest = Math.max(...stages.map((s) => Math.max(s.inCount, s.outCount)));
  const scratch = [0, 1, 2].map((i) => store.buffer(largest, `resnet gradient scratch ${i}`));
  // by slot, not by buffer: in a laid-out step two slots' buffers may be one GPU buffer (see memory.ts)
  const free = (...busy: (Grad | null)[]): Grad => {
    const slot = [0, 1, 2].find((k) => !busy.some((g) => g?.slot === k))!;
    return { buffer: scratch[slot], slot };
  };

  const stageForward = (plan: Plan, s: Stage): void => {
    const w = s.bias ? [s.kernel.value, s.bias.value] : [s.kernel.value];
    plan.add(s.conv.kind === 'conv' ? conv2dForward(s.conv.spec) : convTransposeForward(s.conv.spec), [s.x, ...w, s.z]);
    if (!s.norm) return;
    const { shape, stats, batch: bn } = s.norm;
    if (bn) {
      plan.add(normStatistics('batch', shape, { running: true }), [s.z, stats, bn.movingMean, bn.movingVariance]);
      plan.add(normApply('batch', shape, s.activation), [s.z, stats, bn.gamma.value, bn.beta.value, s.y]);
    } else {
      plan.add(normStatistics('instance', shape), [s.z, stats]);
      plan.add(normApply('instance', shape, s.activation), [s.z, stats, s.y]);
    }
  };

  /**
   * Whether the conv's bias feeds an instance norm, which subtracts each channel's mean: its gradient is exactly 0
   * (TF.js's is rounding noise), so it is left at the zero its buffer starts with and no kernel computes it.
   */
  const biasCancels = (s: Stage): boolean => s.norm !== null && s.norm.batch === null;

  /**
   * Appends the stage's backward from dy (its output's gradient) into its weights' gradients, and its input's gradient
   * into a free scratch buffer (the first stage's into dInput, or nowhere when not asked), which it returns. `keep`
   * is a buffer that must survive (a block's skip gradient).
   */
  const stageBackward = (plan: Plan, s: Stage, dyGrad: Grad, keep: Grad | null, first: boolean): Grad | null => {
    let gGrad = dyGrad;
    const dy = dyGrad.buffer;
    if (s.norm) {
      const { shape, stats, batch: bn } = s.norm;
      const dz = free(dyGrad, keep);
      if (bn) plan.add(normBackward('batch', shape, s.activation), [s.z, stats, bn.gamma.value, bn.beta.value, dy, dz.buffer, bn.gamma.grad, bn.beta.grad]);
      else plan.add(normBackward('instance', shape, s.activation), [s.z, stats, dy, dz.buffer]);
      gGrad = dz;
    }
    const g = gGrad.buffer;
    // With no norm the conv's activation is fused, and its kernels read the output to take its slope.
    const fused = s.norm || s.activation === 'none' ? [] : [s.z];
    const dxGrad = first ? (dInput ? { buffer: dInput, slot: -1 } : null) : free(gGrad, keep);
    const dx = dxGrad?.buffer;
    if (s.conv.kind === 'conv') {
      const spec = s.conv.spec;
      plan.add(conv2dBackwardFilter(spec), [s.x, ...fused, g, s.kernel.grad]);
      if (s.bias && !biasCancels(s)) plan.add(conv2dBackwardBias(spec), [...fused, g, s.bias.grad]);
      if (dx) plan.add(conv2dBackwardInput(spec), [...fused, g, s.kernel.value, dx]);
    } else {
      const spec = s.conv.spec;
      plan.add(convTransposeBackwardFilter(spec), [s.x, g, ...fused, s.kernel.grad]);
      if (s.bias && !biasCancels(s)) plan.add(convTransposeBackwardBias(spec), [g, ...fused, s.bias.grad]);
      if (dx) plan.add(convTransposeBackwardInput(spec), [g, ...fused, s.kernel.value, dx]);
    }
    return dxGrad;
  };

  return {
    input,
    output,
    dOutput,
    dInput,
    grads,
    outputShape: [batch, last.h, last.w, o.output_nc],
    forward(plan: Plan): void {
      for (let i = 0; i < stages.length; i++) {
        stageForward(plan, stages[i]);
        const r = residuals.find((b) => b.first + 1 === i);
        if (r) plan.add(addKernel(r.count), [r.input, stages[i].y, r.output]);
      }
    },
    backward(plan: Plan): void {
      let dy: Grad = { buffer: dOutput, slot: -1 };
      for (let i = stages.length - 1; i >= 0; i--) {
        const block = residuals.find((b) => b.first + 1 === i);
        if (!block) {
          dy = stageBackward(plan, stages[i], dy, null, i === 0)!;
          continue;
        }
        // A block's input feeds its path and its skip: the skip's gradient (dy) is kept and added to the path's.
        const skip = dy;
        const mid = stageBackward(plan, stages[i], skip, skip, false)!;
        const path = stageBackward(plan, stages[i - 1], mid, skip, false)!;
        dy = free(skip, path);
        plan.add(addKernel(block.count), [skip.buffer, path.buffer, dy.buffer]);
        i--;
      }
    },
    dispose: () => store.dispose(),
  };
}
