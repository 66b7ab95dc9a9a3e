/** pix2pix (Isola et al.): a conditional GAN with an L1 term; D judges concat(A, B) pairs. */
import * as tf from '@tensorflow/tfjs';
import { ganLoss, l1Loss } from './losses';
import { createDiscriminator, createGenerator } from './networks';
import type { Direction, TrainConfig } from './options';
import { applyAndFree, runAtAnySize, seedDropout, TrainerBase, trainableVariables } from './trainerBase';
import type { Losses, Trainer, TranslateOptions } from './trainerBase';

/** Loss names pix2pix logs, in the reference's order. */
export const PIX2PIX_LOSSES = ['G_GAN', 'G_L1', 'D_real', 'D_fake'] as const;

/** Trains `netG: A → B` against `netD(A, B)`. */
export class Pix2PixTrainer extends TrainerBase implements Trainer {
  readonly lossNames = PIX2PIX_LOSSES;
  readonly models: { readonly netG: tf.LayersModel; readonly netD: tf.LayersModel };
  readonly variables: { readonly G: tf.Variable[]; readonly D: tf.Variable[] };

  constructor(config: TrainConfig) {
    super(config);
    this.models = {
      netG: createGenerator({
        input_nc: config.input_nc,
        output_nc: config.output_nc,
        ngf: config.ngf,
        netG: config.netG,
        norm: config.norm,
        use_dropout: !config.no_dropout,
      }),
      netD: createDiscriminator({
        input_nc: config.input_nc + config.output_nc,
        ndf: config.ndf,
        netD: config.netD,
        n_layers_D: config.n_layers_D,
        norm: config.norm,
      }),
    };
    this.variables = { G: trainableVariables(this.models.netG), D: trainableVariables(this.models.netD) };
    this.createOptimizers(this.variables);
  }

  /** fake_B = netG(real_A), in training mode. */
  forward(realA: tf.Tensor4D): tf.Tensor4D {
    return this.models.netG.apply(realA, { training: true }) as tf.Tensor4D;
  }

  /** D update: 0.5 · (D(A, B) vs real + D(A, fake_B) vs fake). G's weights are untouched. */
  optimizeD(realA: tf.Tensor4D, realB: tf.Tensor4D, fakeB: tf.Tensor4D): Losses {
    const { netD } = this.models;
    const { gan_mode } = this.config;
    const kept: Losses = {};
    const { value, grads } = tf.variableGrads(() => {
      const predFake = netD.apply(tf.concat([realA, fakeB], 3), { training: true }) as tf.Tensor;
      const predReal = netD.apply(tf.concat([realA, realB], 3), { training: true }) as tf.Tensor;
      kept.D_fake = tf.keep(ganLoss(gan_mode, predFake, false));
      kept.D_real = tf.keep(ganLoss(gan_mode, predReal, true));
      return tf.mul(tf.add(kept.D_fake, kept.D_real), 0.5) as tf.Scalar;
    }, this.variables.D);
    value.dispose();
    applyAndFree(this.optimizers.D, grads);
    return kept;
  }

  /** G update: GAN(D(A, G(A)) vs real) + lambda_L1 · |G(A) − B|. D's weights are untouched. */
  optimizeG(realA: tf.Tensor4D, realB: tf.Tensor4D): Losses {
    const { netD } = this.models;
    const { gan_mode, lambda_L1 } = this.config;
    const kept: Losses = {};
    const { value, grads } = tf.variableGrads(() => {
      const fakeB = this.forward(realA);
      const predFake = netD.apply(tf.concat([realA, fakeB], 3), { training: true }) as tf.Tensor;
      kept.G_GAN = tf.keep(ganLoss(gan_mode, predFake, true));
      kept.G_L1 = tf.keep(tf.mul(l1Loss(fakeB, realB), lambda_L1) as tf.Scalar);
      return tf.add(kept.G_GAN, kept.G_L1) as tf.Scalar;
    }, this.variables.G);
    value.dispose();
    applyAndFree(this.optimizers.G, grads);
    return kept;
  }

  trainStep(realA: tf.Tensor4D, realB: tf.Tensor4D): Losses {
    const nets = [this.models.netG];
    // D first, then G against the updated D, as the reference does. G runs twice (TF.js cannot keep
    // a tape open across the D update); one dropout seed per step makes both passes the same sample.
    seedDropout(nets, this.step + 1);
    const fakeB = tf.tidy(() => this.forward(realA));
    const lossesD = this.optimizeD(realA, realB, fakeB);
    fakeB.dispose();
    const lossesG = this.optimizeG(realA, realB);
    seedDropout(nets, null);
    this.step++;
    return { G_GAN: lossesG.G_GAN, G_L1: lossesG.G_L1, D_real: lossesD.D_real, D_fake: lossesD.D_fake };
  }

  translate(images: tf.Tensor4D, direction: Direction, options: TranslateOptions = {}): tf.Tensor4D {
    if (direction !== 'AtoB') {
      throw new Error('pix2pix learns one direction: translate AtoB (train with --direction BtoA to go the other way)');
    }
    return runAtAnySize(this.models.netG, images, this.multiple, !options.eval);
  }

  dispose(): void {
    this.models.netG.dispose();
    this.models.netD.dispose();
    this.disposeOptimizers();
  }
}
