/**
 * The full product of the options issue 10 lists (model × netG × norm × gan_mode × netD, 108 runs), one compiled step
 * each against the TF.js step on the CPU backend. About half an hour on SwiftShader, so `npm test` runs the pairwise
 * rows (pix2pixStep.test.ts, cycleGanStep.test.ts) and this runs with `npm run test:steps` (STEP_PRODUCT=1).
 */
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { GAN_MODES, NET_D, NORMS } from '../options';
import type { NetG, TrainConfig } from '../options';
import { compileStep } from './compile';
import { compareTrainers, cpuStep, cpuTrainer, seededTrainer, weightsOf } from './stepTesting';
import { memoryTesting } from './memory';
import { useNodeWebGPU, worstRelative } from './testing';

const wanted = process.env.STEP_PRODUCT === '1';
const skip = useNodeWebGPU('the compiled-step product', wanted ? null : 'STEP_PRODUCT is not 1');
// shared memory starts as NaN: a value the step reads before writing it this step fails the comparison
memoryTesting.poison = true;

const SIDE: Partial<Record<NetG, number>> = { unet_32: 32, unet_64: 64, resnet_6blocks: 32 };
const worst = { value: 0, where: '' };

describe.runIf(wanted)('compiled step against the TF.js step, every combination of the issue\'s options', () => {
  for (const model of ['pix2pix', 'cycle_gan'] as const)
    for (const netG of Object.keys(SIDE) as NetG[])
      for (const norm of NORMS)
        for (const gan_mode of GAN_MODES)
          for (const netD of NET_D) {
            const config: Partial<TrainConfig> = { model, netG, norm, gan_mode, netD, n_layers_D: 2, ngf: 4, ndf: 4, no_dropout: true };
            const name = `${model} ${netG} ${norm} ${gan_mode} ${netD}`;
            it(name, async () => {
              if (skip()) return;
              const side = SIDE[netG]!;
              const oracle = await cpuTrainer(config);
              const compiled = seededTrainer(config);
              const before = await weightsOf(compiled);
              const step = compileStep(compiled, 1, side, side);
              try {
                const a = tf.randomUniform([1, side, side, 3], -1, 1, 'float32', 10) as tf.Tensor4D;
                const b = tf.randomUniform([1, side, side, 3], -1, 1, 'float32', 50) as tf.Tensor4D;
                const packed = step.run(a, b);
                const ours = Float32Array.from(await packed.data());
                const theirs = await cpuStep(oracle, a, b);
                tf.dispose([a, b, packed]);
                // pix2pix's TF.js step runs netG twice, moving batch norm's running statistics twice
                const state = await compareTrainers(compiled, oracle, before, (w) => model === 'pix2pix' && w.startsWith('netG/') && /moving_/.test(w));
                const losses = worstRelative(ours, theirs);
                const e = Math.max(losses, state.worst);
                if (e > worst.value) [worst.value, worst.where] = [e, `${name}: ${losses >= state.worst ? 'losses' : state.where}`];
                console.log(`${name}: ${step.dispatches} dispatches; worst loss ${losses.toExponential(2)}, state ${state.worst.toExponential(2)} (${state.where}), ${state.noiseElements} near-zero-gradient elements compared by gradient; worst so far ${worst.value.toExponential(2)} (${worst.where})`);
                expect(losses).toBeLessThan(1e-4);
                expect(state.worst).toBeLessThan(1e-4);
              } finally {
                step.dispose();
                oracle.dispose();
                compiled.dispose();
              }
            }, 300_000);
          }
});
