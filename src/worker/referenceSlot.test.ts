import { readFileSync, readdirSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer } from '../model';
import { ReferenceSlot } from './referenceSlot';

const RUN = new URL('../interop/fixtures/nets/tiny_cyclegan/', import.meta.url);
const files = () => readdirSync(RUN).map((name) => new File([readFileSync(new URL(name, RUN))], name));

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('a reference run in the worker', () => {
  it('puts its networks into a fresh trainer as copies, at the epoch after its files', async () => {
    const slot = new ReferenceSlot();
    const summary = await slot.load(files());
    expect(summary).toMatchObject({ model: 'cycle_gan', networks: ['G_A', 'G_B', 'D_A', 'D_B'], startEpoch: 4, complete: true });
    const trainer = createTrainer(summary.config.train);
    expect(await slot.applyTo(trainer)).toBe(4);
    const imported = slot.generator('AtoB')!.model;
    const [a, b] = [trainer.models.netG_A.weights[0].read(), imported.weights[0].read()];
    expect(await a.data()).toEqual(await b.data());
    expect(a.dataId).not.toBe(b.dataId); // the compiled step updates weights in place: never shared
    trainer.dispose();
    slot.dispose();
  });

  it('refuses a run whose schedule its files have finished', async () => {
    const slot = new ReferenceSlot();
    const summary = await slot.load(files());
    const trainer = createTrainer({ ...summary.config.train, n_epochs: 2, n_epochs_decay: 1 });
    await expect(slot.applyTo(trainer)).rejects.toThrow('the checkpoint has trained 3 epochs, the whole schedule (n_epochs 2 + n_epochs_decay 1): raise n_epochs_decay to train on');
    trainer.dispose();
    slot.dispose();
  });

  it('refuses options that no longer fit its networks', async () => {
    const slot = new ReferenceSlot();
    const summary = await slot.load(files());
    const trainer = createTrainer({ ...summary.config.train, ngf: 8 });
    await expect(slot.applyTo(trainer)).rejects.toThrow(/the options no longer fit the imported G_A \(resnet_6blocks generator, ngf 4/);
    trainer.dispose();
    slot.dispose();
  });
});
