import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import type { Activation } from './activation';
import { conv2dBackwardBias, conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputCount, conv2dOutputSize } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { OP, padInput } from './convOracle';
import { runKernel, useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the conv2d kernels');

const ACTIVATIONS: Activation[] = ['none', 'relu', 'leaky_relu', 'tanh'];
/** Each kernel side with the padding the networks give it. */
const KERNELS: [number, number][] = [
  [1, 0],
  [3, 1],
  [4, 1],
  [7, 3],
];

/**
 * Every (kernel, activation) pair once; the five two-valued options are distinct XORs of the pair's index bits, so
 * every pair of option values (kernel or activation included) appears at least once.
 */
const CASES: Conv2dSpec[] = KERNELS.flatMap(([kernel, pad], k) =>
  ACTIVATIONS.map((activation, a) => {
    const [k0, k1, a0, a1] = [k & 1, k >> 1, a & 1, a >> 1];
    const offset = (k1 ^ a0) === 1;
    return {
      batch: 1 + (k0 ^ k1 ^ a0 ^ a1),
      height: 7,
      width: 6,
      inChannels: 3,
      outChannels: 4,
      kernel,
      stride: (1 + (k0 ^ a0)) as 1 | 2,
      pad,
      padMode: (k1 ^ a1) === 1 ? 'reflect' : 'zero',
      bias: (k0 ^ a1) === 1,
      activation,
      outTotal: offset ? 9 : 4,
      outOffset: offset ? 3 : 0,
    };
  }),
);

/** The TF.js layer: f(conv(pad(x), w) + b), spread into the wider output's channels at the offset (zeros elsewhere). */
function oracle(x: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, s: Conv2dSpec): tf.Tensor4D {
  const y = OP[s.activation](tf.add(tf.conv2d(padInput(x, s), w, s.stride, 'valid'), b)) as tf.Tensor4D;
  const off = s.outOffset ?? 0;
  return tf.pad(y, [[0, 0], [0, 0], [0, 0], [off, (s.outTotal ?? s.outChannels) - off - s.outChannels]]);
}

const describeSpec = (s: Conv2dSpec) =>
  `k${s.kernel} s${s.stride} ${s.padMode} ${s.pad}, ${s.bias ? 'bias' : 'no bias'}, ${s.activation}, ` +
  `channels ${s.outOffset}..${(s.outOffset ?? 0) + s.outChannels} of ${s.outTotal}, N=${s.batch}`;

describe('conv2d kernels against TF.js', () => {
  let worst = 0;

  for (const [c, s] of CASES.entries()) {
    it(`${describeSpec(s)}: forward, input, filter and bias gradients equal tf.conv2d's and tf.grad's`, async () => {
      if (skip()) return;
      const { outHeight, outWidth } = conv2dOutputSize(s);
      const total = s.outTotal ?? s.outChannels;
      const off = s.outOffset ?? 0;
      const x = tf.randomNormal([s.batch, s.height, s.width, s.inChannels], 0, 1, 'float32', 10 * c + 1) as tf.Tensor4D;
      const w = tf.randomNormal([s.kernel, s.kernel, s.inChannels, s.outChannels], 0, 0.3, 'float32', 10 * c + 2) as tf.Tensor4D;
      const b = s.bias ? (tf.randomNormal([s.outChannels], 0, 0.5, 'float32', 10 * c + 3) as tf.Tensor1D) : tf.zeros([s.outChannels]) as tf.Tensor1D;
      // The gradient of the whole wide buffer; the conv's own is its slice at the offset.
      const dyWide = tf.randomNormal([s.batch, outHeight, outWidth, total], 0, 1, 'float32', 10 * c + 4) as tf.Tensor4D;
      const dy = tf.slice(dyWide, [0, 0, 0, off], [-1, -1, -1, s.outChannels]);
      const y = oracle(x, w, b, s);
      const [dx, dw, db] = tf.grads((xv, wv, bv) =>
        tf.sum(tf.mul(tf.slice(oracle(xv as tf.Tensor4D, wv as tf.Tensor4D, bv as tf.Tensor1D, s), [0, 0, 0, off], [-1, -1, -1, s.outChannels]), dy)),
      )([x, w, b]);

      const act = s.activation !== 'none';
      const [ours] = await runKernel(conv2dForward(s), s.bias ? [x, w, b] : [x, w], [conv2dOutputCount(s)]);
      const [oursDx] = await runKernel(conv2dBackwardInput(s), act ? [y, dyWide, w] : [dyWide, w], [x.size]);
      const [oursDw] = await runKernel(conv2dBackwardFilter(s), act ? [x, y, dyWide] : [x, dyWide], [w.size]);
      const [oursDb] = await runKernel(conv2dBackwardBias(s), act ? [y, dyWide] : [dyWide], [s.outChannels]);
      const figures = {
        y: worstRelative(ours, await y.data()),
        dx: worstRelative(oursDx, await dx.data()),
        dW: worstRelative(oursDw, await dw.data()),
        db: worstRelative(oursDb, await db.data()),
      };
      console.log(`conv2d ${describeSpec(s)}: worst relative`, figures);
      for (const [what, v] of Object.entries(figures)) {
        expect(v, what).toBeLessThan(1e-4);
        worst = Math.max(worst, v);
      }
      tf.dispose([x, w, b, dyWide, dy, y, dx, dw, db]);
    });
  }

  // the forward kernel computes 4 channels × 4 columns a thread: channel counts and widths that blocks do not divide
  const EDGES: Conv2dSpec[] = [
    { batch: 2, height: 9, width: 11, inChannels: 5, outChannels: 3, kernel: 7, stride: 1, pad: 3, padMode: 'reflect', bias: true, activation: 'tanh' },
    { batch: 1, height: 10, width: 9, inChannels: 6, outChannels: 5, kernel: 4, stride: 2, pad: 1, padMode: 'zero', bias: false, activation: 'leaky_relu' },
    { batch: 3, height: 5, width: 7, inChannels: 4, outChannels: 6, kernel: 3, stride: 2, pad: 1, padMode: 'zero', bias: true, activation: 'relu', outTotal: 9, outOffset: 2 },
    { batch: 1, height: 6, width: 5, inChannels: 7, outChannels: 1, kernel: 1, stride: 1, pad: 0, padMode: 'zero', bias: false, activation: 'none' },
  ];
  it.each(EDGES.map((s) => [describeSpec(s), s] as const))('forward, %s: within 1e-5 of tf.conv2d where blocks do not divide the sizes', async (_, s) => {
    if (skip()) return;
    const x = tf.randomNormal([s.batch, s.height, s.width, s.inChannels], 0, 1, 'float32', 71) as tf.Tensor4D;
    const w = tf.randomNormal([s.kernel, s.kernel, s.inChannels, s.outChannels], 0, 0.3, 'float32', 72) as tf.Tensor4D;
    const b = s.bias ? (tf.randomNormal([s.outChannels], 0, 0.5, 'float32', 73) as tf.Tensor1D) : (tf.zeros([s.outChannels]) as tf.Tensor1D);
    const [ours] = await runKernel(conv2dForward(s), s.bias ? [x, w, b] : [x, w], [conv2dOutputCount(s)]);
    const y = oracle(x, w, b, s);
    expect(worstRelative(ours, await y.data())).toBeLessThan(1e-5);
    tf.dispose([x, w, b, y]);
  });

  it('reflection padding as gathered here is tf.mirrorPad (the oracle above is TF.js’s own layer)', async () => {
    if (skip()) return;
    const s = CASES.find((v) => v.padMode === 'reflect' && v.pad === 3)!;
    const x = tf.randomNormal([1, s.height, s.width, 2], 0, 1, 'float32', 99) as tf.Tensor4D;
    const p = s.pad;
    const mirrored = tf.mirrorPad(x, [[0, 0], [p, p], [p, p], [0, 0]], 'reflect');
    expect(worstRelative(await padInput(x, { ...s, inChannels: 2 }).data(), await mirrored.data())).toBe(0);
    console.log(`conv2d kernels: worst relative over all cases ${worst.toExponential(2)}`);
  });

  it('refuses a spec it cannot compute, saying what is wrong', () => {
    const s = CASES[0];
    expect(() => conv2dForward({ ...s, padMode: 'reflect', kernel: 7, pad: 6 })).toThrow(/reflection padding 6 needs sides over 6, got 7×6/);
    expect(() => conv2dForward({ ...s, stride: 3 as 2 })).toThrow(/stride must be 1 or 2, not 3/);
    expect(() => conv2dForward({ ...s, outTotal: 5, outOffset: 3 })).toThrow(/channels 3\.\.7 do not fit an output of 5/);
    expect(() => conv2dForward({ ...s, kernel: 9, pad: 0 })).toThrow(/kernel is larger than the padded input/);
  });
});
