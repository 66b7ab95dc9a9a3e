import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../config/presets';
import type { RgbImage } from '../data/demos';
import type { Arrangement } from '../data/dataset';
import { DataFeed } from './dataFeed';
import type { LoadedDataset } from './datasetLoader';
import { DecodedCache } from './decodedCache';
import { DomainImages } from './domainImages';

/** A 36×36 image whose every channel value is i mod 256: a batch tells which image it was cut from. */
const solid = (i: number): RgbImage => ({ width: 36, height: 36, data: new Uint8Array(36 * 36 * 3).fill(i % 256) });

/** A dataset decoded on demand from code, counting decodes per index; `broken` indices fail as a corrupt file would. */
function generated(feed: DataFeed, o: { arrangement: Arrangement; countA: number; countB?: number; budget: number; broken?: { A?: number[]; B?: number[] } }) {
  const decodes = { A: new Map<number, number>(), B: new Map<number, number>() };
  const cache = new DecodedCache(o.budget);
  const domain = (side: 'A' | 'B', n: number) =>
    new DomainImages(
      Array.from({ length: n }, (_, i) => `${side}/${i}.png`),
      async (i) => {
        decodes[side].set(i, (decodes[side].get(i) ?? 0) + 1);
        if (o.broken?.[side]?.includes(i)) throw new Error('corrupt png image: it could not be decoded');
        return solid(i);
      },
      cache,
      side,
      (p, i) => {
        feed.noteProblem(p);
        if (o.arrangement === 'paired') (side === 'A' ? B : A)?.markBad(i, `its pair ${p.path} could not be used`);
      },
    );
  const A: DomainImages = domain('A', o.countA);
  const B: DomainImages | null = o.arrangement === 'aligned' ? null : domain('B', o.countB ?? o.countA);
  const mode = o.arrangement === 'unaligned' ? 'cycle_gan' : 'pix2pix';
  const dataset: LoadedDataset = {
    summary: { name: 'generated', mode, arrangement: o.arrangement, countA: o.countA, countB: o.countB ?? o.countA, testCount: 0, problems: [], ignored: 0, unchecked: 0 },
    A,
    B,
    aligned: o.arrangement === 'aligned',
    previewA: [],
    previewB: [],
  };
  const config = presetConfig('tiny', mode);
  feed.use({ kind: 'files', files: [] }, dataset, cache, config.data);
  return { decodes, cache, config };
}

/** Steps through one epoch as the training loop does, returning each batch's first pixel values of a and b. */
async function epoch(feed: DataFeed, config: ReturnType<typeof presetConfig>, during?: () => void) {
  const seen: [number, number][] = [];
  const steps = feed.stepsPerEpoch(config.batch_size);
  for (let s = 0; s < steps; s++) {
    const { a, b } = await feed.nextBatch(config);
    const [va, vb] = await Promise.all([a.data(), b.data()]);
    seen.push([Math.round((va[0] + 1) * 127.5), Math.round((vb[0] + 1) * 127.5)]);
    tf.dispose([a, b]);
    feed.epochStep++;
    during?.();
  }
  feed.epochStep = 0;
  feed.shuffle();
  return seen;
}

describe('the data feed', () => {
  it('cuts batches from a freshly loaded dataset before any run has begun (as timing a backend does)', async () => {
    const feed = new DataFeed();
    const config = presetConfig('tiny', 'cycle_gan');
    await feed.load({ kind: 'demo', name: 'warm-to-green' }, config.data, () => {});
    const { a, b } = await feed.nextBatch(config);
    expect(a.shape).toEqual([1, config.data.crop_size, config.data.crop_size, 3]);
    expect(b.shape).toEqual(a.shape);
    tf.dispose([a, b]);
  });
  it('after drop nothing is loaded', async () => {
    const feed = new DataFeed();
    await feed.load({ kind: 'demo', name: 'shapes-recolour' }, presetConfig('tiny', 'pix2pix').data, () => {});
    feed.drop();
    expect([feed.dataset, feed.source, feed.loadedAs(presetConfig('tiny', 'pix2pix').data)]).toEqual([null, null, false]);
  });
  it('a dataset 25 times its cache trains with the decoded images within the budget, each A once an epoch, tensors flat', async () => {
    const feed = new DataFeed();
    const image = 36 * 36 * 3;
    const { decodes, cache, config } = generated(feed, { arrangement: 'unaligned', countA: 500, countB: 300, budget: 20 * image });
    const tensors = tf.memory().numTensors;
    let most = 0;
    const seen = await epoch(feed, config, () => (most = Math.max(most, cache.bytes)));
    expect(most).toBeLessThanOrEqual(20 * image);
    expect(seen).toHaveLength(500);
    // the reference's unaligned order: every A once per epoch (index mod |A|), B drawn at random
    expect(new Set(seen.map(([a]) => a)).size).toBe(new Set(Array.from({ length: 500 }, (_, i) => i % 256)).size);
    expect([...decodes.A.keys()].sort((x, y) => x - y)).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(tf.memory().numTensors).toBe(tensors);
  });
  it('a dataset that fits its cache is decoded once: the second epoch decodes nothing', async () => {
    const feed = new DataFeed();
    const { decodes, config } = generated(feed, { arrangement: 'aligned', countA: 40, budget: 64 * 1024 ** 2 });
    await epoch(feed, config);
    const first = [...decodes.A.values()].reduce((x, y) => x + y, 0);
    await epoch(feed, config);
    expect(first).toBe(40);
    expect([...decodes.A.values()].reduce((x, y) => x + y, 0)).toBe(40);
  });
  it('the next steps\' images are being decoded before their step asks for them', async () => {
    const feed = new DataFeed();
    const { decodes, config } = generated(feed, { arrangement: 'aligned', countA: 100, budget: 64 * 1024 ** 2 });
    const { a, b } = await feed.nextBatch(config);
    tf.dispose([a, b]);
    await new Promise((r) => setTimeout(r, 0));
    expect(decodes.A.size).toBeGreaterThan(1 + 2);
  });
  it('a corrupt image deep in the dataset is listed and skipped: the epoch goes on, the next one leaves it out', async () => {
    const feed = new DataFeed();
    const { config } = generated(feed, { arrangement: 'unaligned', countA: 60, countB: 60, budget: 64 * 1024 ** 2, broken: { A: [47] } });
    const seen = await epoch(feed, config);
    expect(seen).toHaveLength(60);
    expect(seen.some(([a]) => a === 47)).toBe(false);
    const update = feed.update();
    expect(update.problems).toEqual([{ path: 'A/47.png', reason: 'corrupt png image: it could not be decoded' }]);
    expect(update.countA).toBe(59);
    expect(feed.stepsPerEpoch(1)).toBe(60); // max(|A|, |B|): B still has 60
  });
  it('a pair whose B is corrupt is left out whole; every batch keeps A beside its own B', async () => {
    const feed = new DataFeed();
    const { config } = generated(feed, { arrangement: 'paired', countA: 30, budget: 64 * 1024 ** 2, broken: { B: [7] } });
    const seen = await epoch(feed, { ...config, data: { ...config.data, no_flip: true } });
    for (const [a, b] of seen) expect(a).toBe(b);
    expect(seen.some(([a]) => a === 7)).toBe(false);
    expect(feed.update().problems.map((p) => p.path).sort()).toEqual(['A/7.png', 'B/7.png']);
    expect(feed.counts).toEqual({ A: 29, B: 29 });
    expect(feed.stepsPerEpoch(1)).toBe(29);
  });
  it('the background check decodes every image once, lists the unusable ones and ends with none left', async () => {
    const feed = new DataFeed();
    const { decodes } = generated(feed, { arrangement: 'unaligned', countA: 50, countB: 20, budget: 10 * 36 * 36 * 3, broken: { A: [3, 44], B: [19] } });
    const updates: { unchecked: number; problems: number }[] = [];
    await feed.check((u) => updates.push({ unchecked: u.unchecked, problems: u.problems.length }), 0);
    expect(updates.at(-1)!.unchecked).toBe(0);
    expect(updates.reduce((n, u) => n + u.problems, 0)).toBe(3);
    expect(feed.counts).toEqual({ A: 48, B: 19 });
    expect(decodes.A.size + decodes.B.size).toBe(70);
  });
  it('a dataset whose images all fail stops the batch with a message, not a hang', async () => {
    const feed = new DataFeed();
    const all = Array.from({ length: 5 }, (_, i) => i);
    const { config } = generated(feed, { arrangement: 'aligned', countA: 5, budget: 1024 ** 2, broken: { A: all } });
    await expect(feed.nextBatch(config)).rejects.toThrow(/keep failing to decode/);
  });
});
