/** The reference's `ResnetGenerator` (Johnson et al.): downsample twice, n residual blocks, upsample twice. */
import * as tf from '@tensorflow/tfjs';
import { conv, convTranspose, dropout, normLayer, reflectPad, relu, tanh, useBias, zeroPad } from './blocks';
import { CropTopLeft } from './layers';
import type { GeneratorOptions, Norm } from './options';

type Sym = tf.SymbolicTensor;

/** One residual block at `dim` channels: x + (pad, conv3, norm, relu, [dropout], pad, conv3, norm)(x). */
export function resnetBlock(x: Sym, dim: number, norm: Norm, use_dropout: boolean): Sym {
  const bias = useBias(norm);
  let y = reflectPad(x, 1);
  y = relu(normLayer(conv(y, { filters: dim, kernel: 3, bias }), norm));
  if (use_dropout) y = dropout(y);
  y = reflectPad(y, 1);
  y = normLayer(conv(y, { filters: dim, kernel: 3, bias }), norm);
  return tf.layers.add().apply([x, y]) as Sym;
}

/** A stride-2 3x3 conv with zero padding 1 (halves even sides exactly), norm, ReLU. */
function downsample(x: Sym, filters: number, norm: Norm): Sym {
  const y = conv(zeroPad(x, 1), { filters, kernel: 3, stride: 2, bias: useBias(norm) });
  return relu(normLayer(y, norm));
}

/** PyTorch's ConvTranspose2d(3, stride 2, padding 1, output_padding 1) (doubles sides), norm, ReLU. */
function upsample(x: Sym, filters: number, norm: Norm): Sym {
  const full = convTranspose(x, { filters, kernel: 3, stride: 2, bias: useBias(norm) });
  const y = new CropTopLeft({ crop: 1 }).apply(full) as Sym;
  return relu(normLayer(y, norm));
}

/** Builds the ResNet generator with `n_blocks` residual blocks; sides must be multiples of 4. */
export function resnetGenerator(o: GeneratorOptions, n_blocks: number): tf.LayersModel {
  const input = tf.input({ shape: [null, null, o.input_nc], name: 'real' });
  const bias = useBias(o.norm);
  let x = reflectPad(input, 3);
  x = relu(normLayer(conv(x, { filters: o.ngf, kernel: 7, bias }), o.norm));
  x = downsample(x, o.ngf * 2, o.norm);
  x = downsample(x, o.ngf * 4, o.norm);
  for (let i = 0; i < n_blocks; i++) x = resnetBlock(x, o.ngf * 4, o.norm, o.use_dropout);
  x = upsample(x, o.ngf * 2, o.norm);
  x = upsample(x, o.ngf, o.norm);
  x = reflectPad(x, 3);
  x = tanh(conv(x, { filters: o.output_nc, kernel: 7, bias: true }));
  return tf.model({ inputs: input, outputs: x, name: `resnet_${n_blocks}blocks` });
}
