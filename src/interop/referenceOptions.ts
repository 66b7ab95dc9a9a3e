/**
 * The reference's options file (`checkpoints/<name>/train_opt.txt`, older `opt.txt`): read one into a RunConfig
 * and write one for a run, in exactly the format the reference's `print_options` writes.
 * The option list is the reference's train.py as of its `--gpu_ids` (DataParallel) versions, 2020 to 2024.
 */
import { MODELS } from '../model/options';
import type { ModelName } from '../model/options';
import { OPTIONS, defaultRunConfig, getOption, parseValue, setOption } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';

/** An options file that cannot be read; the message names the file and says what is wrong. */
export class OptionsFileError extends Error {
  override name = 'OptionsFileError';
}

/** Every train.py option with its parser default as Python's `str()` prints it (base_options + train_options). */
const BASE_DEFAULTS: Record<string, string> = {
  batch_size: '1',
  beta1: '0.5',
  checkpoints_dir: './checkpoints',
  continue_train: 'False',
  crop_size: '256',
  dataroot: 'None',
  dataset_mode: 'unaligned',
  direction: 'AtoB',
  display_env: 'main',
  display_freq: '400',
  display_id: '1',
  display_ncols: '4',
  display_port: '8097',
  display_server: 'http://localhost',
  display_winsize: '256',
  epoch: 'latest',
  epoch_count: '1',
  gan_mode: 'lsgan',
  gpu_ids: '0',
  init_gain: '0.02',
  init_type: 'normal',
  input_nc: '3',
  isTrain: 'None', // set on opt after parsing, so the parser has no default and the file says [default: None]
  load_iter: '0', // default='0' is a str the parser converts, so the file always says `0 [default: 0]`
  load_size: '286',
  lr: '0.0002',
  lr_decay_iters: '50',
  lr_policy: 'linear',
  max_dataset_size: 'inf',
  model: 'cycle_gan',
  n_epochs: '100',
  n_epochs_decay: '100',
  n_layers_D: '3',
  name: 'experiment_name',
  ndf: '64',
  netD: 'basic',
  netG: 'resnet_9blocks',
  ngf: '64',
  no_dropout: 'False',
  no_flip: 'False',
  no_html: 'False',
  norm: 'instance',
  num_threads: '4',
  output_nc: '3',
  phase: 'train',
  pool_size: '50',
  preprocess: 'resize_and_crop',
  print_freq: '100',
  save_by_iter: 'False',
  save_epoch_freq: '5',
  save_latest_freq: '5000',
  serial_batches: 'False',
  suffix: '',
  update_html_freq: '1000',
  use_wandb: 'False',
  verbose: 'False',
  wandb_project_name: 'CycleGAN-and-pix2pix',
};

/** What each model's `modify_commandline_options` adds or re-defaults for training. */
const MODEL_PARSER_DEFAULTS: Record<ModelName, Record<string, string>> = {
  pix2pix: { norm: 'batch', netG: 'unet_256', dataset_mode: 'aligned', pool_size: '0', gan_mode: 'vanilla', lambda_L1: '100.0' },
  cycle_gan: { no_dropout: 'True', lambda_A: '10.0', lambda_B: '10.0', lambda_identity: '0.5' },
};

/** The parser defaults train.py has for a model, by option name (what `[default: …]` compares with). */
export function referenceTrainDefaults(model: ModelName): Record<string, string> {
  return { ...BASE_DEFAULTS, ...MODEL_PARSER_DEFAULTS[model] };
}

/** Every flag train.py accepts for either model. */
export const TRAIN_PY_FLAGS: ReadonlySet<string> = new Set(
  [...Object.keys(BASE_DEFAULTS), ...Object.keys(MODEL_PARSER_DEFAULTS.pix2pix), ...Object.keys(MODEL_PARSER_DEFAULTS.cycle_gan)].filter((k) => k !== 'isTrain'),
);

/** A number as Python's `str(float)` writes it: `100.0`, `0.0002`, `1e-05`, `inf`. */
export function pythonFloat(v: number): string {
  if (v === Infinity) return 'inf';
  const [mantissa, e] = v.toExponential().split('e');
  const exp = Number(e);
  // repr switches to exponent form below 1e-4 and from 1e16
  if (exp < -4 || exp >= 16) return `${mantissa}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return Number.isInteger(v) ? v.toFixed(1) : String(v);
}

const SUPPORTED = new Map(OPTIONS.filter((o) => o.home !== 'run' || o.name === 'batch_size').map((o) => [o.name, o]));

/** One of our options' values as the reference prints it. */
function pythonValue(config: RunConfig, name: string): string {
  const v = getOption(config, name);
  const kind = SUPPORTED.get(name)!.kind.type;
  if (kind === 'bool') return v ? 'True' : 'False';
  if (kind === 'float') return pythonFloat(v as number);
  return String(v);
}

/** What a run adds to its options: names and places the studio does not keep in a RunConfig. */
export interface RunInfo {
  name: string;
  dataroot: string;
  /** The epoch the reference starts counting from (epochs done + 1). */
  epoch_count: number;
  /** The reference's `--gpu_ids` (default `0`). */
  gpu_ids?: string;
}

/** A run's `train_opt.txt`, byte for byte as the reference's `print_options` writes it. */
export function trainOptText(config: RunConfig, run: RunInfo): string {
  const model = config.train.model;
  const defaults = referenceTrainDefaults(model);
  const values: Record<string, string> = { ...defaults, isTrain: 'True', name: run.name, dataroot: run.dataroot, epoch_count: String(run.epoch_count), gpu_ids: run.gpu_ids ?? '0' };
  // a run with epochs done is written as the reference writes it when continuing: with --continue_train
  values.continue_train = run.epoch_count > 1 ? 'True' : 'False';
  for (const name of Object.keys(defaults)) if (SUPPORTED.has(name)) values[name] = pythonValue(config, name);
  const lines = Object.keys(values)
    .sort()
    .map((k) => {
      const comment = values[k] !== defaults[k] || k === 'load_iter' ? `\t[default: ${defaults[k]}]` : '';
      return `${k.padStart(25)}: ${values[k].padEnd(30)}${comment}`;
    });
  return ['----------------- Options ---------------', ...lines, '----------------- End -------------------', ''].join('\n');
}

/** What an options file says, read into the studio's terms. */
export interface ParsedOptions {
  /** Every `key: value` of the file, as written (no `[default: …]` comments). */
  values: Record<string, string>;
  /** The reference's defaults for the file's model, with every option we support taken from the file. */
  config: RunConfig;
  /** What in the file the studio does not follow, where it matters to the user. */
  notes: string[];
  name: string | null;
  dataroot: string | null;
  /** Which checkpoint the run loads (`latest`, `200`, ...). */
  epoch: string | null;
  epoch_count: number | null;
}

/** Option names of the reference before 2019, and what they are called now. */
const OLD_NAMES: Record<string, string> = {
  niter: 'n_epochs',
  niter_decay: 'n_epochs_decay',
  loadSize: 'load_size',
  fineSize: 'crop_size',
  resize_or_crop: 'preprocess',
  which_model_netG: 'netG',
  which_model_netD: 'netD',
  which_direction: 'direction',
  which_epoch: 'epoch',
  batchSize: 'batch_size',
  identity: 'lambda_identity',
  nThreads: 'num_threads',
};

/** Options test.py and older versions write that are no news to a user. */
const OTHER_KNOWN = ['results_dir', 'aspect_ratio', 'num_test', 'eval', 'model_suffix', 'ntest', 'how_many', 'display_single_pane_ncols', 'no_lsgan', 'lambda_L1', 'lambda_A', 'lambda_B'];

/** Networks the studio cannot build from a name: a fork's or a newer reference's; importing them would be wrong. */
const NETWORK_OPTIONS = new Set(['netG', 'netD', 'norm']);

/**
 * Reads a reference options file (`train_opt.txt`, `opt.txt`, lenient about headers and padding) into the
 * reference's defaults for its model with every supported option from the file. Throws OptionsFileError for
 * a file that is not an options file, a model other than pix2pix / cycle_gan, or a network we cannot build.
 */
export function parseOptionsFile(text: string, fileName: string): ParsedOptions {
  const fail = (what: string): never => {
    throw new OptionsFileError(`${fileName}: ${what}`);
  };
  if (text.includes('\0')) fail(`is not an options file (it holds binary data); pick the train_opt.txt or opt.txt of checkpoints/<name>/`);
  const values: Record<string, string> = {};
  const notes: string[] = [];
  let other = 0;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || /^-{3,}.*-{3,}$/.test(line)) continue; // header and footer, whatever their width
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*:\s?(.*)$/.exec(line);
    if (!m) {
      other++;
      continue;
    }
    // the comment is a tab then [default: …]; accept spaces too where an editor replaced the tab
    values[m[1]] = m[2].replace(/\s*\[default: .*\]$/, '').trim();
  }
  const keys = Object.keys(values);
  const known = keys.filter((k) => Object.hasOwn(BASE_DEFAULTS, k) || Object.hasOwn(OLD_NAMES, k) || OTHER_KNOWN.includes(k));
  if (known.length < 3 || other > keys.length) {
    fail(`is not an options file of pytorch-CycleGAN-and-pix2pix: expected lines like "netG: resnet_9blocks" between "----------------- Options ---------------" and "----------------- End -------------------" (the train_opt.txt or opt.txt in checkpoints/<name>/)`);
  }
  for (const [old, now] of Object.entries(OLD_NAMES)) {
    if (old in values && !(now in values)) {
      values[now] = values[old];
      if (SUPPORTED.has(now)) notes.push(`read the old option ${old} as ${now}`);
    }
  }

  const model = values.model ?? 'cycle_gan';
  if (!values.model) notes.push('the file names no model: read as cycle_gan, the reference\'s default');
  if (!(MODELS as readonly string[]).includes(model)) {
    const hint = model === 'test' ? ' (this is a test run\'s options: pick the train_opt.txt next to it)' : '';
    fail(`is the options of a "${model}" run; the studio trains pix2pix and cycle_gan only${hint}`);
  }
  let config = defaultRunConfig(model as ModelName);
  for (const name of SUPPORTED.keys()) {
    if (name === 'model' || !(name in values)) continue;
    let raw = values[name];
    if (raw === 'True' || raw === 'False') raw = raw === 'True' ? 'true' : 'false';
    if (name === 'norm' && raw === 'syncbatch') {
      notes.push('norm syncbatch (batch norm synchronised across GPUs) is read as batch: on one device they are the same');
      raw = 'batch';
    }
    try {
      config = setOption(config, name, parseValue(name, raw));
    } catch (e) {
      const message = (e as Error).message;
      if (NETWORK_OPTIONS.has(name)) fail(`${message}: the studio cannot build this network`);
      if (SUPPORTED.get(name)!.kind.type === 'enum') notes.push(`${message}: kept ${String(getOption(config, name))}`);
      else fail(message);
    }
  }
  notes.push(...unusedNotes(values, model as ModelName));

  const textOf = (k: string) => (values[k] && values[k] !== 'None' ? values[k] : null);
  const count = values.epoch_count !== undefined ? Number(values.epoch_count) : NaN;
  return { values, config, notes, name: textOf('name'), dataroot: textOf('dataroot'), epoch: textOf('epoch'), epoch_count: Number.isInteger(count) ? count : null };
}

/** Notes on options the studio does not follow, only where following them or not changes what a user gets. */
function unusedNotes(values: Record<string, string>, model: ModelName): string[] {
  const notes: string[] = [];
  // gpu_ids is '0,1,2' in newer files and '[0, 1, 2]' in older ones
  const gpus = (values.gpu_ids ?? '').replace(/[[\]\s]/g, '').split(',').filter((id) => id !== '' && Number(id) >= 0);
  if (gpus.length > 1) notes.push(`the run used ${gpus.length} GPUs (gpu_ids ${gpus.join(',')}), which split batch_size ${values.batch_size ?? 1} between them; here one device takes the whole batch`);
  const dataset = model === 'pix2pix' ? 'aligned' : 'unaligned';
  if (values.dataset_mode && values.dataset_mode !== dataset) notes.push(`dataset_mode ${values.dataset_mode}: the studio reads ${model} data as ${dataset}`);
  if ((values.init_type && values.init_type !== 'normal') || (values.init_gain && Number(values.init_gain) !== 0.02)) {
    notes.push(`init_type ${values.init_type ?? 'normal'} (gain ${values.init_gain ?? '0.02'}): the studio initialises networks the files do not bring with normal(0, 0.02)`);
  }
  if (values.max_dataset_size && values.max_dataset_size !== 'inf') notes.push(`max_dataset_size ${values.max_dataset_size}: the studio trains on every image it is given`);
  if (values.serial_batches === 'True') notes.push('serial_batches: the studio draws B images at random, as the reference does without it');
  const unknown = Object.keys(values).filter((k) => !Object.hasOwn(BASE_DEFAULTS, k) && !Object.hasOwn(OLD_NAMES, k) && !OTHER_KNOWN.includes(k) && !SUPPORTED.has(k) && k !== 'isTrain' && k !== 'gpu_ids');
  if (unknown.length) notes.push(`options the reference does not have (a fork's?), not used here: ${unknown.join(', ')}`);
  return notes;
}
