/** The reference's `UnetGenerator`: an encoder-decoder with skip connections between mirrored levels. */
import * as tf from '@tensorflow/tfjs';
import { conv, convTranspose, dropout, leakyRelu, normLayer, relu, tanh, useBias } from './blocks';
import type { GeneratorOptions, Norm } from './options';

type Sym = tf.SymbolicTensor;

/** One level of the U-Net, from outside in; `inner` builds the levels below it. */
interface Level {
  /** Channels this level outputs (the level above's width). */
  outer_nc: number;
  /** Channels of this level's down conv. */
  inner_nc: number;
  outermost?: boolean;
  innermost?: boolean;
  use_dropout?: boolean;
}

// k=4, stride 2 with TF's `same` padding pads 1 on each side of an even side: the reference's padding=1.
const down4 = (x: Sym, filters: number, bias: boolean) => conv(x, { filters, kernel: 4, stride: 2, bias, padding: 'same' });
const up4 = (x: Sym, filters: number, bias: boolean) =>
  convTranspose(x, { filters, kernel: 4, stride: 2, bias, padding: 'same' });

/** The reference's `UnetSkipConnectionBlock`: down, the levels inside, up, then concat(skip, up). */
export function unetSkipBlock(x: Sym, level: Level, norm: Norm, inner: ((x: Sym) => Sym) | null): Sym {
  const bias = useBias(norm);
  if (level.outermost) {
    const d = down4(x, level.inner_nc, bias);
    const u = up4(relu(inner!(d)), level.outer_nc, true);
    return tanh(u);
  }
  if (level.innermost) {
    const d = down4(leakyRelu(x), level.inner_nc, bias);
    const u = normLayer(up4(relu(d), level.outer_nc, bias), norm);
    return tf.layers.concatenate({ axis: -1 }).apply([x, u]) as Sym;
  }
  const d = normLayer(down4(leakyRelu(x), level.inner_nc, bias), norm);
  let u = normLayer(up4(relu(inner!(d)), level.outer_nc, bias), norm);
  if (level.use_dropout) u = dropout(u);
  return tf.layers.concatenate({ axis: -1 }).apply([x, u]) as Sym;
}

/** Builds a U-Net with `num_downs` downsamplings (8 for unet_256); sides must be multiples of 2^num_downs. */
export function unetGenerator(o: GeneratorOptions, num_downs: number): tf.LayersModel {
  if (num_downs < 5) throw new Error(`a U-Net needs at least 5 downsamplings, got ${num_downs}`);
  const { ngf, norm } = o;
  // Levels from the outermost inwards, as the reference nests them.
  const levels: Level[] = [
    { outer_nc: o.output_nc, inner_nc: ngf, outermost: true },
    { outer_nc: ngf, inner_nc: ngf * 2 },
    { outer_nc: ngf * 2, inner_nc: ngf * 4 },
    { outer_nc: ngf * 4, inner_nc: ngf * 8 },
    ...Array.from({ length: num_downs - 5 }, () => ({ outer_nc: ngf * 8, inner_nc: ngf * 8, use_dropout: o.use_dropout })),
    { outer_nc: ngf * 8, inner_nc: ngf * 8, innermost: true },
  ];
  const build = (i: number) => (x: Sym): Sym =>
    unetSkipBlock(x, levels[i], norm, i + 1 < levels.length ? build(i + 1) : null);
  const input = tf.input({ shape: [null, null, o.input_nc], name: 'real' });
  return tf.model({ inputs: input, outputs: build(0)(input), name: `unet_${2 ** num_downs}` });
}
