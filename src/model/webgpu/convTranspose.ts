/**
 * The generators' transposed convolutions (stride 2, padding 1, output sides twice the input's), forward with a bias
 * and activation epilogue written into a channel slice of a wider buffer, and backward: input, filter, bias gradients.
 * Both kinds are one formula, out[o] += x[i] · W[k] where o = 2i + k − 1:
 * - k=4: the U-Net's ConvTranspose2d(4, 2, 1), TF.js conv2dTranspose 'same' (which pads 1 on each side);
 * - k=3: the ResNet's ConvTranspose2d(3, 2, 1, output_padding 1), TF.js 'valid' (2n+1 sides) then CropTopLeft(1).
 * Layout: NHWC activations, the filter as TF.js holds a conv2dTranspose kernel, [kh, kw, out, in]. The three big passes
 * are tiled implicit GEMMs (convGemm.ts), tuned per device like the convs'.
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { filterGemm, gatherGemm, parityGemm } from './convGemm';
import type { GemmConfig, Grid, Io } from './convGemm';
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel, Op } from './kernel';
import { tunable } from './tuning';
import { biasInit } from './conv2d';

/** One transposed conv layer of a generator, with everything its kernels bake in. */
export interface ConvTransposeSpec {
  batch: number;
  /** Input sides; the output's are twice these. */
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  /** 4: the U-Net's up conv; 3: the ResNet's upsampling conv (with its crop). */
  kernel: 3 | 4;
  /** Whether a bias [out] is added before the activation. */
  bias: boolean;
  /** Applied to the output forward; backward kernels take dy of the activation's output and fold f'(y) in. */
  activation: Activation;
  /** First channel of the output inside a wider NHWC buffer (e.g. the up half of a U-Net concat); default 0. */
  channelOffset?: number;
  /** Channels of that wider buffer; default outChannels. */
  totalChannels?: number;
}

const STRIDE = 2;
const PAD = 1;

/** The spec with defaults filled in, checked; throws a message naming the bad field. */
function resolve(s: ConvTransposeSpec) {
  const offset = s.channelOffset ?? 0;
  const total = s.totalChannels ?? s.outChannels;
  for (const [k, v] of Object.entries({ batch: s.batch, height: s.height, width: s.width, inChannels: s.inChannels, outChannels: s.outChannels }))
    if (!Number.isInteger(v) || v < 1) throw new Error(`convTranspose: ${k} must be a positive integer, got ${v}`);
  if (s.kernel !== 3 && s.kernel !== 4) throw new Error(`convTranspose: kernel must be 3 (ResNet) or 4 (U-Net), got ${s.kernel}`);
  if (!Number.isInteger(offset) || offset < 0 || offset + s.outChannels > total)
    throw new Error(`convTranspose: channels [${offset}, ${offset + s.outChannels}) do not fit in ${total} total channels`);
  return { ...s, offset, total, outH: s.height * STRIDE, outW: s.width * STRIDE };
}

type Resolved = ReturnType<typeof resolve>;

/** Cache key of a spec: every baked-in number. */
const keyOf = (r: Resolved) =>
  `${r.batch}x${r.height}x${r.width}x${r.inChannels}-${r.outChannels}-k${r.kernel}-b${r.bias ? 1 : 0}-${r.activation}-c${r.offset}of${r.total}`;

/** Size of the wider buffer the forward writes into (and backward reads dy and y from). */
export const convTransposeBufferSize = (s: ConvTransposeSpec): number => {
  const r = resolve(s);
  return r.batch * r.outH * r.outW * r.total;
};

/** WGSL constants of the geometry, shared by the four kernels. */
function constants(r: Resolved): string {
  return `const N: i32 = ${r.batch};
const IH: i32 = ${r.height};
const IW: i32 = ${r.width};
const IC: i32 = ${r.inChannels};
const OC: i32 = ${r.outChannels};
const OH: i32 = ${r.outH};
const OW: i32 = ${r.outW};
const K: i32 = ${r.kernel};
const S: i32 = ${STRIDE};
const P: i32 = ${PAD};
const TOTAL: i32 = ${r.total};
const OFF: i32 = ${r.offset};`;
}

/**
 * WGSL `fn grad(j: i32) -> f32`: the gradient at the pre-activation output, from dy (and y = f(z) when the activation
 * is not the identity) at index j of the wide buffer. Returns the bindings it reads, starting at `first`.
 */
function gradFn(act: Activation, first: number): { fn: string; bindings: Access[] } {
  const dy = `b${first}`;
  if (act === 'none') return { fn: `fn grad(j: i32) -> f32 { return ${dy}[j]; }`, bindings: ['read'] };
  const y = `b${first + 1}`;
  return { fn: `fn grad(j: i32) -> f32 { let y = ${y}[j]; return ${dy}[j] * ${slopeFromOutput(act, 'y')}; }`, bindings: ['read', 'read'] };
}

/** The grids the passes read and write: the input, and the output inside its wider buffer. */
function grids(r: Resolved): { input: Grid; output: Grid } {
  return {
    input: { h: r.height, w: r.width, c: r.inChannels, stride: r.inChannels, offset: 0 },
    output: { h: r.outH, w: r.outW, c: r.outChannels, stride: r.total, offset: r.offset },
  };
}

/** The geometry the GEMM families see: a stride-2, padding-1 convolution whose output is this layer's input. */
const geometry = (r: Resolved) => ({ batch: r.batch, kernel: r.kernel, stride: STRIDE as 2, pad: PAD, padMode: 'zero' as const });

/**
 * Forward: b0 x [n,h,w,in], b1 filter [k,k,out,in], (b2 bias [out]), then the output [n,2h,2w,total] at the offset. A
 * tiled GEMM of the parity family (each output parity class gathers from its own taps).
 */
export function convTransposeForward(spec: ConvTransposeSpec, config?: GemmConfig): Op {
  const r = resolve(spec);
  const { input, output } = grids(r);
  const io: Io = {
    inputs: r.bias ? 3 : 2,
    readers: 'fn readSrc(j: i32) -> f32 { return b0[j]; }\nfn readW(j: i32) -> f32 { return b1[j]; }',
    store: (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = ${activate(r.activation, 'v')}; }`,
    init: r.bias ? biasInit(r.outChannels) : undefined,
  };
  const k = `tconv-fwd-${keyOf(r)}`;
  const w = r.kernel * r.kernel * r.outChannels * r.inChannels;
  const sizes = [input.h * input.w * input.c * r.batch, w, ...(r.bias ? [r.outChannels] : []), convTransposeBufferSize(spec)];
  return tunable(k, 'parity', r.batch * r.outH * r.outW, r.outChannels, r.kernel * r.kernel * r.inChannels, sizes, config, (c) =>
    parityGemm(`convTranspose${r.kernel} forward`, k, geometry(r), input, output, r.outChannels * r.inChannels, r.inChannels, io, c),
  );
}

/**
 * Input gradient: b0 dy [n,2h,2w,total] (b1 y, unless the activation is none), then the filter, then dx [n,h,w,in]. A
 * tiled GEMM of the gather family: dx is the stride-2 convolution of dy with the same filter.
 */
export function convTransposeBackwardInput(spec: ConvTransposeSpec, config?: GemmConfig): Op {
  const r = resolve(spec);
  const { input, output } = grids(r);
  const g = gradFn(r.activation, 0);
  const io: Io = {
    inputs: g.bindings.length + 1,
    readers: `${g.fn.replace('fn grad(', 'fn readImg(')}\nfn readW(j: i32) -> f32 { return b${g.bindings.length}[j]; }`,
    store: (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = v; }`,
  };
  const k = `tconv-dx-${keyOf(r)}`;
  const wide = convTransposeBufferSize(spec);
  const sizes = [...g.bindings.map(() => wide), r.kernel * r.kernel * r.outChannels * r.inChannels, r.batch * r.height * r.width * r.inChannels];
  return tunable(k, 'gather', r.batch * r.height * r.width, r.inChannels, r.kernel * r.kernel * r.outChannels, sizes, config, (c) =>
    gatherGemm(`convTranspose${r.kernel} input gradient`, k, geometry(r), output, input, r.outChannels * r.inChannels, r.inChannels, io, c),
  );
}

/**
 * Filter gradient: b0 x [n,h,w,in], b1 dy [n,2h,2w,total] (b2 y, unless the activation is none), then dW [k,k,out,in].
 * A tiled GEMM of the filter family, dy in the gathered role and x in the reduced one.
 */
export function convTransposeBackwardFilter(spec: ConvTransposeSpec, config?: GemmConfig): Op {
  const r = resolve(spec);
  const { input, output } = grids(r);
  const g = gradFn(r.activation, 1);
  const io: Io = {
    inputs: g.bindings.length + 1,
    readers: `fn readG(j: i32) -> f32 { return b0[j]; }\n${g.fn.replace('fn grad(', 'fn readImg(')}`,
    store: (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = v; }`,
  };
  const k = `tconv-dw-${keyOf(r)}`;
  const wide = convTransposeBufferSize(spec);
  const sizes = [r.batch * r.height * r.width * r.inChannels, ...g.bindings.map(() => wide), r.kernel * r.kernel * r.outChannels * r.inChannels];
  return tunable(k, 'filter', r.kernel * r.kernel * r.outChannels, r.inChannels, r.batch * r.height * r.width, sizes, config, (c) =>
    filterGemm(`convTranspose${r.kernel} filter gradient`, k, geometry(r), output, input, io, c),
  );
}

/** Bias gradient: b0 dy [n,2h,2w,total] (b1 y, unless the activation is none), then dBias [out]. */
export function convTransposeBackwardBias(spec: ConvTransposeSpec): Kernel {
  const r = resolve(spec);
  const g = gradFn(r.activation, 0);
  const db = `b${g.bindings.length}`;
  const bindings: Access[] = [...g.bindings, 'write'];
  return {
    name: `convTranspose${r.kernel} bias gradient`,
    key: `tconv-db-${keyOf(r)}`,
    bindings,
    workgroups: groupsFor(r.outChannels),
    source: `${declareBindings(bindings)}
${constants(r)}
${g.fn}
${MAIN_1D}
  if (i >= ${r.outChannels}u) { return; }
  let co = i32(i);
  var acc = 0.0;
  for (var p = 0; p < N * OH * OW; p++) { acc += grad(p * TOTAL + OFF + co); }
  ${db}[i] = acc;
}`,
  };
}
