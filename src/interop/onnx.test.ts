import * as tf from '@tensorflow/tfjs';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { createGenerator } from '../model';
import type { GeneratorOptions } from '../model';
import { generatorToOnnx } from './onnx';
import type { BatchNormExport } from './onnx';
import { seededRandom } from '../data/demoShapes';

/** A seeded uniform [0, 1) so every run draws the same weights and inputs. */
const rng = seededRandom;
const uniform = (r: () => number, n: number, lo: number, hi: number) =>
  Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
const normal = (r: () => number, n: number, std: number) =>
  Float32Array.from({ length: n }, () => std * Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r()));

/** Replaces every weight with seeded values that keep activations near unit size (the reference's 0.02 gives ~0 out). */
function randomiseWeights(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  const values = model.weights.map((w) => {
    const shape = w.shape as number[];
    const n = shape.reduce((a, b) => a * b, 1);
    const kind = w.originalName.split('/').pop();
    switch (kind) {
      case 'kernel':
        return tf.tensor(normal(r, n, 1 / Math.sqrt(shape[0] * shape[1] * Math.min(shape[2], shape[3]))), shape);
      case 'bias':
        return tf.tensor(uniform(r, n, -0.1, 0.1), shape);
      case 'gamma':
        return tf.tensor(uniform(r, n, 0.5, 1.5), shape);
      case 'beta':
      case 'moving_mean':
        return tf.tensor(uniform(r, n, -0.3, 0.3), shape);
      case 'moving_variance':
        return tf.tensor(uniform(r, n, 0.5, 2), shape);
      default:
        throw new Error(`unexpected weight ${w.originalName}`);
    }
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Our model's output on an NHWC input, as NCHW values; `training` gives batch norm the batch's statistics. */
function ours(model: tf.LayersModel, x: tf.Tensor4D, training = false): Float32Array {
  return tf.tidy(() => {
    const y = training ? (model.apply(x, { training: true }) as tf.Tensor) : (model.predict(x) as tf.Tensor);
    return tf.transpose(y, [0, 3, 1, 2]).dataSync() as Float32Array;
  });
}

/** Runs the exported model in onnxruntime on the same input (transposed to NCHW). */
async function theirs(session: ort.InferenceSession, x: tf.Tensor4D) {
  const [n, h, w, c] = x.shape;
  const nchw = tf.tidy(() => tf.transpose(x, [0, 3, 1, 2]).dataSync() as Float32Array);
  const out = await session.run({ real: new ort.Tensor('float32', nchw, [n, c, h, w]) });
  return { data: out.fake.data as Float32Array, dims: [...out.fake.dims] };
}

const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const std = (a: Float32Array) => {
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  return Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
};

/** Exports `model`, runs both on a seeded input of [n, h, w, C], and asserts they agree within 1e-4. */
async function expectAgreement(
  model: tf.LayersModel,
  session: ort.InferenceSession,
  [n, h, w]: number[],
  seed: number,
  training = false,
): Promise<Float32Array> {
  const c = (model.inputs[0].shape as number[])[3];
  const x = tf.tensor4d(uniform(rng(seed), n * h * w * c, -1, 1), [n, h, w, c]);
  const expected = ours(model, x, training);
  const got = await theirs(session, x);
  x.dispose();
  expect(got.dims).toEqual([n, (model.outputs[0].shape as number[])[3], h, w]);
  // a near-constant output would agree whatever the export did
  expect(std(expected)).toBeGreaterThan(0.05);
  expect(maxAbsDiff(got.data, expected)).toBeLessThanOrEqual(1e-4);
  return expected;
}

const generator = (o: Partial<GeneratorOptions>, seed: number) => {
  const g = createGenerator({ input_nc: 3, output_nc: 3, ...o });
  randomiseWeights(g, seed);
  return g;
};
const sessionOf = (model: tf.LayersModel, batchNorm?: BatchNormExport) =>
  ort.InferenceSession.create(generatorToOnnx(model, { name: model.name, batchNorm }));

beforeAll(async () => {
  await tf.setBackend('cpu');
  // one WASM thread: the models are tiny and vitest already runs test files side by side
  ort.env.wasm.numThreads = 1;
});

describe('ONNX export runs in onnxruntime with our output (max |Δ| ≤ 1e-4)', () => {
  // every netG, each norm spread across them, dropout on where pix2pix uses it (off at inference)
  const cases: [Partial<GeneratorOptions>, number[]][] = [
    [{ netG: 'resnet_9blocks', ngf: 4, norm: 'instance' }, [2, 16, 20]],
    [{ netG: 'resnet_6blocks', ngf: 4, norm: 'batch', use_dropout: true }, [2, 12, 16]],
    [{ netG: 'resnet_6blocks', ngf: 3, norm: 'none' }, [1, 16, 16]],
    [{ netG: 'unet_256', ngf: 2, norm: 'batch', use_dropout: true }, [1, 256, 256]],
    [{ netG: 'unet_128', ngf: 2, norm: 'none', use_dropout: true }, [2, 128, 128]],
    [{ netG: 'unet_64', ngf: 3, norm: 'instance' }, [2, 64, 64]],
    [{ netG: 'unet_32', ngf: 4, norm: 'batch' }, [2, 32, 32]],
  ];
  cases.forEach(([o, size], i) => {
    const dropout = o.use_dropout ? ', dropout' : '';
    it(`${o.netG}, ngf ${o.ngf}, ${o.norm} norm${dropout}, at ${size.join('×')}`, async () => {
      const g = generator(o, 100 + i);
      await expectAgreement(g, await sessionOf(g), size, 200 + i);
      g.dispose();
    });
  });
});

describe('dynamic batch, height and width', () => {
  it('declares real and fake as [batch, C, height, width] in opset 17, IR 8', () => {
    const g = generator({ netG: 'resnet_6blocks', ngf: 2, norm: 'instance' }, 1);
    const m = onnxProto.onnx.ModelProto.decode(generatorToOnnx(g, { name: 'G_A', producer: 'test' }));
    g.dispose();
    expect(Number(m.irVersion)).toBe(8);
    expect(m.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 17]]);
    expect([m.producerName, m.graph!.name]).toEqual(['test', 'G_A']);
    const dims = (v: onnxProto.onnx.IValueInfoProto) =>
      v.type!.tensorType!.shape!.dim!.map((d) => d.dimParam || Number(d.dimValue));
    expect(m.graph!.input!.map((v) => [v.name, dims(v)])).toEqual([['real', ['batch', 3, 'height', 'width']]]);
    expect(m.graph!.output!.map((v) => [v.name, dims(v)])).toEqual([['fake', ['batch', 3, 'height', 'width']]]);
    // the sides the network needs are written in the file: 4 for a ResNet
    expect(m.graph!.input![0].docString).toBe('images in [-1, 1], NCHW; height and width multiples of 4');
  });

  it('a U-Net file says its sides must be multiples of 2^downs', () => {
    const g = generator({ netG: 'unet_128', ngf: 1, norm: 'none' }, 2);
    const m = onnxProto.onnx.ModelProto.decode(generatorToOnnx(g, { name: 'G' }));
    g.dispose();
    expect(m.graph!.input![0].docString).toMatch(/multiples of 128$/);
  });

  it('one exported ResNet runs at several batch sizes and sizes, non-square included', async () => {
    const g = generator({ netG: 'resnet_6blocks', ngf: 4, norm: 'instance' }, 7);
    const session = await sessionOf(g);
    const sizes = [[1, 8, 8], [3, 16, 16], [2, 12, 28]];
    for (const [k, size] of sizes.entries()) await expectAgreement(g, session, size, 300 + k);
    g.dispose();
  });

  it('one exported U-Net runs at 32×32 and at 64×96', async () => {
    const g = generator({ netG: 'unet_32', ngf: 3, norm: 'instance' }, 8);
    const session = await sessionOf(g);
    await expectAgreement(g, session, [1, 32, 32], 310);
    await expectAgreement(g, session, [2, 64, 96], 311);
    g.dispose();
  });
});

describe('batch norm with the batch statistics (how pix2pix translates)', () => {
  for (const netG of ['unet_32', 'resnet_6blocks'] as const) {
    it(`${netG}: 'batch-statistics' equals our model with training: true, and differs from running statistics`, async () => {
      const g = generator({ netG, ngf: 3, norm: 'batch' }, 9);
      const size = netG === 'unet_32' ? [2, 32, 32] : [2, 12, 16];
      const batchStats = await expectAgreement(g, await sessionOf(g, 'batch-statistics'), size, 320, true);
      const running = await expectAgreement(g, await sessionOf(g, 'running-statistics'), size, 320, false);
      // the two forms must be told apart, or the test above could pass on the wrong one
      expect(maxAbsDiff(batchStats, running)).toBeGreaterThan(0.01);
      g.dispose();
    });
  }
});

describe('refusals', () => {
  it('a layer ONNX export does not know is refused by its name and class', () => {
    const input = tf.input({ shape: [null, null, 3], name: 'real' });
    const conv = tf.layers.conv2d({ filters: 3, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor;
    const pooled = tf.layers.maxPooling2d({ poolSize: 2, name: 'mystery_pool' }).apply(conv) as tf.SymbolicTensor;
    const model = tf.model({ inputs: input, outputs: pooled });
    expect(() => generatorToOnnx(model, { name: 'x' })).toThrow(/layer "mystery_pool" \(MaxPooling2D\)/);
    model.dispose();
  });
});
