/**
 * The ordinary 2-D convolution, forward and backward: NHWC activations, HWIO filters [k, k, in, out] as TF.js holds
 * them, zero or reflection padding folded into the index arithmetic, bias and activation fused into the output, and
 * the output (and so its gradient) at a channel offset of a wider buffer. The three big passes are tiled implicit
 * GEMMs (convGemm.ts), each with tile configurations the tuner times on the device (tuning.ts).
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { filterGemm, gatherGemm, parityGemm } from './convGemm';
import type { GemmConfig, Grid, Io } from './convGemm';
import { declareBindings, groupsFor, MAIN_1D, WORKGROUP } from './kernel';
import type { Access, Kernel, Op } from './kernel';
import { tunable } from './tuning';

/** `zero`: PyTorch's conv `padding=p`; `reflect`: PyTorch's ReflectionPad2d(p) before a valid conv. */
export type PadMode = 'zero' | 'reflect';

/** One conv layer's shapes and options; the forward and all three backward kernels take the same spec. */
export interface Conv2dSpec {
  batch: number;
  height: number;
  width: number;
  inChannels: number;
  outChannels: number;
  /** Square kernel side. */
  kernel: number;
  stride: 1 | 2;
  /** Rows and columns added on each side. */
  pad: number;
  padMode: PadMode;
  bias: boolean;
  /** Applied to the output; the backward kernels fold its gradient in, reading the output. */
  activation: Activation;
  /** Channels of the buffer the output lives in (default outChannels): a U-Net concatenation's width. */
  outTotal?: number;
  /** This conv's first channel in that buffer (default 0). */
  outOffset?: number;
}

/** Output height and width of a conv: floor((side + 2·pad − kernel) / stride) + 1. */
export function conv2dOutputSize(s: Conv2dSpec): { outHeight: number; outWidth: number } {
  const out = (side: number) => Math.floor((side + 2 * s.pad - s.kernel) / s.stride) + 1;
  return { outHeight: out(s.height), outWidth: out(s.width) };
}

/** Values in the buffer the output (or its gradient) lives in: batch × outHeight × outWidth × outTotal. */
export function conv2dOutputCount(s: Conv2dSpec): number {
  const { outHeight, outWidth } = conv2dOutputSize(s);
  return s.batch * outHeight * outWidth * (s.outTotal ?? s.outChannels);
}

/** Throws, naming the layer's spec and what is wrong, for a spec no kernel here can compute. */
function check(s: Conv2dSpec): void {
  const where = `conv2d ${key(s)}`;
  const sizes = [s.batch, s.height, s.width, s.inChannels, s.outChannels, s.kernel];
  if (!sizes.every((v) => Number.isInteger(v) && v >= 1)) throw new Error(`${where}: sizes must be positive integers`);
  if (s.stride !== 1 && s.stride !== 2) throw new Error(`${where}: stride must be 1 or 2, not ${s.stride}`);
  if (!Number.isInteger(s.pad) || s.pad < 0) throw new Error(`${where}: padding must be a non-negative integer`);
  // ReflectionPad2d's own limit: the mirror of row -p is row p, which must exist.
  if (s.padMode === 'reflect' && s.pad >= Math.min(s.height, s.width))
    throw new Error(`${where}: reflection padding ${s.pad} needs sides over ${s.pad}, got ${s.height}×${s.width}`);
  const { outHeight, outWidth } = conv2dOutputSize(s);
  if (outHeight < 1 || outWidth < 1) throw new Error(`${where}: the kernel is larger than the padded input`);
  const total = s.outTotal ?? s.outChannels;
  const offset = s.outOffset ?? 0;
  if (!Number.isInteger(offset) || offset < 0 || offset + s.outChannels > total)
    throw new Error(`${where}: channels ${offset}..${offset + s.outChannels} do not fit an output of ${total}`);
}

/** The part of a kernel's key, and of its messages, that its spec fixes. */
function key(s: Conv2dSpec): string {
  const out = `${s.outTotal ?? s.outChannels}@${s.outOffset ?? 0}`;
  return `${s.batch}x${s.height}x${s.width}x${s.inChannels}-${s.outChannels}-k${s.kernel}s${s.stride}p${s.pad}${s.padMode}-${s.bias ? 'b' : 'nb'}-${s.activation}-o${out}`;
}

/** WGSL constants of a spec, and `inRow`/`padded` for its padding mode. */
function prelude(s: Conv2dSpec): string {
  const { outHeight, outWidth } = conv2dOutputSize(s);
  return `const N: i32 = ${s.batch};
const H: i32 = ${s.height};
const W: i32 = ${s.width};
const CI: i32 = ${s.inChannels};
const CO: i32 = ${s.outChannels};
const K: i32 = ${s.kernel};
const S: i32 = ${s.stride};
const P: i32 = ${s.pad};
const OH: i32 = ${outHeight};
const OW: i32 = ${outWidth};
const CT: i32 = ${s.outTotal ?? s.outChannels};
const OFF: i32 = ${s.outOffset ?? 0};

// The input row (or column) a padded coordinate t − P reads, of a side of n; -1 where zero padding reads a zero.
fn inRow(i: i32, n: i32) -> i32 {
${
  s.padMode === 'zero'
    ? '  return select(-1, i, i >= 0 && i < n);'
    : `  // PyTorch's reflection: -1 reads 1, n reads n - 2.
  let j = abs(i);
  return select(j, 2 * (n - 1) - j, j >= n);`
}
}

// The r-th padded coordinate that reads input row i (r < ${s.padMode === 'zero' ? 1 : 3}), or -1 where there is none.
fn padded(i: i32, r: i32, n: i32) -> i32 {
  if (r == 0) { return i + P; }
  // Left mirror: padded P - i reads i, for 1 ≤ i ≤ P; right mirror: padded P + 2n - 2 - i, for n-1-P ≤ i ≤ n-2.
  if (r == 1) { return select(-1, P - i, i >= 1 && i <= P); }
  return select(-1, P + 2 * n - 2 - i, i <= n - 2 && i >= n - 1 - P);
}`;
}


/**
 * WGSL of `grad(j)`: the gradient at flat index j of the output buffer before the activation, dy · f'(y), reading
 * binding `dy` (and `y` when there is an activation).
 */
function gradientAt(s: Conv2dSpec, y: string, dy: string): string {
  if (s.activation === 'none') return `fn grad(j: i32) -> f32 { return ${dy}[j]; }`;
  return `fn grad(j: i32) -> f32 { let y = ${y}[j]; return ${dy}[j] * ${slopeFromOutput(s.activation, 'y')}; }`;
}

/** The WGSL of `storeC` for a forward output: the bias added, the activation applied, at channel n of the row. */
function forwardStore(s: Conv2dSpec): (out: string) => string {
  return (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = ${activate(s.activation, 'v')}; }`;
}

/** `initC`: sums start at the bias (columns past CO read the last channel's and are never stored). */
export const biasInit = (channels: number): string => `fn initC(n: i32) -> f32 { return b2[min(n, ${channels - 1})]; }`;

/** Float counts of a pass's bindings, in order (the tuner times candidates on buffers of these sizes). */
function sizes(s: Conv2dSpec, which: 'fwd' | 'dx' | 'dw'): number[] {
  const x = s.batch * s.height * s.width * s.inChannels;
  const w = s.kernel * s.kernel * s.inChannels * s.outChannels;
  const y = conv2dOutputCount(s);
  const act = s.activation !== 'none';
  if (which === 'fwd') return [x, w, ...(s.bias ? [s.outChannels] : []), y];
  if (which === 'dx') return [...(act ? [y] : []), y, w, x];
  return [x, ...(act ? [y] : []), y, w];
}

/** The grids a spec's passes read and write: its input, and its output inside the wider buffer. */
function grids(s: Conv2dSpec): { input: Grid; output: Grid } {
  const { outHeight, outWidth } = conv2dOutputSize(s);
  return {
    input: { h: s.height, w: s.width, c: s.inChannels, stride: s.inChannels, offset: 0 },
    output: { h: outHeight, w: outWidth, c: s.outChannels, stride: s.outTotal ?? s.outChannels, offset: s.outOffset ?? 0 },
  };
}

/**
 * y = f(conv(x, w) + bias): b0 x [N,H,W,CI], b1 w [K,K,CI,CO], (b2 bias [CO]), then y [N,OH,OW,CT] at OFF. A tiled
 * implicit GEMM (gemm.ts): rows are output pixels, columns output channels, the reduction runs over (kh, kw, ci).
 */
export function conv2dForward(s: Conv2dSpec, config?: GemmConfig): Op {
  check(s);
  const { input, output } = grids(s);
  const io: Io = { inputs: s.bias ? 3 : 2, readers: 'fn readImg(j: i32) -> f32 { return b0[j]; }\nfn readW(j: i32) -> f32 { return b1[j]; }', store: forwardStore(s), init: s.bias ? biasInit(s.outChannels) : undefined };
  const k = `conv2d-fwd-${key(s)}`;
  return tunable(k, 'gather', s.batch * output.h * output.w, output.c, s.kernel * s.kernel * s.inChannels, sizes(s, 'fwd'), config, (c) =>
    gatherGemm(`conv2d forward ${key(s)}`, k, s, input, output, s.inChannels * s.outChannels, s.outChannels, io, c),
  );
}

/**
 * The input gradient dx [N,H,W,CI] from the output's: ([y,] dy, w, dx), with y and dy [N,OH,OW,CT] at OFF (y only
 * with an activation). A tiled GEMM over stride-parity classes (parity family); under reflection it computes the
 * padded input's gradient into plan scratch, and a second kernel folds the mirrored border back in.
 */
export function conv2dBackwardInput(s: Conv2dSpec, config?: GemmConfig): Op {
  check(s);
  const act = s.activation !== 'none';
  const { input, output } = grids(s);
  const [y, dy, w] = act ? ['b0', 'b1', 'b2'] : ['', 'b0', 'b1'];
  const io: Io = {
    inputs: act ? 3 : 2,
    readers: `${gradientAt(s, y, dy).replace('fn grad(', 'fn readSrc(')}\nfn readW(j: i32) -> f32 { return ${w}[j]; }`,
    store: (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = v; }`,
  };
  const k = `conv2d-dx-${key(s)}`;
  return tunable(k, 'parity', s.batch * s.height * s.width, s.inChannels, s.kernel * s.kernel * s.outChannels, sizes(s, 'dx'), config, (c) => {
    const name = `conv2d input gradient ${key(s)}`;
    if (s.padMode === 'zero') return parityGemm(name, k, s, output, input, s.inChannels * s.outChannels, s.outChannels, io, c);
    // reflection: the gradient of the padded input first (a conv without padding), then each value's mirrors folded in
    const padded: Grid = { h: s.height + 2 * s.pad, w: s.width + 2 * s.pad, c: s.inChannels, stride: s.inChannels, offset: 0 };
    const gemm = parityGemm(name, k, { ...s, pad: 0 }, output, padded, s.inChannels * s.outChannels, s.outChannels, io, c);
    const inputs = Array.from({ length: io.inputs }, (_, i) => i);
    const paddedCount = s.batch * padded.h * padded.w * s.inChannels;
    // the GEMM's output (its own last stage's) goes to the second scratch, which the fold reads
    const stages = 'stages' in gemm ? gemm.stages.map((st) => ({ ...st, buffers: st.buffers.map((b) => (b === io.inputs ? ('scratch2' as const) : b)) })) : [{ kernel: gemm, buffers: [...inputs, 'scratch2' as const] }];
    return {
      name,
      stages: [...stages, { kernel: mirrorFold(s), buffers: ['scratch2', io.inputs] }],
      scratch: 'stages' in gemm ? gemm.scratch : 0,
      scratch2: paddedCount,
    };
  });
}

/**
 * Reflection padding's gradient: dx at each input value is the padded gradient at its own padded position plus, on
 * the border, at the positions that mirror it. b0 the padded gradient [N,H+2P,W+2P,CI], b1 dx [N,H,W,CI].
 */
function mirrorFold(s: Conv2dSpec): Kernel {
  const count = s.batch * s.height * s.width * s.inChannels;
  const [ph, pw] = [s.height + 2 * s.pad, s.width + 2 * s.pad];
  return {
    name: `conv2d input gradient mirrors ${key(s)}`,
    key: `conv2d-dx-fold-${key(s)}`,
    bindings: ['read', 'write'],
    workgroups: groupsFor(count),
    source: `${declareBindings(['read', 'write'])}
${prelude(s)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let ci = t % CI;
  let iw = (t / CI) % W;
  let ih = (t / (CI * W)) % H;
  let n = t / (CI * W * H);
  var acc = 0.0;
  for (var rh = 0; rh < 3; rh++) {
    let y = padded(ih, rh, H);
    if (y < 0) { continue; }
    for (var rw = 0; rw < 3; rw++) {
      let x = padded(iw, rw, W);
      if (x < 0) { continue; }
      acc += b0[((n * ${ph} + y) * ${pw} + x) * CI + ci];
    }
  }
  b1[t] = acc;
}`,
  };
}

/**
 * The filter gradient dW [K,K,CI,CO]: (x, [y,] dy, dW), y and dy [N,OH,OW,CT] at OFF (y only with an activation). A
 * tiled GEMM (filter family), its long reduction over output pixels split into parts where dW is small.
 */
export function conv2dBackwardFilter(s: Conv2dSpec, config?: GemmConfig): Op {
  check(s);
  const act = s.activation !== 'none';
  const { input, output } = grids(s);
  const [y, dy] = act ? ['b1', 'b2'] : ['', 'b1'];
  const io: Io = {
    inputs: act ? 3 : 2,
    readers: `fn readImg(j: i32) -> f32 { return b0[j]; }\n${gradientAt(s, y, dy).replace('fn grad(', 'fn readG(')}`,
    store: (out) => `fn storeC(base: i32, n: i32, v: f32) { ${out}[base + n] = v; }`,
  };
  const k = `conv2d-dw-${key(s)}`;
  return tunable(k, 'filter', s.kernel * s.kernel * s.inChannels, s.outChannels, s.batch * output.h * output.w, sizes(s, 'dw'), config, (c) =>
    filterGemm(`conv2d filter gradient ${key(s)}`, k, s, input, output, io, c),
  );
}

/**
 * The bias gradient db [CO], the output's gradient summed over N, OH, OW: ([y,] dy, db). One workgroup per channel,
 * its threads striding over positions, then a tree sum in workgroup memory.
 */
export function conv2dBackwardBias(s: Conv2dSpec): Kernel {
  check(s);
  const act = s.activation !== 'none';
  const bindings: Access[] = act ? ['read', 'read', 'write'] : ['read', 'write'];
  const [dy, db] = act ? ['b1', 'b2'] : ['b0', 'b1'];
  const { outHeight, outWidth } = conv2dOutputSize(s);
  return {
    name: `conv2d bias gradient ${key(s)}`,
    key: `conv2d-db-${key(s)}`,
    bindings,
    workgroups: [s.outChannels, 1, 1],
    source: `${declareBindings(bindings)}
${prelude(s)}
${gradientAt(s, 'b0', dy)}
var<workgroup> part: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(workgroup_id) g: vec3<u32>, @builtin(local_invocation_index) l: u32) {
  let co = i32(g.x);
  let lane = i32(l);
  var acc = 0.0;
  for (var p = lane; p < ${s.batch * outHeight * outWidth}; p += ${WORKGROUP}) {
    acc += grad(p * CT + OFF + co);
  }
  part[lane] = acc;
  workgroupBarrier();
  for (var span = ${WORKGROUP / 2}; span > 0; span /= 2) {
    if (lane < span) { part[lane] += part[lane + span]; }
    workgroupBarrier();
  }
  if (lane == 0) { ${db}[co] = part[0]; }
}`,
  };
}
