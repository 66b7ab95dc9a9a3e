/** The compiled step for a trainer: pix2pix's or CycleGAN's, built for one batch and image size. */
import { CycleGanTrainer } from '../cycleGanTrainer';
import { Pix2PixTrainer } from '../pix2pixTrainer';
import type { Trainer } from '../trainerBase';
import { UnsupportedStep } from './compiledStep';
import type { CompiledStep } from './compiledStep';
import { compileCycleGanStep } from './cycleGanStep';
import { compilePix2pixStep } from './pix2pixStep';

/** Compiles `trainer`'s step for batches of `batch` images of height × width; throws UnsupportedStep with the reason. */
export function compileStep(trainer: Trainer, batch: number, height: number, width: number): CompiledStep {
  if (trainer instanceof Pix2PixTrainer) return compilePix2pixStep(trainer, batch, height, width);
  if (trainer instanceof CycleGanTrainer) return compileCycleGanStep(trainer, batch, height, width);
  throw new UnsupportedStep(`no compiled step for ${trainer.config.model}`);
}
