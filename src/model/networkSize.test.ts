import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParams, createDiscriminator, createGenerator, createTrainer, resolveConfig } from './index';
import type { DiscriminatorOptions, GeneratorOptions, TrainConfig } from './index';
import { discriminatorLayers, generatorLayers, paramsOf, runSize } from './networkSize';

const G = (o: Partial<GeneratorOptions>): GeneratorOptions => ({ input_nc: 3, output_nc: 3, ngf: 64, netG: 'resnet_9blocks', norm: 'instance', use_dropout: false, ...o });
const D = (o: Partial<DiscriminatorOptions>): DiscriminatorOptions => ({ input_nc: 3, ndf: 64, netD: 'basic', n_layers_D: 3, norm: 'instance', ...o });

describe('parameter counts without TF.js', () => {
  it("equal the reference's networks", () => {
    expect(paramsOf(generatorLayers(G({ netG: 'resnet_9blocks' }), 256))).toBe(11_378_179);
    expect(paramsOf(generatorLayers(G({ netG: 'resnet_6blocks' }), 256))).toBe(7_837_699);
    expect(paramsOf(generatorLayers(G({ netG: 'unet_256', norm: 'batch', use_dropout: true }), 256))).toBe(54_413_955);
    expect(paramsOf(generatorLayers(G({ netG: 'unet_128', norm: 'batch', use_dropout: true }), 128))).toBe(41_828_995);
    expect(paramsOf(discriminatorLayers(D({ input_nc: 3, norm: 'instance' }), 256))).toBe(2_764_737);
    expect(paramsOf(discriminatorLayers(D({ input_nc: 6, norm: 'batch' }), 256))).toBe(2_768_705);
  });

  // pairwise: every netG, netD and norm at least once, channel counts that differ, dropout on and off
  const generators: Partial<GeneratorOptions>[] = [
    { netG: 'resnet_9blocks', ngf: 3, norm: 'batch', input_nc: 1, output_nc: 3 },
    { netG: 'resnet_6blocks', ngf: 5, norm: 'none', use_dropout: true },
    { netG: 'resnet_6blocks', ngf: 4, norm: 'instance', input_nc: 4, output_nc: 2 },
    { netG: 'unet_256', ngf: 2, norm: 'instance', use_dropout: true },
    { netG: 'unet_128', ngf: 3, norm: 'none', input_nc: 2, output_nc: 1 },
    { netG: 'unet_64', ngf: 4, norm: 'batch', use_dropout: true },
    { netG: 'unet_32', ngf: 6, norm: 'instance', input_nc: 3, output_nc: 1 },
    { netG: 'unet_32', ngf: 4, norm: 'none' },
  ];
  for (const o of generators) {
    it(`agree with the TF.js model the engine builds: G ${JSON.stringify(o)}`, () => {
      const net = createGenerator(o);
      expect(paramsOf(generatorLayers(G(o), 32))).toBe(countParams(net));
      net.dispose();
    });
  }
  const discriminators: Partial<DiscriminatorOptions>[] = [
    { netD: 'basic', ndf: 3, norm: 'none', input_nc: 6 },
    { netD: 'n_layers', n_layers_D: 2, ndf: 4, norm: 'batch' },
    { netD: 'n_layers', n_layers_D: 5, ndf: 2, norm: 'instance', input_nc: 1 },
    { netD: 'pixel', ndf: 5, norm: 'batch', input_nc: 4 },
    { netD: 'pixel', ndf: 3, norm: 'none' },
    { netD: 'pixel', ndf: 4, norm: 'instance', input_nc: 6 },
  ];
  for (const o of discriminators) {
    it(`agree with the TF.js model the engine builds: D ${JSON.stringify(o)}`, () => {
      const net = createDiscriminator(o);
      expect(paramsOf(discriminatorLayers(D(o), 64))).toBe(countParams(net));
      net.dispose();
    });
  }

  it('per network, as each trainer builds them: pix2pix D sees A and B, CycleGAN has two of each', () => {
    const configs: Partial<TrainConfig>[] = [
      { model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 3, netD: 'pixel', input_nc: 1, output_nc: 3 },
      { model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 3, ndf: 2, netD: 'n_layers', n_layers_D: 2, norm: 'batch', input_nc: 1, output_nc: 2, lambda_identity: 0 },
    ];
    for (const c of configs) {
      const t = createTrainer(c);
      const size = runSize(t.config, 32, 1);
      expect(Object.fromEntries(size.networks.map((n) => [n.name, n.params]))).toEqual(Object.fromEntries(Object.entries(t.models).map(([k, m]) => [k, countParams(m)])));
      expect(size.params).toBe(Object.values(t.models).reduce((n, m) => n + countParams(m), 0));
      t.dispose();
    }
  });
});

describe('layer outputs', () => {
  /** Values of each conv's output in the TF.js model at a side, largest first. */
  const convOutputs = (net: tf.LayersModel, side: number, channels: number) => {
    const convs = net.layers.filter((l) => /^conv2d/i.test(l.getClassName()));
    const probe = tf.model({ inputs: net.inputs, outputs: convs.map((l) => l.output as tf.SymbolicTensor) });
    const outs = tf.tidy(() => [probe.predict(tf.zeros([1, side, side, channels]))].flat() as tf.Tensor[]);
    const sizes = outs.map((t) => t.size).sort((a, b) => b - a);
    tf.dispose(outs);
    return sizes;
  };
  // convs are the layers named with their kernel
  const ours = (layers: { name: string; output: number }[]) => layers.filter((l) => /, \d+×\d+ /.test(l.name)).map((l) => l.output).sort((a, b) => b - a);

  it('of every conv match the TF.js model at the training size', () => {
    for (const [o, side] of [[{ netG: 'resnet_6blocks', ngf: 2 }, 24], [{ netG: 'unet_64', ngf: 2, use_dropout: true }, 64]] as const) {
      const net = createGenerator(o);
      expect(ours(generatorLayers(G(o), side))).toEqual(convOutputs(net, side, 3));
      net.dispose();
    }
    for (const [o, side] of [[{ netD: 'basic', ndf: 2 }, 70], [{ netD: 'n_layers', n_layers_D: 4, ndf: 2 }, 64], [{ netD: 'pixel', ndf: 2 }, 16]] as const) {
      const net = createDiscriminator(o);
      expect(ours(discriminatorLayers(D(o), side))).toEqual(convOutputs(net, side, 3));
      net.dispose();
    }
  });
  it('a 256 px basic D ends in a 30×30 map', () => {
    expect(discriminatorLayers(D({}), 256).at(-1)!.output).toBe(30 * 30);
  });
});

describe('the memory of a step', () => {
  const images = (n: number, side: number) => tf.randomUniform([n, side, side, 3], -1, 1) as tf.Tensor4D;
  beforeAll(() => tf.setBackend('cpu'));
  // tf.profile's peak on the CPU backend: the most bytes tf.memory() counts during the step (weights, moments and
  // every tensor the step made); one case per norm, both models, both generator families
  for (const [c, side, batch] of [
    [{ model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 }, 32, 1],
    [{ model: 'cycle_gan', netG: 'unet_32', ngf: 4, ndf: 4 }, 32, 2],
    [{ model: 'pix2pix', netG: 'resnet_6blocks', ngf: 8, ndf: 8, norm: 'instance' }, 32, 2],
    [{ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 8, norm: 'none' }, 32, 2],
    [{ model: 'pix2pix', netG: 'unet_64', ngf: 8, ndf: 8, norm: 'instance' }, 64, 2],
  ] as [Partial<TrainConfig>, number, number][]) {
    it(`is within 25% of what TF.js holds at its peak: ${JSON.stringify(c)} at ${side} px, batch ${batch}`, async () => {
      const t = createTrainer(c);
      const [A, B] = [images(batch, side), images(batch, side)];
      tf.dispose(Object.values(t.trainStep(A, B))); // the moments exist after the first step
      const info = await tf.profile(() => tf.dispose(Object.values(t.trainStep(A, B))));
      const estimate = runSize(resolveConfig(c), side, batch).bytes.total;
      expect(estimate).toBeGreaterThanOrEqual(0.75 * info.peakBytes);
      expect(estimate).toBeLessThanOrEqual(1.25 * info.peakBytes);
      t.dispose();
      tf.dispose([A, B]);
    });
  }
});

describe('the largest tensor', () => {
  it("is a huge generator's widest kernel, named", () => {
    const c = resolveConfig({ model: 'cycle_gan', netG: 'unet_32', ngf: 100_000, ndf: 4 });
    const size = runSize(c, 32, 1);
    expect(size.largest.what).toBe('the weights of netG_A level 4 down conv, 4×4 800000→800000');
    expect(size.largest.bytes).toBe(16 * 800_000 * 800_000 * 4);
  });
  it("is a large image's activation at the batch of CycleGAN's shared passes", () => {
    const c = resolveConfig({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 8, ndf: 8 });
    const size = runSize(c, 512, 2);
    // the last reflection pad: (512 + 6)² × 8 channels, for G_B's batch of B, A and fake B
    expect(size.largest).toEqual({ bytes: 518 * 518 * 8 * 6 * 4, what: 'the output of netG_A last reflection pad 3 for 6 images' });
  });
});
