/**
 * The reference checkpoint the user imported, held in the worker: its generators translate right away, and a new run
 * can start from all its networks (fine-tune, or continue the reference's run at its epoch).
 */
import * as tf from '@tensorflow/tfjs';
import { generatorMultiple } from '../model';
import type { Trainer } from '../model';
import { readReferenceFiles, startEpoch } from '../interop/referenceImport';
import { totalEpochs } from '../model';
import type { ReferenceImport } from '../interop/referenceImport';
import type { ImportedGenerator } from './generators';
import type { ReferenceSummary } from './protocol';

export class ReferenceSlot {
  private current: ReferenceImport | null = null;

  /** Reads the files (a failure keeps what was imported before) and says what they hold. */
  async load(files: File[]): Promise<ReferenceSummary> {
    const given = await Promise.all(files.map(async (f) => ({ name: f.webkitRelativePath || f.name, bytes: new Uint8Array(await f.arrayBuffer()) })));
    const next = readReferenceFiles(given);
    this.dispose();
    this.current = next;
    const r = next;
    return {
      model: r.model,
      modelGuessed: r.modelGuessed,
      name: r.name,
      epoch: r.epoch,
      networks: Object.keys(r.nets).map((n) => n.slice(3)), // read in the reference's order
      complete: r.complete,
      canTrain: r.canTrain,
      startEpoch: startEpoch(r),
      notes: r.notes,
      config: r.config,
    };
  }

  /** The imported generator for a direction (A→B: G or G_A; B→A: G_B), for translation. */
  generator(direction: 'AtoB' | 'BtoA'): ImportedGenerator | null {
    const nets = this.current?.nets;
    const net = direction === 'AtoB' ? (nets?.netG ?? nets?.netG_A) : nets?.netG_B;
    return net ? { model: net.model, multiple: generatorMultiple(net.model), name: direction === 'AtoB' ? (nets?.netG ? 'G' : 'G_A') : 'G_B' } : null;
  }

  /**
   * Copies the imported networks into a fresh trainer of the same options (missing discriminators keep their fresh
   * init) and returns the epoch to start at. Values are copied, not shared: the compiled step updates weights in place.
   */
  async applyTo(trainer: Trainer): Promise<number> {
    const r = this.current;
    if (!r) throw new Error('no reference checkpoint imported: import its .pth files first');
    if (!r.canTrain) throw new Error(`the import has only ${Object.keys(r.nets).map((n) => n.slice(3)).join(', ')}: training needs every generator`);
    const epoch = startEpoch(r);
    const total = totalEpochs(trainer.config);
    if (epoch > total) {
      throw new Error(`the checkpoint has trained ${epoch - 1} epochs, the whole schedule (n_epochs ${trainer.config.n_epochs} + n_epochs_decay ${trainer.config.n_epochs_decay}): raise n_epochs_decay to train on`);
    }
    for (const [name, net] of Object.entries(r.nets)) {
      const target = trainer.models[name];
      const shapes = (m: tf.LayersModel) => m.weights.map((w) => w.shape.join('x')).join(',');
      if (!target || shapes(target) !== shapes(net.model)) {
        throw new Error(`the options no longer fit the imported ${name.slice(3)} (${net.summary}): set them back, or import again`);
      }
      const values = await Promise.all(net.model.weights.map(async (w) => tf.tensor(await w.read().data(), w.shape as number[])));
      try {
        target.setWeights(values);
      } finally {
        tf.dispose(values);
      }
    }
    return epoch;
  }

  /** Whether an import is held. */
  get loaded(): boolean {
    return this.current !== null;
  }

  dispose(): void {
    for (const net of Object.values(this.current?.nets ?? {})) net.model.dispose();
    this.current = null;
  }
}
