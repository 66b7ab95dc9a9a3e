/** Turns a trainer's state into plain bytes for a checkpoint, and back. */
import * as tf from '@tensorflow/tfjs';
import type { CycleGanTrainer, Trainer } from '../model';
import type { SavedTensor } from './checkpointStore';

const bytes = async (t: tf.Tensor): Promise<ArrayBuffer> => {
  const data = await t.data();
  return (data as Float32Array | Int32Array).slice().buffer as ArrayBuffer;
};

/** A saved tensor back as a tensor of its own dtype. */
const tensorOf = (s: SavedTensor): tf.Tensor =>
  s.dtype === 'int32' ? tf.tensor(new Int32Array(s.data), s.shape, 'int32') : tf.tensor(new Float32Array(s.data), s.shape);

/** Weights of every network, in `model.weights` order. */
export async function saveWeights(trainer: Trainer): Promise<Record<string, SavedTensor[]>> {
  const out: Record<string, SavedTensor[]> = {};
  for (const [name, model] of Object.entries(trainer.models)) {
    out[name] = await Promise.all(model.weights.map(async (w) => ({ name: w.name, shape: w.shape as number[], data: await bytes(w.read()) })));
  }
  return out;
}

export function restoreWeights(trainer: Trainer, saved: Record<string, SavedTensor[]>): void {
  for (const [name, model] of Object.entries(trainer.models)) {
    const list = saved[name];
    if (!list || list.length !== model.weights.length) throw new Error(`the checkpoint does not fit ${name}: the options changed?`);
    const tensors = list.map((s) => tf.tensor(new Float32Array(s.data), s.shape));
    model.setWeights(tensors);
    tf.dispose(tensors);
  }
}

/** Adam's state with variables named by their position (`#12/m`), since variable names differ between sessions. */
export async function saveOptimizers(trainer: Trainer): Promise<Record<string, SavedTensor[]>> {
  const out: Record<string, SavedTensor[]> = {};
  for (const key of ['G', 'D'] as const) {
    const position = new Map(trainer.variables[key].map((v, i) => [v.name, i]));
    const weights = await trainer.optimizers[key].getWeights();
    out[key] = await Promise.all(
      weights.map(async ({ name, tensor }) => {
        const [variable, ...rest] = name.split('/');
        const full = rest.length ? name.slice(0, name.lastIndexOf('/')) : name;
        const suffix = rest.length ? name.slice(name.lastIndexOf('/')) : '';
        const i = position.get(full) ?? position.get(variable);
        const dtype = tensor.dtype === 'int32' ? ('int32' as const) : ('float32' as const);
        return { name: i === undefined ? name : `#${i}${suffix}`, shape: tensor.shape, dtype, data: await bytes(tensor) };
      }),
    );
  }
  return out;
}

export async function restoreOptimizers(trainer: Trainer, saved: Record<string, SavedTensor[]>): Promise<void> {
  for (const key of ['G', 'D'] as const) {
    const vars = trainer.variables[key];
    const list = (saved[key] ?? []).map((s) => {
      const m = /^#(\d+)(\/.*)?$/.exec(s.name);
      const name = m ? `${vars[Number(m[1])].name}${m[2] ?? ''}` : s.name;
      return { name, tensor: tensorOf(s) };
    });
    if (list.length) await trainer.optimizers[key].setWeights(list);
    tf.dispose(list.map((l) => l.tensor));
  }
}

/** The CycleGAN image pools. */
export async function savePools(trainer: Trainer): Promise<Record<string, SavedTensor[]>> {
  if (trainer.config.model !== 'cycle_gan') return {};
  const t = trainer as CycleGanTrainer;
  const save = (images: readonly tf.Tensor4D[]) => Promise.all(images.map(async (im, i) => ({ name: String(i), shape: im.shape, data: await bytes(im) })));
  return { fake_A_pool: await save(t.fake_A_pool.snapshot()), fake_B_pool: await save(t.fake_B_pool.snapshot()) };
}

export function restorePools(trainer: Trainer, saved: Record<string, SavedTensor[]>): void {
  if (trainer.config.model !== 'cycle_gan') return;
  const t = trainer as CycleGanTrainer;
  const load = (list: SavedTensor[] = []) => list.map((s) => tf.tensor4d(new Float32Array(s.data), s.shape as [number, number, number, number]));
  t.fake_A_pool.restore(load(saved.fake_A_pool));
  t.fake_B_pool.restore(load(saved.fake_B_pool));
}
