/** `createGenerator` / `createDiscriminator`: the reference's `define_G` / `define_D`. */
import type * as tf from '@tensorflow/tfjs';
import { DISCRIMINATOR_DEFAULTS, GENERATOR_DEFAULTS, unetDowns } from './options';
import type { DiscriminatorOptions, GeneratorOptions } from './options';
import { nLayerDiscriminator, pixelDiscriminator } from './patchDiscriminator';
import { resnetGenerator } from './resnetGenerator';
import { unetGenerator } from './unetGenerator';

/** Builds a generator; missing options take the reference's defaults. */
export function createGenerator(options: Partial<GeneratorOptions> = {}): tf.LayersModel {
  const o: GeneratorOptions = { ...GENERATOR_DEFAULTS, ...options };
  switch (o.netG) {
    case 'resnet_9blocks':
      return resnetGenerator(o, 9);
    case 'resnet_6blocks':
      return resnetGenerator(o, 6);
    case 'unet_256':
    case 'unet_128':
    case 'unet_64':
    case 'unet_32':
      return unetGenerator(o, unetDowns(o.netG)!);
    default:
      throw new Error(`unknown netG ${String((o as { netG: unknown }).netG)}`);
  }
}

/** Builds a discriminator; missing options take the reference's defaults. */
export function createDiscriminator(options: Partial<DiscriminatorOptions> = {}): tf.LayersModel {
  const o: DiscriminatorOptions = { ...DISCRIMINATOR_DEFAULTS, ...options };
  switch (o.netD) {
    case 'basic':
      return nLayerDiscriminator(o, 3);
    case 'n_layers':
      return nLayerDiscriminator(o, o.n_layers_D);
    case 'pixel':
      return pixelDiscriminator(o);
    default:
      throw new Error(`unknown netD ${String((o as { netD: unknown }).netD)}`);
  }
}

/** Learnable parameters, counted as PyTorch's `net.parameters()` does (no running statistics). */
export function countParams(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}
