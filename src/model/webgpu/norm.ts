/**
 * Normalisation kernels as our networks use them: instance norm (our InstanceNormalization layer: per sample and
 * channel over H and W, biased variance, no scale/offset, no running statistics) and batch norm
 * (tf.layers.batchNormalization in training mode: per channel over N, H and W, gamma and beta, and the running
 * mean/variance update TF.js applies). Forward: statistics, then apply with the activation fused. Backward: one
 * dispatch per norm, the activation's gradient fused. 'none' needs no kernel.
 *
 * Both norms reduce over groups whose elements lie C apart in NHWC: group g = (n, c) of H·W elements for instance
 * norm, group g = c of N·H·W elements for batch norm; element j of group g sits at ((g / C)·M + j)·C + g % C.
 */
import { activate, slopeFromOutput } from './activation';
import type { Activation } from './activation';
import { declareBindings, f32Literal, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** Which norm a layer uses ('none' is the identity and has no kernel). */
export type NormKind = 'instance' | 'batch';

/** An NHWC activation's shape. */
export interface NormShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** The epsilon our blocks give both norms (blocks.ts normLayer; PyTorch's default). */
export const NORM_EPSILON = 1e-5;

/** The Keras momentum our batch norm layers set (PyTorch momentum 0.1). */
export const BATCH_MOMENTUM = 0.9;

/** Threads per workgroup of the reduction kernels: one workgroup reduces one group. */
export const REDUCE_WORKGROUP = 256;

/** Floats per group in the statistics buffer: mean, then 1/sqrt(variance + eps). */
export const STATS_PER_GROUP = 2;

/** Groups (reduced sets) and elements per group of a norm over this shape. */
export function normGroups(kind: NormKind, s: NormShape): { groups: number; size: number } {
  return kind === 'instance' ? { groups: s.n * s.c, size: s.h * s.w } : { groups: s.c, size: s.n * s.h * s.w };
}

/** A norm shape as it appears in kernel keys and messages. */
export const shapeKey = (s: NormShape): string => `${s.n}x${s.h}x${s.w}x${s.c}`;

/**
 * WGSL lines giving element i of a compact NHWC buffer (b0 x, b1 stats, for batch norm b2 gamma and b3 beta) its
 * channel `c`, its statistics group `g` and its normed value `z` = x̂ (instance) or γ·x̂ + β (batch).
 */
export function normedElement(kind: NormKind, s: NormShape): string {
  return `  let c = i % ${s.c}u;
  // instance norm's group is (sample, channel), batch norm's the channel
  let g = ${kind === 'instance' ? `(i / ${s.h * s.w * s.c}u) * ${s.c}u + c` : 'c'};
  let xhat = (b0[i] - b1[2u * g]) * b1[2u * g + 1u];
  let z = ${kind === 'instance' ? 'xhat' : 'b2[c] * xhat + b3[c]'};`;
}

/** One workgroup per group; our networks have at most a few thousand groups, far below one dimension's 65,535. */
function groupWorkgroups(kind: NormKind, s: NormShape): [number, number, number] {
  const { groups } = normGroups(kind, s);
  if (groups > 65535) throw new Error(`${kind} norm over ${shapeKey(s)}: ${groups} groups, more than the 65,535 workgroups one dispatch allows`);
  return [groups, 1, 1];
}

/** WGSL shared by the reduction kernels: the shape, the group's element index, and a workgroup sum of vec2s. */
function reductionPrelude(kind: NormKind, s: NormShape, bindings: Access[]): string {
  const { size } = normGroups(kind, s);
  return `${declareBindings(bindings)}
const C: u32 = ${s.c}u;
const M: u32 = ${size}u;
const R: u32 = ${REDUCE_WORKGROUP}u;
var<workgroup> part: array<vec2<f32>, ${REDUCE_WORKGROUP}>;

// Index in NHWC of element j of group g (groups lie C apart; instance norm's also M·C apart per sample).
fn elem(g: u32, j: u32) -> u32 { return ((g / C) * M + j) * C + g % C; }

// Sum of v over the workgroup, returned to every thread; part is free again on return.
fn total(lid: u32, v: vec2<f32>) -> vec2<f32> {
  part[lid] = v;
  workgroupBarrier();
  for (var span = R / 2u; span > 0u; span = span / 2u) {
    if (lid < span) { part[lid] = part[lid] + part[lid + span]; }
    workgroupBarrier();
  }
  let t = part[0];
  workgroupBarrier();
  return t;
}

@compute @workgroup_size(${REDUCE_WORKGROUP})
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let g = wid.x;`;
}

/** Options of the statistics kernel. */
export interface StatisticsOptions {
  epsilon?: number;
  /** Batch norm only: also update the running mean/variance in place, as each training-mode call in TF.js does. */
  running?: boolean;
  /** Keras momentum of that update: moving ← moving − (moving − batch)·(1 − momentum). */
  momentum?: number;
}

/**
 * Per-group mean and 1/sqrt(biased variance + eps), the variance taken about the mean (two passes, as tf.moments):
 * b0 x, b1 stats [groups·2]; with `running`, b2 moving mean [C] and b3 moving variance [C], updated in place.
 */
export function normStatistics(kind: NormKind, s: NormShape, o: StatisticsOptions = {}): Kernel {
  const eps = o.epsilon ?? NORM_EPSILON;
  const momentum = o.momentum ?? BATCH_MOMENTUM;
  const running = o.running ?? false;
  if (running && kind !== 'batch') throw new Error('instance norm keeps no running statistics');
  const bindings: Access[] = running ? ['read', 'write', 'read_write', 'read_write'] : ['read', 'write'];
  const update = running
    ? `
    let m = b2[g];
    b2[g] = m - (m - mean) * ${f32Literal(1 - momentum)};
    let v = b3[g];
    b3[g] = v - (v - variance) * ${f32Literal(1 - momentum)};`
    : '';
  return {
    name: `${kind} norm statistics`,
    key: `norm-stats-${kind}-${shapeKey(s)}-${eps}${running ? `-running-${momentum}` : ''}`,
    bindings,
    workgroups: groupWorkgroups(kind, s),
    source: `${reductionPrelude(kind, s, bindings)}
  var sum = 0.0;
  for (var j = lid; j < M; j = j + R) { sum = sum + b0[elem(g, j)]; }
  let mean = total(lid, vec2<f32>(sum, 0.0)).x / f32(M);
  // Squares about the mean, not E[x²] − mean²: a nearly constant group keeps its tiny variance.
  var squares = 0.0;
  for (var j = lid; j < M; j = j + R) { let d = b0[elem(g, j)] - mean; squares = squares + d * d; }
  let variance = total(lid, vec2<f32>(squares, 0.0)).x / f32(M);
  if (lid == 0u) {
    b1[2u * g] = mean;
    b1[2u * g + 1u] = inverseSqrt(variance + ${f32Literal(eps)});${update}
  }
}`,
  };
}

/**
 * y = f(x̂) (instance) or y = f(γ·x̂ + β) (batch), x̂ = (x − mean)·rstd: b0 x, b1 stats, then for batch norm b2 gamma
 * and b3 beta, then y. What the backward needs is x and the stats, kept by the plan.
 */
export function normApply(kind: NormKind, s: NormShape, act: Activation): Kernel {
  const count = s.n * s.h * s.w * s.c;
  const bindings: Access[] = kind === 'instance' ? ['read', 'read', 'write'] : ['read', 'read', 'read', 'read', 'write'];
  const out = `b${bindings.length - 1}`;
  return {
    name: `${kind} norm ${act} apply`,
    key: `norm-apply-${kind}-${act}-${shapeKey(s)}`,
    bindings,
    workgroups: groupsFor(count),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${count}u) { return; }
${normedElement(kind, s)}
  ${out}[i] = ${activate(act, 'z')};
}`,
  };
}

/** Options of the backward kernel. */
export interface BackwardOptions {
  /** Batch norm only: add dgamma and dbeta to what their buffers hold (a layer applied twice in a step). */
  accumulate?: boolean;
}

/**
 * Gradient of f(norm(x)) in one dispatch, a workgroup per group: sums of dz and dz·x̂ over the group, then
 * dx = γ·rstd·(dz − mean(dz) − x̂·mean(dz·x̂)) with dz = dy·f'(z) (γ = 1 for instance norm, as layers.ts's customGrad).
 * Instance: b0 x, b1 stats, b2 dy, b3 dx. Batch: b0 x, b1 stats, b2 gamma, b3 beta, b4 dy, b5 dx, b6 dgamma [C],
 * b7 dbeta [C] (dgamma = Σ dz·x̂, dbeta = Σ dz).
 */
export function normBackward(kind: NormKind, s: NormShape, act: Activation, o: BackwardOptions = {}): Kernel {
  const accumulate = o.accumulate ?? false;
  if (accumulate && kind !== 'batch') throw new Error('instance norm has no parameters to accumulate gradients for');
  const batch = kind === 'batch';
  // dgamma and dbeta are read back only when accumulating
  const sums: Access = accumulate ? 'read_write' : 'write';
  const bindings: Access[] = batch ? ['read', 'read', 'read', 'read', 'read', 'write', sums, sums] : ['read', 'read', 'read', 'write'];
  const [dy, dx] = batch ? ['b4', 'b5'] : ['b2', 'b3'];
  // For batch norm g is the channel, so gamma and beta index by g.
  const z = batch ? 'b2[g] * xhat + b3[g]' : 'xhat';
  const gamma = batch ? 'b2[g]' : '1.0';
  const op = accumulate ? '+=' : '=';
  const params = batch
    ? `
  if (lid == 0u) {
    b6[g] ${op} sums.y;
    b7[g] ${op} sums.x;
  }`
    : '';
  return {
    name: `${kind} norm ${act} backward`,
    key: `norm-bwd-${kind}-${act}-${shapeKey(s)}${accumulate ? '-acc' : ''}`,
    bindings,
    workgroups: groupWorkgroups(kind, s),
    source: `${reductionPrelude(kind, s, bindings)}
  let mean = b1[2u * g];
  let rstd = b1[2u * g + 1u];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < M; j = j + R) {
    let k = elem(g, j);
    let xhat = (b0[k] - mean) * rstd;
    let z = ${z};
    let y = ${activate(act, 'z')};
    let dz = ${dy}[k] * ${slopeFromOutput(act, 'y')};
    acc = acc + vec2<f32>(dz, dz * xhat);
  }
  let sums = total(lid, acc);
  let dzMean = sums.x / f32(M);
  let dzXhatMean = sums.y / f32(M);
  for (var j = lid; j < M; j = j + R) {
    let k = elem(g, j);
    let xhat = (b0[k] - mean) * rstd;
    let z = ${z};
    let y = ${activate(act, 'z')};
    let dz = ${dy}[k] * ${slopeFromOutput(act, 'y')};
    ${dx}[k] = ${gamma} * rstd * (dz - dzMean - xhat * dzXhatMean);
  }${params}
}`,
  };
}
