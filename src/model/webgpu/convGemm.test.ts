import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { OP, padInput } from './convOracle';
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputCount, conv2dOutputSize } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import { convTransposeBackwardFilter, convTransposeBackwardInput, convTransposeBufferSize, convTransposeForward } from './convTranspose';
import type { ConvTransposeSpec } from './convTranspose';
import type { GemmConfig } from './convGemm';
import { TILES } from './gemm';
import type { TileName } from './gemm';
import { runKernel, useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the tiled conv GEMMs under every tile');

/** Every shape family the networks use, at odd sides, batch > 1 and channel counts that are not multiples of 4. */
const CONVS: (Conv2dSpec & { why: string })[] = [
  { why: 'ResNet 7×7 reflect', batch: 2, height: 9, width: 11, inChannels: 5, outChannels: 6, kernel: 7, stride: 1, pad: 3, padMode: 'reflect', bias: true, activation: 'tanh', outTotal: 9, outOffset: 2 },
  { why: 'ResNet block 3×3 reflect', batch: 1, height: 10, width: 7, inChannels: 6, outChannels: 5, kernel: 3, stride: 1, pad: 1, padMode: 'reflect', bias: false, activation: 'relu' },
  { why: 'PatchGAN / U-Net 4×4 stride 2', batch: 2, height: 11, width: 9, inChannels: 3, outChannels: 7, kernel: 4, stride: 2, pad: 1, padMode: 'zero', bias: false, activation: 'leaky_relu', outTotal: 10, outOffset: 3 },
  { why: 'ResNet down 3×3 stride 2', batch: 1, height: 9, width: 10, inChannels: 7, outChannels: 6, kernel: 3, stride: 2, pad: 1, padMode: 'zero', bias: true, activation: 'none' },
  { why: 'pixel discriminator 1×1', batch: 3, height: 5, width: 6, inChannels: 9, outChannels: 1, kernel: 1, stride: 1, pad: 0, padMode: 'zero', bias: true, activation: 'none' },
  // channels in fours: A and B are staged four values at a time (loadA4, loadB4) in every family
  { why: 'ResNet 7×7 reflect, channels in fours', batch: 2, height: 9, width: 7, inChannels: 8, outChannels: 12, kernel: 7, stride: 1, pad: 3, padMode: 'reflect', bias: true, activation: 'relu' },
  { why: 'PatchGAN 4×4 stride 2, channels in fours', batch: 1, height: 10, width: 11, inChannels: 4, outChannels: 8, kernel: 4, stride: 2, pad: 1, padMode: 'zero', bias: false, activation: 'leaky_relu', outTotal: 12, outOffset: 4 },
  { why: 'ResNet last 7×7 to 3 channels, input in fours', batch: 1, height: 8, width: 9, inChannels: 16, outChannels: 3, kernel: 7, stride: 1, pad: 3, padMode: 'reflect', bias: true, activation: 'tanh' },
];
const TCONVS: (ConvTransposeSpec & { why: string })[] = [
  { why: 'U-Net up 4×4 stride 2', batch: 2, height: 5, width: 3, inChannels: 6, outChannels: 5, kernel: 4, bias: false, activation: 'relu', channelOffset: 2, totalChannels: 9 },
  { why: 'ResNet up 3×3 stride 2, output padding 1', batch: 1, height: 4, width: 5, inChannels: 5, outChannels: 3, kernel: 3, bias: true, activation: 'tanh' },
  { why: 'U-Net up 4×4 stride 2, channels in fours', batch: 2, height: 3, width: 4, inChannels: 8, outChannels: 4, kernel: 4, bias: true, activation: 'none' },
  { why: 'ResNet up 3×3 stride 2, channels in fours', batch: 1, height: 5, width: 4, inChannels: 12, outChannels: 8, kernel: 3, bias: false, activation: 'relu', channelOffset: 4, totalChannels: 16 },
];

const NAMES = Object.keys(TILES) as TileName[];
/** Shapes (by index over CONVS then TCONVS) whose passes split the reduction in 3 parts (split-K); the rest in one. */
const SPLIT = new Set([1, 2, 5, 7, 8, 9]);
/** Shape i's pass p runs tile (i + p) mod 6: every tile meets every pass and (over the passes) every shape family. */
const configFor = (i: number, pass: number): GemmConfig => ({ tile: NAMES[(i + pass) % NAMES.length], splits: SPLIT.has(i) ? 3 : 1 });
const label = (c: GemmConfig) => `${c.tile}, ${c.splits} part${c.splits === 1 ? '' : 's'}`;

const LIMIT = 1e-5;

/** Seeded input, filter, bias and output gradient of a layer (the gradient over the whole wide buffer, and its slice). */
function randomLayer(s: { batch: number; height: number; width: number; inChannels: number; outChannels: number }, filter: [number, number, number, number], [oh, ow]: number[], total: number, off: number, seed: number) {
  const dyWide = tf.randomNormal([s.batch, oh, ow, total], 0, 1, 'float32', seed + 3) as tf.Tensor4D;
  return {
    x: tf.randomNormal([s.batch, s.height, s.width, s.inChannels], 0, 1, 'float32', seed) as tf.Tensor4D,
    w: tf.randomNormal(filter, 0, 0.3, 'float32', seed + 1) as tf.Tensor4D,
    b: tf.randomNormal([s.outChannels], 0, 0.5, 'float32', seed + 2) as tf.Tensor1D,
    dyWide,
    dy: tf.slice(dyWide, [0, 0, 0, off], [-1, -1, -1, s.outChannels]),
  };
}

describe('tiled conv GEMMs against TF.js, under every tile configuration', () => {
  CONVS.forEach((s, i) => {
    const [cf, cx, cw] = [configFor(i, 0), configFor(i, 1), configFor(i, 2)];
    it(`conv ${s.why}: forward [${label(cf)}], input gradient [${label(cx)}], filter gradient [${label(cw)}] within ${LIMIT}`, async () => {
      if (skip()) return;
      const { outHeight, outWidth } = conv2dOutputSize(s);
      const total = s.outTotal ?? s.outChannels;
      const off = s.outOffset ?? 0;
      const { x, w, b, dyWide, dy } = randomLayer(s, [s.kernel, s.kernel, s.inChannels, s.outChannels], [outHeight, outWidth], total, off, 100 + i);
      const layer = (xv: tf.Tensor4D, wv: tf.Tensor4D) => {
        const z = tf.conv2d(padInput(xv, s), wv, s.stride, 'valid');
        return OP[s.activation](s.bias ? tf.add(z, b) : z) as tf.Tensor4D;
      };
      const yNarrow = layer(x, w);
      const y = tf.pad(yNarrow, [[0, 0], [0, 0], [0, 0], [off, total - off - s.outChannels]]);
      const [dx, dw] = tf.grads((xv, wv) => tf.sum(tf.mul(layer(xv as tf.Tensor4D, wv as tf.Tensor4D), dy)))([x, w]);
      const act = s.activation !== 'none';
      const [ours] = await runKernel(conv2dForward(s, cf), s.bias ? [x, w, b] : [x, w], [conv2dOutputCount(s)]);
      const [oursDx] = await runKernel(conv2dBackwardInput(s, cx), act ? [y, dyWide, w] : [dyWide, w], [x.size]);
      const [oursDw] = await runKernel(conv2dBackwardFilter(s, cw), act ? [x, y, dyWide] : [x, dyWide], [w.size]);
      const worst = { y: worstRelative(ours, await y.data()), dx: worstRelative(oursDx, await dx.data()), dW: worstRelative(oursDw, await dw.data()) };
      console.log(`conv ${s.why}: worst relative`, worst);
      for (const [what, v] of Object.entries(worst)) expect(v, what).toBeLessThan(LIMIT);
      tf.dispose([x, w, b, dyWide, dy, yNarrow, y, dx, dw]);
    });
  });

  TCONVS.forEach((s, j) => {
    const i = CONVS.length + j;
    const [cf, cx, cw] = [configFor(i, 0), configFor(i, 1), configFor(i, 2)];
    it(`transposed conv ${s.why}: forward [${label(cf)}], input gradient [${label(cx)}], filter gradient [${label(cw)}] within ${LIMIT}`, async () => {
      if (skip()) return;
      const total = s.totalChannels ?? s.outChannels;
      const off = s.channelOffset ?? 0;
      const [oh, ow] = [2 * s.height, 2 * s.width];
      const { x, w, b, dyWide, dy } = randomLayer(s, [s.kernel, s.kernel, s.outChannels, s.inChannels], [oh, ow], total, off, 500 + i);
      // U-Net: 'same' (padding 1 each side); ResNet: 'valid' (2n + 1 sides) then the first row and column cropped
      const layer = (xv: tf.Tensor4D, wv: tf.Tensor4D) => {
        const z =
          s.kernel === 4
            ? tf.conv2dTranspose(xv, wv, [s.batch, oh, ow, s.outChannels], 2, 'same')
            : tf.slice(tf.conv2dTranspose(xv, wv, [s.batch, oh + 1, ow + 1, s.outChannels], 2, 'valid'), [0, 1, 1, 0], [-1, oh, ow, -1]);
        return OP[s.activation](s.bias ? tf.add(z, b) : z) as tf.Tensor4D;
      };
      const yNarrow = layer(x, w);
      const yWide = tf.pad(yNarrow, [[0, 0], [0, 0], [0, 0], [off, total - off - s.outChannels]]);
      const [dx, dw] = tf.grads((xv, wv) => tf.sum(tf.mul(layer(xv as tf.Tensor4D, wv as tf.Tensor4D), dy)))([x, w]);
      const withY = s.activation === 'none' ? [dyWide] : [dyWide, yWide];
      const [ours] = await runKernel(convTransposeForward(s, cf), s.bias ? [x, w, b] : [x, w], [convTransposeBufferSize(s)]);
      const [oursDx] = await runKernel(convTransposeBackwardInput(s, cx), [...withY, w], [x.size]);
      const [oursDw] = await runKernel(convTransposeBackwardFilter(s, cw), [x, ...withY], [w.size]);
      const worst = { y: worstRelative(ours, await yWide.data()), dx: worstRelative(oursDx, await dx.data()), dW: worstRelative(oursDw, await dw.data()) };
      console.log(`transposed conv ${s.why}: worst relative`, worst);
      for (const [what, v] of Object.entries(worst)) expect(v, what).toBeLessThan(LIMIT);
      tf.dispose([x, w, b, dyWide, dy, yNarrow, yWide, dx, dw]);
    });
  });

  it('every tile configuration meets every pass above', () => {
    const seen = new Set<string>();
    [...CONVS, ...TCONVS].forEach((_, i) => [0, 1, 2].forEach((p) => seen.add(`${configFor(i, p).tile}/${p}`)));
    expect(seen.size).toBe(NAMES.length * 3);
  });

  it('split-K meets every pass of both kinds of layer, the biased forwards and the reflected input gradients among them', () => {
    const split = (i: number) => (configFor(i, 0).splits ?? 1) > 1;
    const convs = CONVS.filter((_, i) => split(i));
    const tconvs = TCONVS.filter((_, j) => split(CONVS.length + j));
    expect(convs.some((s) => s.bias) && convs.some((s) => s.padMode === 'reflect') && convs.some((s) => s.stride === 2)).toBe(true);
    expect(tconvs.some((s) => s.bias && s.kernel === 3) && tconvs.some((s) => s.kernel === 4)).toBe(true);
  });
});
