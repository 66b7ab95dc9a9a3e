/** The reference's discriminators: PatchGAN (`basic` / `n_layers`) and per-pixel (`pixel`). No sigmoid: losses take logits. */
import * as tf from '@tensorflow/tfjs';
import { conv, leakyRelu, normLayer, useBias, zeroPad } from './blocks';
import type { DiscriminatorOptions } from './options';

type Sym = tf.SymbolicTensor;

/** A 4x4 conv with zero padding 1 (the reference's `kw=4, padw=1`). */
const conv4 = (x: Sym, filters: number, stride: number, bias: boolean) =>
  conv(zeroPad(x, 1), { filters, kernel: 4, stride, bias });

/** PatchGAN with `n_layers` stride-2 convs; `basic` (n_layers 3) judges 70x70 patches. */
export function nLayerDiscriminator(o: DiscriminatorOptions, n_layers: number): tf.LayersModel {
  const bias = useBias(o.norm);
  const input = tf.input({ shape: [null, null, o.input_nc], name: 'image' });
  let x = leakyRelu(conv4(input, o.ndf, 2, true));
  let nf_mult = 1;
  for (let n = 1; n < n_layers; n++) {
    nf_mult = Math.min(2 ** n, 8);
    x = leakyRelu(normLayer(conv4(x, o.ndf * nf_mult, 2, bias), o.norm));
  }
  nf_mult = Math.min(2 ** n_layers, 8);
  x = leakyRelu(normLayer(conv4(x, o.ndf * nf_mult, 1, bias), o.norm));
  x = conv4(x, 1, 1, true);
  return tf.model({ inputs: input, outputs: x, name: `n_layers_${n_layers}` });
}

/** 1x1 PatchGAN: judges each pixel on its own. */
export function pixelDiscriminator(o: DiscriminatorOptions): tf.LayersModel {
  const bias = useBias(o.norm);
  const input = tf.input({ shape: [null, null, o.input_nc], name: 'image' });
  let x = leakyRelu(conv(input, { filters: o.ndf, kernel: 1, bias: true }));
  x = leakyRelu(normLayer(conv(x, { filters: o.ndf * 2, kernel: 1, bias }), o.norm));
  x = conv(x, { filters: 1, kernel: 1, bias });
  return tf.model({ inputs: input, outputs: x, name: 'pixel' });
}
