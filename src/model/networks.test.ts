import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { countParams, createDiscriminator, createGenerator } from './index';
import type { DiscriminatorOptions, GeneratorOptions } from './index';

const paramsOfG = (o: Partial<GeneratorOptions>) => {
  const net = createGenerator(o);
  const n = countParams(net);
  net.dispose();
  return n;
};
const paramsOfD = (o: Partial<DiscriminatorOptions>) => {
  const net = createDiscriminator(o);
  const n = countParams(net);
  net.dispose();
  return n;
};

describe('parameter counts equal the reference networks', () => {
  it('resnet_9blocks, ngf 64, instance: 11,378,179', () => {
    expect(paramsOfG({ netG: 'resnet_9blocks', ngf: 64, norm: 'instance' })).toBe(11_378_179);
  });
  it('resnet_6blocks, ngf 64, instance: 7,837,699', () => {
    expect(paramsOfG({ netG: 'resnet_6blocks', ngf: 64, norm: 'instance' })).toBe(7_837_699);
  });
  it('unet_256, ngf 64, batch: 54,413,955', () => {
    expect(paramsOfG({ netG: 'unet_256', ngf: 64, norm: 'batch', use_dropout: true })).toBe(54_413_955);
  });
  it('unet_128, ngf 64, batch: 41,828,995', () => {
    expect(paramsOfG({ netG: 'unet_128', ngf: 64, norm: 'batch', use_dropout: true })).toBe(41_828_995);
  });
  it('basic D, ndf 64, 3 channels, instance: 2,764,737', () => {
    expect(paramsOfD({ netD: 'basic', input_nc: 3, ndf: 64, norm: 'instance' })).toBe(2_764_737);
  });
  it('basic D, ndf 64, 6 channels, batch: 2,768,705', () => {
    expect(paramsOfD({ netD: 'basic', input_nc: 6, ndf: 64, norm: 'batch' })).toBe(2_768_705);
  });
  it('n_layers with n_layers_D 3 is basic', () => {
    expect(paramsOfD({ netD: 'n_layers', n_layers_D: 3, ndf: 16 })).toBe(paramsOfD({ netD: 'basic', ndf: 16 }));
  });
  it('pixel D follows use_bias: its first conv is biased, the others only under instance norm', () => {
    // 3·64+64  +  64·128(+128 bias under instance)  +  128·1(+1)
    expect(paramsOfD({ netD: 'pixel', ndf: 64, norm: 'instance' })).toBe(3 * 64 + 64 + 64 * 128 + 128 + 128 + 1);
    // batch: the norm's scale and offset (2·128) replace both biases
    expect(paramsOfD({ netD: 'pixel', ndf: 64, norm: 'batch' })).toBe(3 * 64 + 64 + 64 * 128 + 2 * 128 + 128);
  });
});

describe('shapes', () => {
  for (const netG of ['resnet_6blocks', 'resnet_9blocks'] as const) {
    it(`${netG} maps N×H×W×3 to the same size (non-square too)`, () => {
      const g = createGenerator({ netG, ngf: 4 });
      const y = tf.tidy(() => g.predict(tf.zeros([2, 20, 36, 3])) as tf.Tensor);
      expect(y.shape).toEqual([2, 20, 36, 3]);
      tf.dispose([y]);
      g.dispose();
    });
  }
  for (const [netG, side] of [['unet_128', 128], ['unet_256', 256], ['unet_32', 32], ['unet_64', 64]] as const) {
    it(`${netG} maps ${side}×${side} to the same size`, () => {
      const g = createGenerator({ netG, ngf: 2, norm: 'batch', use_dropout: true });
      const y = tf.tidy(() => g.predict(tf.zeros([1, side, side * 2, 3])) as tf.Tensor);
      expect(y.shape).toEqual([1, side, side * 2, 3]);
      y.dispose();
      g.dispose();
    });
  }
  it('generator output lies in [-1, 1] (tanh)', () => {
    const g = createGenerator({ netG: 'resnet_6blocks', ngf: 4 });
    const y = tf.tidy(() => g.predict(tf.randomNormal([1, 16, 16, 3], 0, 3)) as tf.Tensor);
    const [lo, hi] = [y.min().arraySync() as number, y.max().arraySync() as number];
    expect(lo).toBeGreaterThanOrEqual(-1);
    expect(hi).toBeLessThanOrEqual(1);
    y.dispose();
    g.dispose();
  });
  it('basic D maps 256×256 to 30×30×1', () => {
    const d = createDiscriminator({ netD: 'basic', ndf: 4 });
    const y = tf.tidy(() => d.predict(tf.zeros([1, 256, 256, 3])) as tf.Tensor);
    expect(y.shape).toEqual([1, 30, 30, 1]);
    y.dispose();
    d.dispose();
  });
  it('pixel D keeps the spatial size', () => {
    const d = createDiscriminator({ netD: 'pixel', ndf: 4 });
    const y = tf.tidy(() => d.predict(tf.zeros([1, 24, 24, 3])) as tf.Tensor);
    expect(y.shape).toEqual([1, 24, 24, 1]);
    y.dispose();
    d.dispose();
  });
});

describe('receptive field of the basic PatchGAN is 70×70', () => {
  // Walking back through the five 4x4 convs (pad 1; strides 2, 2, 2, 1, 1), cell i sees input rows 8i − 23 … 8i + 46.
  // With instance norm every cell depends on the whole image, so this test uses norm 'none' (the field is a property of the convs).
  const d = createDiscriminator({ netD: 'basic', ndf: 4, norm: 'none' });
  const base = tf.randomUniform([1, 128, 128, 3], -1, 1, 'float32', 7);
  const cell = (img: tf.Tensor) => tf.tidy(() => (d.predict(img) as tf.Tensor).slice([0, 5, 5, 0], [1, 1, 1, 1]).dataSync()[0]);
  const perturbed = (r: number, c: number) =>
    tf.tidy(() => {
      const delta = tf.scatterND([[0, r, c, 0]], [5], [1, 128, 128, 3]);
      return base.add(delta);
    });
  const before = cell(base);
  // Cell (5, 5) sees input rows and cols 17 … 86: 70 pixels.
  it('a pixel just inside the field changes the cell', () => {
    for (const [r, c] of [[17, 17], [86, 86], [17, 86], [50, 50]]) {
      const x = perturbed(r, c);
      expect(cell(x)).not.toBe(before); // the effect of a corner pixel through five 0.02-scaled convs is tiny but nonzero
      x.dispose();
    }
  });
  it('a pixel just outside the field does not', () => {
    for (const [r, c] of [[16, 50], [87, 50], [50, 16], [50, 87], [0, 0], [127, 127]]) {
      const x = perturbed(r, c);
      expect(cell(x)).toBe(before);
      x.dispose();
    }
  });
});
