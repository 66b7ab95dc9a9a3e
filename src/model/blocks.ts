/** Building blocks shared by the networks: convs with the reference's init, norms, activations. */
import * as tf from '@tensorflow/tfjs';
import { InstanceNormalization, ReflectionPadding2D, StepDropout } from './layers';
import type { Norm } from './options';

type Sym = tf.SymbolicTensor;

/** Conv weights ~ N(0, 0.02), as the reference's `init_weights('normal', 0.02)`. */
const weightInit = () => tf.initializers.randomNormal({ mean: 0, stddev: 0.02 });

/** The reference's `use_bias`: convs followed by a norm carry a bias only under instance norm. */
export const useBias = (norm: Norm): boolean => norm === 'instance';

/** Options of one conv layer. */
export interface ConvSpec {
  filters: number;
  kernel: number;
  stride?: number;
  bias: boolean;
  /** `valid`, or `same` where TF's same equals the reference's padding (k=4, stride 2, even sides). */
  padding?: 'valid' | 'same';
  name?: string;
}

/** Keras args of a conv layer from a spec, biases initialised to zero. */
const convArgs = (s: ConvSpec) => ({
  filters: s.filters,
  kernelSize: s.kernel,
  strides: s.stride ?? 1,
  padding: s.padding ?? 'valid',
  useBias: s.bias,
  kernelInitializer: weightInit(),
  biasInitializer: 'zeros' as const,
  name: s.name,
});

/** A 2-D convolution. */
export const conv = (x: Sym, s: ConvSpec): Sym => tf.layers.conv2d(convArgs(s)).apply(x) as Sym;

/** A 2-D transposed convolution. */
export const convTranspose = (x: Sym, s: ConvSpec): Sym => tf.layers.conv2dTranspose(convArgs(s)).apply(x) as Sym;

/** Zero padding of H and W by p on each side (PyTorch's conv `padding=p`). */
export const zeroPad = (x: Sym, p: number): Sym => tf.layers.zeroPadding2d({ padding: p }).apply(x) as Sym;

/** Reflection padding of H and W by p on each side. */
export const reflectPad = (x: Sym, p: number): Sym => new ReflectionPadding2D({ padding: p }).apply(x) as Sym;

/** The norm layer `--norm` names; `none` is the identity. */
export function normLayer(x: Sym, norm: Norm): Sym {
  switch (norm) {
    case 'instance':
      return new InstanceNormalization({ epsilon: 1e-5 }).apply(x) as Sym;
    case 'batch':
      // PyTorch momentum 0.1 is Keras momentum 0.9; scale ~ N(1, 0.02) as the reference initialises it.
      return tf.layers
        .batchNormalization({
          axis: -1,
          momentum: 0.9,
          epsilon: 1e-5,
          gammaInitializer: tf.initializers.randomNormal({ mean: 1, stddev: 0.02 }),
          betaInitializer: 'zeros',
        })
        .apply(x) as Sym;
    case 'none':
      return x;
  }
}

export const relu = (x: Sym): Sym => tf.layers.reLU().apply(x) as Sym;
export const leakyRelu = (x: Sym): Sym => tf.layers.leakyReLU({ alpha: 0.2 }).apply(x) as Sym;
export const tanh = (x: Sym): Sym => tf.layers.activation({ activation: 'tanh' }).apply(x) as Sym;
export const dropout = (x: Sym): Sym => new StepDropout({ rate: 0.5 }).apply(x) as Sym;
