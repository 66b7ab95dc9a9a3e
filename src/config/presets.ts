/** Run presets, from a tiny model that trains anywhere to the reference's defaults. */
import { MODEL_DEFAULTS } from '../model/options';
import type { ModelName } from '../model/options';
import { DATA_DEFAULTS } from '../data/preprocess';
import { getOption, OPTIONS, setOption } from './runConfig';
import type { RunConfig } from './runConfig';

/** Each preset's one-line description (its name before the colon). */
export const PRESETS = {
  tiny: 'Tiny: 32 px, smallest networks (tests, CPU)',
  quick: 'Quick: 64 px, small networks (minutes on a laptop GPU)',
  paper: "Paper: 256 px, the reference's networks",
} as const;
export type PresetName = keyof typeof PRESETS;

/** The run config of a preset for a model. */
export function presetConfig(preset: PresetName, model: ModelName): RunConfig {
  const train = { ...MODEL_DEFAULTS[model] };
  const data = { ...DATA_DEFAULTS };
  const common = { batch_size: 1, preview_every: 20, checkpoint_every_s: 120 };
  switch (preset) {
    case 'tiny':
      return {
        ...common,
        preview_every: 5,
        train: { ...train, netG: 'unet_32', ngf: 4, ndf: 4, n_epochs: 5, n_epochs_decay: 5 },
        data: { ...data, load_size: 36, crop_size: 32 },
      };
    case 'quick':
      return {
        ...common,
        train: { ...train, netG: model === 'pix2pix' ? 'unet_64' : 'resnet_6blocks', ngf: 16, ndf: 16, n_epochs: 20, n_epochs_decay: 20 },
        data: { ...data, load_size: 72, crop_size: 64 },
      };
    case 'paper':
      return { ...common, preview_every: 100, train, data };
  }
}

/** Every value a run is configured by, in one comparable string. */
const fingerprint = (c: RunConfig) => JSON.stringify([OPTIONS.map((o) => getOption(c, o.name)), c.checkpoint_every_s]);

/** The preset these options are exactly (for their model), or null when they match none ("custom"). */
export function matchingPreset(c: RunConfig): PresetName | null {
  const f = fingerprint(c);
  return (Object.keys(PRESETS) as PresetName[]).find((p) => fingerprint(presetConfig(p, c.train.model)) === f) ?? null;
}

/** A preset's config for a model with the named options taken from `from`: what the user set survives a mode switch. */
export function presetWith(preset: PresetName, model: ModelName, from: RunConfig, names: readonly string[]): RunConfig {
  let config = presetConfig(preset, model);
  for (const name of names) if (name !== 'model') config = setOption(config, name, getOption(from, name));
  return config;
}

/** The options of a config that differ from a preset's for its model: what someone set on top of that preset. */
export function setOnTopOf(preset: PresetName, c: RunConfig): string[] {
  const base = presetConfig(preset, c.train.model);
  return OPTIONS.map((o) => o.name).filter((n) => n !== 'model' && getOption(c, n) !== getOption(base, n));
}
