/**
 * The run's options as one typed table: every option by the reference's name, with its kind, so the same
 * table parses and writes the URL and the reference's command line, and validates choices where they are made.
 */
import { GAN_MODES, LR_POLICIES, MODEL_DEFAULTS, MODELS, NET_D, NET_G, NORMS, sizeMultiple } from '../model/options';
import type { ModelName, TrainConfig } from '../model/options';
import { DATA_DEFAULTS, PREPROCESS } from '../data/preprocess';
import type { DataOptions } from '../data/preprocess';
import { sizeRefusals } from './sizeLimits';
import type { DeviceLimits, MemoryFigure } from './sizeLimits';

/** Everything a run is configured by: the engine's options, the data options and the worker's own. */
export interface RunConfig {
  train: TrainConfig;
  data: DataOptions;
  /** Images per step (the reference's `batch_size`). */
  batch_size: number;
  /** A preview every this many steps. */
  preview_every: number;
  /** Save a checkpoint at least this often, in seconds (and on pause). */
  checkpoint_every_s: number;
}

type Kind = { type: 'int'; min: number } | { type: 'float'; min: number } | { type: 'bool' } | { type: 'enum'; values: readonly string[] };

/** Where an option lives in the RunConfig. */
type Home = 'train' | 'data' | 'run';

/** One option: its reference name, where it lives, its kind, and a one-line help text. */
export interface OptionSpec {
  name: string;
  home: Home;
  kind: Kind;
  help: string;
}

const int = (min = 1): Kind => ({ type: 'int', min });
const float = (min = 0): Kind => ({ type: 'float', min });
const bool: Kind = { type: 'bool' };
const oneOf = (values: readonly string[]): Kind => ({ type: 'enum', values });

/** Every option, in the order the advanced panel shows them. */
export const OPTIONS: OptionSpec[] = [
  { name: 'model', home: 'train', kind: oneOf(MODELS), help: 'pix2pix (paired) or cycle_gan (unpaired)' },
  { name: 'netG', home: 'train', kind: oneOf(NET_G), help: 'generator architecture' },
  { name: 'netD', home: 'train', kind: oneOf(NET_D), help: 'discriminator: basic = 70×70 PatchGAN' },
  { name: 'ngf', home: 'train', kind: int(), help: 'generator filters in the first layer' },
  { name: 'ndf', home: 'train', kind: int(), help: 'discriminator filters in the first layer' },
  { name: 'n_layers_D', home: 'train', kind: int(), help: 'layers of the n_layers discriminator' },
  { name: 'norm', home: 'train', kind: oneOf(NORMS), help: 'normalisation layer' },
  { name: 'no_dropout', home: 'train', kind: bool, help: 'no dropout in the generator' },
  { name: 'gan_mode', home: 'train', kind: oneOf(GAN_MODES), help: 'GAN objective' },
  { name: 'lambda_L1', home: 'train', kind: float(), help: 'pix2pix: weight of L1(G(A), B)' },
  { name: 'lambda_A', home: 'train', kind: float(), help: 'CycleGAN: weight of cycle loss A→B→A' },
  { name: 'lambda_B', home: 'train', kind: float(), help: 'CycleGAN: weight of cycle loss B→A→B' },
  { name: 'lambda_identity', home: 'train', kind: float(), help: 'CycleGAN: identity loss, relative to lambda_A/B' },
  { name: 'pool_size', home: 'train', kind: int(0), help: 'buffer of past fakes shown to D' },
  { name: 'lr', home: 'train', kind: float(), help: 'initial Adam learning rate' },
  { name: 'beta1', home: 'train', kind: float(), help: 'Adam momentum term' },
  { name: 'lr_policy', home: 'train', kind: oneOf(LR_POLICIES), help: 'learning-rate schedule' },
  { name: 'n_epochs', home: 'train', kind: int(0), help: 'epochs at the initial learning rate' },
  { name: 'n_epochs_decay', home: 'train', kind: int(0), help: 'epochs of linear decay to zero' },
  { name: 'lr_decay_iters', home: 'train', kind: int(), help: 'step policy: ×0.1 every this many epochs' },
  { name: 'input_nc', home: 'train', kind: int(), help: 'input image channels' },
  { name: 'output_nc', home: 'train', kind: int(), help: 'output image channels' },
  { name: 'preprocess', home: 'data', kind: oneOf(PREPROCESS), help: 'resizing and cropping at load time' },
  { name: 'load_size', home: 'data', kind: int(), help: 'scale images to this size' },
  { name: 'crop_size', home: 'data', kind: int(), help: 'then crop to this size' },
  { name: 'no_flip', home: 'data', kind: bool, help: 'no random horizontal flip' },
  { name: 'direction', home: 'data', kind: oneOf(['AtoB', 'BtoA']), help: 'pix2pix: which half is the input' },
  { name: 'batch_size', home: 'run', kind: int(), help: 'images per step' },
  { name: 'preview_every', home: 'run', kind: int(), help: 'translations every this many steps' },
];

const SPEC = new Map(OPTIONS.map((o) => [o.name, o]));

/** The default run config of a model (the reference's defaults). */
export function defaultRunConfig(model: ModelName): RunConfig {
  return { train: { ...MODEL_DEFAULTS[model] }, data: { ...DATA_DEFAULTS }, batch_size: 1, preview_every: 100, checkpoint_every_s: 120 };
}

type Bag = Record<string, unknown>;
const homeOf = (c: RunConfig, home: Home): Bag => (home === 'train' ? (c.train as unknown as Bag) : home === 'data' ? (c.data as unknown as Bag) : (c as unknown as Bag));

/** Reads an option's value. */
export function getOption(c: RunConfig, name: string): unknown {
  const spec = SPEC.get(name);
  if (!spec) throw new Error(`unknown option --${name}`);
  return homeOf(c, spec.home)[name];
}

/** Parses one value by the option's kind; throws a message naming the option. */
export function parseValue(name: string, raw: string): unknown {
  const spec = SPEC.get(name);
  if (!spec) throw new Error(`unknown option --${name}`);
  const k = spec.kind;
  switch (k.type) {
    case 'bool':
      if (raw === '' || raw === 'true' || raw === '1') return true;
      if (raw === 'false' || raw === '0') return false;
      throw new Error(`--${name} is a flag: true or false, got "${raw}"`);
    case 'int': {
      const v = Number(raw);
      if (!Number.isInteger(v) || v < k.min) throw new Error(`--${name} needs a whole number ≥ ${k.min}, got "${raw}"`);
      return v;
    }
    case 'float': {
      const v = Number(raw);
      if (!Number.isFinite(v) || v < k.min) throw new Error(`--${name} needs a number ≥ ${k.min}, got "${raw}"`);
      return v;
    }
    case 'enum':
      if (!k.values.includes(raw)) throw new Error(`--${name} ${raw} is not one of ${k.values.join(', ')}`);
      return raw;
  }
}

/** A copy of the config with one option set; switching `model` takes that model's defaults for unset options. */
export function setOption(c: RunConfig, name: string, value: unknown): RunConfig {
  const spec = SPEC.get(name)!;
  if (name === 'model' && value !== c.train.model) {
    const base = defaultRunConfig(value as ModelName);
    return { ...base, data: { ...c.data }, batch_size: c.batch_size, preview_every: c.preview_every, checkpoint_every_s: c.checkpoint_every_s, train: { ...base.train, ngf: c.train.ngf, ndf: c.train.ndf, n_epochs: c.train.n_epochs, n_epochs_decay: c.train.n_epochs_decay, lr: c.train.lr } };
  }
  const next: RunConfig = { ...c, train: { ...c.train }, data: { ...c.data } };
  homeOf(next, spec.home)[name] = value;
  return next;
}

/** Options that differ from the model's defaults, as name → text. */
function changed(c: RunConfig): [string, string][] {
  const base = defaultRunConfig(c.train.model);
  return OPTIONS.filter((o) => o.name === 'model' || getOption(c, o.name) !== getOption(base, o.name)).map((o) => [o.name, String(getOption(c, o.name))]);
}

/** The config as a URL query (only what differs from the defaults), so a setup can be shared as a link. */
export function toQuery(c: RunConfig): string {
  return new URLSearchParams(changed(c)).toString();
}

/** Reads a config from a URL query; unknown keys (like `test`) are left alone, bad values reported. */
export function fromQuery(query: string): { config: RunConfig; errors: string[] } {
  const params = new URLSearchParams(query);
  const model = params.get('model');
  let config = defaultRunConfig(model === 'pix2pix' ? 'pix2pix' : 'cycle_gan');
  const errors: string[] = [];
  for (const [k, v] of params) {
    if (!SPEC.has(k) || k === 'model') continue;
    try {
      config = setOption(config, k, parseValue(k, v));
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { config, errors };
}

/** The train.py flags of this config that differ from the reference's defaults, e.g. `--model pix2pix --ngf 32`. */
export function commandLineFlags(c: RunConfig): string {
  return changed(c)
    .filter(([k]) => k !== 'preview_every')
    .map(([k, v]) => {
      const spec = SPEC.get(k)!;
      if (spec.kind.type === 'bool') return v === 'true' ? `--${k}` : '';
      return `--${k} ${v}`;
    })
    .filter(Boolean)
    .join(' ');
}

/** The reference's command line for this config (train.py flags that differ from its defaults). */
export function toCommandLine(c: RunConfig, dataroot = './datasets/yours'): string {
  return `python train.py --dataroot ${dataroot} ${commandLineFlags(c)}`.trim();
}

/** What pasting a command line did. */
export interface AppliedLine {
  config: RunConfig;
  /** Options the line set (the model included when it names one). */
  set: string[];
  /** Flags we do not use (dataroot, name, gpu_ids...). */
  ignored: string[];
  /** Values that could not be read, by flag. */
  errors: string[];
  /** True when the line names no --model, so the current one stays. */
  modelKept: boolean;
}

/**
 * Applies a pasted reference command line (`--netG resnet_6blocks --ngf 32 --no_flip ...`) as train.py reads it:
 * the reference's defaults for everything the line omits. Without --model the current model stays (the loaded
 * data decides it). Flags we do not use are listed as ignored, not errors.
 */
export function applyCommandLine(c: RunConfig, line: string): AppliedLine {
  const tokens = line.trim().split(/\s+/).filter(Boolean);
  const ignored: string[] = [];
  const errors: string[] = [];
  const pairs: [string, string][] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!t.startsWith('--')) continue; // python, train.py, stray values
    const [flag, inline] = t.slice(2).split('=', 2);
    const spec = SPEC.get(flag);
    if (spec?.kind.type === 'bool') pairs.push([flag, inline ?? 'true']);
    else {
      const value = inline ?? (tokens[i + 1] && !tokens[i + 1].startsWith('--') ? tokens[++i] : '');
      if (spec) pairs.push([flag, value]);
      else ignored.push(`--${flag}`);
    }
  }
  let model: ModelName = c.train.model;
  const named = pairs.find(([k]) => k === 'model');
  if (named) {
    try {
      model = parseValue('model', named[1]) as ModelName;
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  let config = defaultRunConfig(model);
  const set: string[] = named && !errors.length ? ['model'] : [];
  for (const [k, v] of pairs) {
    if (k === 'model') continue;
    try {
      config = setOption(config, k, parseValue(k, v));
      if (!set.includes(k)) set.push(k);
    } catch (e) {
      errors.push((e as Error).message);
    }
  }
  return { config, set, ignored, errors, modelKept: !named };
}

/** Options whose values differ between two configs, as `name old → new`, in the table's order (or only `names`). */
export function describeChanges(before: RunConfig, after: RunConfig, names?: readonly string[]): string[] {
  return OPTIONS.filter((o) => !names || names.includes(o.name))
    .filter((o) => getOption(before, o.name) !== getOption(after, o.name))
    .map((o) => `${o.name} ${String(getOption(before, o.name))} → ${String(getOption(after, o.name))}`);
}

/** The note after pasting a line: what it set, what went back to the reference's defaults, what was kept or ignored. */
export function commandLineNote(before: RunConfig, r: AppliedLine): string {
  const setChanges = describeChanges(before, r.config, r.set);
  const others = OPTIONS.map((o) => o.name).filter((n) => !r.set.includes(n));
  const defaults = describeChanges(before, r.config, others);
  const parts = [
    ...r.errors,
    setChanges.length ? `Applied: ${setChanges.join(', ')}` : r.errors.length ? '' : 'Applied: the options already had these values',
    defaults.length ? `the reference's defaults for what the line leaves out: ${defaults.join(', ')}` : '',
    r.modelKept ? `kept the model ${r.config.train.model} (the line names no --model; the loaded data decides it)` : '',
    r.ignored.length ? `ignored (not used here): ${r.ignored.join(' ')}` : '',
  ];
  return `${parts.filter(Boolean).join('; ')}.`;
}

/**
 * Problems with a combination of options, each tied to the option where it should be fixed, including what cannot
 * fit the device (its limits when known, else a browser tab's memory), by the memory of the step that will run:
 * the compiled WebGPU step's as the worker counts it, or TF.js's step's estimate (the default).
 */
export function validateRunConfig(c: RunConfig, device: DeviceLimits | null = null, figure: MemoryFigure = { step: 'tfjs' }): { option: string; message: string }[] {
  const out: { option: string; message: string }[] = [];
  const t: TrainConfig = c.train;
  const d: DataOptions = c.data;
  const multiple = sizeMultiple(t.netG);
  const side = d.preprocess.includes('crop') ? d.crop_size : null;
  if (side !== null && side % multiple !== 0) {
    out.push({ option: 'crop_size', message: `${t.netG} needs image sides that are multiples of ${multiple}: use crop_size ${Math.max(multiple, Math.round(side / multiple) * multiple)}` });
  }
  if (t.netG.startsWith('unet_') && side !== null && side < multiple) {
    out.push({ option: 'netG', message: `${t.netG} downsamples to 1×1 at ${multiple} px: it needs crop_size ${multiple} or more` });
  }
  if (d.preprocess.includes('crop') && d.preprocess !== 'crop' && d.crop_size > d.load_size) {
    out.push({ option: 'crop_size', message: `crop_size ${d.crop_size} is larger than load_size ${d.load_size}: nothing to crop from` });
  }
  if (t.model === 'cycle_gan' && t.lambda_identity > 0 && t.input_nc !== t.output_nc) {
    out.push({ option: 'lambda_identity', message: 'identity loss needs input_nc == output_nc (G_A is fed images of B): set lambda_identity 0' });
  }
  if (c.batch_size > 1 && !d.preprocess.includes('crop') && d.preprocess !== 'resize_and_crop') {
    out.push({ option: 'batch_size', message: `batch_size ${c.batch_size} needs images of one size: use a preprocess with crop` });
  }
  if ((t.netD === 'basic' || t.netD === 'n_layers') && side !== null) {
    const layers = t.netD === 'basic' ? 3 : t.n_layers_D;
    let s = side;
    for (let i = 0; i < layers; i++) s = Math.floor((s + 2 - 4) / 2) + 1;
    s = s + 2 - 4 + 1;
    s = s + 2 - 4 + 1;
    if (s < 1) out.push({ option: 'netD', message: `a ${layers}-layer PatchGAN has no output at ${side} px: use a larger crop_size, fewer n_layers_D or netD pixel` });
  }
  out.push(...sizeRefusals(c, device, figure));
  return out;
}
