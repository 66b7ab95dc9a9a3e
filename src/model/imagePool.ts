/** The reference's `ImagePool`: a buffer of past fakes, so D also sees what G made a while ago (Shrivastava et al.). */
import * as tf from '@tensorflow/tfjs';

/** One image of a batch through the pool, as `query` decides it, for a caller that moves the values itself. */
export interface PoolDraw {
  /** The stored image handed out instead of the new one (read before `keep` is written), or null: the new image goes out. */
  out: tf.Tensor4D | null;
  /** The stored image the new one is written into, in place, or null when the pool keeps nothing of it. */
  keep: tf.Tensor4D | null;
}

/** Holds up to `pool_size` fake images on the device; `query` trades a batch against the buffer. */
export class ImagePool {
  private readonly images: tf.Tensor4D[] = [];

  /** `random` returns numbers in [0, 1); injectable so tests can script the coin flips. */
  constructor(
    readonly pool_size: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Fakes currently stored. */
  get size(): number {
    return this.images.length;
  }

  /**
   * Returns a batch of the same size: while the pool fills, the new images themselves (and they are stored);
   * then, per image, with probability 0.5 a stored image (replaced by the new one), else the new one.
   * The caller owns the returned tensor.
   */
  query(batch: tf.Tensor4D): tf.Tensor4D {
    if (this.pool_size === 0) return tf.clone(batch);
    const n = batch.shape[0];
    const out: tf.Tensor4D[] = [];
    const toDispose: tf.Tensor[] = [];
    for (let i = 0; i < n; i++) {
      const image = tf.keep(tf.slice(batch, [i, 0, 0, 0], [1, -1, -1, -1]));
      if (this.images.length < this.pool_size) {
        this.images.push(image);
        out.push(image);
      } else if (this.random() > 0.5) {
        const id = Math.min(this.pool_size - 1, Math.floor(this.random() * this.pool_size));
        const old = this.images[id];
        this.images[id] = image;
        out.push(old);
        toDispose.push(old);
      } else {
        out.push(image);
        toDispose.push(image);
      }
    }
    const result = tf.concat(out, 0);
    tf.dispose(toDispose);
    return result;
  }

  /**
   * `query`'s decisions for a batch of `shape` (the same random draws and bookkeeping), moving no values: the caller
   * (the compiled CycleGAN step) copies them on the GPU, image by image in order, first `out` into the pooled batch,
   * then the new image into `keep`. A stored image that is swapped out is overwritten in place (query replaces the
   * tensor instead); while the pool fills, `keep` is a new stored image, zeros until the caller writes it.
   */
  draw(shape: readonly [number, number, number, number]): PoolDraw[] {
    const [n, h, w, c] = shape;
    const draws: PoolDraw[] = [];
    for (let i = 0; i < n; i++) {
      if (this.pool_size === 0) draws.push({ out: null, keep: null });
      else if (this.images.length < this.pool_size) {
        const image = tf.keep(tf.zeros([1, h, w, c])) as tf.Tensor4D;
        this.images.push(image);
        draws.push({ out: null, keep: image });
      } else if (this.random() > 0.5) {
        const old = this.images[Math.min(this.pool_size - 1, Math.floor(this.random() * this.pool_size))];
        draws.push({ out: old, keep: old });
      } else draws.push({ out: null, keep: null });
    }
    return draws;
  }

  /** The stored fakes (for checkpoints); the pool keeps ownership. */
  snapshot(): readonly tf.Tensor4D[] {
    return this.images;
  }

  /** Replaces the stored fakes (from a checkpoint); the pool takes ownership of the tensors. */
  restore(images: tf.Tensor4D[]): void {
    this.clear();
    for (const im of images.slice(0, this.pool_size)) this.images.push(tf.keep(im));
  }

  /** Frees every stored fake. */
  clear(): void {
    tf.dispose(this.images.splice(0));
  }
}
