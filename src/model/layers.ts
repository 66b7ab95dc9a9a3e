/**
 * Custom Keras-style layers the reference's networks need and TF.js lacks.
 * Each is registered for serialization: import this module before `tf.loadLayersModel`.
 */
import * as tf from '@tensorflow/tfjs';

type LayerArgs = ConstructorParameters<typeof tf.layers.Layer>[0];
type Shape = (number | null)[];
type Kwargs = Record<string, unknown>;

const one = (inputs: tf.Tensor | tf.Tensor[]): tf.Tensor => (Array.isArray(inputs) ? inputs[0] : inputs);
const oneShape = (s: Shape | Shape[]): Shape => (Array.isArray(s[0]) ? (s[0] as Shape) : (s as Shape));
const grow = (n: number | null, by: number) => (n === null || n < 0 ? null : n + by);

/** Reflection padding of H and W (PyTorch `nn.ReflectionPad2d(p)`), NHWC. */
export class ReflectionPadding2D extends tf.layers.Layer {
  static className = 'ReflectionPadding2D';
  readonly padding: number;

  constructor(args: LayerArgs & { padding: number }) {
    super(args);
    this.padding = args.padding;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    return [n, grow(h, 2 * this.padding), grow(w, 2 * this.padding), c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const p = this.padding;
    return tf.mirrorPad(one(inputs), [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), padding: this.padding };
  }
}

/**
 * Instance normalisation (PyTorch `nn.InstanceNorm2d` with its defaults): per sample and channel
 * over H and W, no learned scale or offset, no running statistics, so train and test behave alike.
 */
export class InstanceNormalization extends tf.layers.Layer {
  static className = 'InstanceNormalization';
  readonly epsilon: number;

  constructor(args: LayerArgs & { epsilon?: number } = {}) {
    super(args);
    this.epsilon = args.epsilon ?? 1e-5;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const { mean, variance } = tf.moments(x, [1, 2], true);
      return tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, this.epsilon)));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), epsilon: this.epsilon };
  }
}

/**
 * Crops rows from the top and columns from the left. Together with a `valid` transposed conv
 * this gives PyTorch's `ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1)` exactly,
 * which TF's `same` padding does not (it shifts the output by one pixel).
 */
export class CropTopLeft extends tf.layers.Layer {
  static className = 'CropTopLeft';
  readonly crop: number;
  readonly keepEnd: number;

  /** `crop` leading rows/cols are dropped; `keepEnd` trailing rows/cols are dropped too. */
  constructor(args: LayerArgs & { crop: number; keepEnd?: number }) {
    super(args);
    this.crop = args.crop;
    this.keepEnd = args.keepEnd ?? 0;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [n, h, w, c] = oneShape(inputShape);
    const cut = -(this.crop + this.keepEnd);
    return [n, grow(h, cut), grow(w, cut), c];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const x = one(inputs) as tf.Tensor4D;
    const [, h, w] = x.shape;
    const cut = this.crop + this.keepEnd;
    return tf.slice(x, [0, this.crop, this.crop, 0], [-1, h - cut, w - cut, -1]);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), crop: this.crop, keepEnd: this.keepEnd };
  }
}

/**
 * Dropout whose mask comes from a seed the trainer sets once per step, so the same step's
 * forward passes (D update, then G update) see the same mask, as the reference's single forward does.
 * Active whenever the model runs with `training: true` (pix2pix also uses it at test time, as the paper does).
 */
export class StepDropout extends tf.layers.Layer {
  static className = 'StepDropout';
  readonly rate: number;
  /** Seed of the current step's mask; null draws a fresh mask on every call. */
  seed: number | null = null;

  constructor(args: LayerArgs & { rate: number }) {
    super(args);
    this.rate = args.rate;
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return oneShape(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = one(inputs);
    if (kwargs?.['training'] !== true) return tf.clone(x);
    return tf.dropout(x, this.rate, undefined, this.seed ?? undefined);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), rate: this.rate };
  }
}

for (const cls of [ReflectionPadding2D, InstanceNormalization, CropTopLeft, StepDropout]) {
  tf.serialization.registerClass(cls);
}

/** Names of our custom layer classes, as they appear in a saved `model.json`. */
export const CUSTOM_LAYER_NAMES = ['ReflectionPadding2D', 'InstanceNormalization', 'CropTopLeft', 'StepDropout'] as const;
