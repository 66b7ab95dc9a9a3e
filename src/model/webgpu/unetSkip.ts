/**
 * The U-Net skip connection's kernels, which the norm kernels (compact NHWC in and out) lack: a norm's apply written
 * into a channel slice of a concatenation, a slice copied out to a compact buffer, and the gradient of a down value
 * that feeds two consumers (ReLU into its level's concat, LeakyReLU into the next level's down conv), summed.
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';
import { normedElement, shapeKey } from './norm';
import type { NormKind, NormShape } from './norm';

/** A channel slice of a wider NHWC buffer: `channels` of the shape at `offset` of `total`. */
export interface Slice {
  total: number;
  offset: number;
}

/** Throws, naming the kernel, when the slice does not fit. */
function checkSlice(name: string, s: NormShape, slice: Slice): void {
  if (!Number.isInteger(slice.offset) || slice.offset < 0 || slice.offset + s.c > slice.total)
    throw new Error(`${name} ${shapeKey(s)}: channels ${slice.offset}..${slice.offset + s.c} do not fit a buffer of ${slice.total}`);
}

/** One output of applyToSlices: an activation, and the slice it is written into. */
export interface SliceOutput {
  act: Activation;
  slice: Slice;
}

/**
 * y_k[slice_k] = f_k(z) for each output k, z = x (none), x̂ (instance) or γ·x̂ + β (batch), x̂ = (x − mean)·rstd with
 * norm.ts's statistics: b0 x [n,h,w,c] compact, then b1 stats (norms), b2 gamma and b3 beta (batch), then one
 * buffer [n,h,w,total_k] per output. Two outputs serve a down value's two uses in one pass over it.
 */
export function applyToSlices(kind: NormKind | 'none', s: NormShape, outputs: SliceOutput[]): Kernel {
  if (outputs.length === 0) throw new Error('applyToSlices: no outputs');
  for (const o of outputs) checkSlice('applyToSlices', s, o.slice);
  const count = s.n * s.h * s.w * s.c;
  const inputs: Access[] = kind === 'none' ? ['read'] : kind === 'instance' ? ['read', 'read'] : ['read', 'read', 'read', 'read'];
  const bindings: Access[] = [...inputs, ...outputs.map((): Access => 'write')];
  const writes = outputs
    .map((o, k) => `  b${inputs.length + k}[p * ${o.slice.total}u + ${o.slice.offset}u + c] = ${activate(o.act, 'z')};`)
    .join('\n');
  const outKey = outputs.map((o) => `${o.act}-o${o.slice.total}@${o.slice.offset}`).join('-');
  return {
    name: `${kind} norm apply into ${outputs.map((o) => o.act).join(' and ')} slices`,
    key: `slice-apply-${kind}-${shapeKey(s)}-${outKey}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
${kind === 'none' ? `  let c = i % ${s.c}u;
  let z = b0[i];` : normedElement(kind, s)}
  let p = i / ${s.c}u;
${writes}
}`,
  };
}

/**
 * The slice of a wider buffer as a compact one, optionally times f'(y) read off the slice's own output y (an
 * activation's gradient folded in): b0 x [n,h,w,total], (b1 y [n,h,w,total],) then z [n,h,w,c].
 */
export function copyFromSlice(s: NormShape, slice: Slice, act: Activation = 'none'): Kernel {
  checkSlice('copyFromSlice', s, slice);
  const count = s.n * s.h * s.w * s.c;
  const bindings: Access[] = act === 'none' ? ['read', 'write'] : ['read', 'read', 'write'];
  const out = `b${bindings.length - 1}`;
  const slope = act === 'none' ? '' : ` * ${slopeFromOutput(act, 'b1[j]')}`;
  return {
    name: `copy out of a slice${act === 'none' ? '' : `, ${act} gradient folded in`}`,
    key: `slice-copy-${act}-${shapeKey(s)}-o${slice.total}@${slice.offset}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let j = (i / ${s.c}u) * ${slice.total}u + ${slice.offset}u + i % ${s.c}u;
  ${out}[i] = b0[j]${slope};
}`,
  };
}

/**
 * Gradient of a down value d that the U-Net uses twice: ReLU(d) as channels [0, c) of its level's concat, and
 * LeakyReLU(d) as the next level's input. dd = dConcat[slice]·relu'(d) + dLeaky·leaky'(d), both slopes read off the
 * kept a = LeakyReLU(d) (same sign as d). b0 a [n,h,w,c], b1 dConcat [n,h,w,total] (channels from 0), b2 dLeaky
 * [n,h,w,c], b3 dd [n,h,w,c].
 */
export function downGradient(s: NormShape, total: number): Kernel {
  checkSlice('downGradient', s, { total, offset: 0 });
  const count = s.n * s.h * s.w * s.c;
  const bindings: Access[] = ['read', 'read', 'read', 'write'];
  return {
    name: 'U-Net down value gradient',
    key: `unet-down-grad-${shapeKey(s)}-o${total}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let a = b0[i];
  let fromConcat = b1[(i / ${s.c}u) * ${total}u + i % ${s.c}u] * ${slopeFromOutput('relu', 'a')};
  b3[i] = fromConcat + b2[i] * ${slopeFromOutput('leaky_relu', 'a')};
}`,
  };
}
