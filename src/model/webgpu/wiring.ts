/**
 * The kernels that wire networks into a training step: a batch range copied (or summed) from one buffer into another
 * (a pass's output feeding the next pass, gradients from two consumers summed), channels concatenated and sliced
 * (pix2pix's D judges concat(A, B) pairs), and per-weight gradients of one or more passes summed into an optimizer's
 * flat gradient buffer. Every offset and count is baked into the source, as in every plan kernel.
 */
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** Where a range goes: offsets in floats, and whether it adds to the destination or replaces it. */
export interface RangeCopy {
  count: number;
  /** One offset per source buffer (one or two sources). */
  from: number[];
  to: number;
  accumulate: boolean;
}

/** dst[to + i] = (dst[to + i] if accumulating) + Σ src_k[from_k + i]: b0 (and b1) the sources, the last binding dst. */
export function copyRange(r: RangeCopy): Kernel {
  const k = r.from.length;
  if (k < 1 || k > 2) throw new Error(`copyRange sums one or two sources, not ${k}`);
  const bindings: Access[] = [...Array<Access>(k).fill('read'), r.accumulate ? 'read_write' : 'write'];
  const dst = `b${k}`;
  const terms = r.from.map((o, j) => `b${j}[${o}u + i]`).join(' + ');
  return {
    name: `${k === 1 ? 'copy' : 'sum'} of ${r.count} values${r.accumulate ? ', added' : ''}`,
    key: `range-${r.count}-${r.from.join(',')}-${r.to}-${r.accumulate ? 'add' : 'set'}`,
    bindings,
    workgroups: groupsFor(r.count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${r.count}u) { return; }
  ${dst}[${r.to}u + i] = ${r.accumulate ? `${dst}[${r.to}u + i] + ` : ''}${terms};
}`,
  };
}

/** NHWC concat along channels of two tensors of `pixels` pixels: b0 a (ca channels), b1 b (cb), b2 out (ca + cb). */
export function concatChannels(pixels: number, ca: number, cb: number): Kernel {
  const c = ca + cb;
  const bindings: Access[] = ['read', 'read', 'write'];
  return {
    name: `concat ${ca} + ${cb} channels`,
    key: `concat-channels-${pixels}-${ca}-${cb}`,
    bindings,
    workgroups: groupsFor(pixels * c),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${pixels * c}u) { return; }
  let p = i / ${c}u;
  let ch = i % ${c}u;
  if (ch < ${ca}u) { b2[i] = b0[p * ${ca}u + ch]; } else { b2[i] = b1[p * ${cb}u + ch - ${ca}u]; }
}`,
  };
}

/**
 * Channels [first, first + count) of an NHWC tensor with c channels, written or added into a tensor of `count`
 * channels: b0 source, b1 destination (G's share of the gradient of D's concat(A, G(A)) input).
 */
export function sliceChannels(pixels: number, c: number, first: number, count: number, accumulate: boolean): Kernel {
  const bindings: Access[] = ['read', accumulate ? 'read_write' : 'write'];
  return {
    name: `channels ${first}..${first + count - 1} of ${c}${accumulate ? ', added' : ''}`,
    key: `slice-channels-${pixels}-${c}-${first}-${count}-${accumulate ? 'add' : 'set'}`,
    bindings,
    workgroups: groupsFor(pixels * count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${pixels * count}u) { return; }
  let v = b0[(i / ${count}u) * ${c}u + ${first}u + i % ${count}u];
  b1[i] = ${accumulate ? 'b1[i] + ' : ''}v;
}`,
  };
}

/** One dispatch of gatherGradients: the variables (indices) whose per-pass gradient buffers it binds, source-major. */
export interface GatherDispatch {
  kernel: Kernel;
  variables: number[];
}

/**
 * Sums each variable's gradient over `sources` passes into a flat buffer at the variable's offset. Bind each dispatch
 * as [for each of its variables, its `sources` gradient buffers in pass order..., the flat buffer]; a dispatch takes
 * as many variables as the storage-buffer limit allows, so a network group costs ⌈n / ⌊(limit − 1) / sources⌋⌉.
 */
export function gatherGradients(sizes: number[], offsets: number[], sources: number, maxStorageBuffers: number): GatherDispatch[] {
  const perDispatch = Math.floor((maxStorageBuffers - 1) / sources);
  if (perDispatch < 1) throw new Error(`summing ${sources} passes' gradients needs ${sources + 1} storage buffers per shader stage; the device allows ${maxStorageBuffers}`);
  const out: GatherDispatch[] = [];
  for (let first = 0; first < sizes.length; first += perDispatch) {
    const variables = sizes.slice(first, first + perDispatch).map((_, j) => first + j);
    const bindings: Access[] = [...Array<Access>(variables.length * sources).fill('read'), 'write'];
    const flat = `b${variables.length * sources}`;
    let end = 0;
    const branches = variables.map((v, j) => {
      const start = end;
      end += sizes[v];
      const l = start === 0 ? 'i' : `i - ${start}u`;
      const sum = Array.from({ length: sources }, (_, s) => `b${j * sources + s}[l]`).join(' + ');
      return `  if (i < ${end}u) {
    let l = ${l};
    ${flat}[${offsets[v]}u + l] = ${sum};
    return;
  }`;
    });
    out.push({
      variables,
      kernel: {
        name: `gradients of ${variables.length} variables over ${sources} pass${sources > 1 ? 'es' : ''}`,
        key: `gather-${sources}-${variables.map((v) => `${sizes[v]}@${offsets[v]}`).join(',')}`,
        bindings,
        workgroups: groupsFor(end),
        source: `${declareBindings(bindings)}
${MAIN_1D}
${branches.join('\n')}
}`,
      },
    });
  }
  return out;
}
