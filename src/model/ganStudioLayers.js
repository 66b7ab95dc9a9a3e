/**
 * GAN Studio's custom Keras layers for TensorFlow.js, in plain JavaScript so that exported models ship this
 * very file: call `registerGanStudioLayers(tf)` once, then `tf.loadLayersModel(...)` loads our generators.
 * - ReflectionPadding2D: PyTorch's nn.ReflectionPad2d (H and W, NHWC).
 * - InstanceNormalization: PyTorch's nn.InstanceNorm2d defaults (no affine, no running statistics, eps 1e-5).
 * - CropTopLeft: drops leading (and trailing) rows/cols; with a `valid` transposed conv it equals PyTorch's
 *   ConvTranspose2d(k=3, stride=2, padding=1, output_padding=1).
 * - StepDropout: dropout active when the model runs with `training: true`, with a seed the trainer sets per step.
 * And `runAtAnySize(tf, net, images, multiple)`: a generator on an image of any size, padded and cropped back.
 */

const one = (inputs) => (Array.isArray(inputs) ? inputs[0] : inputs);
const oneShape = (s) => (Array.isArray(s[0]) ? s[0] : s);
const grow = (n, by) => (n === null || n === undefined || n < 0 ? null : n + by);

const defined = new WeakMap();

/** Defines and registers the layers on this `tf`; returns the classes. Safe to call more than once. */
export function registerGanStudioLayers(tf) {
  // keyed by tf.layers: a module namespace object cannot carry our own properties
  if (defined.has(tf.layers)) return defined.get(tf.layers);

  class ReflectionPadding2D extends tf.layers.Layer {
    static className = 'ReflectionPadding2D';
    constructor(args) {
      super(args);
      this.padding = args.padding;
    }
    computeOutputShape(inputShape) {
      const [n, h, w, c] = oneShape(inputShape);
      return [n, grow(h, 2 * this.padding), grow(w, 2 * this.padding), c];
    }
    call(inputs) {
      const p = this.padding;
      return tf.mirrorPad(one(inputs), [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
    }
    getConfig() {
      return { ...super.getConfig(), padding: this.padding };
    }
  }

  /**
   * (x − mean) / sqrt(var + eps) per sample and channel, with its gradient written out: 7 kernels back instead of
   * the ~25 that differentiating mean, variance and rsqrt op by op takes. dx = rstd · (dy − mean(dy) − y · mean(dy · y)).
   */
  const instanceNorm = (x, epsilon) =>
    tf.customGrad((x, save) => {
      const centred = tf.sub(x, tf.mean(x, [1, 2], true));
      const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centred), [1, 2], true), epsilon));
      const y = tf.mul(centred, rstd);
      save([y, rstd]);
      return {
        value: y,
        gradFunc: (dy, [y, rstd]) => {
          const dyMean = tf.mean(dy, [1, 2], true);
          const dyYMean = tf.mean(tf.mul(dy, y), [1, 2], true);
          return tf.mul(tf.sub(tf.sub(dy, dyMean), tf.mul(y, dyYMean)), rstd);
        },
      };
    })(x);

  class InstanceNormalization extends tf.layers.Layer {
    static className = 'InstanceNormalization';
    constructor(args = {}) {
      super(args);
      this.epsilon = args.epsilon ?? 1e-5;
    }
    computeOutputShape(inputShape) {
      return oneShape(inputShape);
    }
    call(inputs) {
      return tf.tidy(() => instanceNorm(one(inputs), this.epsilon));
    }
    getConfig() {
      return { ...super.getConfig(), epsilon: this.epsilon };
    }
  }

  class CropTopLeft extends tf.layers.Layer {
    static className = 'CropTopLeft';
    constructor(args) {
      super(args);
      this.crop = args.crop;
      this.keepEnd = args.keepEnd ?? 0;
    }
    computeOutputShape(inputShape) {
      const [n, h, w, c] = oneShape(inputShape);
      const cut = -(this.crop + this.keepEnd);
      return [n, grow(h, cut), grow(w, cut), c];
    }
    call(inputs) {
      const x = one(inputs);
      const [, h, w] = x.shape;
      const cut = this.crop + this.keepEnd;
      return tf.slice(x, [0, this.crop, this.crop, 0], [-1, h - cut, w - cut, -1]);
    }
    getConfig() {
      return { ...super.getConfig(), crop: this.crop, keepEnd: this.keepEnd };
    }
  }

  class StepDropout extends tf.layers.Layer {
    static className = 'StepDropout';
    constructor(args) {
      super(args);
      this.rate = args.rate;
      this.seed = null;
    }
    computeOutputShape(inputShape) {
      return oneShape(inputShape);
    }
    call(inputs, kwargs) {
      const x = one(inputs);
      if (!kwargs || kwargs.training !== true) return tf.clone(x);
      return tf.dropout(x, this.rate, undefined, this.seed ?? undefined);
    }
    getConfig() {
      return { ...super.getConfig(), rate: this.rate };
    }
  }

  const classes = { ReflectionPadding2D, InstanceNormalization, CropTopLeft, StepDropout };
  for (const cls of Object.values(classes)) tf.serialization.registerClass(cls);
  defined.set(tf.layers, classes);
  return classes;
}

/**
 * Runs a generator on images of any size, as GAN Studio's own translation does: reflect-pads H and W up to a
 * multiple of `multiple` (the padding split evenly, the smaller half before), applies `net`, crops back to the
 * input's size. `images`: float32 in [-1, 1], NHWC or one HWC image (the result has the same rank).
 */
export function runAtAnySize(tf, net, images, multiple, { training = false } = {}) {
  return tf.tidy(() => {
    const x = images.rank === 3 ? tf.expandDims(images) : images;
    const [, h, w] = x.shape;
    const ph = (multiple - (h % multiple)) % multiple;
    const pw = (multiple - (w % multiple)) % multiple;
    const out = net.apply(padReflect(tf, x, ph, pw), { training });
    const y = ph === 0 && pw === 0 ? out : tf.slice(out, [0, Math.floor(ph / 2), Math.floor(pw / 2), 0], [-1, h, w, -1]);
    return images.rank === 3 ? tf.squeeze(y, [0]) : y;
  });
}

/** Reflect-pads by ph rows and pw columns in total, split evenly (the smaller half before). */
function padReflect(tf, x, ph, pw) {
  return padAxis(tf, padAxis(tf, x, 1, Math.floor(ph / 2), ph - Math.floor(ph / 2)), 2, Math.floor(pw / 2), pw - Math.floor(pw / 2));
}

/** Reflect-pads one axis, in several passes when the side is small (a pass adds at most side − 1). */
function padAxis(tf, x, axis, before, after) {
  let y = x;
  while (before > 0 || after > 0) {
    const side = y.shape[axis];
    // a 1-pixel side has nothing to reflect: it repeats
    const mode = side === 1 ? 'symmetric' : 'reflect';
    const limit = side === 1 ? 1 : side - 1;
    const b = Math.min(before, limit);
    const a = Math.min(after, limit);
    const pads = [[0, 0], [0, 0], [0, 0], [0, 0]];
    pads[axis] = [b, a];
    y = tf.mirrorPad(y, pads, mode);
    before -= b;
    after -= a;
  }
  return y;
}
