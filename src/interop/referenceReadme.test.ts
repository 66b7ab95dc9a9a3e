import { describe, expect, it } from 'vitest';
import { referenceCommands, referenceReadme } from './referenceReadme';
import type { ReferenceReadmeInfo } from './referenceReadme';
import { TRAIN_PY_FLAGS } from './referenceOptions';
import { defaultRunConfig, setOption } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';

/** Applies options in order, as a user would in the options panel. */
const configure = (model: 'pix2pix' | 'cycle_gan', ...set: [string, unknown][]): RunConfig => set.reduce((c, [k, v]) => setOption(c, k, v), defaultRunConfig(model));

const cycle: ReferenceReadmeInfo = {
  name: 'h2z_studio',
  model: 'cycle_gan',
  config: configure('cycle_gan', ['netG', 'resnet_6blocks'], ['ngf', 32], ['lambda_identity', 0], ['no_flip', true], ['crop_size', 128], ['load_size', 143], ['batch_size', 2]),
  epoch_count: 8,
  datasetName: 'horse2zebra',
  files: ['latest_net_G_A.pth', 'latest_net_G_B.pth', 'latest_net_D_A.pth', 'latest_net_D_B.pth', 'train_opt.txt', 'README.md'],
  netG: 'resnet_6blocks',
  step: 9331,
};

const pix2pix: ReferenceReadmeInfo = {
  name: 'facades_studio',
  model: 'pix2pix',
  config: configure('pix2pix', ['direction', 'BtoA'], ['lambda_L1', 50]),
  epoch_count: 31,
  datasetName: 'facades',
  files: ['latest_net_G.pth', 'latest_net_D.pth', 'train_opt.txt', 'README.md'],
  netG: 'unet_256',
  step: 12000,
};

/** Every command line of a README's sh blocks. */
const commands = (readme: string) => [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].trim().split('\n'));

describe('the export README: commands for the reference', () => {
  it('continues a CycleGAN run with its flags, on one GPU and on four', () => {
    const readme = referenceReadme(cycle);
    const run = '--dataroot ./datasets/horse2zebra --name h2z_studio --model cycle_gan --continue_train --epoch_count 8';
    expect(commands(readme)).toEqual([
      `python train.py ${run} --netG resnet_6blocks --ngf 32 --lambda_identity 0 --load_size 143 --crop_size 128 --no_flip --batch_size 2`,
      `python train.py ${run} --netG resnet_6blocks --ngf 32 --lambda_identity 0 --load_size 143 --crop_size 128 --no_flip --gpu_ids 0,1,2,3 --batch_size 8`,
      `torchrun --nproc_per_node=4 train.py ${run} --netG resnet_6blocks --ngf 32 --lambda_identity 0 --load_size 143 --crop_size 128 --no_flip`,
      'python test.py --dataroot ./datasets/horse2zebra --name h2z_studio --model cycle_gan --netG resnet_6blocks --ngf 32 --load_size 128 --crop_size 128',
      'python test.py --dataroot ./datasets/horse2zebra/testA --name h2z_studio --model test --model_suffix _A --no_dropout --netG resnet_6blocks --ngf 32 --load_size 128 --crop_size 128',
      'python test.py --dataroot ./datasets/horse2zebra/testB --name h2z_studio --model test --model_suffix _B --no_dropout --netG resnet_6blocks --ngf 32 --load_size 128 --crop_size 128',
    ]);
  });
  it('continues and tests a pix2pix run; torchrun gets synchronised batch norm', () => {
    const c = referenceCommands(pix2pix);
    const run = '--dataroot ./datasets/facades --name facades_studio --model pix2pix --continue_train --epoch_count 31';
    expect(c.train).toBe(`python train.py ${run} --lambda_L1 50 --direction BtoA`);
    expect(c.trainFourGpus).toBe(`python train.py ${run} --lambda_L1 50 --direction BtoA --gpu_ids 0,1,2,3 --batch_size 4`);
    expect(c.trainTorchrun).toBe(`torchrun --nproc_per_node=4 train.py ${run} --lambda_L1 50 --direction BtoA --norm syncbatch`);
    expect(c.test).toBe('python test.py --dataroot ./datasets/facades --name facades_studio --model pix2pix --direction BtoA');
    expect(c.testOneDirection).toEqual([]);
    expect(commands(referenceReadme(pix2pix))).toEqual([c.train, c.trainFourGpus, c.trainTorchrun, c.test]);
  });
  it('uses only flags that train.py knows, for every config tried', () => {
    const configs = [cycle, pix2pix, { ...pix2pix, config: configure('pix2pix', ['netG', 'resnet_9blocks'], ['norm', 'instance'], ['gan_mode', 'lsgan'], ['pool_size', 50], ['no_dropout', true], ['lr_policy', 'cosine'], ['n_epochs', 5], ['preprocess', 'crop'], ['batch_size', 3]) }];
    for (const info of configs) {
      const c = referenceCommands(info);
      for (const line of [c.train, c.trainFourGpus, c.trainTorchrun]) {
        const flags = line.split(' ').filter((t) => t.startsWith('--') && !t.startsWith('--nproc_per_node')).map((t) => t.slice(2));
        expect(flags.filter((f) => !TRAIN_PY_FLAGS.has(f))).toEqual([]);
        expect(new Set(flags).size).toBe(flags.length);
      }
    }
  });
  it('says why the batch size scales on four GPUs and what it does to batch norm', () => {
    const readme = referenceReadme(cycle);
    expect(readme).toContain("8 images per step keep each GPU's share at this run's 2");
    expect(readme).toMatch(/with batch norm it changes the statistics/);
  });
});

describe('the export README: what the folder is', () => {
  it('names every file with its network, where the folder goes, and that Adam restarts', () => {
    const readme = referenceReadme(cycle);
    expect(readme).toContain("# h2z_studio: a GAN Studio run, as the reference's `checkpoints/h2z_studio/`");
    expect(readme).toContain('| `latest_net_G_A.pth` | generator G_A: A → B (resnet_6blocks, ngf 32, norm instance) |');
    expect(readme).toContain("| `latest_net_D_B.pth` | discriminator D_B: judges G_B's images (domain A) (basic, ndf 64, norm instance) |");
    expect(readme).toContain('| `train_opt.txt` |');
    expect(readme).toContain('torch.load(path, weights_only=True)');
    expect(readme).toContain("Copy this folder into the reference's `checkpoints/` folder");
    expect(readme).toContain('9331 steps (7 epochs done)');
    expect(readme).toMatch(/no Adam moments in its checkpoints and restarts them from zero/);
    expect(readme).not.toContain('UnetGenerator');
  });
  it("tells how to build the studio's unet_64, which the reference has no flag for", () => {
    const info = { ...pix2pix, netG: 'unet_64', config: configure('pix2pix', ['netG', 'unet_64'], ['crop_size', 64], ['load_size', 72]) };
    const readme = referenceReadme(info);
    expect(readme).toContain('Generator model name [unet_64] is not recognized');
    expect(readme).toContain("net = UnetGenerator(3, 3, 6, 64, norm_layer=get_norm_layer('batch'), use_dropout=True)");
    expect(readme).toContain("net.load_state_dict(torch.load('checkpoints/facades_studio/latest_net_G.pth', weights_only=True))");
    expect(readme).toContain('net = UnetGenerator(input_nc, output_nc, 6, ngf, norm_layer=norm_layer, use_dropout=use_dropout)');
    expect(referenceCommands(info).test).toBe('python test.py --dataroot ./datasets/facades --name facades_studio --model pix2pix --netG unet_64 --load_size 64 --crop_size 64');
  });
  it('unet_32 is five downsamplings, with the run\'s own channels and dropout', () => {
    const info = { ...cycle, netG: 'unet_32', config: configure('cycle_gan', ['netG', 'unet_32'], ['ngf', 16], ['output_nc', 1], ['lambda_identity', 0]) };
    expect(referenceReadme(info)).toContain("net = UnetGenerator(3, 1, 5, 16, norm_layer=get_norm_layer('instance'), use_dropout=False)");
  });
  it("says that cycle_gan's dropout cannot be asked for by flag when the run used it", () => {
    const info = { ...cycle, config: configure('cycle_gan', ['no_dropout', false]) };
    expect(referenceReadme(info)).toContain('parser.set_defaults(no_dropout=False)');
    expect(referenceCommands(info).testOneDirection[0]).not.toContain('--no_dropout');
    expect(referenceReadme(cycle)).not.toContain('set_defaults(no_dropout=False)');
  });
});
