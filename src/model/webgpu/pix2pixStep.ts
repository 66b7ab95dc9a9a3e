/**
 * pix2pix's training step compiled (see compiledStep.ts), in the reference's order: fake_B = netG(real_A) once; D
 * judges concat(A, fake_B) and concat(A, B) and takes its Adam step on 0.5 · (D_fake + D_real); then D, updated,
 * judges concat(A, fake_B) again and G takes its step on G_GAN + lambda_L1 · L1(fake_B, B). D is three passes (its
 * own buffers each, so batch norm sees each call as TF.js's does); the first two passes' gradients are summed.
 */
import * as tf from '@tensorflow/tfjs';
import type { Pix2PixTrainer } from '../pix2pixTrainer';
import { PIX2PIX_LOSSES } from '../pix2pixTrainer';
import type { DiscriminatorOptions, GeneratorOptions } from '../options';
import { beginStep, checkBatches, dropoutSeed, lossTensor, ownedBuild, UnsupportedStep } from './compiledStep';
import type { CompiledStep } from './compiledStep';
import { discriminatorPlan } from './discriminatorPlan';
import { generatorPlan, generatorUnsupported } from './generatorPlan';
import { BoundTensors, webgpuDevice } from './gpu';
import { ganLossGradient, ganLossValue, l1LossGradient, l1LossValue } from './losses';
import { OptimizerPlan } from './optimizerPlan';
import { Plan } from './plan';
import { keepAcrossSteps } from './memory';
import { concatChannels, copyRange, sliceChannels } from './wiring';

/** Slots of the losses buffer: PIX2PIX_LOSSES's order. */
const SLOT = Object.fromEntries(PIX2PIX_LOSSES.map((n, i) => [n, i])) as Record<(typeof PIX2PIX_LOSSES)[number], number>;

/** Compiles `trainer`'s step for batches of `batch` images of height × width; throws UnsupportedStep with the reason. */
export function compilePix2pixStep(trainer: Pix2PixTrainer, batch: number, height: number, width: number): CompiledStep {
  const c = trainer.config;
  const { netG: G, netD: D } = trainer.models;
  const gOptions: GeneratorOptions = { input_nc: c.input_nc, output_nc: c.output_nc, ngf: c.ngf, netG: c.netG, norm: c.norm, use_dropout: !c.no_dropout };
  const dOptions: DiscriminatorOptions = { input_nc: c.input_nc + c.output_nc, ndf: c.ndf, netD: c.netD, n_layers_D: c.n_layers_D, norm: c.norm };
  const why = generatorUnsupported(gOptions);
  if (why) throw new UnsupportedStep(why);
  const device = webgpuDevice();
  const shapes = { batch, height, width };
  return ownedBuild((own) => {
    const netG = own(generatorPlan({ model: G, ...shapes, inputGradient: false, options: gOptions }));
    const d = (inputGradient: boolean, weightGradients: boolean) =>
      own(discriminatorPlan({ model: D, ...shapes, inputGradient, weightGradients, options: dOptions }));
    const dFake = d(false, true);
    const dReal = d(false, true);
    const dForG = d(true, false);
    const store = own(new Plan(device));
    const pixels = batch * height * width;
    const realB = store.buffer(pixels * c.output_nc, 'real_B');
    const losses = store.buffer(PIX2PIX_LOSSES.length, 'losses');
    const optD = new OptimizerPlan(store, trainer.optimizers.D, 'netD');
    const optG = new OptimizerPlan(store, trainer.optimizers.G, 'netG');
    const logits = dFake.outputShape.reduce((a, b) => a * b);
    const mode = c.gan_mode;
    // what run() writes before the plan and reads after it: memory of their own
    keepAcrossSteps(netG.input, realB, netG.seeds, losses, optD.params, optG.params);

    const plan = own(new Plan(device));
    // fake_B = netG(real_A); real_A is netG's input buffer
    netG.forward(plan);
    // D step: 0.5 · (D(A, fake_B) vs fake + D(A, B) vs real); the losses are logged unweighted
    plan.add(concatChannels(pixels, c.input_nc, c.output_nc), [netG.input, netG.output, dFake.input]);
    plan.add(concatChannels(pixels, c.input_nc, c.output_nc), [netG.input, realB, dReal.input]);
    dFake.forward(plan);
    dReal.forward(plan);
    plan.add(ganLossValue(mode, false, logits, { weight: 1, slot: SLOT.D_fake, accumulate: false }), [dFake.output, losses]);
    plan.add(ganLossValue(mode, true, logits, { weight: 1, slot: SLOT.D_real, accumulate: false }), [dReal.output, losses]);
    plan.add(ganLossGradient(mode, false, logits, { weight: 0.5, accumulate: false }), [dFake.output, dFake.dOutput]);
    plan.add(ganLossGradient(mode, true, logits, { weight: 0.5, accumulate: false }), [dReal.output, dReal.dOutput]);
    dFake.backward(plan);
    dReal.backward(plan);
    optD.gather(plan, 0, [dFake.grads, dReal.grads]);
    optD.update(plan);
    // G step against the updated D: G_GAN through D into fake_B, plus lambda_L1 · L1(fake_B, real_B)
    plan.add(copyRange({ count: pixels * (c.input_nc + c.output_nc), from: [0], to: 0, accumulate: false }), [dFake.input, dForG.input]);
    dForG.forward(plan);
    plan.add(ganLossValue(mode, true, logits, { weight: 1, slot: SLOT.G_GAN, accumulate: false }), [dForG.output, losses]);
    plan.add(ganLossGradient(mode, true, logits, { weight: 1, accumulate: false }), [dForG.output, dForG.dOutput]);
    dForG.backward(plan);
    plan.add(sliceChannels(pixels, c.input_nc + c.output_nc, c.input_nc, c.output_nc, false), [dForG.dInput!, netG.dOutput]);
    plan.add(l1LossValue(pixels * c.output_nc, { weight: c.lambda_L1, slot: SLOT.G_L1, accumulate: false }), [netG.output, realB, losses]);
    plan.add(l1LossGradient(pixels * c.output_nc, { weight: c.lambda_L1, accumulate: true }), [netG.output, realB, netG.dOutput]);
    netG.backward(plan);
    optG.gather(plan, 0, [netG.grads]);
    optG.update(plan);

    const bound = new BoundTensors([...D.weights.map((w) => w.read()), ...G.weights.map((w) => w.read()), ...optD.written, ...optG.written]);
    const seeds = netG.seeds ? new Uint32Array(netG.seeds.size / 4) : null;
    return {
      dispatches: plan.dispatches,
      shape: [batch, height, width],
      run(realA: tf.Tensor4D, realBatchB: tf.Tensor4D): tf.Tensor1D {
        checkBatches([batch, height, width], realA, realBatchB);
        const { encoder, copy } = beginStep(device, [realA, realBatchB]);
        copy(0, netG.input);
        copy(1, realB);
        if (seeds && netG.seeds) {
          for (let k = 0; k < seeds.length; k++) seeds[k] = dropoutSeed(trainer.step + 1, k);
          device.queue.writeBuffer(netG.seeds, 0, seeds);
        }
        optD.advance(device.queue);
        optG.advance(device.queue);
        plan.encode(encoder);
        device.queue.submit([encoder.finish()]);
        bound.forgetCpuCopies();
        trainer.step++;
        return lossTensor(losses, PIX2PIX_LOSSES.length);
      },
      stale: () => bound.stale(),
    };
  });
}
