import { readFileSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../model';
import { resolveConfig } from '../model/options';
import { defaultRunConfig } from '../config/runConfig';
import tiny from './fixtures/nets/tiny.json';
import { importNetwork } from './inferNetwork';
import { readPth } from './pth';
import { referenceCheckpointFiles } from './referenceExport';
import { readReferenceFiles, startEpoch } from './referenceImport';
import { parseOptionsFile } from './referenceOptions';

const DIR = new URL('./fixtures/nets/', import.meta.url);
const bytes = (name: string) => new Uint8Array(readFileSync(new URL(name, DIR)));
const floats = (name: string) => new Float32Array(bytes(name).slice().buffer);

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** NCHW (PyTorch) ↔ NHWC (ours). */
const toNHWC = (x: Float32Array, [n, c, h, w]: number[]) => tf.tidy(() => tf.tensor4d(x, [n, c, h, w]).transpose([0, 2, 3, 1]));

describe('checkpoints written by PyTorch', () => {
  const cases = Object.entries(tiny as Record<string, { input: number[]; output: number[]; legacy: boolean }>);
  it.each(cases)('%s: read, built, and gives PyTorch’s output within 1e-4', async (file, c) => {
    const net = importNetwork(readPth(bytes(file), file), file);
    const stem = file.slice(0, -4);
    const x = toNHWC(floats(`${stem}.input.bin`), c.input);
    const y = net.model.predict(x) as tf.Tensor4D;
    const expected = toNHWC(floats(`${stem}.output.bin`), c.output);
    expect(y.shape).toEqual(expected.shape);
    const diff = (await tf.max(tf.abs(tf.sub(y, expected))).data())[0];
    expect(diff).toBeLessThan(1e-4);
    tf.dispose([x, y, expected]);
    net.model.dispose();
  });

  it('says what it found, and what it dropped as the reference does', () => {
    const old = importNetwork(readPth(bytes('old_instance_norm_G.pth'), 'old.pth'), 'old.pth');
    expect(old.summary).toMatch(/^resnet_6blocks generator, ngf 4, instance norm, 3 → 3 channels, [\d,]+ parameters$/);
    expect(old.dropped.join()).toMatch(/running statistics of InstanceNorm layers/);
    const dp = importNetwork(readPth(bytes('dataparallel_G.pth'), 'dp.pth'), 'dp.pth');
    expect(dp.dropped.join()).toMatch(/`module\.` prefix of \d+ keys/);
    const unet = importNetwork(readPth(bytes('unet_128_batch_G_legacy.pth'), 'u.pth'), 'u.pth');
    expect(unet.summary).toMatch(/^unet_128 generator, ngf 4, batch norm, 3 → 3 channels/);
    const d = importNetwork(readPth(bytes('n_layers_2_batch_D_legacy.pth'), 'd.pth'), 'd.pth');
    expect(d.summary).toMatch(/^n_layers \(2\) discriminator, ndf 4, batch norm, 3 input channels/);
    for (const n of [old, dp, unet, d]) n.model.dispose();
  });
});

describe('a reference run folder', () => {
  const folder = 'tiny_cyclegan';
  const files = () => readdirSync(new URL(`${folder}/`, DIR)).map((name) => ({ name: `checkpoints/${folder}/${name}`, bytes: bytes(`${folder}/${name}`) }));

  it('is read whole: four networks, the options file, the epoch', () => {
    const r = readReferenceFiles(files());
    expect(Object.keys(r.nets).sort()).toEqual(['netD_A', 'netD_B', 'netG_A', 'netG_B']);
    expect(r).toMatchObject({ model: 'cycle_gan', epoch: 3, name: 'tiny_cyclegan', complete: true, canTrain: true });
    expect(r.config.train).toMatchObject({ netG: 'resnet_6blocks', ngf: 4, ndf: 4, n_epochs: 5, n_epochs_decay: 5, no_dropout: true });
    for (const n of Object.values(r.nets)) n.model.dispose();
  });

  it('is read from a zip of the folder, and generators alone are enough to fine-tune', () => {
    const zip = zipSync(Object.fromEntries(files().filter((f) => /G_[AB]/.test(f.name)).map((f) => [f.name, f.bytes])));
    const r = readReferenceFiles([{ name: 'tiny_cyclegan.zip', bytes: zip }]);
    expect(r).toMatchObject({ model: 'cycle_gan', complete: false, canTrain: true });
    expect(r.notes.join('\n')).toMatch(/D_A, D_B not among the files: to fine-tune, the discriminators start fresh/);
    expect(r.notes.join('\n')).toMatch(/no train_opt\.txt/);
    for (const n of Object.values(r.nets)) n.model.dispose();
  });

  it('refuses an options file that disagrees with the weights, naming both', () => {
    const opt = files().find((f) => f.name.endsWith('train_opt.txt'))!;
    const text = new TextDecoder().decode(opt.bytes).replace(/ngf: 4 +/, 'ngf: 64                            ');
    const set = [...files().filter((f) => f.name !== opt.name), { name: opt.name, bytes: new TextEncoder().encode(text) }];
    expect(() => readReferenceFiles(set)).toThrow(/train_opt\.txt says --ngf 64 but the weights are a resnet_6blocks generator, ngf 4/);
  });

  it('takes latest from a folder of several epochs, as --continue_train does', () => {
    const set = files().flatMap((f) => (f.name.endsWith('.pth') ? [f, { ...f, name: f.name.replace('/3_net_', '/latest_net_') }] : [f]));
    const r = readReferenceFiles(set);
    expect(r).toMatchObject({ epoch: 3, complete: true });
    expect(r.notes).toContain('the folder holds epochs 3, latest: using latest, taken as epoch 3 (its newest numbered files)');
    for (const n of Object.values(r.nets)) n.model.dispose();
  });

  it('takes a lone generator (as the reference’s pretrained models ship) for one direction', () => {
    const r = readReferenceFiles([{ name: 'latest_net_G.pth', bytes: bytes('tiny_cyclegan/3_net_G_A.pth') }]);
    expect(r).toMatchObject({ model: 'pix2pix', modelGuessed: true, canTrain: true, complete: false, epoch: null });
    expect(r.notes.join('\n')).toMatch(/a lone generator: it translates one way/);
    for (const n of Object.values(r.nets)) n.model.dispose();
  });

  it('refuses files of different runs, and two files for one network', () => {
    const gA = bytes(`${folder}/3_net_G_A.pth`);
    const other = bytes('resnet_9blocks_instance_dropout_G.pth');
    expect(() => readReferenceFiles([{ name: '3_net_G_A.pth', bytes: gA }, { name: '3_net_G_B.pth', bytes: other }])).toThrow(
      /3_net_G_B\.pth is a resnet_9blocks generator, ngf 4, instance norm, dropout, 3 → 3 channels, which does not fit the cycle_gan run the other files make \(it needs model\.10\.conv_block\.5\.weight \[16, 16, 3, 3\]\)/,
    );
    expect(() => readReferenceFiles([{ name: 'generator.pth', bytes: gA }, { name: 'latest_net_G.pth', bytes: gA }])).toThrow(/generator\.pth and latest_net_G\.pth are both G/);
  });

  it('reads the run’s channels the right way round from G_B alone, and starts a run of an incomplete set at epoch 1', () => {
    const r = readReferenceFiles([{ name: 'latest_net_G_B.pth', bytes: bytes('resnet_6blocks_none_G.pth') }]);
    expect(r.config.train).toMatchObject({ model: 'cycle_gan', input_nc: 1, output_nc: 3 });
    expect(r.canTrain).toBe(false);
    for (const n of Object.values(r.nets)) n.model.dispose();
    const gens = readReferenceFiles(files().filter((f) => /G_[AB]/.test(f.name)));
    expect(gens).toMatchObject({ epoch: 3, complete: false });
    expect(startEpoch(gens)).toBe(1);
    for (const n of Object.values(gens.nets)) n.model.dispose();
  });

  it('refuses two epochs of one network, and a mislabelled file', () => {
    const g = bytes(`${folder}/3_net_G_A.pth`);
    expect(() => readReferenceFiles([{ name: 'latest_net_G_A.pth', bytes: g }, { name: '5_net_G_A.pth', bytes: g }])).toThrow(/two files for net_G_A: latest_net_G_A\.pth and 5_net_G_A\.pth/);
    expect(() => readReferenceFiles([{ name: 'latest_net_D_A.pth', bytes: g }])).toThrow(/latest_net_D_A\.pth holds a generator, not the D_A its name says/);
  });
});

describe('a run exported for the reference', () => {
  it('writes every network, train_opt.txt and a README, and the files read back to the same run', async () => {
    const config = { ...defaultRunConfig('cycle_gan'), train: resolveConfig({ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 4, ndf: 4, n_epochs: 3 }) };
    const trainer = createTrainer(config.train);
    const files = await referenceCheckpointFiles(trainer.models, config, { name: 'my horses', datasetName: 'horse2zebra', epoch: 2, step: 40 });
    expect(files.map((f) => f.name)).toEqual([
      'checkpoints/my_horses/latest_net_G_A.pth',
      'checkpoints/my_horses/latest_net_G_B.pth',
      'checkpoints/my_horses/latest_net_D_A.pth',
      'checkpoints/my_horses/latest_net_D_B.pth',
      'checkpoints/my_horses/train_opt.txt',
      'checkpoints/my_horses/README.md',
    ]);
    const readme = new TextDecoder().decode(files.at(-1)!.data);
    expect(readme).toContain('python train.py --dataroot ./datasets/horse2zebra --name my_horses --model cycle_gan --continue_train --epoch_count 2');
    const opt = parseOptionsFile(new TextDecoder().decode(files[4].data), 'train_opt.txt');
    expect(opt.config.train).toEqual(config.train);
    const back = readReferenceFiles(files.map((f) => ({ name: f.name, bytes: new Uint8Array(f.data) })));
    for (const [name, model] of Object.entries(trainer.models)) {
      const a = await Promise.all(model.weights.map((w) => w.read().data()));
      const b = await Promise.all(back.nets[name].model.weights.map((w) => w.read().data()));
      for (const [i, v] of a.entries()) expect(Buffer.from(b[i].buffer).equals(Buffer.from(v.buffer))).toBe(true);
      back.nets[name].model.dispose();
    }
    trainer.dispose();
  });
});

describe('a set that fails part way', () => {
  it('frees the networks it had built', () => {
    const before = tf.memory().numTensors;
    const g = bytes('tiny_cyclegan/3_net_G_A.pth');
    expect(() => readReferenceFiles([{ name: 'latest_net_G_A.pth', bytes: g }, { name: 'latest_net_G_B.pth', bytes: g.slice(0, 500) }])).toThrow(/latest_net_G_B\.pth is cut short/);
    expect(tf.memory().numTensors).toBe(before);
  });
});
