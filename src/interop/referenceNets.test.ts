import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { countParams, createDiscriminator, createGenerator } from '../model';
import type { DiscriminatorOptions, GeneratorOptions, NetD, NetG, Norm } from '../model';
import referenceKeysFixture from './fixtures/nets/reference-keys.json';
import { inferNetwork, importNetwork } from './inferNetwork';
import { discriminatorModules, generatorModules, referenceKeys, referenceParams } from './referenceNets';
import { checkStateDict, stateDictOf } from './torchWeights';
import { readPth, writePth } from './pth';

// Keys and shapes of every option, from PyTorch's own state_dict() (scripts/make_reference_fixtures.py)
const FIXTURE = referenceKeysFixture as unknown as Record<string, { params: number; keys: [string, number[]][] }>;

const generator = (netG: NetG, norm: Norm, use_dropout: boolean, ngf = 64): GeneratorOptions => ({ netG, norm, use_dropout, ngf, input_nc: 3, output_nc: 3 });
const discriminator = (netD: NetD, n_layers_D: number, input_nc: number, norm: Norm, ndf = 64): DiscriminatorOptions => ({ netD, n_layers_D, input_nc, norm, ndf });

/** The fixture's networks as our options. */
const CASES = Object.keys(FIXTURE).map((name) => {
  const [role, a, b, c, d] = name.split(' ');
  return role === 'G'
    ? { name, modules: generatorModules(generator(a as NetG, b as Norm, c === 'dropout')) }
    : { name, modules: discriminatorModules(discriminator(a as NetD, Number(b), Number(c), d as Norm)) };
});

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('the reference layout', () => {
  it('has the published parameter counts', () => {
    expect(FIXTURE['G resnet_9blocks instance no_dropout'].params).toBe(11_378_179);
    expect(FIXTURE['G resnet_6blocks instance no_dropout'].params).toBe(7_837_699);
    expect(FIXTURE['G unet_256 batch dropout'].params).toBe(54_413_955);
    expect(FIXTURE['G unet_128 batch dropout'].params).toBe(41_828_995);
    expect(FIXTURE['D basic 3 3 instance'].params).toBe(2_764_737);
    expect(FIXTURE['D basic 3 6 batch'].params).toBe(2_768_705);
  });

  it.each(CASES)('$name: the same keys, in the same order, with the same shapes and parameter count', ({ name, modules }) => {
    expect(referenceKeys(modules).map((k) => [k.key, k.shape])).toEqual(FIXTURE[name].keys);
    expect(referenceParams(modules)).toBe(FIXTURE[name].params);
  });
});

/** Every netG × norm (ResNets with and without dropout: it moves keys) and every netD × norm, tiny. */
const TINY: { label: string; role: 'G' | 'D'; build: () => tf.LayersModel; modules: ReturnType<typeof generatorModules> }[] = [
  ...(['resnet_9blocks', 'resnet_6blocks', 'unet_256', 'unet_128', 'unet_64', 'unet_32'] as NetG[]).flatMap((netG) =>
    (['instance', 'batch', 'none'] as Norm[]).map((norm) => {
      const o = generator(netG, norm, netG === 'resnet_9blocks', 2);
      return { label: `${netG} ${norm}`, role: 'G' as const, build: () => createGenerator(o), modules: generatorModules(o) };
    }),
  ),
  ...([['basic', 3, 6], ['n_layers', 2, 3], ['n_layers', 5, 3], ['pixel', 3, 3]] as [NetD, number, number][]).flatMap(([netD, n, c]) =>
    (['instance', 'batch', 'none'] as Norm[]).map((norm) => {
      const o = discriminator(netD, n, c, norm, 2);
      return { label: `${netD} ${n} ${norm}`, role: 'D' as const, build: () => createDiscriminator(o), modules: discriminatorModules(o) };
    }),
  ),
];

/** Batch-norm moving statistics away from 0 and 1, so a swapped pair would show. */
function stirStatistics(model: tf.LayersModel) {
  for (const l of model.layers.filter((l) => l.getClassName() === 'BatchNormalization')) {
    const ws = l.getWeights();
    l.setWeights(ws.map((w, i) => (i >= 2 ? tf.randomUniform(w.shape, 0.5, 1.5, 'float32', 7 + i) : tf.randomNormal(w.shape, 0, 1, 'float32', 3 + i))));
  }
}

describe('our networks as state dicts', () => {
  it.each(TINY)('$label: our model has the reference parameter count, and its weights come back from a .pth bit for bit', async ({ role, build, modules }) => {
    const model = build();
    stirStatistics(model);
    expect(countParams(model)).toBe(referenceParams(modules));
    const sd = await stateDictOf(model, modules);
    expect([...sd.keys()]).toEqual(referenceKeys(modules).map((k) => k.key));
    expect(inferNetwork(sd, 'x.pth').role).toBe(role);
    const back = importNetwork(readPth(writePth(sd, 'x'), 'x.pth'), 'x.pth');
    const before = await Promise.all(model.weights.map((w) => w.read().data()));
    const after = await Promise.all(back.model.weights.map((w) => w.read().data()));
    expect(after.length).toBe(before.length);
    for (const [i, b] of before.entries()) expect(Buffer.from(after[i].buffer).equals(Buffer.from(b.buffer))).toBe(true);
    model.dispose();
    back.model.dispose();
  });
});

describe('a state dict that does not fit', () => {
  it('names missing, unexpected and mis-shaped keys', async () => {
    const o = generator('resnet_6blocks', 'instance', false, 2);
    const model = createGenerator(o);
    const sd = await stateDictOf(model, generatorModules(o));
    sd.delete('model.4.bias');
    sd.set('model.99.weight', sd.get('model.1.weight')!);
    sd.set('model.7.weight', { ...sd.get('model.7.weight')!, shape: [8, 4, 3, 1] });
    expect(() => importNetwork(sd, 'latest_net_G.pth')).toThrow(
      /latest_net_G\.pth does not fit the reference's resnet_6blocks generator.*missing model\.4\.bias.*unexpected model\.99\.weight.*mis-shaped model\.7\.weight \[8, 4, 3, 1\] \(expected \[8, 4, 3, 3\]\)/,
    );
    const check = checkStateDict(sd, generatorModules(o));
    expect(check.missing).toEqual(['model.4.bias']);
    model.dispose();
  });

  it('names a state dict of another model', () => {
    const sd = new Map([['encoder.layer1.weight', { dtype: 'float32' as const, shape: [2], bytes: new Uint8Array(8) }]]);
    expect(() => inferNetwork(sd, 'resnet50.pth')).toThrow(/resnet50\.pth is not a pix2pix or CycleGAN network of the reference: its keys \(encoder\.layer1\.weight\)/);
  });
});
