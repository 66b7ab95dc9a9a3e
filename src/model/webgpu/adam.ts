/**
 * Adam over a whole network group's variables in a few dispatches, with ../adam.ts's (PyTorch's) update:
 * m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², w −= m / (√v + ε·√bc2) · lr·√bc2/bc1.
 * The group's gradients sit in one flat buffer and its moments in another (m, then v), each variable's slice at a
 * baked offset; the variables themselves are bound one by one, since the plan updates the TF.js variables' own buffers.
 */
import { f32Literal, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** Floats per slice alignment: 256 bytes, WebGPU's minStorageBufferOffsetAlignment, so a slice can be bound alone. */
const ALIGN = 64;

/** Bindings of every Adam dispatch before its variables: the step's scalars, the flat gradients, the flat moments. */
const FIXED = 3;

/** WebGPU's default storage buffers per shader stage (TF.js's device asks for no more). */
export const DEFAULT_STORAGE_BUFFERS = 8;

/** One dispatch of a group's update and the variables (indices into the group) it binds after the fixed three. */
export interface AdamDispatch {
  kernel: Kernel;
  variables: number[];
}

/** A group's Adam: where each variable's gradient and moments sit, and the dispatches that update them all. */
export interface AdamGroup {
  /** Start of each variable's slice in the flat gradient buffer and in m (its v starts `size` later). */
  offsets: number[];
  /** Floats of the flat gradient buffer; the moments buffer holds twice as many (m, then v). */
  size: number;
  /** Bind each as [params, gradients, moments, ...its variables' buffers]. */
  dispatches: AdamDispatch[];
}

/**
 * The two scalars of step `t` (1-based) at learning rate `lr`, for the params buffer that the step writes once:
 * [lr·√bc2/bc1, ε·√bc2], computed in float64 as FlatAdam does, so both engines step by the same float32 numbers.
 */
export function adamParams(lr: number, t: number, beta1: number, beta2: number, epsilon: number): Float32Array {
  const bc1 = 1 - beta1 ** t;
  const bc2 = 1 - beta2 ** t;
  return new Float32Array([(lr * Math.sqrt(bc2)) / bc1, epsilon * Math.sqrt(bc2)]);
}

/**
 * Adam for variables of these sizes (in the order their gradients and moments are laid out). WGSL cannot index an
 * array of buffers, so each dispatch binds as many variables as the storage-buffer limit leaves after the fixed three
 * (5 under WebGPU's default 8): a group of n variables takes ⌈n / 5⌉ dispatches.
 */
export function adamGroup(sizes: number[], beta1: number, beta2: number, maxStorageBuffers = DEFAULT_STORAGE_BUFFERS): AdamGroup {
  const perDispatch = maxStorageBuffers - FIXED;
  if (perDispatch < 1) throw new Error(`Adam needs at least ${FIXED + 1} storage buffers per shader stage; the device allows ${maxStorageBuffers}`);
  const offsets: number[] = [];
  let size = 0;
  for (const n of sizes) {
    offsets.push(size);
    size += Math.ceil(n / ALIGN) * ALIGN;
  }
  size = Math.max(size, ALIGN);
  const dispatches: AdamDispatch[] = [];
  for (let first = 0; first < sizes.length; first += perDispatch) {
    const variables = sizes.slice(first, first + perDispatch).map((_, j) => first + j);
    dispatches.push({ variables, kernel: updateKernel(variables.map((v) => ({ n: sizes[v], offset: offsets[v] })), size, beta1, beta2) });
  }
  return { offsets, size, dispatches };
}

/** One dispatch: a thread per element of its variables (laid end to end), each finding its variable by range. */
function updateKernel(vars: { n: number; offset: number }[], size: number, beta1: number, beta2: number): Kernel {
  const bindings: Access[] = ['read', 'read', 'read_write', ...vars.map(() => 'read_write' as const)];
  let end = 0;
  const branches = vars.map(({ n, offset }, j) => {
    const start = end;
    end += n;
    const local = start === 0 ? 'i' : `i - ${start}u`;
    return `  if (i < ${end}u) {
    let l = ${local};
    b${FIXED + j}[l] = b${FIXED + j}[l] - step(${offset}u + l);
    return;
  }`;
  });
  return {
    name: `Adam over ${vars.length} variables`,
    key: `adam-${vars.map((v) => `${v.n}@${v.offset}`).join(',')}-${size}-${beta1}-${beta2}`,
    bindings,
    workgroups: groupsFor(end),
    source: `@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> moments: array<f32>;
${vars.map((_, j) => `@group(0) @binding(${FIXED + j}) var<storage, read_write> b${FIXED + j}: array<f32>;`).join('\n')}

// updates m and v at flat index k and returns the weight's decrement, in FlatAdam's order of operations
fn step(k: u32) -> f32 {
  let g = grads[k];
  let m = moments[k] * ${f32Literal(beta1)} + g * ${f32Literal(1 - beta1)};
  let v = moments[k + ${size}u] * ${f32Literal(beta2)} + g * g * ${f32Literal(1 - beta2)};
  moments[k] = m;
  moments[k + ${size}u] = v;
  return m / (sqrt(v) + params[1]) * params[0];
}

${MAIN_1D}
${branches.join('\n')}
}`,
  };
}
