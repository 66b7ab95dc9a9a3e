import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createTrainer } from '../model';
import type { Trainer, TrainConfig } from '../model';
import { restoreOptimizers, restorePools, restoreWeights, saveOptimizers, savePools, saveWeights } from './snapshot';

const batch = (seed: number) => tf.randomUniform([1, 32, 32, 3], -1, 1, 'float32', seed) as tf.Tensor4D;

async function losses(t: Trainer, seed: number) {
  const [a, b] = [batch(seed), batch(seed + 100)];
  const l = t.trainStep(a, b);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(l)) out[k] = (await v.data())[0];
  tf.dispose([a, b, ...Object.values(l)]);
  return out;
}

describe('a checkpoint restores a run exactly', () => {
  const configs: Partial<TrainConfig>[] = [
    { model: 'cycle_gan', netG: 'unet_32', ngf: 4, ndf: 4, pool_size: 10 },
    { model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4 },
  ];
  for (const config of configs) {
    it(`${config.model}: the step after restoring gives the same losses as the step after continuing`, async () => {
      const original = createTrainer(config);
      for (let s = 0; s < 3; s++) await losses(original, s);
      original.setEpoch(7);
      const weights = await saveWeights(original);
      const optimizers = await saveOptimizers(original);
      const pools = await savePools(original);

      const restored = createTrainer(config); // fresh weights, new variable names
      restoreWeights(restored, weights);
      await restoreOptimizers(restored, optimizers);
      restorePools(restored, pools);
      restored.step = original.step;
      restored.setEpoch(7);

      expect(restored.lr).toBe(original.lr);
      // two steps: the second shows the optimizer state (the first's losses are computed before any update)
      for (const seed of [42, 43]) expect(await losses(restored, seed)).toEqual(await losses(original, seed));
      if (config.model === 'cycle_gan') expect(pools.fake_A_pool).toHaveLength(3);
      original.dispose();
      restored.dispose();
    });
  }
  it('optimizer moments are saved by position, not by session-specific variable names', async () => {
    const t = createTrainer({ model: 'pix2pix', netG: 'unet_32', ngf: 2, ndf: 2 });
    await losses(t, 1);
    const saved = await saveOptimizers(t);
    expect(saved.G[0].name).toBe('iter');
    expect(saved.G.slice(1).every((s) => /^#\d+\/[mv]$/.test(s.name))).toBe(true);
    t.dispose();
  });
});
