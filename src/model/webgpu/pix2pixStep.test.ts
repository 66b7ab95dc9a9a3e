import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Pix2PixTrainer } from '../pix2pixTrainer';
import type { TrainConfig } from '../options';
import { compilePix2pixStep } from './pix2pixStep';
import { compareTrainers, cpuStep, cpuTrainer, seededTrainer, useCompiledMasks, weightsOf } from './stepTesting';
import { memoryTesting } from './memory';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the compiled pix2pix step');
// shared memory starts as NaN: a value the step reads before writing it this step fails the comparison
memoryTesting.poison = true;

interface Case {
  config: Partial<TrainConfig>;
  side: number;
  batch: number;
}

const base = (c: Partial<TrainConfig>): Partial<TrainConfig> => ({ model: 'pix2pix', ngf: 4, ndf: 4, no_dropout: true, ...c });

// pix2pix's rows of a pairwise set over model × netG × norm × netD × gan_mode (every pair of values in some row of
// this file or cycleGanStep.test.ts); `npm run test:steps` runs the whole product.
const CASES: Case[] = [
  { config: base({ netG: 'unet_32', norm: 'batch', netD: 'basic', gan_mode: 'lsgan' }), side: 32, batch: 2 },
  { config: base({ netG: 'unet_64', norm: 'instance', netD: 'pixel', gan_mode: 'lsgan' }), side: 64, batch: 1 },
  { config: base({ netG: 'resnet_6blocks', norm: 'none', netD: 'n_layers', n_layers_D: 2, gan_mode: 'lsgan' }), side: 32, batch: 1 },
  { config: base({ netG: 'unet_32', norm: 'none', netD: 'pixel', gan_mode: 'vanilla' }), side: 32, batch: 2 },
  // pix2pix's default: dropout in the U-Net's inner levels, the oracle drawing the compiled step's masks
  { config: base({ netG: 'unet_64', norm: 'batch', netD: 'n_layers', gan_mode: 'vanilla', no_dropout: false }), side: 64, batch: 1 },
];

const label = (c: Case) =>
  `${c.config.netG} ${c.side}px, norm ${c.config.norm}, ${c.config.netD}, ${c.config.gan_mode}, batch ${c.batch}${c.config.no_dropout ? '' : ', dropout'}`;

/** Runs `steps` steps of both engines from the same weights and batches; returns the per-step losses of each. */
async function both(c: Case, steps: number) {
  const oracle = await cpuTrainer(c.config);
  const compiled = seededTrainer(c.config);
  if (!c.config.no_dropout) useCompiledMasks(oracle);
  const before = await weightsOf(compiled);
  const step = compilePix2pixStep(compiled as Pix2PixTrainer, c.batch, c.side, c.side);
  const ours: Float32Array[] = [];
  const theirs: Float32Array[] = [];
  try {
    for (let s = 0; s < steps; s++) {
      const shape: [number, number, number, number] = [c.batch, c.side, c.side, 3];
      const a = tf.randomUniform(shape, -1, 1, 'float32', 10 + s) as tf.Tensor4D;
      const b = tf.randomUniform(shape, -1, 1, 'float32', 50 + s) as tf.Tensor4D;
      const packed = step.run(a, b);
      ours.push(Float32Array.from(await packed.data()));
      theirs.push(await cpuStep(oracle, a, b));
      tf.dispose([a, b, packed]);
    }
    expect(step.stale()).toBe(false);
    return { oracle, compiled, before, ours, theirs, dispatches: step.dispatches };
  } finally {
    step.dispose();
  }
}

describe('compiled pix2pix step against the TF.js step (the oracle, on the CPU backend)', () => {
  for (const c of CASES) {
    it(`${label(c)}: one step gives the same losses, weights, running statistics and Adam moments`, async () => {
      if (skip()) return;
      const r = await both(c, 1);
      // netG runs twice in the TF.js step (its tape cannot span D's update), so batch norm moves G's running statistics twice
      const a = await compareTrainers(r.compiled, r.oracle, r.before, (name) => name.startsWith('netG/') && /moving_/.test(name));
      const losses = worstRelative(r.ours[0], r.theirs[0]);
      console.log(`pix2pix ${label(c)}: ${r.dispatches} dispatches; losses ${Array.from(r.ours[0], (v) => v.toFixed(4)).join(' ')} vs ${Array.from(r.theirs[0], (v) => v.toFixed(4)).join(' ')}; worst loss ${losses.toExponential(2)}, worst state ${a.worst.toExponential(2)} (${a.where}); ${a.frozenBiases} biases before instance norm left at rest, ${a.noiseElements} near-zero-gradient elements compared by gradient`);
      expect(losses).toBeLessThan(1e-4);
      expect(a.worst).toBeLessThan(1e-4);
      expect(r.compiled.step).toBe(1);
      r.oracle.dispose();
      r.compiled.dispose();
    }, 120_000);
  }
});

describe('compiled pix2pix step over 20 steps', () => {
  it('the Tiny preset\'s pix2pix (unet_32, batch norm, vanilla GAN): every loss of every step within 1e-3 of the TF.js step', async () => {
    if (skip()) return;
    const c: Case = { config: { model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 }, side: 32, batch: 1 };
    const r = await both(c, 20);
    const worst = r.ours.map((l, s) => worstRelative(l, r.theirs[s]));
    const at = worst.indexOf(Math.max(...worst));
    console.log(`pix2pix, 20 steps: worst loss ${worst[at].toExponential(2)} at step ${at + 1}; last losses ${Array.from(r.ours[19], (v) => v.toFixed(4)).join(' ')} vs ${Array.from(r.theirs[19], (v) => v.toFixed(4)).join(' ')}`);
    expect(worst[at]).toBeLessThan(1e-3);
    // the losses moved: the runs trained, rather than agreeing on a frozen state
    expect(worstRelative(r.ours[19], r.ours[0])).toBeGreaterThan(1e-2);
    expect(r.compiled.step).toBe(20);
    r.oracle.dispose();
    r.compiled.dispose();
  }, 180_000);
});
