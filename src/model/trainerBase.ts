/** What both trainers share: Adam optimizers, the schedule, dropout seeding, translation at any size. */
import * as tf from '@tensorflow/tfjs';
import { FlatAdam } from './adam';
import { runAtAnySize as runAnySize } from './ganStudioLayers.js';
import { StepDropout } from './layers';
import type { Direction, TrainConfig } from './options';
import { sizeMultiple } from './options';
import { learningRateAt } from './schedule';

/** Scalar losses of one step, under the reference's names; the caller reads them asynchronously and disposes them. */
export type Losses = Record<string, tf.Scalar>;

/** Options of `translate`. */
export interface TranslateOptions {
  /**
   * Run normalisation and dropout in inference mode (the reference's `--eval`). Off by default, as the
   * reference's test script and the pix2pix paper run G exactly as in training (batch statistics, dropout).
   */
  eval?: boolean;
}

/** A training engine for one model (pix2pix or CycleGAN). */
export interface Trainer {
  readonly config: TrainConfig;
  /** Names of the losses `trainStep` returns, in the reference's order. */
  readonly lossNames: readonly string[];
  /** The networks, under the reference's names (`netG`, `netD` / `netG_A`, `netG_B`, `netD_A`, `netD_B`). */
  readonly models: Readonly<Record<string, tf.LayersModel>>;
  /** The generator optimizer and the discriminator optimizer. */
  readonly optimizers: { readonly G: FlatAdam; readonly D: FlatAdam };
  /** The variables each optimizer updates, in a fixed order (checkpoints name moments by position). */
  readonly variables: { readonly G: tf.Variable[]; readonly D: tf.Variable[] };
  /** Training steps taken (a restored run sets it). */
  step: number;
  /** Current 1-based epoch (set by `setEpoch`). */
  readonly epoch: number;
  /** Current learning rate of both optimizers. */
  readonly lr: number;
  /** One optimisation step on a batch (NHWC, float32 in [-1, 1]); returns the losses as scalar tensors. */
  trainStep(realA: tf.Tensor4D, realB: tf.Tensor4D): Losses;
  /** Translates a batch of any size: pads by reflection to the size the network needs and crops back. */
  translate(images: tf.Tensor4D, direction: Direction, options?: TranslateOptions): tf.Tensor4D;
  /** Sets the epoch (1-based) and the learning rate the schedule gives it. */
  setEpoch(epoch: number): void;
  /** Frees every network, optimizer state and pooled image. */
  dispose(): void;
}

/** PyTorch's Adam epsilon (TF.js would default to 1e-7). */
const ADAM_EPSILON = 1e-8;

/** Adam with the reference's betas over a fixed list of variables. */
export function createAdam(config: TrainConfig, variables: tf.Variable[]): FlatAdam {
  return new FlatAdam(variables, config.lr, config.beta1, 0.999, ADAM_EPSILON);
}

/** The trainable `tf.Variable`s of some models, for an explicit optimizer variable list. */
export function trainableVariables(...models: tf.LayersModel[]): tf.Variable[] {
  return models.flatMap((m) => m.trainableWeights.map((w) => w.read() as tf.Variable));
}

/** Seeds (or, with null, unseeds) every `StepDropout` layer of the models. */
export function seedDropout(models: tf.LayersModel[], seed: number | null): void {
  let i = 0;
  for (const m of models) {
    for (const layer of m.layers) {
      if (layer instanceof StepDropout) layer.seed = seed === null ? null : seed * 131 + i++;
    }
  }
}

/** Runs a generator on images of any size: reflect-pads H and W up to `multiple`, then crops back. */
export function runAtAnySize(
  net: tf.LayersModel,
  images: tf.Tensor4D,
  multiple: number,
  training: boolean,
): tf.Tensor4D {
  // the very function exported models ship, so the studio and a user's code translate alike
  return runAnySize(tf, net, images, multiple, { training });
}

/** The side multiple a saved generator needs: 2 to the number of its stride-2 convolutions. */
export function generatorMultiple(net: tf.LayersModel): number {
  const strided = net.layers.filter((l) => l.getClassName() === 'Conv2D' && (l.getConfig().strides as number[])?.[0] === 2).length;
  return 2 ** strided;
}

/** Common state of both trainers: optimizers, schedule, step counter. */
export abstract class TrainerBase {
  /** Set by `createOptimizers` once the subclass has built its networks. */
  optimizers!: { readonly G: FlatAdam; readonly D: FlatAdam };
  step = 0;
  epoch = 1;
  lr: number;

  constructor(readonly config: TrainConfig) {
    this.lr = config.lr;
  }

  /** One Adam for the generators' variables and one for the discriminators'. */
  protected createOptimizers(variables: { G: tf.Variable[]; D: tf.Variable[] }): void {
    this.optimizers = { G: createAdam(this.config, variables.G), D: createAdam(this.config, variables.D) };
  }

  /** Side multiple the generators need. */
  protected get multiple(): number {
    return sizeMultiple(this.config.netG);
  }

  setEpoch(epoch: number): void {
    this.epoch = epoch;
    this.lr = learningRateAt(epoch, this.config);
    this.optimizers.G.learningRate = this.lr;
    this.optimizers.D.learningRate = this.lr;
  }

  /** Frees the optimizers' moments. */
  protected disposeOptimizers(): void {
    this.optimizers.G.dispose();
    this.optimizers.D.dispose();
  }
}

/** Applies gradients and frees them. */
export function applyAndFree(optimizer: tf.Optimizer, grads: tf.NamedTensorMap): void {
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
}
