/**
 * Our networks' weights as the reference's state dicts, and back: the same modules in the same order (our builders
 * create layers in the reference's module order), with PyTorch's layouts (conv OIHW, transposed conv IOHW).
 */
import * as tf from '@tensorflow/tfjs';
import { float32Of, float32Tensor, int64Scalar } from './stateDict';
import type { StateDict, TorchTensor } from './stateDict';
import { referenceKeys } from './referenceNets';
import type { RefModule } from './referenceNets';

/** Our layer classes that hold what a reference module holds, by module kind. */
const LAYER_CLASS: Record<RefModule['kind'], string> = {
  conv: 'Conv2D',
  convT: 'Conv2DTranspose',
  batch: 'BatchNormalization',
  instance: 'InstanceNormalization',
};

/** Our model's layers that pair with the reference's modules, in creation order (= the reference's module order). */
export function pairLayers(model: tf.LayersModel, modules: readonly RefModule[]): tf.layers.Layer[] {
  const classes = new Set(Object.values(LAYER_CLASS));
  const layers = model.layers.filter((l) => classes.has(l.getClassName())).sort((a, b) => a.id - b.id);
  const fits = layers.length === modules.length && modules.every((m, i) => layers[i].getClassName() === LAYER_CLASS[m.kind]);
  // a mismatch is our bug (the layout and the builders disagree), not the user's file
  if (!fits) throw new Error(`internal: ${model.name} has ${layers.length} weight layers where the reference layout has ${modules.length}`);
  return layers;
}

/** Reorders a row-major array of `shape` by `perm` (out axis i = in axis perm[i]). */
export function permute(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const outShape = perm.map((p) => shape[p]);
  const inStrides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const strides = perm.map((p) => inStrides[p]);
  const out = new Float32Array(data.length);
  const idx = new Array(outShape.length).fill(0);
  for (let o = 0; o < out.length; o++) {
    let src = 0;
    for (let d = 0; d < idx.length; d++) src += idx[d] * strides[d];
    out[o] = data[src];
    for (let d = idx.length - 1; d >= 0; d--) {
      if (++idx[d] < outShape[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

// TF conv kernel [kh, kw, in, out] ↔ torch [out, in, kh, kw]; TF transposed [kh, kw, out, in] ↔ torch [in, out, kh, kw]
const TO_TORCH = [3, 2, 0, 1];
const FROM_TORCH = [2, 3, 1, 0];

/** The model's weights as the reference's state dict (BatchNorm's `num_batches_tracked` is 0: unused at momentum 0.1). */
export async function stateDictOf(model: tf.LayersModel, modules: readonly RefModule[]): Promise<StateDict> {
  const layers = pairLayers(model, modules);
  const keys = referenceKeys(modules);
  const sd: StateDict = new Map();
  let k = 0;
  const put = (t: TorchTensor) => sd.set(keys[k++].key, t);
  for (const [i, mod] of modules.entries()) {
    const weights = await Promise.all(layers[i].weights.map(async (w) => ({ shape: w.shape as number[], data: (await w.read().data()) as Float32Array })));
    if (mod.kind === 'conv' || mod.kind === 'convT') {
      const [kernel, bias] = weights;
      put(float32Tensor(TO_TORCH.map((p) => kernel.shape[p]), permute(kernel.data, kernel.shape, TO_TORCH)));
      if (bias) put(float32Tensor(bias.shape, bias.data));
    } else if (mod.kind === 'batch') {
      for (const w of weights) put(float32Tensor(w.shape, w.data)); // gamma, beta, moving mean, moving variance
      put(int64Scalar(0));
    }
  }
  return sd;
}

/**
 * Sets the model's weights from a state dict whose keys are exactly the modules' keys (as `checkStateDict` leaves
 * it). Values are copied as float32, so a float32 file comes back bit for bit.
 */
export function loadStateDict(model: tf.LayersModel, modules: readonly RefModule[], sd: StateDict): void {
  const layers = pairLayers(model, modules);
  for (const [i, mod] of modules.entries()) {
    const at = (name: string) => sd.get(`${mod.prefix}.${name}`)!;
    const values: tf.Tensor[] = [];
    try {
      if (mod.kind === 'conv' || mod.kind === 'convT') {
        const w = at('weight');
        values.push(tf.tensor(permute(float32Of(w), w.shape, FROM_TORCH), FROM_TORCH.map((p) => w.shape[p])));
        if (mod.bias) values.push(tf.tensor(float32Of(at('bias'))));
      } else if (mod.kind === 'batch') {
        for (const name of ['weight', 'bias', 'running_mean', 'running_var']) values.push(tf.tensor(float32Of(at(name))));
      }
      if (values.length) layers[i].setWeights(values);
    } finally {
      tf.dispose(values);
    }
  }
}

/** A key without DataParallel's `module.` prefix. */
export const withoutModulePrefix = (key: string): string => (key.startsWith('module.') ? key.slice('module.'.length) : key);

/** What a state dict holds against what the reference's modules need: every problem named. */
export interface StateDictCheck {
  /** The state dict with only the modules' keys (`module.` prefixes and ignorable buffers dropped). */
  clean: StateDict;
  missing: string[];
  unexpected: string[];
  misshaped: { key: string; found: number[]; expected: number[] }[];
  /** What was dropped as the reference drops it (said to the user). */
  dropped: string[];
}

/** Compares a state dict with the modules' keys, as the reference's `load_networks` + `load_state_dict(strict)` would. */
export function checkStateDict(sd: StateDict, modules: readonly RefModule[]): StateDictCheck {
  const expected = new Map(referenceKeys(modules).map((k) => [k.key, k.shape]));
  const instance = new Set(modules.filter((m) => m.kind === 'instance').map((m) => m.prefix));
  const clean: StateDict = new Map();
  const unexpected: string[] = [];
  const misshaped: StateDictCheck['misshaped'] = [];
  let droppedStats = 0;
  let prefixed = 0;
  for (const [raw, t] of sd) {
    const key = withoutModulePrefix(raw);
    if (key !== raw) prefixed++;
    const [, owner, buffer] = /^(.*)\.(running_mean|running_var|num_batches_tracked)$/.exec(key) ?? [];
    if (owner !== undefined && instance.has(owner)) {
      // old InstanceNorm checkpoints (PyTorch < 0.4) carry running statistics; the reference deletes them on load
      droppedStats += buffer === 'num_batches_tracked' ? 0 : 1;
      continue;
    }
    const shape = expected.get(key);
    if (!shape) unexpected.push(raw);
    else if (shape.length !== t.shape.length || shape.some((s, i) => s !== t.shape[i])) misshaped.push({ key, found: t.shape, expected: shape });
    else clean.set(key, t);
  }
  // PyTorch < 0.4.1 wrote no num_batches_tracked; load_state_dict fills it in
  const missing = [...expected.keys()].filter((k) => !clean.has(k) && !misshaped.some((m) => m.key === k) && !k.endsWith('num_batches_tracked'));
  const dropped: string[] = [];
  if (prefixed) dropped.push(`the \`module.\` prefix of ${prefixed} keys (a DataParallel checkpoint)`);
  if (droppedStats) dropped.push(`${droppedStats} running statistics of InstanceNorm layers (an old checkpoint; the reference deletes them too)`);
  return { clean, missing, unexpected, misshaped, dropped };
}
