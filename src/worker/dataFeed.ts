/**
 * The run's data inside the worker: the loaded dataset, its images on the current backend, and each step's batch
 * in the reference's order (an epoch walks A in a shuffled order; CycleGAN's B is drawn at random).
 */
import * as tf from '@tensorflow/tfjs';
import type { DataOptions } from '../data/preprocess';
import { loadDataset } from './datasetLoader';
import type { LoadedDataset } from './datasetLoader';
import { ImageStore } from './imageStore';
import type { DataSource, RunConfig } from './protocol';

/** Images of both domains on one backend. */
export interface Stores {
  A: ImageStore;
  B: ImageStore | null;
}

export class DataFeed {
  source: DataSource | null = null;
  dataset: LoadedDataset | null = null;
  private loadedWith: DataOptions | null = null;
  stores: Stores | null = null;
  /** Steps done in the current epoch. */
  epochStep = 0;
  private order: number[] = [];

  /** Reads and decodes a dataset; the previous one stays until the new one has loaded (on failure, `drop` it). */
  async load(source: DataSource, data: DataOptions, onProgress: (done: number, total: number) => void): Promise<LoadedDataset> {
    const dataset = await loadDataset(source, data, onProgress);
    this.disposeStores();
    this.source = source;
    this.dataset = dataset;
    this.loadedWith = data;
    this.shuffle(); // an order for this dataset at once: timing a backend cuts batches before any run has begun
    return dataset;
  }

  /** Forgets the loaded dataset: after a failed load nothing is loaded, so no one trains on the old data by mistake. */
  drop(): void {
    this.disposeStores();
    this.source = null;
    this.dataset = null;
    this.loadedWith = null;
  }

  /** True when the loaded images were decoded with these data options. */
  loadedAs(data: DataOptions): boolean {
    return !!this.dataset && JSON.stringify(this.loadedWith) === JSON.stringify(data);
  }

  /** Images on the current backend, as a fresh pair (the caller disposes them). */
  makeStores(): Stores {
    const d = this.dataset!;
    return { A: new ImageStore(d.A), B: d.B.length ? new ImageStore(d.B) : null };
  }

  /** Replaces the stores the feed cuts from (disposing the old ones) and starts a fresh shuffled epoch order. */
  useStores(stores: Stores): void {
    this.disposeStores();
    this.stores = stores;
    this.shuffle();
  }

  /** Images an epoch walks through: max(|A|, |B|), as the reference's unaligned dataset counts. */
  get epochSize(): number {
    const d = this.dataset!;
    return d.aligned ? d.A.length : Math.max(d.A.length, d.B.length);
  }

  stepsPerEpoch(batchSize: number): number {
    return Math.ceil(this.epochSize / batchSize);
  }

  shuffle(): void {
    const n = this.epochSize;
    this.order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }

  /** This step's batch: pix2pix halves share one plan; CycleGAN's B is drawn at random, as the reference does. */
  nextBatch(c: RunConfig, stores: Stores = this.stores!): { a: tf.Tensor4D; b: tf.Tensor4D } {
    const A = stores.A;
    const B = stores.B;
    const as: tf.Tensor3D[] = [];
    const bs: tf.Tensor3D[] = [];
    for (let k = 0; k < c.batch_size; k++) {
      const i = this.order[(this.epochStep * c.batch_size + k) % this.order.length];
      if (this.dataset!.aligned) {
        const plan = A.plan(i, 'left', c.data, Math.random);
        as.push(A.cut(i, 'left', plan));
        bs.push(A.cut(i, 'right', plan));
      } else if (c.train.model === 'pix2pix') {
        const plan = A.plan(i, 'whole', c.data, Math.random);
        as.push(A.cut(i, 'whole', plan));
        bs.push(B!.cut(i, 'whole', plan));
      } else {
        const ia = i % A.length;
        const ib = Math.floor(Math.random() * B!.length);
        as.push(A.cut(ia, 'whole', A.plan(ia, 'whole', c.data, Math.random)));
        bs.push(B!.cut(ib, 'whole', B!.plan(ib, 'whole', c.data, Math.random)));
      }
    }
    const a = tf.stack(as) as tf.Tensor4D;
    const b = tf.stack(bs) as tf.Tensor4D;
    tf.dispose([...as, ...bs]);
    const swap = c.train.model === 'pix2pix' && c.data.direction === 'BtoA';
    return swap ? { a: b, b: a } : { a, b };
  }

  disposeStores(): void {
    this.stores?.A.dispose();
    this.stores?.B?.dispose();
    this.stores = null;
  }
}
