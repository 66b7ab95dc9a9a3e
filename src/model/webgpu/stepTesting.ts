/**
 * Test helpers for compiled steps: two trainers of one config with the same seeded weights (one steps in TF.js, the
 * oracle; the other compiled), the TF.js step's dropout made to draw the compiled step's masks, and the comparison of
 * every loss, weight, running statistic and Adam moment after a step.
 */
import * as tf from '@tensorflow/tfjs';
import { createTrainer } from '../trainer';
import type { CycleGanExtras } from '../cycleGanTrainer';
import type { TrainConfig } from '../options';
import type { Trainer } from '../trainerBase';
import { dropoutMask } from './dropout';
import { worstRelative } from './testing';

/** Seeded weights, wider than the reference's N(0, 0.02) and with nonzero biases, so every term moves the losses. */
export function seedWeights(model: tf.LayersModel, seed: number): void {
  const values = model.weights.map((w, i) => {
    const shape = w.shape as number[];
    if (/moving_variance/.test(w.name)) return tf.ones(shape);
    if (/moving_mean/.test(w.name)) return tf.zeros(shape);
    return tf.randomNormal(shape, /gamma/.test(w.name) ? 1 : 0, 0.1, 'float32', seed + i);
  });
  model.setWeights(values);
  tf.dispose(values);
}

/** Two trainers of `config` with the same seeded weights: `oracle` for the TF.js step, `compiled` for the other. */
export function trainerPair(config: Partial<TrainConfig>, extras: () => CycleGanExtras = () => ({})): { oracle: Trainer; compiled: Trainer } {
  return { oracle: seededTrainer(config, extras()), compiled: seededTrainer(config, extras()) };
}

/** A trainer of `config` on the current backend, its weights seeded per network (the same on every backend). */
export function seededTrainer(config: Partial<TrainConfig>, extras: CycleGanExtras = {}): Trainer {
  const t = createTrainer(config, extras);
  Object.values(t.models).forEach((m, i) => seedWeights(m, 1000 * (i + 1)));
  return t;
}

/**
 * The oracle of the compiled-step tests: the TF.js step on TF.js's CPU backend. It is TF.js's step all the same, and
 * five times quicker than its webgpu step on SwiftShader with no shaders to compile (webgpuAgreement.test.ts holds
 * the two backends' steps to each other).
 */
export async function cpuTrainer(config: Partial<TrainConfig>, extras: CycleGanExtras = {}): Promise<Trainer> {
  await tf.setBackend('cpu');
  try {
    return seededTrainer(config, extras);
  } finally {
    await tf.setBackend('webgpu');
  }
}

/** One TF.js step on the current backend; its losses in `lossNames` order. */
export async function stepLosses(t: Trainer, a: tf.Tensor4D, b: tf.Tensor4D): Promise<Float32Array> {
  const l = t.trainStep(a, b);
  const out = Float32Array.from(await Promise.all(t.lossNames.map(async (n) => (await l[n].data())[0])));
  tf.dispose(Object.values(l));
  return out;
}

/** One TF.js step of a CPU-backend trainer on copies of the batches; its losses in `lossNames` order. */
export async function cpuStep(t: Trainer, a: tf.Tensor4D, b: tf.Tensor4D): Promise<Float32Array> {
  const [av, bv] = [await a.data(), await b.data()];
  await tf.setBackend('cpu');
  try {
    const [ac, bc] = [tf.tensor4d(av, a.shape), tf.tensor4d(bv, b.shape)];
    const out = await stepLosses(t, ac, bc);
    tf.dispose([ac, bc]);
    return out;
  } finally {
    await tf.setBackend('webgpu');
  }
}

/**
 * Makes the oracle's StepDropout layers multiply by the masks the compiled kernels draw from the same seeds (the
 * layer's `seed`, which the trainers set per step), since TF.js's random stream cannot be reproduced in WGSL.
 */
export function useCompiledMasks(trainer: Trainer): void {
  for (const model of Object.values(trainer.models)) {
    for (const layer of model.layers.filter((l) => l.getClassName() === 'StepDropout')) {
      layer.call = (inputs: tf.Tensor | tf.Tensor[]) =>
        tf.tidy(() => {
          const x = Array.isArray(inputs) ? inputs[0] : inputs;
          const seed = (layer as unknown as { seed: number | null }).seed;
          if (seed === null) throw new Error('useCompiledMasks: a training pass without a dropout seed');
          return tf.mul(x, tf.tensor(dropoutMask(seed, x.size), x.shape));
        });
    }
  }
}

/** Whether a weight is a conv bias just before instance norm: its true gradient is 0, and Adam would scale noise up. */
export function vanishingBias(model: tf.LayersModel, weight: tf.LayerVariable): boolean {
  if (!/bias/.test(weight.name)) return false;
  let layer = model.layers.find((l) => l.weights.includes(weight));
  // the ResNet's transposed convs reach their norm through a crop
  do layer = layer?.outboundNodes[0]?.outboundLayer;
  while (layer?.getClassName() === 'CropTopLeft');
  return layer?.getClassName() === 'InstanceNormalization';
}

/** The worst disagreement of two trainers after the same steps, and where. */
export interface Agreement {
  worst: number;
  where: string;
  /** Vanishing biases the compiled step left exactly as they were (compared by gradient: theirs is 0). */
  frozenBiases: number;
  /** Weight elements compared by gradient alone: their gradient is within the comparison's tolerance of 0. */
  noiseElements: number;
}

/**
 * Below this fraction of a variable's largest gradient an element's gradient is within the comparison's tolerance of
 * 0, so its sign is rounding noise, and Adam's first steps (about lr · sign(gradient)) may move it either way by lr:
 * such elements are compared by gradient (the Adam moments), not by value.
 */
const NOISE_FLOOR = 1e-4;

/**
 * Compares every weight (trainable and running statistics) and both optimizers' moments, as worstRelative does
 * (|a − b| / max(1, |b|)); a weight element whose gradient is below NOISE_FLOOR of its variable's largest is compared
 * by its moments alone. `before` holds the compiled trainer's weights before the steps, by name, to check that
 * vanishing biases stayed put; `skip` names weights to leave out (with the test saying why).
 */
export async function compareTrainers(compiled: Trainer, oracle: Trainer, before: Map<string, Float32Array>, skip: (name: string) => boolean = () => false): Promise<Agreement> {
  let worst = 0;
  let where = '';
  let frozenBiases = 0;
  let noiseElements = 0;
  const frozen = new Set<string>();
  // the oracle's first moments by variable name: (1 − β1)-scaled gradients after one step, their history after more
  const moments = new Map<string, Float32Array>();
  for (const group of ['G', 'D'] as const) {
    const state = await oracle.optimizers[group].getWeights();
    for (const w of state) if (w.name.endsWith('/m')) moments.set(w.name.slice(0, -2), Float32Array.from(await w.tensor.data()));
    tf.dispose(state.map((w) => w.tensor));
  }
  for (const [name, model] of Object.entries(compiled.models)) {
    const theirs = oracle.models[name].weights;
    for (const [i, w] of model.weights.entries()) {
      const key = `${name}/${w.name}`;
      if (skip(key)) continue;
      const mine = await w.read().data();
      if (vanishingBias(model, w as unknown as tf.LayerVariable)) {
        if (worstRelative(mine, before.get(key)!) !== 0) throw new Error(`${key}: a bias before instance norm moved in the compiled step`);
        frozen.add((w.read() as tf.Variable).name);
        frozenBiases++;
        continue;
      }
      const reference = await theirs[i].read().data();
      const m = moments.get((theirs[i].read() as tf.Variable).name);
      let e: number;
      if (!m) e = worstRelative(mine, reference);
      else {
        const floor = NOISE_FLOOR * m.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
        e = 0;
        for (let k = 0; k < m.length; k++) {
          if (Math.abs(m[k]) < floor) noiseElements++;
          else e = Math.max(e, Math.abs(mine[k] - reference[k]) / Math.max(1, Math.abs(reference[k])));
        }
        // a NaN among the elements compared by gradient alone still fails
        if (mine.some((v) => Number.isNaN(v))) e = NaN;
      }
      if (!(e <= worst)) [worst, where] = [e, key]; // NaN (a value read before it was written) counts as worst
    }
  }
  for (const group of ['G', 'D'] as const) {
    const mine = await compiled.optimizers[group].getWeights();
    const theirs = await oracle.optimizers[group].getWeights();
    for (const [k, w] of mine.entries()) {
      const variable = w.name.replace(/\/[mv]$/, '');
      if (k === 0) {
        if ((await w.tensor.data())[0] !== (await theirs[0].tensor.data())[0]) throw new Error(`optimizer ${group}: step counts differ`);
      } else if (!frozen.has(variable)) {
        const e = worstRelative(await w.tensor.data(), await theirs[k].tensor.data());
        if (!(e <= worst)) [worst, where] = [e, `Adam ${group} ${w.name}`];
      }
    }
    tf.dispose([...mine, ...theirs].map((w) => w.tensor));
  }
  return { worst, where, frozenBiases, noiseElements };
}

/** Every weight of a trainer by `model/weight` name, copied to the CPU. */
export async function weightsOf(t: Trainer): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, model] of Object.entries(t.models)) {
    for (const w of model.weights) out.set(`${name}/${w.name}`, Float32Array.from(await w.read().data()));
  }
  return out;
}
