/**
 * The U-Net generators (unet_32 … unet_256, src/model/unetGenerator.ts) as a NetworkPlan. Level i (0 outermost, L−1
 * innermost) keeps, with d its down value (conv, then norm on the middle levels) and u its up value:
 * - a: LeakyReLU(d), compact, the next level's input (for the innermost level, ReLU(d), its up conv's input);
 * - cat: [ReLU(d) | ReLU(u of the level below)], the input of this level's up conv: TF.js applies the ReLU to the
 *   whole concatenation, so each half is written already activated, by its producer's epilogue where one can;
 * - t, stats: the conv outputs before a norm, and the norm's statistics, for the norm's backward pass.
 * Backward, d's gradient sums its two uses (the concat's half through ReLU, the next level through LeakyReLU).
 * Dropout (the inner levels of unet_64 and up, with use_dropout) masks u after its norm, from the step's seeds.
 */
import type * as tf from '@tensorflow/tfjs';
import type { GeneratorOptions } from '../options';
import { unetDowns } from '../options';
import { useBias } from '../blocks';
import type { Activation } from './activation';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { convTransposeBackwardBias, convTransposeBackwardFilter, convTransposeBackwardInput, convTransposeForward } from './convTranspose';
import type { ConvTransposeSpec } from './convTranspose';
import { tensorBuffer, webgpuDevice } from './gpu';
import type { NetworkPlan, NetworkPlanArgs } from './networkPlan';
import { normApply, normBackward, normGroups, normStatistics, STATS_PER_GROUP } from './norm';
import type { NormKind, NormShape } from './norm';
import { Plan } from './plan';
import { applyToSlices, copyFromSlice, downGradient } from './unetSkip';
import { dropoutBackward, dropoutForward } from './dropout';

/** A conv layer's variables' buffers, and where its gradients go. */
interface ConvWeights {
  kernel: GPUBuffer;
  bias: GPUBuffer | null;
  dKernel: GPUBuffer;
  dBias: GPUBuffer | null;
}

/** A batch norm layer's variables' buffers and gradients. */
interface BatchWeights {
  gamma: GPUBuffer;
  beta: GPUBuffer;
  movingMean: GPUBuffer;
  movingVariance: GPUBuffer;
  dGamma: GPUBuffer;
  dBeta: GPUBuffer;
}

/** A norm's kept tensors: its input t (the conv's output), statistics, and for batch norm the layer's weights. */
interface NormState {
  shape: NormShape;
  t: GPUBuffer;
  stats: GPUBuffer;
  batch: BatchWeights | null;
}

/** One level's layers, shapes and kept buffers. */
interface Level {
  /** Input side (the output side of its up conv); its down value is half that. */
  side: number;
  inC: number;
  /** Channels of d (inner_nc). */
  innerC: number;
  /** Channels of u (outer_nc). */
  outerC: number;
  down: ConvWeights;
  up: ConvWeights;
  downNorm: NormState | null;
  upNorm: NormState | null;
  /** LeakyReLU(d) (ReLU(d) at the innermost level), compact. */
  a: GPUBuffer;
  /** [ReLU(d) | ReLU(u below)]; null at the innermost level. */
  cat: GPUBuffer | null;
  /** Dropout levels: the seed slot, and u before (z) and after (v) the mask, compact; t before a missing norm. */
  dropout: { slot: number; t: GPUBuffer; z: GPUBuffer; v: GPUBuffer; dv: GPUBuffer; dz: GPUBuffer } | null;
}

/**
 * A U-Net's plan and the buffers it owns. The biases just before an instance norm get a gradient of exactly 0 (the
 * norm subtracts them back out; TF.js's is rounding noise): their gradient buffers are never written.
 */
export interface UnetPlan extends NetworkPlan {
  /**
   * One u32 seed per dropout layer, slot k for the k-th StepDropout of model.layers, written by the step before each
   * forward (the backward pass regenerates the same masks); null without dropout.
   */
  seeds: GPUBuffer | null;
  /** Destroys the buffers the plan made (not the model's variables). */
  dispose(): void;
}

const count = (s: NormShape): number => s.n * s.h * s.w * s.c;

/** The TF.js layer's variables by their last name part: kernel, bias, gamma, beta, moving_mean, moving_variance. */
function weightsOf(layer: tf.layers.Layer): Map<string, tf.LayerVariable> {
  return new Map(layer.weights.map((w) => [w.originalName.split('/').pop()!, w]));
}

/** Builds the plan of a U-Net generator for one batch and (square) image size over the model's own variables. */
export function unetPlan(args: NetworkPlanArgs & { options: GeneratorOptions }): UnetPlan {
  const { model, batch: N, height: H, width: W, options: o } = args;
  const downs = unetDowns(o.netG);
  if (downs === null) throw new Error(`unetPlan: ${o.netG} is not a U-Net generator`);
  const L = downs;
  const multiple = 2 ** L;
  if (H !== W || H % multiple !== 0)
    throw new Error(`unetPlan: ${o.netG} needs square images whose side is a multiple of ${multiple}, got ${H}×${W}`);
  const owner = new Plan(webgpuDevice());
  const buffer = (n: number, label: string) => owner.buffer(n, label);
  const bias = useBias(o.norm);
  const normKind: NormKind | null = o.norm === 'none' ? null : o.norm;
  const innerC = [o.ngf, o.ngf * 2, o.ngf * 4, ...Array.from({ length: L - 3 }, () => o.ngf * 8)];

  // Layers in chain order: TF.js sorts them by depth, and every conv and norm lies on the one input-to-output path.
  const downLayers = model.layers.filter((l) => l.getClassName() === 'Conv2D');
  const upLayers = model.layers.filter((l) => l.getClassName() === 'Conv2DTranspose').reverse();
  const bnLayers = model.layers.filter((l) => l.getClassName() === 'BatchNormalization');
  if (downLayers.length !== L || upLayers.length !== L)
    throw new Error(`unetPlan: ${o.netG} has ${L} convs and ${L} transposed convs; the model has ${downLayers.length} and ${upLayers.length}`);
  const expectedBn = o.norm === 'batch' ? 2 * L - 3 : 0;
  const dropoutLayers = model.layers.filter((l) => l.getClassName() === 'StepDropout').length;
  // The reference's dropout levels: the ngf·8 levels between the fourth and the innermost.
  const hasDropout = (i: number) => o.use_dropout && i >= 4 && i <= L - 2;
  const expectedDropout = o.use_dropout ? L - 5 : 0;
  if (dropoutLayers !== expectedDropout)
    throw new Error(`unetPlan: use_dropout ${o.use_dropout} means ${expectedDropout} dropout layers in ${o.netG}; the model has ${dropoutLayers}`);
  if (bnLayers.length !== expectedBn) throw new Error(`unetPlan: norm ${o.norm} means ${expectedBn} batch norm layers; the model has ${bnLayers.length}`);

  const trainable = model.trainableWeights;
  const grads: GPUBuffer[] = trainable.map((w) => buffer(w.shape.reduce((a: number, b) => a * (b ?? 1), 1), `d ${w.name}`));
  /** The buffer of a layer's variable, checked against the shape the options imply, and its gradient's buffer. */
  const bind = (layer: tf.layers.Layer, part: string, shape: number[]): { value: GPUBuffer; grad: GPUBuffer | null } => {
    const v = weightsOf(layer).get(part);
    if (!v) throw new Error(`unetPlan: layer ${layer.name} has no ${part}`);
    if (v.shape.join() !== shape.join())
      throw new Error(`unetPlan: ${layer.name} ${part} is ${v.shape.join('×')}, ${o.netG} with ngf ${o.ngf} needs ${shape.join('×')}`);
    const index = trainable.indexOf(v);
    return { value: tensorBuffer(v.read()), grad: index >= 0 ? grads[index] : null };
  };
  const convWeights = (layer: tf.layers.Layer, kernelShape: number[], withBias: boolean, outC: number): ConvWeights => {
    const k = bind(layer, 'kernel', kernelShape);
    const b = withBias ? bind(layer, 'bias', [outC]) : null;
    if ((weightsOf(layer).has('bias')) !== withBias) throw new Error(`unetPlan: ${layer.name} ${withBias ? 'lacks' : 'has'} a bias`);
    return { kernel: k.value, bias: b?.value ?? null, dKernel: k.grad!, dBias: b?.grad ?? null };
  };
  let bnNext = 0;
  const norm = (shape: NormShape, label: string): NormState | null => {
    if (!normKind) return null;
    let batchWeights: BatchWeights | null = null;
    if (normKind === 'batch') {
      const layer = bnLayers[bnNext++];
      const g = bind(layer, 'gamma', [shape.c]);
      const b = bind(layer, 'beta', [shape.c]);
      batchWeights = {
        gamma: g.value,
        beta: b.value,
        dGamma: g.grad!,
        dBeta: b.grad!,
        movingMean: bind(layer, 'moving_mean', [shape.c]).value,
        movingVariance: bind(layer, 'moving_variance', [shape.c]).value,
      };
    }
    const count = shape.n * shape.h * shape.w * shape.c;
    return { shape, t: buffer(count, `${label} t`), stats: buffer(normGroups(normKind, shape).groups * STATS_PER_GROUP, `${label} stats`), batch: batchWeights };
  };

  // Down path first, so that batch norm layers are bound in chain order: down norms of levels 1..L-2, then up norms L-1..1.
  const levels: Level[] = [];
  for (let i = 0; i < L; i++) {
    const side = H >> i;
    const inC = i === 0 ? o.input_nc : innerC[i - 1];
    const outerC = i === 0 ? o.output_nc : innerC[i - 1];
    const c = innerC[i];
    const dShape: NormShape = { n: N, h: side / 2, w: side / 2, c };
    const innermost = i === L - 1;
    levels.push({
      side,
      inC,
      innerC: c,
      outerC,
      down: convWeights(downLayers[i], [4, 4, inC, c], bias, c),
      up: convWeights(upLayers[i], [4, 4, outerC, innermost ? c : 2 * c], i === 0 || bias, outerC),
      downNorm: i === 0 || innermost ? null : norm(dShape, `level ${i} down`),
      upNorm: null,
      dropout: null,
      a: buffer(N * (side / 2) ** 2 * c, `level ${i} a`),
      cat: innermost ? null : buffer(N * (side / 2) ** 2 * 2 * c, `level ${i} concat`),
    });
  }
  for (let i = L - 1; i >= 1; i--) levels[i].upNorm = norm({ n: N, h: H >> i, w: W >> i, c: levels[i].outerC }, `level ${i} up`);
  for (let i = 0; i < L; i++) {
    if (!hasDropout(i)) continue;
    const l = levels[i];
    const made = (what: string) => buffer(N * l.side ** 2 * l.outerC, `level ${i} ${what}`);
    const t = l.upNorm ? l.upNorm.t : made('u');
    // Slots in model.layers order, which runs up the U from the innermost dropout level.
    l.dropout = { slot: L - 2 - i, t, z: l.upNorm ? made('normed u') : t, v: made('dropped u'), dv: made('d dropped u'), dz: made('d normed u') };
  }
  const seeds = dropoutLayers > 0 ? buffer(dropoutLayers, 'dropout seeds') : null;

  const input = buffer(N * H * W * o.input_nc, 'input');
  const output = buffer(N * H * W * o.output_nc, 'output');
  const dOutput = buffer(N * H * W * o.output_nc, 'dOutput');
  const dInput = args.inputGradient ? buffer(N * H * W * o.input_nc, 'dInput') : null;
  // Backward scratch, per level: gradients of cat (or of a at the innermost), of the up norm's output, of a, of d.
  const dCat = levels.map((l, i) => buffer(N * (l.side / 2) ** 2 * (i === L - 1 ? l.innerC : 2 * l.innerC), `level ${i} dConcat`));
  const dUp = levels.map((l, i) => (l.upNorm && !l.dropout ? buffer(N * l.side ** 2 * l.outerC, `level ${i} dUp`) : null));
  const dUpT = levels.map((l, i) => (l.upNorm ? buffer(N * l.side ** 2 * l.outerC, `level ${i} dUp t`) : null));
  const dA = levels.map((l, i) => (i < L - 1 ? buffer(N * (l.side / 2) ** 2 * l.innerC, `level ${i} da`) : null));
  const dD = levels.map((l, i) => (i < L - 1 ? buffer(N * (l.side / 2) ** 2 * l.innerC, `level ${i} dd`) : null));
  const dDownT = levels.map((l, i) => (l.downNorm ? buffer(N * (l.side / 2) ** 2 * l.innerC, `level ${i} dd t`) : null));

  /** Level i's down conv spec (its input a of the level above, or the image). */
  const downSpec = (i: number, activation: Activation): Conv2dSpec => ({
    batch: N,
    height: levels[i].side,
    width: levels[i].side,
    inChannels: levels[i].inC,
    outChannels: levels[i].innerC,
    kernel: 4,
    stride: 2,
    pad: 1,
    padMode: 'zero',
    bias,
    activation,
  });
  /** Level i's up conv spec, written compact (before a norm, or the output) or into the level above's concat. */
  const upSpec = (i: number, activation: Activation, intoConcat: boolean): ConvTransposeSpec => ({
    batch: N,
    height: levels[i].side / 2,
    width: levels[i].side / 2,
    inChannels: i === L - 1 ? levels[i].innerC : 2 * levels[i].innerC,
    outChannels: levels[i].outerC,
    kernel: 4,
    bias: i === 0 || bias,
    activation,
    ...(intoConcat ? { channelOffset: levels[i].outerC, totalChannels: 2 * levels[i].outerC } : {}),
  });
  const withBias = (w: ConvWeights): GPUBuffer[] => (w.bias ? [w.kernel, w.bias] : [w.kernel]);
  const normParams = (s: NormState): GPUBuffer[] => (s.batch ? [s.batch.gamma, s.batch.beta] : []);
  const levelInput = (i: number): GPUBuffer => (i === 0 ? input : levels[i - 1].a);

  function forward(plan: Plan): void {
    for (let i = 0; i < L; i++) {
      const l = levels[i];
      const dShape: NormShape = { n: N, h: l.side / 2, w: l.side / 2, c: l.innerC };
      if (i === L - 1) {
        // The innermost d feeds only its up conv, through ReLU.
        plan.add(conv2dForward(downSpec(i, 'relu')), [levelInput(i), ...withBias(l.down), l.a]);
      } else if (l.downNorm) {
        const s = l.downNorm;
        plan.add(conv2dForward(downSpec(i, 'none')), [levelInput(i), ...withBias(l.down), s.t]);
        plan.add(normStatistics(normKind!, dShape, { running: !!s.batch }), [s.t, s.stats, ...(s.batch ? [s.batch.movingMean, s.batch.movingVariance] : [])]);
        const both = [{ act: 'leaky_relu' as const, slice: { total: l.innerC, offset: 0 } }, { act: 'relu' as const, slice: { total: 2 * l.innerC, offset: 0 } }];
        plan.add(applyToSlices(normKind!, dShape, both), [s.t, s.stats, ...normParams(s), l.a, l.cat!]);
      } else {
        // No norm: LeakyReLU in the conv's epilogue, and ReLU(d) = ReLU(LeakyReLU(d)) into the concat.
        plan.add(conv2dForward(downSpec(i, 'leaky_relu')), [levelInput(i), ...withBias(l.down), l.a]);
        plan.add(applyToSlices('none', dShape, [{ act: 'relu', slice: { total: 2 * l.innerC, offset: 0 } }]), [l.a, l.cat!]);
      }
    }
    for (let i = L - 1; i >= 0; i--) {
      const l = levels[i];
      const upInput = i === L - 1 ? l.a : l.cat!;
      if (i === 0) {
        plan.add(convTransposeForward(upSpec(0, 'tanh', false)), [upInput, ...withBias(l.up), output]);
      } else if (l.dropout) {
        // Masked between the norm and the parent's ReLU: compact until the mask, then ReLU into the concat.
        const d = l.dropout;
        const shape: NormShape = { n: N, h: l.side, w: l.side, c: l.outerC };
        plan.add(convTransposeForward(upSpec(i, 'none', false)), [upInput, ...withBias(l.up), d.t]);
        let z = d.t;
        if (l.upNorm) {
          const s = l.upNorm;
          plan.add(normStatistics(normKind!, s.shape, { running: !!s.batch }), [s.t, s.stats, ...(s.batch ? [s.batch.movingMean, s.batch.movingVariance] : [])]);
          plan.add(normApply(normKind!, s.shape, 'none'), [s.t, s.stats, ...normParams(s), d.z]);
          z = d.z;
        }
        plan.add(dropoutForward(count(shape), d.slot), [seeds!, z, d.v]);
        plan.add(applyToSlices('none', shape, [{ act: 'relu', slice: { total: 2 * l.outerC, offset: l.outerC } }]), [d.v, levels[i - 1].cat!]);
      } else if (l.upNorm) {
        const s = l.upNorm;
        plan.add(convTransposeForward(upSpec(i, 'none', false)), [upInput, ...withBias(l.up), s.t]);
        plan.add(normStatistics(normKind!, s.shape, { running: !!s.batch }), [s.t, s.stats, ...(s.batch ? [s.batch.movingMean, s.batch.movingVariance] : [])]);
        plan.add(applyToSlices(normKind!, s.shape, [{ act: 'relu', slice: { total: 2 * l.outerC, offset: l.outerC } }]), [s.t, s.stats, ...normParams(s), levels[i - 1].cat!]);
      } else {
        plan.add(convTransposeForward(upSpec(i, 'relu', true)), [upInput, ...withBias(l.up), levels[i - 1].cat!]);
      }
    }
  }

  function backward(plan: Plan): void {
    // Up path, outermost first: each up conv's input gradient is the gradient of its level's concat (after ReLU).
    for (let i = 0; i < L; i++) {
      const l = levels[i];
      const upInput = i === L - 1 ? l.a : l.cat!;
      let spec: ConvTransposeSpec;
      let dy: GPUBuffer[];
      if (i === 0) {
        spec = upSpec(0, 'tanh', false);
        dy = [dOutput, output];
      } else if (l.dropout) {
        const d = l.dropout;
        const shape: NormShape = { n: N, h: l.side, w: l.side, c: l.outerC };
        plan.add(copyFromSlice(shape, { total: 2 * l.outerC, offset: l.outerC }, 'relu'), [dCat[i - 1], levels[i - 1].cat!, d.dv]);
        plan.add(dropoutBackward(count(shape), d.slot), [seeds!, d.dv, d.dz]);
        spec = upSpec(i, 'none', false);
        dy = [d.dz];
        if (l.upNorm) {
          const s = l.upNorm;
          const b = s.batch;
          plan.add(normBackward(normKind!, s.shape, 'none'), [s.t, s.stats, ...(b ? [b.gamma, b.beta] : []), d.dz, dUpT[i]!, ...(b ? [b.dGamma, b.dBeta] : [])]);
          dy = [dUpT[i]!];
        }
      } else if (l.upNorm) {
        const s = l.upNorm;
        const slice = { total: 2 * l.outerC, offset: l.outerC };
        plan.add(copyFromSlice(s.shape, slice), [dCat[i - 1], dUp[i]!]);
        const b = s.batch;
        plan.add(normBackward(normKind!, s.shape, 'relu'), [s.t, s.stats, ...(b ? [b.gamma, b.beta] : []), dUp[i]!, dUpT[i]!, ...(b ? [b.dGamma, b.dBeta] : [])]);
        spec = upSpec(i, 'none', false);
        dy = [dUpT[i]!];
      } else {
        spec = upSpec(i, 'relu', true);
        dy = [dCat[i - 1], levels[i - 1].cat!];
      }
      plan.add(convTransposeBackwardFilter(spec), [upInput, ...dy, l.up.dKernel]);
      // A bias just before instance norm has a gradient of exactly 0 (the norm subtracts it back out): left zero.
      if (l.up.dBias && !l.upNorm) plan.add(convTransposeBackwardBias(spec), [...dy, l.up.dBias]);
      plan.add(convTransposeBackwardInput(spec), [...dy, l.up.kernel, dCat[i]]);
    }
    // Down path, innermost first: each d's gradient sums its concat half's and the level below's.
    for (let i = L - 1; i >= 0; i--) {
      const l = levels[i];
      const dShape: NormShape = { n: N, h: l.side / 2, w: l.side / 2, c: l.innerC };
      let spec: Conv2dSpec;
      let dy: GPUBuffer[];
      if (i === L - 1) {
        spec = downSpec(i, 'relu');
        dy = [l.a, dCat[i]];
      } else {
        plan.add(downGradient(dShape, 2 * l.innerC), [l.a, dCat[i], dA[i]!, dD[i]!]);
        spec = downSpec(i, 'none');
        dy = [dD[i]!];
        if (l.downNorm) {
          const s = l.downNorm;
          const b = s.batch;
          plan.add(normBackward(normKind!, dShape, 'none'), [s.t, s.stats, ...(b ? [b.gamma, b.beta] : []), dD[i]!, dDownT[i]!, ...(b ? [b.dGamma, b.dBeta] : [])]);
          dy = [dDownT[i]!];
        }
      }
      plan.add(conv2dBackwardFilter(spec), [levelInput(i), ...dy, l.down.dKernel]);
      if (l.down.dBias && !l.downNorm) plan.add(conv2dBackwardBias(spec), [...dy, l.down.dBias]);
      const dx = i === 0 ? dInput : dA[i - 1];
      if (dx) plan.add(conv2dBackwardInput(spec), [...dy, l.down.kernel, dx]);
    }
  }

  return {
    input,
    output,
    dOutput,
    dInput,
    grads,
    seeds,
    outputShape: [N, H, W, o.output_nc],
    forward,
    backward,
    dispose: () => owner.dispose(),
  };
}
