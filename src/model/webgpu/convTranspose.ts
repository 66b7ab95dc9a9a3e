/**
 * The generators' transposed convolutions (stride 2, padding 1, output sides twice the input's), forward with a bias
 * and activation epilogue written into a channel slice of a wider buffer, and backward: input, filter, bias gradients.
 * Both kinds are one formula, out[o] += x[i] · W[k] where o = 2i + k − 1:
 * - k=4: the U-Net's ConvTranspose2d(4, 2, 1), TF.js conv2dTranspose 'same' (which pads 1 on each side);
 * - k=3: the ResNet's ConvTranspose2d(3, 2, 1, output_padding 1), TF.js 'valid' (2n+1 sides) then CropTopLeft(1).
 * Layout: NHWC activations, the filter as TF.js holds a conv2dTranspose kernel, [kh, kw, out, in].
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

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

/** Forward: b0 x [n,h,w,in], b1 filter [k,k,out,in], (b2 bias [out]), then the output [n,2h,2w,total] at the offset. */
export function convTransposeForward(spec: ConvTransposeSpec): Kernel {
  const r = resolve(spec);
  const bindings: Access[] = r.bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'];
  const out = `b${bindings.length - 1}`;
  const count = r.batch * r.outH * r.outW * r.outChannels;
  return {
    name: `convTranspose${r.kernel} forward`,
    key: `tconv-fwd-${keyOf(r)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${constants(r)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let co = t % OC;
  let ox = (t / OC) % OW;
  let oy = (t / (OC * OW)) % OH;
  let n = t / (OC * OW * OH);
  var acc = ${r.bias ? 'b2[co]' : '0.0'};
  for (var ky = 0; ky < K; ky++) {
    // Input rows that reach output row oy: oy = iy * S + ky - P.
    let ty = oy + P - ky;
    if (ty < 0 || ty % S != 0 || ty / S >= IH) { continue; }
    let iy = ty / S;
    for (var kx = 0; kx < K; kx++) {
      let tx = ox + P - kx;
      if (tx < 0 || tx % S != 0 || tx / S >= IW) { continue; }
      let ix = tx / S;
      let xBase = ((n * IH + iy) * IW + ix) * IC;
      let wBase = ((ky * K + kx) * OC + co) * IC;
      for (var ci = 0; ci < IC; ci++) { acc += b0[xBase + ci] * b1[wBase + ci]; }
    }
  }
  ${out}[((n * OH + oy) * OW + ox) * TOTAL + OFF + co] = ${activate(r.activation, 'acc')};
}`,
  };
}

/** Input gradient: b0 dy [n,2h,2w,total] (b1 y, unless the activation is none), then the filter, then dx [n,h,w,in]. */
export function convTransposeBackwardInput(spec: ConvTransposeSpec): Kernel {
  const r = resolve(spec);
  const g = gradFn(r.activation, 0);
  const w = `b${g.bindings.length}`;
  const dx = `b${g.bindings.length + 1}`;
  const bindings: Access[] = [...g.bindings, 'read', 'read_write'];
  const count = r.batch * r.height * r.width * r.inChannels;
  return {
    name: `convTranspose${r.kernel} input gradient`,
    key: `tconv-dx-${keyOf(r)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${constants(r)}
${g.fn}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let ci = t % IC;
  let ix = (t / IC) % IW;
  let iy = (t / (IC * IW)) % IH;
  let n = t / (IC * IW * IH);
  var acc = 0.0;
  for (var ky = 0; ky < K; ky++) {
    let oy = iy * S + ky - P;
    if (oy < 0 || oy >= OH) { continue; }
    for (var kx = 0; kx < K; kx++) {
      let ox = ix * S + kx - P;
      if (ox < 0 || ox >= OW) { continue; }
      let dyBase = ((n * OH + oy) * OW + ox) * TOTAL + OFF;
      let wBase = (ky * K + kx) * OC * IC + ci;
      for (var co = 0; co < OC; co++) { acc += grad(dyBase + co) * ${w}[wBase + co * IC]; }
    }
  }
  ${dx}[i] = acc;
}`,
  };
}

/** Filter gradient: b0 x [n,h,w,in], b1 dy [n,2h,2w,total] (b2 y, unless the activation is none), then dW [k,k,out,in]. */
export function convTransposeBackwardFilter(spec: ConvTransposeSpec): Kernel {
  const r = resolve(spec);
  const g = gradFn(r.activation, 1);
  const dw = `b${g.bindings.length + 1}`;
  const bindings: Access[] = ['read', ...g.bindings, 'read_write'];
  const count = r.kernel * r.kernel * r.outChannels * r.inChannels;
  return {
    name: `convTranspose${r.kernel} filter gradient`,
    key: `tconv-dw-${keyOf(r)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${constants(r)}
${g.fn}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let ci = t % IC;
  let co = (t / IC) % OC;
  let kx = (t / (IC * OC)) % K;
  let ky = t / (IC * OC * K);
  var acc = 0.0;
  for (var n = 0; n < N; n++) {
    for (var iy = 0; iy < IH; iy++) {
      let oy = iy * S + ky - P;
      if (oy < 0 || oy >= OH) { continue; }
      for (var ix = 0; ix < IW; ix++) {
        let ox = ix * S + kx - P;
        if (ox < 0 || ox >= OW) { continue; }
        acc += b0[((n * IH + iy) * IW + ix) * IC + ci] * grad(((n * OH + oy) * OW + ox) * TOTAL + OFF + co);
      }
    }
  }
  ${dw}[i] = acc;
}`,
  };
}

/** Bias gradient: b0 dy [n,2h,2w,total] (b1 y, unless the activation is none), then dBias [out]. */
export function convTransposeBackwardBias(spec: ConvTransposeSpec): Kernel {
  const r = resolve(spec);
  const g = gradFn(r.activation, 0);
  const db = `b${g.bindings.length}`;
  const bindings: Access[] = [...g.bindings, 'read_write'];
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
