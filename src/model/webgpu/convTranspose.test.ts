import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { convTranspose, relu, tanh } from '../blocks';
import { CropTopLeft } from '../layers';
import {
  convTransposeBackwardBias,
  convTransposeBackwardFilter,
  convTransposeBackwardInput,
  convTransposeBufferSize,
  convTransposeForward,
} from './convTranspose';
import type { ConvTransposeSpec } from './convTranspose';
import { runKernel, useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the transposed conv kernels');

/** The layers our generators build for this spec (up4 of unetGenerator.ts, or upsample's conv + crop of resnetGenerator.ts), then the activation. */
function oracleModel(s: ConvTransposeSpec): tf.LayersModel {
  const input = tf.input({ shape: [s.height, s.width, s.inChannels] });
  let y =
    s.kernel === 4
      ? convTranspose(input, { filters: s.outChannels, kernel: 4, stride: 2, bias: s.bias, padding: 'same' })
      : (new CropTopLeft({ crop: 1 }).apply(convTranspose(input, { filters: s.outChannels, kernel: 3, stride: 2, bias: s.bias })) as tf.SymbolicTensor);
  if (s.activation === 'relu') y = relu(y);
  if (s.activation === 'tanh') y = tanh(y);
  return tf.model({ inputs: input, outputs: y });
}

const cases: (ConvTransposeSpec & { why: string })[] = [
  { why: 'U-Net outermost up (bias, tanh)', batch: 1, height: 4, width: 4, inChannels: 6, outChannels: 3, kernel: 4, bias: true, activation: 'tanh' },
  { why: 'U-Net up into a concat slice, odd sides', batch: 2, height: 3, width: 5, inChannels: 4, outChannels: 3, kernel: 4, bias: false, activation: 'relu', channelOffset: 2, totalChannels: 7 },
  { why: 'U-Net innermost up at 1x1', batch: 2, height: 1, width: 1, inChannels: 5, outChannels: 4, kernel: 4, bias: true, activation: 'none' },
  { why: 'ResNet upsample, odd and even sides', batch: 2, height: 3, width: 4, inChannels: 5, outChannels: 3, kernel: 3, bias: false, activation: 'none' },
  { why: 'ResNet upsample into a slice (bias, relu)', batch: 1, height: 5, width: 5, inChannels: 3, outChannels: 4, kernel: 3, bias: true, activation: 'relu', channelOffset: 3, totalChannels: 8 },
  { why: 'ResNet upsample (bias, tanh)', batch: 2, height: 2, width: 3, inChannels: 4, outChannels: 2, kernel: 3, bias: true, activation: 'tanh' },
];

/** The wide [n, 2h, 2w, total] tensor holding `narrow` at the spec's channel offset, `fill` elsewhere. */
function widen(s: ConvTransposeSpec, narrow: tf.Tensor4D, fill: (c: number) => tf.Tensor4D): tf.Tensor4D {
  const off = s.channelOffset ?? 0;
  const rest = (s.totalChannels ?? s.outChannels) - off - s.outChannels;
  const parts = [off > 0 ? fill(off) : null, narrow, rest > 0 ? fill(rest) : null].filter((t): t is tf.Tensor4D => t !== null);
  return tf.concat(parts, 3);
}

describe('transposed conv kernels against the TF.js layers of our generators', () => {
  for (const s of cases) {
    const name = `k${s.kernel} ${s.why}: N=${s.batch} ${s.height}x${s.width}, ${s.inChannels}->${s.outChannels}, ${s.activation}`;
    it(`${name}: forward, input, filter and bias gradients equal TF.js's`, async () => {
      if (skip()) return;
      const model = oracleModel(s);
      // The layer's own variables, kernel then bias, whose gradients TF.js computes.
      const vars = model.trainableWeights.map((v) => v.read() as tf.Variable);
      const w = tf.randomNormal([s.kernel, s.kernel, s.outChannels, s.inChannels], 0, 0.5, 'float32', 11) as tf.Tensor4D;
      const b = tf.randomNormal([s.outChannels], 0, 0.5, 'float32', 12);
      model.setWeights(s.bias ? [w, b] : [w]);
      const x = tf.randomNormal([s.batch, s.height, s.width, s.inChannels], 0, 1, 'float32', 13) as tf.Tensor4D;
      const oh = 2 * s.height, ow = 2 * s.width;
      let seed = 20;
      const noise = (c: number) => tf.randomNormal([s.batch, oh, ow, c], 0, 1, 'float32', seed++) as tf.Tensor4D;
      const dy = noise(s.outChannels);
      const loss = (v: tf.Tensor) => tf.sum(tf.mul(model.apply(v) as tf.Tensor, dy)) as tf.Scalar;
      const y = model.apply(x) as tf.Tensor4D;
      const dx = tf.grad(loss)(x);
      const { grads } = tf.variableGrads(() => loss(x), vars);
      const dw = grads[vars[0].name];

      const wide = convTransposeBufferSize(s);
      const worst: Record<string, number> = {};
      // Forward: our slice equals TF.js's output; the rest of the wide buffer is left as it was (zero).
      const [ours] = await runKernel(convTransposeForward(s), s.bias ? [x, w, b] : [x, w], [wide]);
      const expected = await widen(s, y, (c) => tf.zeros([s.batch, oh, ow, c])).data();
      worst.forward = worstRelative(ours, expected);
      // Backward reads dy and y from the wide buffers, other channels holding noise it must not touch.
      const dyWide = widen(s, dy, noise);
      const yWide = widen(s, y, noise);
      const withY = s.activation === 'none' ? [dyWide] : [dyWide, yWide];
      const [oursDx] = await runKernel(convTransposeBackwardInput(s), [...withY, w], [x.size]);
      worst.dx = worstRelative(oursDx, await dx.data());
      const [oursDw] = await runKernel(convTransposeBackwardFilter(s), [x, ...withY], [w.size]);
      worst.dw = worstRelative(oursDw, await dw.data());
      if (s.bias) {
        const [oursDb] = await runKernel(convTransposeBackwardBias(s), withY, [s.outChannels]);
        worst.db = worstRelative(oursDb, await grads[vars[1].name].data());
      }
      console.log(`${name}: worst relative ${JSON.stringify(worst)}`);
      for (const v of Object.values(worst)) expect(v).toBeLessThan(1e-4);
      tf.dispose([w, b, x, dy, y, dx, dyWide, yWide, ...Object.values(grads)]);
      model.dispose();
    });
  }

  it('refuses an output slice that does not fit in the wider buffer, naming the channels', () => {
    const s: ConvTransposeSpec = { batch: 1, height: 2, width: 2, inChannels: 2, outChannels: 3, kernel: 4, bias: false, activation: 'none', channelOffset: 2, totalChannels: 4 };
    expect(() => convTransposeForward(s)).toThrow('channels [2, 5) do not fit in 4 total channels');
  });
});
