import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../trainer';
import { NET_D, NET_G, NORMS } from '../options';
import type { TrainConfig } from '../options';
import { standInModels, standInTrainer } from './standInTrainer';

/** What the compiled step's builders read of a network: its conv, batch norm and dropout layers, their weights' names (last part), shapes and trainability, in order; then the trainable weights' shapes in order. */
function structure(model: { layers: { getClassName(): string; weights: { name: string; originalName: string; shape: (number | null)[]; trainable: boolean }[] }[]; trainableWeights: { shape: (number | null)[] }[] }) {
  const layers = model.layers
    .filter((l) => ['Conv2D', 'Conv2DTranspose', 'BatchNormalization', 'StepDropout'].includes(l.getClassName()))
    .map((l) => [l.getClassName(), l.weights.map((w) => [w.name.split('/').pop(), w.originalName.split('/').pop(), w.shape.join('x'), w.trainable])]);
  return { layers, trainable: model.trainableWeights.map((w) => w.shape.join('x')) };
}

beforeAll(() => tf.setBackend('cpu'));

describe('stand-in networks: the layers and weights the compiled step reads, as createTrainer builds them', () => {
  const configs: Partial<TrainConfig>[] = [];
  for (const netG of NET_G) for (const norm of NORMS) configs.push({ model: 'cycle_gan', netG, norm, no_dropout: netG.startsWith('resnet') ? norm !== 'batch' : norm === 'none' });
  for (const netD of NET_D) for (const norm of NORMS) configs.push({ model: 'pix2pix', netG: 'unet_32', netD, norm, n_layers_D: 2, input_nc: 1, output_nc: 3 });
  for (const c of configs) {
    it(`${c.model} ${c.netG} ${c.netD ?? 'basic'} ${c.norm}${c.no_dropout === false ? ', dropout' : ''}`, () => {
      const t = createTrainer({ ngf: 2, ndf: 2, ...c });
      try {
        const stand = standInModels(t.config);
        expect(Object.keys(stand)).toEqual(Object.keys(t.models));
        for (const [name, model] of Object.entries(t.models)) expect(structure(stand[name]), name).toEqual(structure(model));
      } finally {
        t.dispose();
      }
    });
  }

  it("FlatAdam's chunks over the stand-ins are the real optimizers' (sizes, in order)", () => {
    const t = createTrainer({ model: 'cycle_gan', netG: 'unet_32', ngf: 2, ndf: 2, norm: 'batch' });
    try {
      const stand = standInTrainer(t.config).trainer;
      for (const g of ['G', 'D'] as const) {
        const sizes = (o: { state: readonly { variables: readonly { size: number }[]; m: { size: number } }[] }) => o.state.map((c) => [c.m.size, c.variables.map((v) => v.size)]);
        expect(sizes(stand.optimizers[g])).toEqual(sizes(t.optimizers[g]));
      }
    } finally {
      t.dispose();
    }
  });
});
