/** The compiled generator for the options' `netG`: a U-Net plan or a ResNet plan over the same TF.js model. */
import { unetDowns } from '../options';
import type { GeneratorOptions } from '../options';
import type { NetworkPlan, NetworkPlanArgs } from './networkPlan';
import { resnetPlan } from './resnetPlan';
import { unetPlan } from './unetPlan';

/** A compiled generator: its network plan, its dropout seed slots (null without dropout), and its buffers' owner. */
export interface GeneratorPlan extends NetworkPlan {
  seeds: GPUBuffer | null;
  dispose(): void;
}

/** Why these generator options have no compiled plan, or null when they have one. */
export function generatorUnsupported(o: GeneratorOptions): string | null {
  if (unetDowns(o.netG) === null && o.use_dropout) return `the compiled ${o.netG} has no dropout (CycleGAN's default --no_dropout)`;
  return null;
}

/** Compiles the generator `options` describe (and `model` was built from) for one batch and image size. */
export function generatorPlan(args: NetworkPlanArgs & { options: GeneratorOptions }): GeneratorPlan {
  const why = generatorUnsupported(args.options);
  if (why) throw new Error(why);
  if (unetDowns(args.options.netG) !== null) return unetPlan(args);
  const blocks = args.options.netG === 'resnet_6blocks' ? 6 : 9;
  return { ...resnetPlan({ ...args, blocks }), seeds: null };
}
