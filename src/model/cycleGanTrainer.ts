/** CycleGAN (Zhu et al.): two generators and two discriminators, tied by cycle-consistency. */
import * as tf from '@tensorflow/tfjs';
import { ImagePool } from './imagePool';
import { ganLoss, l1Loss } from './losses';
import { createDiscriminator, createGenerator } from './networks';
import type { Direction, TrainConfig } from './options';
import { applyAndFree, runAtAnySize, seedDropout, TrainerBase, trainableVariables } from './trainerBase';
import type { Losses, Trainer, TranslateOptions } from './trainerBase';

/** Loss names CycleGAN logs, in the reference's order. */
export const CYCLE_GAN_LOSSES = ['D_A', 'G_A', 'cycle_A', 'idt_A', 'D_B', 'G_B', 'cycle_B', 'idt_B'] as const;

/** The fakes of the last G step, handed to the D step. */
export interface Fakes {
  fake_A: tf.Tensor4D;
  fake_B: tf.Tensor4D;
}

/** Options a CycleGAN trainer takes beyond the config. */
export interface CycleGanExtras {
  /** Random source of the image pools (tests script it). */
  random?: () => number;
  /**
   * Run the generator passes that share weights as one batch: 3 passes instead of 6 per G step. On by default
   * where it cannot change per-sample results (instance norm or none; batch norm would mix the samples' statistics).
   */
  sharePasses?: boolean;
}

/** What one G step computes. */
interface Passes {
  fake_B: tf.Tensor4D;
  fake_A: tf.Tensor4D;
  rec_A: tf.Tensor4D;
  rec_B: tf.Tensor4D;
  idt_A: tf.Tensor4D | null;
  idt_B: tf.Tensor4D | null;
}

/** Trains G_A: A → B (judged by D_A) and G_B: B → A (judged by D_B). */
export class CycleGanTrainer extends TrainerBase implements Trainer {
  readonly lossNames = CYCLE_GAN_LOSSES;
  readonly models: {
    readonly netG_A: tf.LayersModel;
    readonly netG_B: tf.LayersModel;
    readonly netD_A: tf.LayersModel;
    readonly netD_B: tf.LayersModel;
  };
  readonly variables: { readonly G: tf.Variable[]; readonly D: tf.Variable[] };
  /** Past fakes of domain A (fed to D_B) and of domain B (fed to D_A). */
  readonly fake_A_pool: ImagePool;
  readonly fake_B_pool: ImagePool;
  /** Whether the generator passes that share weights run as one batch (CycleGanExtras.sharePasses); the compiled step mirrors it. */
  readonly sharePasses: boolean;

  constructor(config: TrainConfig, extras: CycleGanExtras = {}) {
    super(config);
    const g = (input_nc: number, output_nc: number) =>
      createGenerator({ input_nc, output_nc, ngf: config.ngf, netG: config.netG, norm: config.norm, use_dropout: !config.no_dropout });
    const d = (input_nc: number) =>
      createDiscriminator({ input_nc, ndf: config.ndf, netD: config.netD, n_layers_D: config.n_layers_D, norm: config.norm });
    this.models = {
      netG_A: g(config.input_nc, config.output_nc),
      netG_B: g(config.output_nc, config.input_nc),
      netD_A: d(config.output_nc),
      netD_B: d(config.input_nc),
    };
    this.variables = {
      G: trainableVariables(this.models.netG_A, this.models.netG_B),
      D: trainableVariables(this.models.netD_A, this.models.netD_B),
    };
    this.createOptimizers(this.variables);
    this.sharePasses = extras.sharePasses ?? config.norm !== 'batch';
    this.fake_A_pool = new ImagePool(config.pool_size, extras.random);
    this.fake_B_pool = new ImagePool(config.pool_size, extras.random);
  }

  private g(net: tf.LayersModel, x: tf.Tensor4D): tf.Tensor4D {
    return net.apply(x, { training: true }) as tf.Tensor4D;
  }

  /**
   * G update with both Ds frozen: GAN terms + lambda_A·|G_B(G_A(A)) − A| + lambda_B·|G_A(G_B(B)) − B|
   * + lambda_identity·(lambda_B·|G_A(B) − B| + lambda_A·|G_B(A) − A|). Returns the losses and the fakes.
   */
  optimizeG(realA: tf.Tensor4D, realB: tf.Tensor4D): { losses: Losses; fakes: Fakes } {
    const { netD_A, netD_B } = this.models;
    const { gan_mode, lambda_A, lambda_B, lambda_identity } = this.config;
    const losses: Losses = {};
    const fakes = {} as Fakes;
    const { value, grads } = tf.variableGrads(() => {
      const { fake_B, fake_A, rec_A, rec_B, idt_A, idt_B } = this.passes(realA, realB, lambda_identity > 0);
      fakes.fake_B = tf.keep(fake_B);
      fakes.fake_A = tf.keep(fake_A);
      if (idt_A && idt_B) {
        losses.idt_A = tf.keep(tf.mul(l1Loss(idt_A, realB), lambda_B * lambda_identity) as tf.Scalar);
        losses.idt_B = tf.keep(tf.mul(l1Loss(idt_B, realA), lambda_A * lambda_identity) as tf.Scalar);
      } else {
        losses.idt_A = tf.keep(tf.scalar(0));
        losses.idt_B = tf.keep(tf.scalar(0));
      }
      losses.G_A = tf.keep(ganLoss(gan_mode, netD_A.apply(fake_B, { training: true }) as tf.Tensor, true));
      losses.G_B = tf.keep(ganLoss(gan_mode, netD_B.apply(fake_A, { training: true }) as tf.Tensor, true));
      losses.cycle_A = tf.keep(tf.mul(l1Loss(rec_A, realA), lambda_A) as tf.Scalar);
      losses.cycle_B = tf.keep(tf.mul(l1Loss(rec_B, realB), lambda_B) as tf.Scalar);
      return tf.addN([losses.G_A, losses.G_B, losses.cycle_A, losses.cycle_B, losses.idt_A, losses.idt_B]) as tf.Scalar;
    }, this.variables.G);
    value.dispose();
    applyAndFree(this.optimizers.G, grads);
    return { losses, fakes };
  }

  /**
   * The generator passes of a G step. Shared: G_A([A, B]) gives fake_B and idt_A; G_B([B, A, fake_B]) gives fake_A,
   * idt_B and rec_A; G_A(fake_A) gives rec_B. Separate: the reference's six passes.
   */
  private passes(realA: tf.Tensor4D, realB: tf.Tensor4D, identity: boolean): Passes {
    const { netG_A, netG_B } = this.models;
    const sameSize = realA.shape[1] === realB.shape[1] && realA.shape[2] === realB.shape[2];
    if (!this.sharePasses || !sameSize) {
      const fake_B = this.g(netG_A, realA);
      const fake_A = this.g(netG_B, realB);
      return {
        fake_B, fake_A, rec_A: this.g(netG_B, fake_B), rec_B: this.g(netG_A, fake_A),
        idt_A: identity ? this.g(netG_A, realB) : null, idt_B: identity ? this.g(netG_B, realA) : null,
      };
    }
    const n = realA.shape[0];
    const m = realB.shape[0];
    const part = (t: tf.Tensor4D, from: number, count: number) => tf.slice(t, [from, 0, 0, 0], [count, -1, -1, -1]);
    const first = this.g(netG_A, identity ? tf.concat([realA, realB]) : realA);
    const fake_B = identity ? part(first, 0, n) : first;
    const idt_A = identity ? part(first, n, m) : null;
    const second = this.g(netG_B, tf.concat(identity ? [realB, realA, fake_B] : [realB, fake_B]));
    const fake_A = part(second, 0, m);
    const idt_B = identity ? part(second, m, n) : null;
    const rec_A = part(second, identity ? m + n : m, n);
    return { fake_B, fake_A, rec_A, rec_B: this.g(netG_A, fake_A), idt_A, idt_B };
  }

  /** D update: for each D, 0.5 · (real vs 1 + pooled fake vs 0). The generators are untouched. */
  optimizeD(realA: tf.Tensor4D, realB: tf.Tensor4D, fakes: Fakes): Losses {
    const { netD_A, netD_B } = this.models;
    const { gan_mode } = this.config;
    const pooledB = this.fake_B_pool.query(fakes.fake_B);
    const pooledA = this.fake_A_pool.query(fakes.fake_A);
    const losses: Losses = {};
    const basic = (net: tf.LayersModel, real: tf.Tensor4D, fake: tf.Tensor4D) =>
      tf.mul(
        tf.add(
          ganLoss(gan_mode, net.apply(real, { training: true }) as tf.Tensor, true),
          ganLoss(gan_mode, net.apply(fake, { training: true }) as tf.Tensor, false),
        ),
        0.5,
      ) as tf.Scalar;
    const { value, grads } = tf.variableGrads(() => {
      losses.D_A = tf.keep(basic(netD_A, realB, pooledB));
      losses.D_B = tf.keep(basic(netD_B, realA, pooledA));
      return tf.add(losses.D_A, losses.D_B) as tf.Scalar;
    }, this.variables.D);
    value.dispose();
    tf.dispose([pooledA, pooledB]);
    applyAndFree(this.optimizers.D, grads);
    return losses;
  }

  trainStep(realA: tf.Tensor4D, realB: tf.Tensor4D): Losses {
    // G first (Ds frozen), then the Ds on this step's fakes, as the reference does: one forward pass each.
    seedDropout([this.models.netG_A, this.models.netG_B], this.step + 1);
    const { losses: lg, fakes } = this.optimizeG(realA, realB);
    seedDropout([this.models.netG_A, this.models.netG_B], null);
    const ld = this.optimizeD(realA, realB, fakes);
    tf.dispose([fakes.fake_A, fakes.fake_B]);
    this.step++;
    return {
      D_A: ld.D_A, G_A: lg.G_A, cycle_A: lg.cycle_A, idt_A: lg.idt_A,
      D_B: ld.D_B, G_B: lg.G_B, cycle_B: lg.cycle_B, idt_B: lg.idt_B,
    };
  }

  translate(images: tf.Tensor4D, direction: Direction, options: TranslateOptions = {}): tf.Tensor4D {
    const net = direction === 'AtoB' ? this.models.netG_A : this.models.netG_B;
    return runAtAnySize(net, images, this.multiple, !options.eval);
  }

  dispose(): void {
    for (const m of Object.values(this.models)) m.dispose();
    this.fake_A_pool.clear();
    this.fake_B_pool.clear();
    this.disposeOptimizers();
  }
}
