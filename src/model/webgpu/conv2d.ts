/**
 * The ordinary 2-D convolution, forward and backward: NHWC activations, HWIO filters [k, k, in, out] as TF.js holds
 * them, zero or reflection padding folded into the index arithmetic, bias and activation fused into the output, and
 * the output (and so its gradient) at a channel offset of a wider buffer. One thread per value computed.
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { declareBindings, groupsFor, MAIN_1D, WORKGROUP } from './kernel';
import type { Access, Kernel } from './kernel';

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

/** How many padded coordinates can read one input row: itself, and under reflection its two mirrors. */
const sources = (s: Conv2dSpec): number => (s.padMode === 'zero' ? 1 : 3);

/**
 * WGSL of `grad(j)`: the gradient at flat index j of the output buffer before the activation, dy · f'(y), reading
 * binding `dy` (and `y` when there is an activation).
 */
function gradientAt(s: Conv2dSpec, y: string, dy: string): string {
  if (s.activation === 'none') return `fn grad(j: i32) -> f32 { return ${dy}[j]; }`;
  return `fn grad(j: i32) -> f32 { let y = ${y}[j]; return ${dy}[j] * ${slopeFromOutput(s.activation, 'y')}; }`;
}

/** Output channels and output columns one forward thread computes: a 4×4 block of accumulators in registers. */
const FWD_CO = 4;
const FWD_PX = 4;

/**
 * y = f(conv(x, w) + bias): b0 x [N,H,W,CI], b1 w [K,K,CI,CO], (b2 bias [CO]), then y [N,OH,OW,CT] at OFF. Each
 * thread computes 4 output channels of 4 neighbouring output columns (implicit GEMM, register-blocked): each x value
 * it loads feeds 4 channels and each weight 4 columns, a quarter of the one-output-per-thread kernel's loads.
 */
export function conv2dForward(s: Conv2dSpec): Kernel {
  check(s);
  const bindings: Access[] = s.bias ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'];
  const y = `b${bindings.length - 1}`;
  const { outHeight, outWidth } = conv2dOutputSize(s);
  const coBlocks = Math.ceil(s.outChannels / FWD_CO);
  const pxBlocks = Math.ceil(outWidth / FWD_PX);
  const count = s.batch * outHeight * pxBlocks * coBlocks;
  // channels past CO (when CO is not a multiple of 4) read the last channel's weight and are never written
  const wAt = (j: number) => `b1[wBase + ci * CO + min(co0 + ${j}, CO - 1)]`;
  return {
    name: `conv2d forward ${key(s)}`,
    key: `conv2d-fwd4x4-${key(s)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${prelude(s)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let co0 = (t % ${coBlocks}) * ${FWD_CO};
  let ow0 = ((t / ${coBlocks}) % ${pxBlocks}) * ${FWD_PX};
  let oh = (t / (${coBlocks * pxBlocks})) % OH;
  let n = t / (${coBlocks * pxBlocks} * OH);
  // the bias first, as the one-output kernel summed: the same order of additions, the same rounding
  var acc: array<vec4<f32>, ${FWD_PX}>;
  ${s.bias ? `let bias4 = vec4<f32>(${[0, 1, 2, 3].map((j) => `b2[min(co0 + ${j}, CO - 1)]`).join(', ')});
  for (var p = 0; p < ${FWD_PX}; p++) { acc[p] = bias4; }` : ''}
  for (var kh = 0; kh < K; kh++) {
    let ih = inRow(oh * S - P + kh, H);
    if (ih < 0) { continue; }
    let rowBase = (n * H + ih) * W;
    for (var kw = 0; kw < K; kw++) {
      // each column's input offset, or -1 where zero padding (or a column past OW) reads a zero
      var xBase: array<i32, ${FWD_PX}>;
      for (var p = 0; p < ${FWD_PX}; p++) {
        let iw = inRow((ow0 + p) * S - P + kw, W);
        xBase[p] = select(-1, (rowBase + iw) * CI, iw >= 0 && ow0 + p < OW);
      }
      let wBase = (kh * K + kw) * CI * CO;
      for (var ci = 0; ci < CI; ci++) {
        let w4 = vec4<f32>(${[0, 1, 2, 3].map(wAt).join(', ')});
        for (var p = 0; p < ${FWD_PX}; p++) {
          let xi = xBase[p];
          let xv = select(0.0, b0[max(xi, 0) + ci], xi >= 0);
          acc[p] += xv * w4;
        }
      }
    }
  }
  for (var p = 0; p < ${FWD_PX}; p++) {
    let ow = ow0 + p;
    if (ow >= OW) { break; }
    let outBase = ((n * OH + oh) * OW + ow) * CT + OFF;
    for (var j = 0; j < ${FWD_CO}; j++) {
      let co = co0 + j;
      if (co >= CO) { break; }
      let v = acc[p][j];
      ${y}[outBase + co] = ${activate(s.activation, 'v')};
    }
  }
}`,
  };
}

/**
 * The input gradient dx [N,H,W,CI] from the output's: ([y,] dy, w, dx), with y and dy [N,OH,OW,CT] at OFF (y only
 * with an activation). Under reflection each input value gathers from its mirrored padded positions too.
 */
export function conv2dBackwardInput(s: Conv2dSpec): Kernel {
  check(s);
  const act = s.activation !== 'none';
  const bindings: Access[] = act ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'];
  const [dy, w, dx] = act ? ['b1', 'b2', 'b3'] : ['b0', 'b1', 'b2'];
  const count = s.batch * s.height * s.width * s.inChannels;
  return {
    name: `conv2d input gradient ${key(s)}`,
    key: `conv2d-dx-${key(s)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${prelude(s)}
${gradientAt(s, 'b0', dy)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let ci = t % CI;
  let iw = (t / CI) % W;
  let ih = (t / (CI * W)) % H;
  let n = t / (CI * W * H);
  var acc = 0.0;
  for (var rh = 0; rh < ${sources(s)}; rh++) {
    let ph = padded(ih, rh, H);
    if (ph < 0) { continue; }
    for (var kh = 0; kh < K; kh++) {
      // Output row oh reads padded row oh·S + kh: this one when ph − kh is a multiple of S in range.
      let th = ph - kh;
      if (th < 0 || th % S != 0 || th / S >= OH) { continue; }
      let oh = th / S;
      for (var rw = 0; rw < ${sources(s)}; rw++) {
        let pw = padded(iw, rw, W);
        if (pw < 0) { continue; }
        for (var kw = 0; kw < K; kw++) {
          let tw = pw - kw;
          if (tw < 0 || tw % S != 0 || tw / S >= OW) { continue; }
          let ow = tw / S;
          let gBase = ((n * OH + oh) * OW + ow) * CT + OFF;
          let wBase = ((kh * K + kw) * CI + ci) * CO;
          for (var co = 0; co < CO; co++) {
            acc += grad(gBase + co) * ${w}[wBase + co];
          }
        }
      }
    }
  }
  ${dx}[t] = acc;
}`,
  };
}

/** The filter gradient dW [K,K,CI,CO]: (x, [y,] dy, dW), y and dy [N,OH,OW,CT] at OFF (y only with an activation). */
export function conv2dBackwardFilter(s: Conv2dSpec): Kernel {
  check(s);
  const act = s.activation !== 'none';
  const bindings: Access[] = act ? ['read', 'read', 'read', 'read_write'] : ['read', 'read', 'read_write'];
  const [dy, dw] = act ? ['b2', 'b3'] : ['b1', 'b2'];
  const count = s.kernel * s.kernel * s.inChannels * s.outChannels;
  return {
    name: `conv2d filter gradient ${key(s)}`,
    key: `conv2d-dw-${key(s)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${prelude(s)}
${gradientAt(s, 'b1', dy)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
  let t = i32(i);
  let co = t % CO;
  let ci = (t / CO) % CI;
  let kw = (t / (CO * CI)) % K;
  let kh = t / (CO * CI * K);
  var acc = 0.0;
  for (var n = 0; n < N; n++) {
    for (var oh = 0; oh < OH; oh++) {
      let ih = inRow(oh * S - P + kh, H);
      if (ih < 0) { continue; }
      for (var ow = 0; ow < OW; ow++) {
        let iw = inRow(ow * S - P + kw, W);
        if (iw < 0) { continue; }
        acc += b0[((n * H + ih) * W + iw) * CI + ci] * grad(((n * OH + oh) * OW + ow) * CT + OFF + co);
      }
    }
  }
  ${dw}[t] = acc;
}`,
  };
}

/**
 * The bias gradient db [CO], the output's gradient summed over N, OH, OW: ([y,] dy, db). One workgroup per channel,
 * its threads striding over positions, then a tree sum in workgroup memory.
 */
export function conv2dBackwardBias(s: Conv2dSpec): Kernel {
  check(s);
  const act = s.activation !== 'none';
  const bindings: Access[] = act ? ['read', 'read', 'read_write'] : ['read', 'read_write'];
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
