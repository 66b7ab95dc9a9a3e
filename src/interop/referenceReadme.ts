/**
 * The README of the *Export for PyTorch* zip: what the `checkpoints/<name>/` folder is, where it goes, and the
 * reference's exact commands that continue the run (one GPU and four) and test it.
 */
import { commandLineFlags, defaultRunConfig, getOption } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';
import { unetDowns } from '../model/options';
import type { NetG } from '../model/options';

/** What the README needs to know about the exported run. */
export interface ReferenceReadmeInfo {
  /** The run's name: the folder `checkpoints/<name>/`. */
  name: string;
  model: 'pix2pix' | 'cycle_gan';
  config: RunConfig;
  /** The epoch the reference starts counting from: epochs done here + 1. */
  epoch_count: number;
  /** The dataset's folder under the reference's `./datasets/`. */
  datasetName: string;
  /** Every file of the folder, e.g. `latest_net_G_A.pth`, `train_opt.txt`. */
  files: string[];
  netG: NetG | string;
  /** Training steps done in the studio. */
  step: number;
}

/** Generators the reference's `define_G` builds from `--netG`. */
const REFERENCE_NET_G = ['resnet_9blocks', 'resnet_6blocks', 'unet_256', 'unet_128'];

/** What each network file of the reference holds. */
const NETWORKS: Record<string, string> = {
  G: 'generator G: A → B',
  D: 'discriminator D: judges (A, B) pairs',
  G_A: 'generator G_A: A → B',
  G_B: 'generator G_B: B → A',
  D_A: "discriminator D_A: judges G_A's images (domain B)",
  D_B: "discriminator D_B: judges G_B's images (domain A)",
};

/** Splits a flags string into tokens, dropping `--name value` pairs for the named flags. */
function without(flags: string, names: string[]): string {
  const tokens = flags.split(' ').filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < tokens.length; i++) {
    if (names.includes(tokens[i].slice(2))) {
      if (tokens[i + 1] && !tokens[i + 1].startsWith('--')) i++;
      continue;
    }
    out.push(tokens[i]);
  }
  return out.join(' ');
}

const join = (...parts: string[]) => parts.filter(Boolean).join(' ');

/** Base options that decide the generator (and pix2pix's halves), as flags where they differ from the model's defaults. */
function netFlags(c: RunConfig, names: string[]): string {
  const base = defaultRunConfig(c.train.model);
  return names
    .filter((n) => getOption(c, n) !== getOption(base, n))
    .map((n) => (typeof getOption(c, n) === 'boolean' ? (getOption(c, n) ? `--${n}` : '') : `--${n} ${String(getOption(c, n))}`))
    .filter(Boolean)
    .join(' ');
}

/** The reference's commands for a run: continue it (one GPU, four GPUs, torchrun) and test it. */
export function referenceCommands(info: ReferenceReadmeInfo): { train: string; trainFourGpus: string; trainTorchrun: string; test: string; testOneDirection: string[] } {
  const c = info.config;
  const flags = without(commandLineFlags(c), ['model']);
  const head = `--dataroot ./datasets/${info.datasetName} --name ${info.name} --model ${info.model}`;
  const resume = `--continue_train --epoch_count ${info.epoch_count}`;
  const perGpu = without(flags, ['batch_size']);
  // DDP refuses plain batch norm, so torchrun needs its synchronised form
  const ddpFlags = c.train.norm === 'batch' ? join(without(perGpu, ['norm']), '--norm syncbatch') : perGpu;
  // test.py's load_size defaults to 256 (its crop_size default), so a run at another size names both
  const size = c.data.crop_size !== 256 ? `--load_size ${c.data.crop_size} --crop_size ${c.data.crop_size}` : '';
  const net = netFlags(c, ['netG', 'ngf', 'norm', 'input_nc', 'output_nc']);
  const test = `python test.py --dataroot ./datasets/${info.datasetName} --name ${info.name} --model ${info.model} ${join(net, netFlags(c, ['no_dropout']), info.model === 'pix2pix' ? netFlags(c, ['direction']) : '', size)}`;
  // the test model has the base defaults, where dropout is on unless --no_dropout says otherwise
  const single = (suffix: 'A' | 'B') =>
    `python test.py --dataroot ./datasets/${info.datasetName}/test${suffix} --name ${info.name} --model test --model_suffix _${suffix} ${join(c.train.no_dropout ? '--no_dropout' : '', net, size)}`;
  return {
    train: `python train.py ${join(head, resume, flags)}`,
    trainFourGpus: `python train.py ${join(head, resume, perGpu, `--gpu_ids 0,1,2,3 --batch_size ${4 * c.batch_size}`)}`,
    trainTorchrun: `torchrun --nproc_per_node=4 train.py ${join(head, resume, ddpFlags)}`,
    test: test.trimEnd(),
    testOneDirection: info.model === 'cycle_gan' ? [single('A'), single('B')] : [],
  };
}

/** One line per file of the folder. */
function fileTable(info: ReferenceReadmeInfo): string {
  const c = info.config.train;
  return info.files
    .map((f) => {
      const m = /^(?:latest|\d+)_net_(\w+)\.pth$/.exec(f);
      if (m) {
        const what = NETWORKS[m[1]] ?? `network ${m[1]}`;
        const arch = m[1].startsWith('G') ? `${info.netG}, ngf ${c.ngf}` : `${c.netD}${c.netD === 'n_layers' ? ` ${c.n_layers_D}` : ''}, ndf ${c.ndf}`;
        return `| \`${f}\` | ${what} (${arch}, norm ${c.norm}) |`;
      }
      if (f === 'train_opt.txt') return `| \`${f}\` | the run's options, as the reference writes them |`;
      if (/^readme\.md$/i.test(f)) return `| \`${f}\` | this file |`;
      return `| \`${f}\` | |`;
    })
    .join('\n');
}

/** What to do for the studio's own U-Nets, which the reference cannot build from a flag. */
function smallUnetSection(info: ReferenceReadmeInfo): string {
  const downs = unetDowns(info.netG as NetG);
  if (REFERENCE_NET_G.includes(info.netG) || downs === null) return '';
  const t = info.config.train;
  const file = info.model === 'pix2pix' ? 'latest_net_G.pth' : 'latest_net_G_A.pth';
  const args = `${t.input_nc}, ${t.output_nc}, ${downs}, ${t.ngf}, norm_layer=get_norm_layer('${t.norm}'), use_dropout=${t.no_dropout ? 'False' : 'True'}`;
  return `
## ${info.netG}: a generator the reference has no flag for
\`${info.netG}\` is the studio's small-image U-Net (${downs} downsamplings). The reference's \`define_G\` builds only
${REFERENCE_NET_G.join(', ')}, so the commands above stop at "Generator model name [${info.netG}] is not recognized".
The file is a plain \`UnetGenerator\` state dict, so either load it yourself:

\`\`\`python
import torch
from models.networks import UnetGenerator, get_norm_layer
net = UnetGenerator(${args})
net.load_state_dict(torch.load('checkpoints/${info.name}/${file}', weights_only=True))
\`\`\`

or add two lines to \`define_G\` in the reference's \`models/networks.py\`, after which the commands above work as written:

\`\`\`python
    elif netG == '${info.netG}':
        net = UnetGenerator(input_nc, output_nc, ${downs}, ngf, norm_layer=norm_layer, use_dropout=use_dropout)
\`\`\`
`;
}

/** The export's README.md (Markdown). */
export function referenceReadme(info: ReferenceReadmeInfo): string {
  const cmd = referenceCommands(info);
  const c = info.config;
  const done = info.epoch_count - 1;
  const dataLayout = info.model === 'pix2pix' ? '`train/` of side-by-side A|B images (and `test/`)' : '`trainA/`, `trainB/` (and `testA/`, `testB/`)';
  const cycleDropout =
    info.model === 'cycle_gan' && !c.train.no_dropout
      ? '\nThis run keeps dropout on, which the reference\'s cycle_gan cannot ask for by a flag (it always sets `no_dropout`): set `parser.set_defaults(no_dropout=False)` in `models/cycle_gan_model.py` to match it.\n'
      : '';
  return `# ${info.name}: a GAN Studio run, as the reference's \`checkpoints/${info.name}/\`

This folder is \`checkpoints/${info.name}/\` of [pytorch-CycleGAN-and-pix2pix](https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix):
a ${info.model} run trained in GAN Studio for ${info.step} steps (${done} epoch${done === 1 ? '' : 's'} done).

| file | what |
| --- | --- |
${fileTable(info)}

Each \`.pth\` file is a state dict with the reference's own keys, shapes and layouts, as its \`save_networks\` writes
them: \`torch.load(path, weights_only=True)\` reads it and \`net.load_state_dict(...)\` takes it.

## Where to put it
Copy this folder into the reference's \`checkpoints/\` folder, so that the files sit in \`checkpoints/${info.name}/\`,
and put the dataset in \`./datasets/${info.datasetName}\` with ${dataLayout}.

## Continue the run
\`\`\`sh
${cmd.train}
\`\`\`

\`--continue_train\` loads the \`latest_net_*.pth\` files, and \`--epoch_count ${info.epoch_count}\` carries on the epoch count, so the
learning-rate schedule (${c.train.lr_policy}, ${c.train.n_epochs} + ${c.train.n_epochs_decay} epochs) goes on where it stopped.
The files hold weights only: the reference keeps no Adam moments in its checkpoints and restarts them from zero on
\`--continue_train\` too, so the first steps after resuming move a little differently than the studio's would have.
${cycleDropout}
### On four GPUs
\`\`\`sh
${cmd.trainFourGpus}
\`\`\`

\`--gpu_ids\` splits every batch across the GPUs, so ${4 * c.batch_size} images per step keep each GPU's share at this run's ${c.batch_size}
(and an epoch takes a quarter of the steps); with batch norm it changes the statistics, since each GPU normalises
over its own share only and the running statistics come from the first GPU alone.

The reference's newest versions (2025 on) have no \`--gpu_ids\` and run several GPUs with torchrun, where \`--batch_size\`
counts per GPU and batch norm is the synchronised \`syncbatch\`:

\`\`\`sh
${cmd.trainTorchrun}
\`\`\`

## Test it
\`\`\`sh
${cmd.test}
\`\`\`

The translations land in \`./results/${info.name}/test_latest/index.html\`.
${
  cmd.testOneDirection.length
    ? `For one direction only, on a folder of single images (G_A turns \`testA\` into B; \`_B\` runs G_B on \`testB\`):

\`\`\`sh
${cmd.testOneDirection.join('\n')}
\`\`\`
`
    : ''
}${smallUnetSection(info)}`;
}
