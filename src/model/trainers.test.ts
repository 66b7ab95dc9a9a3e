import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { createTrainer, CycleGanTrainer, Pix2PixTrainer, resolveConfig } from './index';
import type { Losses, Trainer } from './index';

/** Bytes of every trainable weight of some models, copied. */
const weightsOf = (...models: tf.LayersModel[]) => models.flatMap((m) => m.trainableWeights.map((w) => Float32Array.from(w.read().dataSync())));
const same = (a: Float32Array[], b: Float32Array[]) => a.length === b.length && a.every((x, i) => x.every((v, j) => Object.is(v, b[i][j])));
const images = (n: number, side = 32, seed = 1) => tf.randomUniform([n, side, side, 3], -1, 1, 'float32', seed) as tf.Tensor4D;

const tinyPix2pix = () => createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 }) as Pix2PixTrainer;
const tinyCycle = () => createTrainer({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4, pool_size: 4 }) as CycleGanTrainer;

const A = images(2, 32, 1);
const B = images(2, 32, 2);
afterAll(() => tf.dispose([A, B]));

describe('defaults follow the reference per model', () => {
  it('pix2pix: unet_256, batch, vanilla, dropout on, no pool, lambda_L1 100', () => {
    const t = createTrainer({ model: 'pix2pix', ngf: 2, ndf: 2 });
    expect(t.config).toMatchObject({ netG: 'unet_256', norm: 'batch', gan_mode: 'vanilla', no_dropout: false, pool_size: 0, lambda_L1: 100 });
    expect(t.models.netD.inputs[0].shape[3]).toBe(6);
    t.dispose();
  });
  it('CycleGAN: resnet_9blocks, instance, lsgan, no dropout, pool 50, lambdas 10/10/0.5', () => {
    const t = createTrainer({ model: 'cycle_gan', ngf: 2, ndf: 2 });
    expect(t.config).toMatchObject({ netG: 'resnet_9blocks', norm: 'instance', gan_mode: 'lsgan', no_dropout: true, pool_size: 50, lambda_A: 10, lambda_B: 10, lambda_identity: 0.5, lr: 0.0002, beta1: 0.5 });
    expect(Object.keys(t.models).sort()).toEqual(['netD_A', 'netD_B', 'netG_A', 'netG_B']);
    t.dispose();
  });
  it('rejects an invalid option with its flag name', () => {
    expect(() => createTrainer({ netG: 'unet_512' as never })).toThrow(/--netG unet_512/);
    expect(() => createTrainer({ model: 'cycle_gan', input_nc: 1, output_nc: 3 })).toThrow(/lambda_identity/);
  });
});

describe('pix2pix steps', () => {
  it('a D step changes D and leaves G bit-identical', () => {
    const t = tinyPix2pix();
    const g0 = weightsOf(t.models.netG);
    const d0 = weightsOf(t.models.netD);
    const fake = tf.tidy(() => t.forward(A));
    tf.dispose(Object.values(t.optimizeD(A, B, fake)));
    expect(same(weightsOf(t.models.netG), g0)).toBe(true);
    expect(same(weightsOf(t.models.netD), d0)).toBe(false);
    fake.dispose();
    t.dispose();
  });
  it("a G step changes G and leaves D's weights bit-identical", () => {
    const t = tinyPix2pix();
    const g0 = weightsOf(t.models.netG);
    const d0 = weightsOf(t.models.netD);
    tf.dispose(Object.values(t.optimizeG(A, B)));
    expect(same(weightsOf(t.models.netD), d0)).toBe(true);
    expect(same(weightsOf(t.models.netG), g0)).toBe(false);
    t.dispose();
  });
  it('trainStep returns the four reference losses, finite, with G_L1 weighted by lambda_L1', async () => {
    const t = tinyPix2pix();
    const losses = t.trainStep(A, B);
    expect(Object.keys(losses).sort()).toEqual(['D_fake', 'D_real', 'G_GAN', 'G_L1']);
    for (const v of Object.values(losses)) expect(Number.isFinite((await v.data())[0])).toBe(true);
    // an untrained G outputs ≈ 0, so L1 ≈ mean |B| ≈ 0.5, times 100
    expect((await losses.G_L1.data())[0]).toBeGreaterThan(20);
    tf.dispose(Object.values(losses));
    t.dispose();
  });
});

describe('CycleGAN steps', () => {
  it('a G step changes both Gs and leaves both Ds bit-identical', () => {
    const t = tinyCycle();
    const { netG_A, netG_B, netD_A, netD_B } = t.models;
    const g0 = weightsOf(netG_A, netG_B);
    const d0 = weightsOf(netD_A, netD_B);
    const { losses, fakes } = t.optimizeG(A, B);
    expect(same(weightsOf(netD_A, netD_B), d0)).toBe(true);
    expect(same(weightsOf(netG_A), g0.slice(0, netG_A.trainableWeights.length))).toBe(false);
    expect(same(weightsOf(netG_B), g0.slice(netG_A.trainableWeights.length))).toBe(false);
    tf.dispose([...Object.values(losses), fakes.fake_A, fakes.fake_B]);
    t.dispose();
  });
  it('a D step changes both Ds and leaves both Gs bit-identical', () => {
    const t = tinyCycle();
    const { netG_A, netG_B, netD_A, netD_B } = t.models;
    const g0 = weightsOf(netG_A, netG_B);
    const d0 = weightsOf(netD_A, netD_B);
    const fakes = { fake_A: images(2, 32, 3), fake_B: images(2, 32, 4) };
    tf.dispose(Object.values(t.optimizeD(A, B, fakes)));
    expect(same(weightsOf(netG_A, netG_B), g0)).toBe(true);
    expect(same(weightsOf(netD_A), d0.slice(0, netD_A.trainableWeights.length))).toBe(false);
    expect(same(weightsOf(netD_B), d0.slice(netD_A.trainableWeights.length))).toBe(false);
    expect(t.fake_A_pool.size).toBe(2);
    tf.dispose([...Object.values(fakes)]);
    t.dispose();
  });
  it('trainStep returns the eight reference losses; identity terms vanish with lambda_identity 0', async () => {
    const t = createTrainer({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4, lambda_identity: 0 });
    const losses = t.trainStep(A, B);
    expect(Object.keys(losses)).toEqual(['D_A', 'G_A', 'cycle_A', 'idt_A', 'D_B', 'G_B', 'cycle_B', 'idt_B']);
    expect((await losses.idt_A.data())[0]).toBe(0);
    expect((await losses.cycle_A.data())[0]).toBeGreaterThan(1);
    tf.dispose(Object.values(losses));
    t.dispose();
  });
});

describe('memory', () => {
  const flat = async (make: () => Trainer) => {
    const t = make();
    const step = async () => {
      const losses: Losses = t.trainStep(A, B);
      await Promise.all(Object.values(losses).map((l) => l.data()));
      tf.dispose(Object.values(losses));
    };
    await step(); // burn-in: optimizer moments and the pool's first images are created here
    const counts: number[] = [];
    for (let i = 0; i < 10; i++) {
      await step();
      counts.push(tf.memory().numTensors);
    }
    t.dispose();
    return counts;
  };
  it('pix2pix: numTensors is flat across 10 steps after one burn-in', async () => {
    const counts = await flat(tinyPix2pix);
    expect(new Set(counts).size).toBe(1);
  });
  it('CycleGAN (pool off): numTensors is flat across 10 steps after one burn-in', async () => {
    const counts = await flat(() => createTrainer({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4, pool_size: 0 }));
    expect(new Set(counts).size).toBe(1);
  });
  it('CycleGAN (pool on): numTensors grows only by the images the pool stores, then stays flat', async () => {
    const counts = await flat(() => createTrainer({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4, pool_size: 6 }));
    // batch 2 per domain: the pool (2 domains × 6) fills on steps 1-3, flat from then on
    expect(counts[1] - counts[0]).toBe(4);
    expect(new Set(counts.slice(2)).size).toBe(1);
  });
  it('dispose frees everything the trainer made', () => {
    const before = tf.memory().numTensors;
    const t = tinyCycle();
    tf.dispose(Object.values(t.trainStep(A, B)));
    t.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('schedule and translation', () => {
  it('setEpoch moves both optimizers to the scheduled learning rate', () => {
    const t = createTrainer({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 2, ndf: 2, n_epochs: 2, n_epochs_decay: 3 });
    t.setEpoch(4);
    expect(t.lr).toBeCloseTo(0.0002 * (1 - 2 / 4), 12);
    for (const o of [t.optimizers.G, t.optimizers.D]) expect((o as unknown as { learningRate: number }).learningRate).toBe(t.lr);
    t.dispose();
  });
  it('translate accepts sizes the network alone cannot take, and returns the same size', () => {
    const t = tinyPix2pix();
    const x = images(1, 45, 9).slice([0, 0, 0, 0], [1, 45, 30, 3]) as tf.Tensor4D; // unet_32 needs multiples of 32
    const y = t.translate(x, 'AtoB');
    expect(y.shape).toEqual([1, 45, 30, 3]);
    expect(() => t.translate(x, 'BtoA')).toThrow(/one direction/);
    tf.dispose([x, y]);
    t.dispose();
  });
  it('CycleGAN translates both ways with its two generators', () => {
    const t = tinyCycle();
    const x = images(1, 18, 3);
    const ab = t.translate(x, 'AtoB', { eval: true });
    const ba = t.translate(x, 'BtoA', { eval: true });
    expect(ab.shape).toEqual([1, 18, 18, 3]);
    expect(Array.from(ab.dataSync())).not.toEqual(Array.from(ba.dataSync()));
    tf.dispose([x, ab, ba]);
    t.dispose();
  });
});

describe('shared generator passes', () => {
  it('batching the passes that share weights leaves every loss of a step the same (instance norm is per sample)', async () => {
    const run = async (sharePasses: boolean) => {
      const t = new CycleGanTrainer(resolveConfig({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4 }), { sharePasses });
      // same starting weights for both
      Object.values(t.models).forEach((m) => m.setWeights(m.weights.map((w, i) => tf.randomNormal(w.shape as number[], 0, 0.02, 'float32', i + 1))));
      const out: Record<string, number>[] = [];
      for (let s = 0; s < 2; s++) {
        const l = t.trainStep(A, B);
        out.push(Object.fromEntries(await Promise.all(Object.entries(l).map(async ([k, v]) => [k, (await v.data())[0]] as const))));
        tf.dispose(Object.values(l));
      }
      t.dispose();
      return out;
    };
    const separate = await run(false);
    const shared = await run(true);
    for (let s = 0; s < 2; s++) for (const k of Object.keys(separate[s])) expect(shared[s][k]).toBeCloseTo(separate[s][k], 4);
  });
});
