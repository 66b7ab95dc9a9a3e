import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../config/presets';
import { DataFeed } from './dataFeed';

describe('the data feed', () => {
  it('cuts batches from a freshly loaded dataset before any run has begun (as timing a backend does)', async () => {
    const feed = new DataFeed();
    const config = presetConfig('tiny', 'cycle_gan');
    await feed.load({ kind: 'demo', name: 'warm-to-green' }, config.data, () => {});
    const stores = feed.makeStores();
    const { a, b } = feed.nextBatch(config, stores);
    expect(a.shape).toEqual([1, config.data.crop_size, config.data.crop_size, 3]);
    expect(b.shape).toEqual(a.shape);
    tf.dispose([a, b]);
    stores.A.dispose();
    stores.B?.dispose();
  });
  it('after drop nothing is loaded', async () => {
    const feed = new DataFeed();
    await feed.load({ kind: 'demo', name: 'shapes-recolour' }, presetConfig('tiny', 'pix2pix').data, () => {});
    feed.drop();
    expect([feed.dataset, feed.source, feed.loadedAs(presetConfig('tiny', 'pix2pix').data)]).toEqual([null, null, false]);
  });
});
