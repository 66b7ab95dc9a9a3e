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
});
