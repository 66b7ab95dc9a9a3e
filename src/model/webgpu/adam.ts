/**
 * ../adam.ts's FlatAdam as kernels, on FlatAdam's own state: its chunks' flat moments and the variables themselves are
 * bound and updated in place, so checkpoints, resume and the TF.js step see one optimizer whichever engine stepped.
 * Update (PyTorch's): m = β1·m + (1−β1)·g, v = β2·v + (1−β2)·g², w −= m / (√v + ε·√bc2) · lr·√bc2/bc1.
 * The gradients sit in one flat buffer, variable after variable in the optimizer's order.
 */
import type { FlatAdam } from '../adam';
import { f32Literal, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** Bindings of every Adam dispatch before its variables: the step's scalars, the flat gradients, the chunk's m and v. */
const FIXED = 4;

/** One dispatch: a chunk of the optimizer and the variables (indices into `optimizer.variables`) it binds after the fixed four. */
export interface AdamDispatch {
  kernel: Kernel;
  chunk: number;
  variables: number[];
}

/** Where each variable's gradient goes, and the dispatches that update them all. */
export interface AdamLayout {
  /** Start of each variable's gradient in the flat gradient buffer, in `optimizer.variables` order. */
  offsets: number[];
  /** Floats of the flat gradient buffer. */
  size: number;
  /** Bind each as [params, gradients, its chunk's m, its chunk's v, ...its variables' buffers]. */
  dispatches: AdamDispatch[];
}

/**
 * The dispatches of one FlatAdam step. WGSL cannot index an array of buffers, so a dispatch binds as many of a chunk's
 * variables as the storage-buffer limit leaves after the fixed four (4 under WebGPU's default 8).
 */
export function adamLayout(optimizer: FlatAdam, maxStorageBuffers: number): AdamLayout {
  const perDispatch = maxStorageBuffers - FIXED;
  if (perDispatch < 1) throw new Error(`Adam needs at least ${FIXED + 1} storage buffers per shader stage; the device allows ${maxStorageBuffers}`);
  const index = new Map(optimizer.variables.map((v, i) => [v, i]));
  const offsets: number[] = [];
  let size = 0;
  for (const v of optimizer.variables) {
    offsets.push(size);
    size += v.size;
  }
  const dispatches: AdamDispatch[] = [];
  optimizer.state.forEach((c, chunk) => {
    let local = 0;
    const at = c.variables.map((v) => {
      const here = { i: index.get(v)!, n: v.size, local };
      local += v.size;
      return here;
    });
    for (let first = 0; first < at.length; first += perDispatch) {
      const part = at.slice(first, first + perDispatch);
      dispatches.push({
        chunk,
        variables: part.map((p) => p.i),
        kernel: updateKernel(part.map((p) => ({ n: p.n, grad: offsets[p.i], moment: p.local })), optimizer.beta1, optimizer.beta2),
      });
    }
  });
  return { offsets, size: Math.max(size, 1), dispatches };
}

/** One dispatch: a thread per element of its variables (laid end to end), each finding its variable by range. */
function updateKernel(vars: { n: number; grad: number; moment: number }[], beta1: number, beta2: number): Kernel {
  const bindings: Access[] = ['read', 'read', 'read_write', 'read_write', ...vars.map(() => 'read_write' as const)];
  let end = 0;
  const branches = vars.map(({ n, grad, moment }, j) => {
    const start = end;
    end += n;
    const local = start === 0 ? 'i' : `i - ${start}u`;
    return `  if (i < ${end}u) {
    let l = ${local};
    b${FIXED + j}[l] = b${FIXED + j}[l] - step(${grad}u + l, ${moment}u + l);
    return;
  }`;
  });
  return {
    name: `Adam over ${vars.length} variables`,
    key: `adam-${vars.map((v) => `${v.n}@${v.grad}/${v.moment}`).join(',')}-${beta1}-${beta2}`,
    bindings,
    workgroups: groupsFor(end),
    source: `@group(0) @binding(0) var<storage, read> params: array<f32>;
@group(0) @binding(1) var<storage, read> grads: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
${vars.map((_, j) => `@group(0) @binding(${FIXED + j}) var<storage, read_write> b${FIXED + j}: array<f32>;`).join('\n')}

// updates m and v at k and returns the weight's decrement, in FlatAdam's order of operations
fn step(g_at: u32, k: u32) -> f32 {
  let g = grads[g_at];
  let mk = m[k] * ${f32Literal(beta1)} + g * ${f32Literal(1 - beta1)};
  let vk = v[k] * ${f32Literal(beta2)} + g * g * ${f32Literal(1 - beta2)};
  m[k] = mk;
  v[k] = vk;
  return mk / (sqrt(vk) + params[1]) * params[0];
}

${MAIN_1D}
${branches.join('\n')}
}`,
  };
}
