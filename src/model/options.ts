/** Option types and defaults, spelled exactly as the reference's command-line flags. */

/** Generator architectures (`--netG`); `unet_64` and `unet_32` are our small-image additions (6 and 5 downsamplings). */
export const NET_G = ['resnet_9blocks', 'resnet_6blocks', 'unet_256', 'unet_128', 'unet_64', 'unet_32'] as const;
export type NetG = (typeof NET_G)[number];

/** Discriminator architectures (`--netD`). */
export const NET_D = ['basic', 'n_layers', 'pixel'] as const;
export type NetD = (typeof NET_D)[number];

/** Normalisation layers (`--norm`). */
export const NORMS = ['instance', 'batch', 'none'] as const;
export type Norm = (typeof NORMS)[number];

/** GAN objectives (`--gan_mode`). */
export const GAN_MODES = ['lsgan', 'vanilla'] as const;
export type GanMode = (typeof GAN_MODES)[number];

/** Learning-rate policies (`--lr_policy`). */
export const LR_POLICIES = ['linear', 'step', 'cosine'] as const;
export type LrPolicy = (typeof LR_POLICIES)[number];

/** Training models (`--model`). */
export const MODELS = ['pix2pix', 'cycle_gan'] as const;
export type ModelName = (typeof MODELS)[number];

/** Translation direction. */
export type Direction = 'AtoB' | 'BtoA';

/** Options of the reference's `define_G`. */
export interface GeneratorOptions {
  /** Channels of the input image. */
  input_nc: number;
  /** Channels of the output image. */
  output_nc: number;
  /** Filters in the last conv layer (the first layer's width). */
  ngf: number;
  /** Architecture. */
  netG: NetG;
  /** Normalisation layer. */
  norm: Norm;
  /** Dropout 0.5 in the ResNet blocks / inner U-Net levels. */
  use_dropout: boolean;
}

/** Options of the reference's `define_D`. */
export interface DiscriminatorOptions {
  /** Channels the discriminator sees (6 for pix2pix's concat(A, B)). */
  input_nc: number;
  /** Filters in the first conv layer. */
  ndf: number;
  /** Architecture. */
  netD: NetD;
  /** Conv layers of the `n_layers` discriminator (`basic` means 3). */
  n_layers_D: number;
  /** Normalisation layer. */
  norm: Norm;
}

/** Everything a trainer needs: the reference's network and training options. */
export interface TrainConfig {
  model: ModelName;
  input_nc: number;
  output_nc: number;
  ngf: number;
  ndf: number;
  netG: NetG;
  netD: NetD;
  n_layers_D: number;
  norm: Norm;
  /** Dropout is on unless this is set (pix2pix: off; CycleGAN: on). */
  no_dropout: boolean;
  gan_mode: GanMode;
  /** pix2pix: weight of L1(G(A), B). */
  lambda_L1: number;
  /** CycleGAN: weight of the A→B→A cycle loss. */
  lambda_A: number;
  /** CycleGAN: weight of the B→A→B cycle loss. */
  lambda_B: number;
  /** CycleGAN: identity loss weight, relative to lambda_A / lambda_B. */
  lambda_identity: number;
  /** Size of the buffer of past fakes shown to D (0: none). */
  pool_size: number;
  /** Initial Adam learning rate. */
  lr: number;
  /** Adam momentum term. */
  beta1: number;
  lr_policy: LrPolicy;
  /** Epochs at the initial learning rate. */
  n_epochs: number;
  /** Epochs of linear decay to zero. */
  n_epochs_decay: number;
  /** `step` policy: multiply by 0.1 every this many epochs. */
  lr_decay_iters: number;
}

/** The reference's base options (used where a model sets nothing of its own). */
const BASE_DEFAULTS = {
  input_nc: 3,
  output_nc: 3,
  ngf: 64,
  ndf: 64,
  netD: 'basic',
  n_layers_D: 3,
  lr: 0.0002,
  beta1: 0.5,
  lr_policy: 'linear',
  n_epochs: 100,
  n_epochs_decay: 100,
  lr_decay_iters: 50,
  lambda_L1: 100,
  lambda_A: 10,
  lambda_B: 10,
  lambda_identity: 0.5,
} as const satisfies Partial<TrainConfig>;

/** Per-model defaults, as each reference model rewrites them. */
export const MODEL_DEFAULTS: Record<ModelName, TrainConfig> = {
  pix2pix: {
    ...BASE_DEFAULTS,
    model: 'pix2pix',
    netG: 'unet_256',
    norm: 'batch',
    gan_mode: 'vanilla',
    no_dropout: false,
    pool_size: 0,
  },
  cycle_gan: {
    ...BASE_DEFAULTS,
    model: 'cycle_gan',
    netG: 'resnet_9blocks',
    norm: 'instance',
    gan_mode: 'lsgan',
    no_dropout: true,
    pool_size: 50,
  },
};

/** Fills a partial config with the defaults of its model (CycleGAN when none is named). */
export function resolveConfig(partial: Partial<TrainConfig> = {}): TrainConfig {
  const model = partial.model ?? 'cycle_gan';
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const config = { ...MODEL_DEFAULTS[model], ...defined, model } as TrainConfig;
  validateConfig(config);
  return config;
}

/** Throws a readable error for an option value the reference would reject. */
export function validateConfig(c: TrainConfig): void {
  const oneOf = <T extends string>(name: string, v: T, all: readonly T[]) => {
    if (!all.includes(v)) throw new Error(`--${name} ${v} is not one of ${all.join(', ')}`);
  };
  oneOf('netG', c.netG, NET_G);
  oneOf('netD', c.netD, NET_D);
  oneOf('norm', c.norm, NORMS);
  oneOf('gan_mode', c.gan_mode, GAN_MODES);
  oneOf('lr_policy', c.lr_policy, LR_POLICIES);
  for (const k of ['input_nc', 'output_nc', 'ngf', 'ndf', 'n_layers_D'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 1) throw new Error(`--${k} must be a positive integer, got ${c[k]}`);
  }
  for (const k of ['n_epochs', 'n_epochs_decay', 'pool_size'] as const) {
    if (!Number.isInteger(c[k]) || c[k] < 0) throw new Error(`--${k} must be a whole number ≥ 0, got ${c[k]}`);
  }
  if (!(c.lr > 0)) throw new Error(`--lr must be positive, got ${c.lr}`);
  if (c.model === 'cycle_gan' && c.lambda_identity > 0 && c.input_nc !== c.output_nc) {
    throw new Error('--lambda_identity > 0 needs input_nc == output_nc (the identity loss feeds B to G_A)');
  }
}

/** Default generator options: the reference's base options. */
export const GENERATOR_DEFAULTS: GeneratorOptions = {
  input_nc: 3,
  output_nc: 3,
  ngf: 64,
  netG: 'resnet_9blocks',
  norm: 'instance',
  use_dropout: false,
};

/** Default discriminator options: the reference's base options. */
export const DISCRIMINATOR_DEFAULTS: DiscriminatorOptions = {
  input_nc: 3,
  ndf: 64,
  netD: 'basic',
  n_layers_D: 3,
  norm: 'instance',
};

/** Number of U-Net downsamplings for a `unet_*` name, else null. */
export function unetDowns(netG: NetG): number | null {
  const m = /^unet_(\d+)$/.exec(netG);
  return m ? Math.round(Math.log2(Number(m[1]))) : null;
}

/** Image sides must be a multiple of this for the generator to map size to size. */
export function sizeMultiple(netG: NetG): number {
  const downs = unetDowns(netG);
  return downs === null ? 4 : 2 ** downs;
}
