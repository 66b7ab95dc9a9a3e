/**
 * The run's data inside the worker: the loaded dataset and each step's batch in the reference's order (an epoch
 * walks A in a shuffled order; CycleGAN's B is drawn at random). Images are decoded when a batch needs them, through
 * a bounded cache, and the next batches are fetched while this one trains. A background check decodes the rest
 * (within 5% of the time while training) so that unusable files are listed early; one found late is skipped.
 */
import * as tf from '@tensorflow/tfjs';
import { cpuClock } from '../data/cpuClock';
import type { Problem } from '../data/dataset';
import type { RgbImage } from '../data/demos';
import type { DataOptions } from '../data/preprocess';
import { DecodedCache } from './decodedCache';
import type { DomainImages } from './domainImages';
import { ImageProblem } from './domainImages';
import { loadDataset } from './datasetLoader';
import type { LoadedDataset } from './datasetLoader';
import { cutRgb, planFor } from './imageStore';
import type { DataSource, RunConfig } from './protocol';

/** Images fetched ahead of the step that uses them (at least two batches). */
const PREFETCH_IMAGES = 8;
/** The share of training time the background check may take while a run trains (its decodes are mostly off-thread). */
const CHECK_SHARE = 0.05;
/** At most this much check time saved up (a long pause between steps is no licence for a burst). */
const CHECK_SHARE_CAP_MS = 50;
/** Draws of another image before a batch gives up on a dataset whose images keep failing. */
const MAX_SUBSTITUTES = 64;

/** One step's images, chosen ahead and being decoded. */
interface Planned {
  ready: Promise<{ A: RgbImage[]; B: RgbImage[] }>;
}

/** What a load or the background check has found, for the page. */
export interface DataUpdate {
  countA: number;
  countB: number;
  unchecked: number;
  /** Problems found since the last update. */
  problems: Problem[];
}

export class DataFeed {
  source: DataSource | null = null;
  dataset: LoadedDataset | null = null;
  private loadedWith: DataOptions | null = null;
  /** The loaded dataset's decoded images (each load gets a fresh one, so a failed load leaves the old one whole). */
  private cache = new DecodedCache();
  /** Steps done in the current epoch. */
  epochStep = 0;
  /** This epoch's order over the usable images of the larger domain (each i picks usableA[i mod its length]). */
  private order: number[] = [];
  private orderId = 0;
  private next: number[] | null = null;
  /** Usable indices per domain when the order was drawn. */
  private usableA: number[] = [];
  private usableB: number[] = [];
  private planned = new Map<string, Planned>();
  /** Problems not yet reported to the page. */
  private fresh: Problem[] = [];
  /** The running background check's token: a newer check or a drop replaces it, and the old one stops. */
  private checking: object | null = null;
  /** Resolves the background check's wait for the next step, while training paces it. */
  private paced: (() => void) | null = null;
  private pacing = false;
  /** While training, the milliseconds the background check may still spend: a share of each step's time. */
  private checkAllowance = 0;
  private lastBatchAt = 0;

  /** Reads a dataset's layout and first images; the previous one stays until the new one has loaded (on failure, `drop` it). */
  async load(source: DataSource, data: DataOptions, onProgress: (done: number, total: number) => void): Promise<LoadedDataset> {
    // a cache of the load's own, so a failed load leaves the old dataset whole
    const cache = new DecodedCache(this.cache.budget);
    let loaded: LoadedDataset | null = null;
    const dataset = await loadDataset(source, data, { cache, onProgress, onProblem: (p) => loaded && this.dataset === loaded && this.noteProblem(p) });
    loaded = dataset;
    this.use(source, dataset, cache, data);
    return dataset;
  }

  /** Trains on this dataset from now on, its images decoded into `cache` (tests hand one in directly). */
  use(source: DataSource, dataset: LoadedDataset, cache: DecodedCache, data: DataOptions): void {
    this.drop();
    this.cache = cache;
    this.source = source;
    this.dataset = dataset;
    this.loadedWith = data;
    this.fresh = [];
    this.shuffle(); // an order for this dataset at once: timing a backend cuts batches before any run has begun
  }

  /** An image found unusable after the load: the page hears of it with the next update. */
  noteProblem(p: Problem): void {
    this.fresh.push(p);
  }

  /** Forgets the loaded dataset: after a failed load nothing is loaded, so no one trains on the old data by mistake. */
  drop(): void {
    this.checking = null;
    this.planned.clear();
    this.cache.clear();
    this.source = null;
    this.dataset = null;
    this.loadedWith = null;
  }

  /** True when the loaded images were decoded with these data options. */
  loadedAs(data: DataOptions): boolean {
    return !!this.dataset && JSON.stringify(this.loadedWith) === JSON.stringify(data);
  }

  /** Training images per domain that are not known to be unusable (for pairs, both domains count the pairs). */
  get counts(): { A: number; B: number } {
    const d = this.dataset!;
    return { A: d.A.usable, B: d.B ? d.B.usable : d.A.usable };
  }

  /** Images this epoch walks through: max(|A|, |B|), as the reference's unaligned dataset counts. */
  get epochSize(): number {
    return this.order.length;
  }

  stepsPerEpoch(batchSize: number): number {
    return Math.ceil(this.epochSize / batchSize);
  }

  /** A new epoch: the order drawn ahead becomes this one's (prefetched steps of it stay valid), and the next is drawn. */
  shuffle(): void {
    const d = this.dataset!;
    this.usableA = d.A.usableIndices();
    this.usableB = d.B ? d.B.usableIndices() : [];
    const n = d.aligned || !d.B ? this.usableA.length : Math.max(this.usableA.length, this.usableB.length);
    this.order = this.next && this.next.length === n ? this.next : permutation(n);
    this.next = permutation(n);
    this.orderId++;
    for (const key of this.planned.keys()) if (!key.startsWith(`${this.orderId}:`)) this.planned.delete(key);
  }

  /** This step's batch: pix2pix halves share one plan; CycleGAN's B is drawn at random, as the reference does. */
  async nextBatch(c: RunConfig): Promise<{ a: tf.Tensor4D; b: tf.Tensor4D }> {
    const steps = this.stepsPerEpoch(c.batch_size);
    const keyAt = (s: number) => `${this.orderId + Math.floor((this.epochStep + s) / steps)}:${(this.epochStep + s) % steps}:${c.batch_size}:${c.train.model}`;
    const key = keyAt(0);
    const current = this.planned.get(key) ?? this.plan(this.order, this.epochStep, c);
    this.planned.delete(key);
    // the next steps' images decode while this one trains (within this epoch and the next, whose order is drawn)
    const ahead = Math.max(2, Math.ceil(PREFETCH_IMAGES / c.batch_size));
    for (let s = 1; s <= ahead && this.epochStep + s < 2 * steps; s++) {
      const k = keyAt(s);
      if (this.planned.has(k)) continue;
      const inNext = this.epochStep + s >= steps;
      this.planned.set(k, this.plan(inNext ? this.next! : this.order, (this.epochStep + s) % steps, c));
    }
    const now = performance.now();
    if (this.lastBatchAt) this.checkAllowance = Math.min(CHECK_SHARE_CAP_MS, this.checkAllowance + CHECK_SHARE * (now - this.lastBatchAt));
    this.lastBatchAt = now;
    this.paced?.();
    const images = await current.ready;
    return tf.tidy(() => {
      const as: tf.Tensor3D[] = [];
      const bs: tf.Tensor3D[] = [];
      for (let k = 0; k < images.A.length; k++) {
        const A = images.A[k];
        if (this.dataset!.aligned) {
          const plan = planFor(A, 'left', c.data, Math.random);
          as.push(cutRgb(A, 'left', plan));
          bs.push(cutRgb(A, 'right', plan));
        } else if (c.train.model === 'pix2pix') {
          const plan = planFor(A, 'whole', c.data, Math.random);
          as.push(cutRgb(A, 'whole', plan));
          bs.push(cutRgb(images.B[k], 'whole', plan));
        } else {
          as.push(cutRgb(A, 'whole', planFor(A, 'whole', c.data, Math.random)));
          bs.push(cutRgb(images.B[k], 'whole', planFor(images.B[k], 'whole', c.data, Math.random)));
        }
      }
      const a = tf.stack(as) as tf.Tensor4D;
      const b = tf.stack(bs) as tf.Tensor4D;
      const swap = c.train.model === 'pix2pix' && c.data.direction === 'BtoA';
      return swap ? { a: b, b: a } : { a, b };
    });
  }

  /** Chooses a step's images from an order and starts decoding them. */
  private plan(order: number[], step: number, c: RunConfig): Planned {
    const d = this.dataset!;
    const together = d.aligned || c.train.model === 'pix2pix';
    const fetches: Promise<[RgbImage, RgbImage | null]>[] = [];
    for (let k = 0; k < c.batch_size; k++) {
      const i = order[(step * c.batch_size + k) % order.length];
      if (together) fetches.push(this.fetch(this.usableA[i % this.usableA.length], null));
      else fetches.push(this.fetch(this.usableA[i % this.usableA.length], this.usableB[Math.floor(Math.random() * this.usableB.length)]));
    }
    const ready = Promise.all(fetches).then((list) => ({ A: list.map(([a]) => a), B: list.map(([, b]) => b!) }));
    ready.catch(() => undefined); // a prefetch nobody takes may fail unseen; the step that takes it sees the error
    return { ready };
  }

  /**
   * Image ia of A (and ib of B; null: A's pair, or none for A|B images). One found unusable is replaced by another
   * usable one drawn at random, so a corrupt file deep in a dataset never stops a run.
   */
  private async fetch(ia: number, ib: number | null): Promise<[RgbImage, RgbImage | null]> {
    const d = this.dataset!;
    const pairs = ib === null && d.B !== null;
    const get = async (domain: DomainImages, i: number, other: number[]) => {
      for (let tries = 0; ; tries++) {
        try {
          return { i, image: await domain.image(i) };
        } catch (e) {
          if (!(e instanceof ImageProblem)) throw e;
          if (tries >= MAX_SUBSTITUTES || domain.usable === 0) throw new Error(`the images keep failing to decode (the last: ${e.path}: ${e.message}); check the dataset`);
          i = other[Math.floor(Math.random() * other.length)];
        }
      }
    };
    for (let tries = 0; ; tries++) {
      const a = await get(d.A, ia, this.usableA);
      if (!pairs) return [a.image, ib === null ? null : (await get(d.B!, ib, this.usableB)).image];
      try {
        return [a.image, await d.B!.image(a.i)];
      } catch (e) {
        // the B of this pair failed: its A is marked too; try another pair
        if (!(e instanceof ImageProblem) || tries >= MAX_SUBSTITUTES) throw e;
        ia = this.usableA[Math.floor(Math.random() * this.usableA.length)];
      }
    }
  }

  /**
   * Decodes every image once in the background, listing the unusable ones (`update` is told what changed, at most
   * every `everyMs`). While a run trains it takes at most 5% of the time; otherwise as fast as decoding goes.
   */
  async check(update: (u: DataUpdate) => void, everyMs = 250): Promise<void> {
    const d = this.dataset;
    if (!d) return;
    const mine = {};
    this.checking = mine;
    const domains = [d.A, d.B].filter((x): x is DomainImages => x !== null);
    let last = 0;
    const tell = (force: boolean) => {
      if (!force && performance.now() - last < everyMs) return;
      last = performance.now();
      update(this.update());
    };
    for (const dom of domains) {
      for (let i = 0; i < dom.length; i++) {
        if (this.checking !== mine) return;
        if (dom.known(i)) continue;
        while (this.pacing && this.checkAllowance <= 0) await new Promise<void>((r) => (this.paced = r));
        this.paced = null;
        if (this.checking !== mine) return;
        const t0 = cpuClock.ms;
        await dom.image(i, false).catch(() => undefined);
        // only what held this thread counts: the decoding proper runs on the browser's own threads
        if (this.pacing) this.checkAllowance -= Math.max(0.5, cpuClock.ms - t0);
        tell(false);
      }
    }
    if (this.checking === mine) {
      tell(true);
      this.checking = null;
    }
  }

  /** While a run trains, the background check takes a small share of its time (true), else goes freely (false). */
  paceCheck(on: boolean): void {
    if (on === this.pacing) return;
    this.pacing = on;
    this.checkAllowance = 0;
    this.lastBatchAt = 0;
    if (!on) this.paced?.();
  }

  /** Where the images stand, with the problems found since the last update (taken). */
  update(): DataUpdate {
    const d = this.dataset!;
    const { A, B } = this.counts;
    return { countA: A, countB: B, unchecked: d.A.unchecked + (d.B?.unchecked ?? 0), problems: this.fresh.splice(0) };
  }

  /** True when images were found unusable since the last update. */
  get hasNews(): boolean {
    return this.fresh.length > 0;
  }
}

/** A uniformly shuffled 0..n-1. */
function permutation(n: number): number[] {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}
