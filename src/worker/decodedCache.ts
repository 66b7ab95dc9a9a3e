/**
 * Decoded images kept for the next steps, within a byte budget: least recently used first out. Memory stays flat
 * whatever the dataset's size; a dataset that fits stays decoded after its first epoch, as a preloaded one would.
 */
import type { RgbImage } from '../data/demos';

const MiB = 1024 ** 2;

/** The decoded images a worker may hold: 512 MiB, less on a machine that says it has under 8 GiB (64 MiB per GiB). */
export function cacheBudget(): number {
  const gib = (globalThis.navigator as { deviceMemory?: number } | undefined)?.deviceMemory;
  return Math.min(512 * MiB, gib ? gib * 64 * MiB : 512 * MiB);
}

const bytesOf = (im: RgbImage) => im.data.byteLength;

export class DecodedCache {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly images = new Map<string, RgbImage>();
  private used = 0;

  constructor(readonly budget: number = cacheBudget()) {}

  /** Bytes held. */
  get bytes(): number {
    return this.used;
  }

  get size(): number {
    return this.images.size;
  }

  get(key: string): RgbImage | undefined {
    const im = this.images.get(key);
    if (im) {
      this.images.delete(key);
      this.images.set(key, im);
    }
    return im;
  }

  has(key: string): boolean {
    return this.images.has(key);
  }

  /** Keeps an image, evicting the least recently used; with `evict` false only if it fits without evicting. True if kept. */
  put(key: string, im: RgbImage, evict = true): boolean {
    const n = bytesOf(im);
    if (n > this.budget || this.images.has(key)) return this.images.has(key);
    if (!evict && this.used + n > this.budget) return false;
    for (const [k, old] of this.images) {
      if (this.used + n <= this.budget) break;
      this.images.delete(k);
      this.used -= bytesOf(old);
    }
    this.images.set(key, im);
    this.used += n;
    return true;
  }

  clear(): void {
    this.images.clear();
    this.used = 0;
  }
}
