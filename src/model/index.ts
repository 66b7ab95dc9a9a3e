/** The engine's public surface: everything outside `src/model` imports from here. */
import './cpuKernels';
import './meanGradient';
import './mirrorPadGradient';
export * from './options';
export { createGenerator, createDiscriminator, countParams } from './networks';
export { ReflectionPadding2D, InstanceNormalization, CropTopLeft, StepDropout, CUSTOM_LAYER_NAMES } from './layers';
export { ganLoss, l1Loss } from './losses';
export { ImagePool } from './imagePool';
export { lrFactor, learningRateAt, totalEpochs } from './schedule';
export { createTrainer } from './trainer';
export { Pix2PixTrainer, PIX2PIX_LOSSES } from './pix2pixTrainer';
export { CycleGanTrainer, CYCLE_GAN_LOSSES } from './cycleGanTrainer';
export type { Fakes, CycleGanExtras } from './cycleGanTrainer';
export type { Trainer, Losses, TranslateOptions } from './trainerBase';
export { runAtAnySize, generatorMultiple } from './trainerBase';
export { runSize, generatorLayers, discriminatorLayers, paramsOf, ACTIVATION_FACTOR, GRADIENT_COPIES } from './networkSize';
export type { LayerSize, RunSize } from './networkSize';
