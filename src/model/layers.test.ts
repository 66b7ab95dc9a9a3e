import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createGenerator, InstanceNormalization, ReflectionPadding2D } from './index';

describe('InstanceNormalization', () => {
  it('gives each sample and channel mean 0 and variance 1 over H and W', async () => {
    const x = tf.tidy(() => tf.randomNormal([3, 9, 7, 4], 0, 1).mul(tf.tensor1d([1, 5, 0.1, 30])).add(tf.tensor1d([2, -7, 0, 100])));
    const y = new InstanceNormalization().apply(x) as tf.Tensor;
    const { mean, variance } = tf.moments(y, [1, 2]);
    const m = await mean.data();
    const v = await variance.data();
    for (const value of m) expect(Math.abs(value)).toBeLessThan(1e-5);
    // eps 1e-5 shrinks the variance by var/(var + eps): below 1e-3 off for these scales except the 0.1 channel
    for (let i = 0; i < v.length; i++) expect(v[i]).toBeCloseTo(1, i % 4 === 2 ? 2 : 4);
    tf.dispose([x, y, mean, variance]);
  });
  it('has the gradient of the op-by-op formula, in far fewer kernels', async () => {
    const x = tf.tidy(() => tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 7).mul(tf.tensor1d([1, 20, 0.05])).add(tf.tensor1d([3, -1, 0])));
    const w = tf.randomNormal([2, 6, 5, 3], 0, 1, 'float32', 8); // a loss that weighs every output differently
    const layer = new InstanceNormalization();
    const opByOp = (v: tf.Tensor) => {
      const { mean, variance } = tf.moments(v, [1, 2], true);
      return tf.mul(tf.sub(v, mean), tf.rsqrt(tf.add(variance, 1e-5)));
    };
    const ours = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(layer.apply(v) as tf.Tensor, w)));
    const reference = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(opByOp(v), w)));
    const a = ours(x);
    const b = reference(x);
    const scale = tf.max(tf.abs(b)).dataSync()[0];
    expect(tf.max(tf.abs(tf.sub(a, b))).dataSync()[0] / scale).toBeLessThan(1e-4);
    const kernels = async (f: () => tf.Tensor) => (await tf.profile(() => f())).kernels.length;
    const fewer = await kernels(() => ours(x));
    const more = await kernels(() => reference(x));
    expect(fewer).toBeLessThan(more * 0.7);
    tf.dispose([x, w, a, b]);
  });
  it('has no weights and ignores training mode', () => {
    const layer = new InstanceNormalization();
    const x = tf.randomNormal([1, 4, 4, 2]);
    const a = layer.apply(x, { training: true }) as tf.Tensor;
    const b = layer.apply(x, { training: false }) as tf.Tensor;
    expect(layer.weights).toHaveLength(0);
    expect(Array.from(a.dataSync())).toEqual(Array.from(b.dataSync()));
    tf.dispose([x, a, b]);
  });
});

describe('ReflectionPadding2D', () => {
  it('matches tf.mirrorPad reflect values', () => {
    const x = tf.tensor4d(Array.from({ length: 2 * 4 * 5 * 3 }, (_, i) => i), [2, 4, 5, 3]);
    const y = new ReflectionPadding2D({ padding: 3 }).apply(x) as tf.Tensor;
    const expected = tf.mirrorPad(x, [[0, 0], [3, 3], [3, 3], [0, 0]], 'reflect');
    expect(y.shape).toEqual([2, 10, 11, 3]);
    expect(Array.from(y.dataSync())).toEqual(Array.from(expected.dataSync()));
    tf.dispose([x, y, expected]);
  });
  it('reflects without repeating the edge, as PyTorch ReflectionPad2d', () => {
    const x = tf.tensor4d([1, 2, 3], [1, 1, 3, 1]).tile([1, 3, 1, 1]);
    const y = new ReflectionPadding2D({ padding: 2 }).apply(x) as tf.Tensor;
    // a row [1 2 3] padded by 2 on each side reads [3 2 1 2 3 2 1]
    expect(Array.from(y.slice([0, 0, 0, 0], [1, 1, 7, 1]).dataSync())).toEqual([3, 2, 1, 2, 3, 2, 1]);
    tf.dispose([x, y]);
  });
});

describe('serialization', () => {
  it('a generator with every custom layer saves and loads back with the same output', async () => {
    const g = createGenerator({ netG: 'resnet_6blocks', ngf: 4, use_dropout: true });
    let saved: tf.io.ModelArtifacts | undefined;
    await g.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const json = JSON.stringify(saved!.modelTopology);
    for (const name of ['ReflectionPadding2D', 'InstanceNormalization', 'CropTopLeft', 'StepDropout']) expect(json).toContain(name);
    const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
    const x = tf.randomUniform([1, 16, 12, 3], -1, 1);
    const a = g.predict(x) as tf.Tensor;
    const b = loaded.predict(x) as tf.Tensor;
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([x, a, b]);
    g.dispose();
    loaded.dispose();
  });
});
