import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { ImagePool } from './index';

/** A batch of n 1×1 images whose single value is its id. */
const batch = (...ids: number[]) => tf.tensor4d(ids, [ids.length, 1, 1, 1]);
const ids = (t: tf.Tensor) => Array.from(t.dataSync());

/** A random source that plays back a script. */
const scripted = (...values: number[]) => () => {
  const v = values.shift();
  if (v === undefined) throw new Error('script ran out');
  return v;
};

describe('ImagePool', () => {
  it('returns the new images and stores them while it fills', () => {
    const pool = new ImagePool(3, scripted());
    const out = pool.query(batch(1, 2));
    expect(ids(out)).toEqual([1, 2]);
    expect(pool.size).toBe(2);
    const out2 = pool.query(batch(3));
    expect(ids(out2)).toEqual([3]);
    expect(pool.size).toBe(3);
    tf.dispose([out, out2]);
    pool.clear();
  });
  it('once full: on a coin flip > 0.5 returns a stored image and keeps the new one in its place', () => {
    const pool = new ImagePool(3, scripted(0.9, 0.5)); // swap with slot floor(0.5·3) = 1
    tf.dispose(pool.query(batch(1, 2, 3)));
    const out = pool.query(batch(4));
    expect(ids(out)).toEqual([2]);
    expect(pool.snapshot().map((t) => t.dataSync()[0])).toEqual([1, 4, 3]);
    out.dispose();
    pool.clear();
  });
  it('once full: otherwise returns the new image and leaves the pool alone', () => {
    const pool = new ImagePool(2, scripted(0.2));
    tf.dispose(pool.query(batch(1, 2)));
    const out = pool.query(batch(5));
    expect(ids(out)).toEqual([5]);
    expect(pool.snapshot().map((t) => t.dataSync()[0])).toEqual([1, 2]);
    out.dispose();
    pool.clear();
  });
  it('decides per image within a batch', () => {
    const pool = new ImagePool(2, scripted(0.9, 0.0, 0.1));
    tf.dispose(pool.query(batch(1, 2)));
    const out = pool.query(batch(7, 8));
    expect(ids(out)).toEqual([1, 8]);
    expect(pool.snapshot().map((t) => t.dataSync()[0])).toEqual([7, 2]);
    out.dispose();
    pool.clear();
  });
  it('pool_size 0 passes images through and stores nothing', () => {
    const pool = new ImagePool(0);
    const out = pool.query(batch(3, 4));
    expect(ids(out)).toEqual([3, 4]);
    expect(pool.size).toBe(0);
    out.dispose();
  });
  it('holds exactly its stored images in memory', () => {
    const before = tf.memory().numTensors;
    const pool = new ImagePool(4);
    for (let i = 0; i < 10; i++) {
      const b = batch(i, i + 100);
      tf.dispose([pool.query(b), b]);
    }
    expect(tf.memory().numTensors - before).toBe(4);
    pool.clear();
    expect(tf.memory().numTensors).toBe(before);
  });

  describe('draw: query\'s decisions without the values (the compiled step moves them on the GPU)', () => {
    /** What a batch of new images `ids` comes out as, and what the pool then holds, by applying the draws in order. */
    const apply = (pool: ImagePool, draws: ReturnType<ImagePool['draw']>, newIds: number[]) => {
      const stored = new Map(pool.snapshot().map((t) => [t, t.dataSync()[0]]));
      const out = draws.map((d, i) => {
        const value = d.out ? stored.get(d.out)! : newIds[i];
        if (d.keep) stored.set(d.keep, newIds[i]);
        return value;
      });
      return { out, pool: pool.snapshot().map((t) => stored.get(t)) };
    };

    it('draws as query does, swapping a stored image in place (twice in one batch, too)', () => {
      const script = [0.9, 0.5, 0.2, 0.7, 0.4, 0.8, 0.4];
      const byQuery = new ImagePool(3, scripted(...script));
      const byDraw = new ImagePool(3, scripted(...script));
      tf.dispose([byQuery.query(batch(1, 2, 3)), byDraw.query(batch(1, 2, 3))]);
      const q = byQuery.query(batch(4, 5, 6, 7));
      const d = apply(byDraw, byDraw.draw([4, 1, 1, 1]), [4, 5, 6, 7]);
      // 4 swaps with slot 1 (gives 2), 5 goes out, 6 swaps with slot 1 (gives 4), 7 swaps with slot 1 (gives 6)
      expect(d.out).toEqual([2, 5, 4, 6]);
      expect(d.out).toEqual(ids(q));
      expect(d.pool).toEqual(byQuery.snapshot().map((t) => t.dataSync()[0]));
      expect(byDraw.size).toBe(3);
      q.dispose();
      byQuery.clear();
      byDraw.clear();
    });
    it('while the pool fills, hands the new images out and stores new zeroed images for them', () => {
      const pool = new ImagePool(3, scripted(0.9, 0.0));
      const draws = pool.draw([2, 2, 2, 3]);
      expect(draws.map((d) => d.out)).toEqual([null, null]);
      expect(draws.map((d) => d.keep)).toEqual(pool.snapshot());
      expect(pool.snapshot().map((t) => [t.shape, Math.max(...t.dataSync().map(Math.abs))])).toEqual([[[1, 2, 2, 3], 0], [[1, 2, 2, 3], 0]]);
      // the third image fills the pool, the fourth swaps with slot 0
      const more = pool.draw([2, 2, 2, 3]);
      expect(more[0]).toEqual({ out: null, keep: pool.snapshot()[2] });
      expect(more[1]).toEqual({ out: pool.snapshot()[0], keep: pool.snapshot()[0] });
      pool.clear();
    });
    it('pool_size 0 passes every image through and draws nothing', () => {
      const pool = new ImagePool(0, scripted());
      expect(pool.draw([2, 1, 1, 1])).toEqual([{ out: null, keep: null }, { out: null, keep: null }]);
      expect(pool.size).toBe(0);
    });
  });
});
