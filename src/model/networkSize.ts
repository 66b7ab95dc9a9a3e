/**
 * The size of a run's networks, computed from the options alone (no TF.js, no allocation), so the page can show it
 * and refuse what cannot fit before anything is built: parameters as the reference counts them, and the memory a
 * training step needs (weights, gradients, Adam's moments, the activations the backward pass keeps).
 */
import { unetDowns } from './options';
import type { DiscriminatorOptions, GeneratorOptions, Norm, TrainConfig } from './options';

/** One layer as TF.js builds it: learnable parameters, its largest weight tensor, its output per sample. */
export interface LayerSize {
  /** Where it sits, in words (`down conv 2, 4×4 128→256`). */
  name: string;
  /** Trainable values (kernel, bias, batch norm's scale and offset). */
  params: number;
  /** Values of its largest weight tensor (a conv's kernel). */
  weight: number;
  /** Values it outputs for one image (kept by the gradient tape for the backward pass). */
  output: number;
  /** Non-trainable values it keeps (batch norm's running mean and variance). */
  stats: number;
}

/** A layer list under construction: each helper appends a layer and returns the new (side, channels). */
class Layers {
  readonly list: LayerSize[] = [];
  constructor(private readonly prefix: string) {}
  add(name: string, side: number, channels: number, params = 0, weight = 0, stats = 0): void {
    this.list.push({ name: `${this.prefix} ${name}`, params, weight, output: side * side * channels, stats });
  }
  /** A conv (or transposed conv) of a k×k kernel from cin to cout channels, with or without a bias. */
  conv(name: string, side: number, cin: number, cout: number, k: number, bias: boolean): void {
    const weight = k * k * cin * cout;
    this.add(`${name}, ${k}×${k} ${cin}→${cout}`, side, cout, weight + (bias ? cout : 0), weight);
  }
  /** The norm `--norm` names: batch norm learns 2·C values and keeps 2·C statistics; instance norm learns none. */
  norm(name: string, side: number, channels: number, norm: Norm): void {
    if (norm === 'batch') this.add(`${name} norm`, side, channels, 2 * channels, channels, 2 * channels);
    else if (norm === 'instance') this.add(`${name} norm`, side, channels);
  }
}

/** The reference's `use_bias`: true only under instance norm. */
const useBias = (norm: Norm) => norm === 'instance';

function resnetLayers(o: GeneratorOptions, side: number, blocks: number, prefix: string): LayerSize[] {
  const L = new Layers(prefix);
  const bias = useBias(o.norm);
  const { ngf } = o;
  L.add('reflection pad 3', side + 6, o.input_nc);
  L.conv('first conv', side, o.input_nc, ngf, 7, bias);
  L.norm('first', side, ngf, o.norm);
  L.add('first relu', side, ngf);
  let s = side;
  let c = ngf;
  for (let i = 1; i <= 2; i++) {
    L.add(`down ${i} zero pad`, s + 2, c);
    s = Math.floor((s + 2 - 3) / 2) + 1;
    L.conv(`down conv ${i}`, s, c, c * 2, 3, bias);
    c *= 2;
    L.norm(`down ${i}`, s, c, o.norm);
    L.add(`down ${i} relu`, s, c);
  }
  for (let b = 1; b <= blocks; b++) {
    for (const half of [1, 2]) {
      L.add(`block ${b} pad ${half}`, s + 2, c);
      L.conv(`block ${b} conv ${half}`, s, c, c, 3, bias);
      L.norm(`block ${b} ${half}`, s, c, o.norm);
      if (half === 1) L.add(`block ${b} relu`, s, c);
      if (half === 1 && o.use_dropout) L.add(`block ${b} dropout`, s, c);
    }
    L.add(`block ${b} add`, s, c);
  }
  for (let i = 1; i <= 2; i++) {
    // a valid transposed conv gives 2s+1, cropped to 2s: PyTorch's ConvTranspose2d(3, 2, 1, output_padding 1)
    L.conv(`up conv ${i}`, 2 * s + 1, c, c / 2, 3, bias);
    s *= 2;
    c /= 2;
    L.add(`up ${i} crop`, s, c);
    L.norm(`up ${i}`, s, c, o.norm);
    L.add(`up ${i} relu`, s, c);
  }
  L.add('last reflection pad 3', s + 6, c);
  L.conv('last conv', s, c, o.output_nc, 7, true);
  L.add('tanh', s, o.output_nc);
  return L.list;
}

function unetLayers(o: GeneratorOptions, side: number, downs: number, prefix: string): LayerSize[] {
  const L = new Layers(prefix);
  const bias = useBias(o.norm);
  const { ngf } = o;
  // outer and inner channels of each level, from the outermost in (as unetGenerator nests them)
  const inner = (i: number) => ngf * Math.min(2 ** i, 8);
  const outer = (i: number) => (i === 0 ? o.output_nc : inner(i - 1));
  const input = (i: number) => (i === 0 ? o.input_nc : inner(i - 1));
  const dropoutLevels = (i: number) => o.use_dropout && i >= 4 && i < downs - 1;
  const sides = Array.from({ length: downs + 1 }, (_, i) => Math.ceil(side / 2 ** i));
  // down path: level i turns side s_i into s_{i+1}
  for (let i = 0; i < downs; i++) {
    if (i > 0) L.add(`level ${i} leaky relu`, sides[i], input(i));
    L.conv(`level ${i} down conv`, sides[i + 1], input(i), inner(i), 4, bias);
    if (i > 0 && i < downs - 1) L.norm(`level ${i} down`, sides[i + 1], inner(i), o.norm);
  }
  // up path, from the innermost out: the up conv sees the level below's concat (2·inner), or the down conv at the bottom
  for (let i = downs - 1; i >= 0; i--) {
    const cin = i === downs - 1 ? inner(i) : 2 * inner(i);
    L.add(`level ${i} relu`, sides[i + 1], cin);
    L.conv(`level ${i} up conv`, sides[i], cin, outer(i), 4, i === 0 ? true : bias);
    if (i === 0) {
      L.add('tanh', sides[0], outer(0));
      continue;
    }
    L.norm(`level ${i} up`, sides[i], outer(i), o.norm);
    if (dropoutLevels(i)) L.add(`level ${i} dropout`, sides[i], outer(i));
    L.add(`level ${i} concat`, sides[i], 2 * outer(i));
  }
  return L.list;
}

/** The layers of `define_G` for these options at a square side (sides smaller than the network's multiple round up). */
export function generatorLayers(o: GeneratorOptions, side: number, prefix = 'netG'): LayerSize[] {
  const downs = unetDowns(o.netG);
  if (downs !== null) return unetLayers(o, side, downs, prefix);
  return resnetLayers(o, side, o.netG === 'resnet_9blocks' ? 9 : 6, prefix);
}

/** The layers of `define_D` for these options at a square side. */
export function discriminatorLayers(o: DiscriminatorOptions, side: number, prefix = 'netD'): LayerSize[] {
  const L = new Layers(prefix);
  const bias = useBias(o.norm);
  if (o.netD === 'pixel') {
    L.conv('conv 1', side, o.input_nc, o.ndf, 1, true);
    L.add('leaky relu 1', side, o.ndf);
    L.conv('conv 2', side, o.ndf, 2 * o.ndf, 1, bias);
    L.norm('conv 2', side, 2 * o.ndf, o.norm);
    L.add('leaky relu 2', side, 2 * o.ndf);
    L.conv('conv 3', side, 2 * o.ndf, 1, 1, bias);
    return L.list;
  }
  const n_layers = o.netD === 'basic' ? 3 : o.n_layers_D;
  let s = side;
  let c = o.input_nc;
  // 4×4 convs with zero padding 1: stride 2 for the first n_layers, then stride 1 twice (the last to one channel)
  const step = (name: string, cout: number, stride: number, withBias: boolean, normed: boolean, last = false) => {
    L.add(`${name} zero pad`, s + 2, c);
    s = Math.max(0, Math.floor((s + 2 - 4) / stride) + 1);
    L.conv(name, s, c, cout, 4, withBias);
    c = cout;
    if (normed) L.norm(name, s, c, o.norm);
    if (!last) L.add(`${name} leaky relu`, s, c);
  };
  step('conv 1', o.ndf, 2, true, false);
  for (let n = 1; n < n_layers; n++) step(`conv ${n + 1}`, o.ndf * Math.min(2 ** n, 8), 2, bias, true);
  step(`conv ${n_layers + 1}`, o.ndf * Math.min(2 ** n_layers, 8), 1, bias, true);
  step(`conv ${n_layers + 2}`, 1, 1, true, false, true);
  return L.list;
}

/** Trainable parameters of a layer list: what `countParams` (PyTorch's `net.parameters()`) gives. */
export const paramsOf = (layers: LayerSize[]): number => layers.reduce((n, l) => n + l.params, 0);

/**
 * Copies of the weights TF.js's step holds on top of the weights and Adam's moments: the gradients, the partial
 * gradients it sums where a network runs more than once in a step, and Adam's temporaries. Fitted with
 * ACTIVATION_FACTOR to tf.profile's peak bytes of 22 steps on TF.js's CPU backend (every netG and norm, 32 to 128
 * px, batch 1 to 4): the estimate came within 0.83–1.17 of each (networkSize.test.ts holds five to 25%).
 */
export const GRADIENT_COPIES = 3.5;

/**
 * The gradient tape keeps every layer's output until the backward pass reaches it, and each layer keeps its own
 * intermediates besides (batch norm its centred input and variance; the backward pass the gradients it is working
 * through): the same fit puts the bytes at this multiple of the layer outputs.
 */
export const ACTIVATION_FACTOR: Record<Norm, number> = { batch: 4.7, instance: 3.3, none: 2.4 };

/** Bytes of a float32. */
const F32 = 4;

/** What a run's training step holds in memory, and its largest single tensor. */
export interface RunSize {
  /** Each network the trainer builds, with its parameter count (CycleGAN: netG_A, netG_B, netD_A, netD_B). */
  networks: { name: string; params: number }[];
  /** Trainable parameters of all networks together. */
  params: number;
  /** Estimated bytes: weights (with batch norm's statistics), gradients and their temporaries, Adam's two moments, kept activations. */
  bytes: { weights: number; gradients: number; adam: number; activations: number; total: number };
  /** The largest single tensor a step makes (a weight, or an activation of a whole batch), in bytes, and what it is. */
  largest: { bytes: number; what: string };
}

/**
 * The size of a training step of `t` on square images of side `side`, `batch` images per step. Memory counts
 * 4 bytes for each weight, each of Adam's two moments and `GRADIENT_COPIES` gradients, plus the layer outputs of
 * the step's heavier half (pix2pix: G and D for G's update, or D twice for D's; CycleGAN: every G pass and both Ds
 * for G's update) times the batch and `ACTIVATION_FACTOR`. The dataset's images (on the device too) are not counted.
 */
export function runSize(t: TrainConfig, side: number, batch: number): RunSize {
  const g = (input_nc: number, output_nc: number, name: string) =>
    generatorLayers({ input_nc, output_nc, ngf: t.ngf, netG: t.netG, norm: t.norm, use_dropout: !t.no_dropout }, side, name);
  const d = (input_nc: number, name: string) => discriminatorLayers({ input_nc, ndf: t.ndf, netD: t.netD, n_layers_D: t.n_layers_D, norm: t.norm }, side, name);
  const out = (layers: LayerSize[]) => layers.reduce((n, l) => n + l.output, 0);
  let nets: LayerSize[][];
  let keptPerImage: number;
  /** Images in the largest single pass (CycleGAN batches the passes that share weights, except under batch norm). */
  let passImages = batch;
  if (t.model === 'pix2pix') {
    const G = g(t.input_nc, t.output_nc, 'netG');
    const D = d(t.input_nc + t.output_nc, 'netD');
    nets = [G, D];
    keptPerImage = Math.max(out(G) + out(D), 2 * out(D));
  } else {
    const GA = g(t.input_nc, t.output_nc, 'netG_A');
    const GB = g(t.output_nc, t.input_nc, 'netG_B');
    const DA = d(t.output_nc, 'netD_A');
    const DB = d(t.input_nc, 'netD_B');
    nets = [GA, GB, DA, DB];
    const identity = t.lambda_identity > 0;
    // G's update: G_A(A), G_B(B), G_B(G_A(A)), G_A(G_B(B)) [, G_A(B), G_B(A)], then D_A and D_B on the fakes
    const gPasses = (out(GA) + out(GB)) * (identity ? 3 : 2);
    keptPerImage = Math.max(gPasses + out(DA) + out(DB), 2 * (out(DA) + out(DB)));
    if (t.norm !== 'batch') passImages = batch * (identity ? 3 : 2);
  }
  const all = nets.flat();
  const params = paramsOf(all);
  const stats = all.reduce((n, l) => n + l.stats, 0);
  const activations = Math.ceil(keptPerImage * batch * F32 * ACTIVATION_FACTOR[t.norm]);
  const weights = (params + stats) * F32;
  const bytes = { weights, gradients: GRADIENT_COPIES * params * F32, adam: 2 * params * F32, activations, total: 0 };
  bytes.total = bytes.weights + bytes.gradients + bytes.adam + bytes.activations;
  const heaviestWeight = all.reduce((a, l) => (l.weight > a.weight ? l : a));
  const heaviestOutput = all.reduce((a, l) => (l.output > a.output ? l : a));
  const outputImages = heaviestOutput.name.startsWith('netG') ? passImages : batch;
  const largest =
    heaviestWeight.weight >= heaviestOutput.output * outputImages
      ? { bytes: heaviestWeight.weight * F32, what: `the weights of ${heaviestWeight.name}` }
      : { bytes: heaviestOutput.output * outputImages * F32, what: `the output of ${heaviestOutput.name} for ${outputImages} image${outputImages > 1 ? 's' : ''}` };
  return { networks: nets.map((layers) => ({ name: layers[0].name.split(' ')[0], params: paramsOf(layers) })), params, bytes, largest };
}
