/** `createTrainer`: the one entry point that builds pix2pix or CycleGAN from a (partial) config. */
// training needs PyTorch's reflection-padding gradient, whoever builds a trainer
import './mirrorPadGradient';
import { CycleGanTrainer } from './cycleGanTrainer';
import type { CycleGanExtras } from './cycleGanTrainer';
import { resolveConfig } from './options';
import type { TrainConfig } from './options';
import { Pix2PixTrainer } from './pix2pixTrainer';
import type { Trainer } from './trainerBase';

/** Builds the trainer `config.model` names; missing options take that model's reference defaults. */
export function createTrainer(config: Partial<TrainConfig> = {}, extras: CycleGanExtras = {}): Trainer {
  const full = resolveConfig(config);
  return full.model === 'pix2pix' ? new Pix2PixTrainer(full) : new CycleGanTrainer(full, extras);
}
