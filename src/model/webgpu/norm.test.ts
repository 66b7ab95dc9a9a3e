import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { normLayer } from '../blocks';
import type { Activation } from './activation';
import { normApply, normBackward, normGroups, normStatistics, STATS_PER_GROUP } from './norm';
import type { NormKind, NormShape } from './norm';
import type { Kernel } from './kernel';
import { Plan } from './plan';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';
import { useNodeWebGPU, worstRelative } from './testing';

const skip = useNodeWebGPU('the norm kernels');

/** A buffer of a chain: a TF.js tensor's own, or one the plan owns, zeroed (a size) or holding these values. */
type Source = tf.Tensor | number | Float32Array;

/** Runs kernels in order over named buffers in one plan, as a step would; returns every plan-owned buffer's values. */
async function runChain(steps: [Kernel, string[]][], sources: Record<string, Source>): Promise<Record<string, Float32Array>> {
  const plan = new Plan(webgpuDevice());
  try {
    const buffers: Record<string, GPUBuffer> = {};
    const owned: Record<string, number> = {};
    for (const [name, src] of Object.entries(sources)) {
      if (src instanceof tf.Tensor) buffers[name] = tensorBuffer(src);
      else {
        const count = typeof src === 'number' ? src : src.length;
        buffers[name] = plan.buffer(count, name);
        owned[name] = count;
        if (typeof src !== 'number') plan.device.queue.writeBuffer(buffers[name], 0, src);
      }
    }
    for (const [kernel, names] of steps) plan.add(kernel, names.map((n) => buffers[n]));
    plan.run();
    const out: Record<string, Float32Array> = {};
    for (const [name, count] of Object.entries(owned)) out[name] = await readFloats(plan.device, buffers[name], count);
    return out;
  } finally {
    plan.dispose();
  }
}

const activations: Record<Activation, (x: tf.Tensor) => tf.Tensor> = {
  none: (x) => x,
  relu: (x) => tf.relu(x),
  leaky_relu: (x) => tf.leakyRelu(x, 0.2),
  tanh: (x) => tf.tanh(x),
};

/** Our network's norm layer alone (blocks.ts normLayer), as a model over this shape. */
function normModel(kind: NormKind, s: NormShape): tf.LayersModel {
  const input = tf.input({ shape: [s.h, s.w, s.c] });
  return tf.model({ inputs: input, outputs: normLayer(input, kind) });
}

const shapeOf = (s: NormShape): [number, number, number, number] => [s.n, s.h, s.w, s.c];
const label = (s: NormShape): string => `${s.n}x${s.h}x${s.w}x${s.c}`;

/** Seeded input; with `flat`, channel 0 is nearly constant (1 + 1e-3·noise) and channel 1 exactly constant (0.5: every sum of it is exact, so x − mean is 0 on any device). */
function input(s: NormShape, seed: number, flat = false): tf.Tensor4D {
  return tf.tidy(() => {
    const x = tf.randomNormal(shapeOf(s), 0.3, 1.5, 'float32', seed);
    if (!flat) return x as tf.Tensor4D;
    const channel = tf.range(0, s.c, 1, 'int32').reshape([1, 1, 1, s.c]);
    const nearly = tf.add(1, tf.mul(1e-3, x));
    return tf.where(tf.equal(channel, 0), nearly, tf.where(tf.equal(channel, 1), tf.fill(shapeOf(s), 0.5), x)) as tf.Tensor4D;
  });
}

describe('instance norm kernels against our InstanceNormalization layer', () => {
  const cases: [NormShape, Activation, boolean][] = [
    [{ n: 1, h: 5, w: 7, c: 3 }, 'relu', false],
    [{ n: 2, h: 3, w: 5, c: 4 }, 'leaky_relu', false],
    [{ n: 2, h: 7, w: 3, c: 2 }, 'none', false],
    [{ n: 1, h: 19, w: 17, c: 3 }, 'leaky_relu', false],
    [{ n: 2, h: 9, w: 5, c: 3 }, 'relu', true],
  ];
  for (const [s, act, flat] of cases) {
    it(`${label(s)} ${act}${flat ? ', a nearly constant and a constant channel' : ''}: 2 kernels forward, 1 backward, equal the layer and its gradient`, async () => {
      if (skip()) return;
      const model = normModel('instance', s);
      const x = input(s, 11, flat);
      const dy = tf.randomNormal(shapeOf(s), 0, 1, 'float32', 12);
      const f = (v: tf.Tensor) => activations[act](model.apply(v, { training: true }) as tf.Tensor);
      const y = f(x);
      const dx = tf.grad((v: tf.Tensor) => tf.sum(tf.mul(f(v), dy)))(x);
      const count = x.size;
      const { groups } = normGroups('instance', s);
      const ours = await runChain(
        [
          [normStatistics('instance', s), ['x', 'stats']],
          [normApply('instance', s, act), ['x', 'stats', 'y']],
          [normBackward('instance', s, act), ['x', 'stats', 'dy', 'dx']],
        ],
        { x, dy, stats: groups * STATS_PER_GROUP, y: count, dx: count },
      );
      const worstY = worstRelative(ours.y, await y.data());
      const worstDx = worstRelative(ours.dx, await dx.data());
      console.log(`instance ${label(s)} ${act}${flat ? ' flat' : ''}: worst relative y ${worstY.toExponential(2)}, dx ${worstDx.toExponential(2)}`);
      expect(worstY).toBeLessThan(1e-4);
      expect(worstDx).toBeLessThan(1e-4);
      tf.dispose([x, dy, y, dx]);
      model.dispose();
    });
  }
});

describe('batch norm kernels against tf.layers.batchNormalization in training mode', () => {
  const cases: [NormShape, Activation][] = [
    [{ n: 1, h: 5, w: 7, c: 3 }, 'leaky_relu'],
    [{ n: 2, h: 3, w: 5, c: 4 }, 'relu'],
    [{ n: 2, h: 7, w: 3, c: 2 }, 'none'],
    [{ n: 2, h: 13, w: 11, c: 3 }, 'relu'],
  ];
  for (const [s, act] of cases) {
    it(`${label(s)} ${act}: 2 kernels forward (running statistics updated), 1 backward, equal the layer, its update and its gradients`, async () => {
      if (skip()) return;
      const model = normModel('batch', s);
      const layer = model.layers[1];
      // gamma ~ N(1, 0.02) as initialised; beta and the running statistics away from their zero/one starts
      const [gamma0] = layer.getWeights();
      layer.setWeights([
        gamma0,
        tf.randomNormal([s.c], 0, 0.5, 'float32', 21),
        tf.randomNormal([s.c], 0, 0.5, 'float32', 22),
        tf.randomUniform([s.c], 0.5, 2, 'float32', 23),
      ]);
      const [gamma, beta, movingMean, movingVariance] = layer.getWeights().map((w) => tf.clone(w));
      const movingBefore = [await movingMean.data(), await movingVariance.data()] as Float32Array[];
      const x = tf.variable(input(s, 13));
      const dy = tf.randomNormal(shapeOf(s), 0, 1, 'float32', 14);
      const weights = layer.trainableWeights.map((w) => w.read() as tf.Variable);
      let y: tf.Tensor | null = null;
      // one training-mode call: its output, the running statistics it updates, and the gradients of x, gamma, beta
      const { grads } = tf.variableGrads(() => {
        const out = activations[act](model.apply(x, { training: true }) as tf.Tensor);
        y = tf.keep(tf.clone(out));
        return tf.sum(tf.mul(out, dy)) as tf.Scalar;
      }, [x, ...weights]);
      const [, , movingMeanAfter, movingVarianceAfter] = layer.getWeights();
      const count = x.size;
      const ours = await runChain(
        [
          [normStatistics('batch', s, { running: true }), ['x', 'stats', 'movingMean', 'movingVariance']],
          [normApply('batch', s, act), ['x', 'stats', 'gamma', 'beta', 'y']],
          [normBackward('batch', s, act), ['x', 'stats', 'gamma', 'beta', 'dy', 'dx', 'dgamma', 'dbeta']],
        ],
        {
          x, dy, gamma, beta,
          movingMean: movingBefore[0], movingVariance: movingBefore[1],
          stats: s.c * STATS_PER_GROUP, y: count, dx: count, dgamma: s.c, dbeta: s.c,
        },
      );
      const worst = {
        y: worstRelative(ours.y, await y!.data()),
        movingMean: worstRelative(ours.movingMean, await movingMeanAfter.data()),
        movingVariance: worstRelative(ours.movingVariance, await movingVarianceAfter.data()),
        dx: worstRelative(ours.dx, await grads[x.name].data()),
        dgamma: worstRelative(ours.dgamma, await grads[weights[0].name].data()),
        dbeta: worstRelative(ours.dbeta, await grads[weights[1].name].data()),
      };
      console.log(`batch ${label(s)} ${act}: worst relative ${Object.entries(worst).map(([k, v]) => `${k} ${v.toExponential(2)}`).join(', ')}`);
      for (const v of Object.values(worst)) expect(v).toBeLessThan(1e-4);
      // the running statistics really moved, so the update is checked, not the starting values
      expect(worstRelative(movingBefore[0], await movingMeanAfter.data())).toBeGreaterThan(1e-3);
      tf.dispose([x, dy, y!, gamma, beta, movingMean, movingVariance, ...Object.values(grads)]);
      model.dispose();
    });
  }

  it('accumulates dgamma and dbeta when asked (a layer applied twice in one step)', async () => {
    if (skip()) return;
    const s: NormShape = { n: 2, h: 3, w: 5, c: 4 };
    const x = input(s, 31);
    const dy = tf.randomNormal(shapeOf(s), 0, 1, 'float32', 32);
    const gamma = tf.randomNormal([s.c], 1, 0.02, 'float32', 33);
    const beta = tf.randomNormal([s.c], 0, 0.5, 'float32', 34);
    const before = new Float32Array([0.5, -1, 2, 0.25]);
    const count = x.size;
    const chain = (accumulate: boolean): [Kernel, string[]][] => [
      [normStatistics('batch', s), ['x', 'stats']],
      [normBackward('batch', s, 'relu', { accumulate }), ['x', 'stats', 'gamma', 'beta', 'dy', 'dx', 'dgamma', 'dbeta']],
    ];
    const buffers = (dgamma: Float32Array | number, dbeta: Float32Array | number) => ({ x, dy, gamma, beta, stats: s.c * 2, dx: count, dgamma, dbeta });
    const fresh = await runChain(chain(false), buffers(before, before));
    const added = await runChain(chain(true), buffers(before, before));
    for (let c = 0; c < s.c; c++) {
      expect(added.dgamma[c]).toBeCloseTo(before[c] + fresh.dgamma[c], 5);
      expect(added.dbeta[c]).toBeCloseTo(before[c] + fresh.dbeta[c], 5);
    }
    expect(worstRelative(added.dx, fresh.dx)).toBe(0);
    tf.dispose([x, dy, gamma, beta]);
  });
});

describe('norm kernel options', () => {
  it('refuses running statistics and parameter gradients for instance norm, which has neither', () => {
    const s: NormShape = { n: 1, h: 2, w: 2, c: 1 };
    expect(() => normStatistics('instance', s, { running: true })).toThrow(/no running statistics/);
    expect(() => normBackward('instance', s, 'relu', { accumulate: true })).toThrow(/no parameters/);
  });

  it('refuses more groups than one dispatch can hold, naming the shape', () => {
    expect(() => normStatistics('instance', { n: 300, h: 2, w: 2, c: 256 })).toThrow(/300x2x2x256: 76800 groups/);
  });
});
