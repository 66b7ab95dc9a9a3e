/**
 * A run's trainer as the compiled step's builders read it, made from the options alone: the networks' conv, batch
 * norm and dropout layers in TF.js's layer order with their weights' names and shapes, and FlatAdam's chunks over
 * them; no values, no TF.js. A dry build over it counts the step's memory on a page that has built nothing (the
 * paper's networks take seconds and gigabytes to build). standInTrainer.test.ts holds it to the real networks' layers.
 */
import { adamChunks } from '../adam';
import { useBias } from '../blocks';
import type { CycleGanTrainer } from '../cycleGanTrainer';
import type { DiscriminatorOptions, GeneratorOptions, TrainConfig } from '../options';
import { unetDowns } from '../options';
import type { Pix2PixTrainer } from '../pix2pixTrainer';
import { discriminatorLayers } from './discriminatorPlan';

/** A weight with a shape and nothing in it; it stands for its own tensor too (read() returns it). */
export class StandInWeight {
  readonly size: number;
  readonly originalName: string;
  constructor(
    readonly name: string,
    readonly shape: number[],
    readonly trainable: boolean,
  ) {
    this.size = shape.reduce((a, b) => a * b, 1);
    this.originalName = name;
  }

  read(): StandInWeight {
    return this;
  }
}

/** A layer: its TF.js class name and weights. */
export class StandInLayer {
  constructor(
    readonly name: string,
    private readonly className: string,
    readonly weights: StandInWeight[],
  ) {}

  getClassName(): string {
    return this.className;
  }
}

/** A network: its layers in TF.js's order (only those with weights and the dropouts: all the plans look at). */
export class StandInModel {
  constructor(
    readonly name: string,
    readonly layers: StandInLayer[],
  ) {}

  get weights(): StandInWeight[] {
    return this.layers.flatMap((l) => l.weights);
  }

  get trainableWeights(): StandInWeight[] {
    return this.weights.filter((w) => w.trainable);
  }
}

/** Words for a layer's class in its stand-in's name. */
const KIND: Record<string, string> = { Conv2D: 'conv', Conv2DTranspose: 'transposed conv', BatchNormalization: 'batch norm', StepDropout: 'dropout' };

/** Appends layers as the network builders (blocks.ts) make them, named by network, kind and place (`netG_A conv 3`). */
class Builder {
  readonly layers: StandInLayer[] = [];
  private readonly count = new Map<string, number>();
  constructor(
    private readonly net: string,
    private readonly norm: TrainConfig['norm'],
  ) {}

  private layer(className: string, weights: (name: string) => StandInWeight[]): void {
    const n = (this.count.get(className) ?? 0) + 1;
    this.count.set(className, n);
    const name = `${this.net} ${KIND[className]} ${n}`;
    this.layers.push(new StandInLayer(name, className, weights(name)));
  }

  /** blocks.ts's conv (kernel [k, k, in, out]) or convTranspose (kernel [k, k, out, in]), with or without a bias. */
  conv(k: number, cin: number, cout: number, bias: boolean, transposed = false): void {
    this.layer(transposed ? 'Conv2DTranspose' : 'Conv2D', (n) => [
      new StandInWeight(`${n}/kernel`, transposed ? [k, k, cout, cin] : [k, k, cin, cout], true),
      ...(bias ? [new StandInWeight(`${n}/bias`, [cout], true)] : []),
    ]);
  }

  /** blocks.ts's normLayer: batch norm's four weights, instance norm's none (no layer that the plans read). */
  normLayer(c: number): void {
    if (this.norm !== 'batch') return;
    this.layer('BatchNormalization', (n) => [
      new StandInWeight(`${n}/gamma`, [c], true),
      new StandInWeight(`${n}/beta`, [c], true),
      new StandInWeight(`${n}/moving_mean`, [c], false),
      new StandInWeight(`${n}/moving_variance`, [c], false),
    ]);
  }

  dropout(): void {
    this.layer('StepDropout', () => []);
  }
}

/** resnetGenerator.ts's layers. */
function resnetGenerator(net: string, o: GeneratorOptions, blocks: number): StandInModel {
  const b = new Builder(net, o.norm);
  const bias = useBias(o.norm);
  b.conv(7, o.input_nc, o.ngf, bias);
  b.normLayer(o.ngf);
  b.conv(3, o.ngf, o.ngf * 2, bias);
  b.normLayer(o.ngf * 2);
  b.conv(3, o.ngf * 2, o.ngf * 4, bias);
  b.normLayer(o.ngf * 4);
  for (let i = 0; i < blocks; i++) {
    b.conv(3, o.ngf * 4, o.ngf * 4, bias);
    b.normLayer(o.ngf * 4);
    if (o.use_dropout) b.dropout();
    b.conv(3, o.ngf * 4, o.ngf * 4, bias);
    b.normLayer(o.ngf * 4);
  }
  b.conv(3, o.ngf * 4, o.ngf * 2, bias, true);
  b.normLayer(o.ngf * 2);
  b.conv(3, o.ngf * 2, o.ngf, bias, true);
  b.normLayer(o.ngf);
  b.conv(7, o.ngf, o.output_nc, true);
  return new StandInModel(`${net} resnet_${blocks}blocks`, b.layers);
}

/** unetGenerator.ts's layers: the down path from the outermost level in, then the up path from the innermost out. */
function unetGenerator(net: string, o: GeneratorOptions, downs: number): StandInModel {
  const b = new Builder(net, o.norm);
  const bias = useBias(o.norm);
  const inner = (i: number) => o.ngf * Math.min(2 ** i, 8);
  for (let i = 0; i < downs; i++) {
    b.conv(4, i === 0 ? o.input_nc : inner(i - 1), inner(i), bias);
    if (i > 0 && i < downs - 1) b.normLayer(inner(i));
  }
  for (let i = downs - 1; i >= 0; i--) {
    const outer = i === 0 ? o.output_nc : inner(i - 1);
    b.conv(4, i === downs - 1 ? inner(i) : 2 * inner(i), outer, i === 0 || bias, true);
    if (i === 0) continue;
    b.normLayer(outer);
    // the ngf·8 levels between the fourth and the innermost
    if (o.use_dropout && i >= 4 && i < downs - 1) b.dropout();
  }
  return new StandInModel(`${net} unet_${2 ** downs}`, b.layers);
}

/** define_G's layers. */
function generator(net: string, o: GeneratorOptions): StandInModel {
  const downs = unetDowns(o.netG);
  return downs !== null ? unetGenerator(net, o, downs) : resnetGenerator(net, o, o.netG === 'resnet_9blocks' ? 9 : 6);
}

/** define_D's layers, from the compiled discriminator's own list of them. */
function discriminator(net: string, o: DiscriminatorOptions): StandInModel {
  const b = new Builder(net, o.norm);
  let c = o.input_nc;
  for (const l of discriminatorLayers(o)) {
    b.conv(l.kernel, c, l.outChannels, l.bias);
    if (l.normed) b.normLayer(l.outChannels);
    c = l.outChannels;
  }
  return new StandInModel(`${net} ${o.netD}`, b.layers);
}

/** FlatAdam's variables and chunks (adam.ts), with moments as shapes. */
function adam(variables: StandInWeight[], c: TrainConfig) {
  const state = adamChunks(variables.map((v) => v.size)).map((ix) => {
    const size = ix.reduce((n, i) => n + variables[i].size, 0);
    return { variables: ix.map((i) => variables[i]), m: new StandInWeight('m', [size], false), v: new StandInWeight('v', [size], false) };
  });
  return { variables, state, beta1: c.beta1, beta2: 0.999 };
}

/** The networks `createTrainer(config)` builds, as stand-ins, by the trainers' names. */
export function standInModels(c: TrainConfig): Record<string, StandInModel> {
  const g = (net: string, input_nc: number, output_nc: number) => generator(net, { input_nc, output_nc, ngf: c.ngf, netG: c.netG, norm: c.norm, use_dropout: !c.no_dropout });
  const d = (net: string, input_nc: number) => discriminator(net, { input_nc, ndf: c.ndf, netD: c.netD, n_layers_D: c.n_layers_D, norm: c.norm });
  if (c.model === 'pix2pix') return { netG: g('netG', c.input_nc, c.output_nc), netD: d('netD', c.input_nc + c.output_nc) };
  return { netG_A: g('netG_A', c.input_nc, c.output_nc), netG_B: g('netG_B', c.output_nc, c.input_nc), netD_A: d('netD_A', c.output_nc), netD_B: d('netD_B', c.input_nc) };
}

/**
 * A stand-in of `createTrainer(config)` for the compiled step's builders: what they read (config, models,
 * optimizers, CycleGAN's sharePasses), typed as the trainer they take. Only a dry build may use it.
 */
export function standInTrainer(c: TrainConfig): { model: 'pix2pix'; trainer: Pix2PixTrainer } | { model: 'cycle_gan'; trainer: CycleGanTrainer } {
  const models = standInModels(c);
  const trainable = (...names: string[]) => names.flatMap((n) => models[n].trainableWeights);
  const [G, D] = c.model === 'pix2pix' ? [trainable('netG'), trainable('netD')] : [trainable('netG_A', 'netG_B'), trainable('netD_A', 'netD_B')];
  const stand = { config: c, models, optimizers: { G: adam(G, c), D: adam(D, c) }, sharePasses: c.norm !== 'batch', step: 0 };
  // the builders read only these members, and a dry build binds tokens for the stand-in tensors (gpu.ts)
  return c.model === 'pix2pix' ? { model: 'pix2pix', trainer: stand as unknown as Pix2PixTrainer } : { model: 'cycle_gan', trainer: stand as unknown as CycleGanTrainer };
}
