/**
 * A compute kernel as a plain value (after ONNX Runtime Web's "program info"): its name, a cache key, WGSL source with
 * every shape baked in as a constant, the access of each storage binding in order, and its workgroup counts. No
 * uniforms: a kernel made for one layer's shapes needs none, so replaying it writes nothing per dispatch.
 */

/**
 * How a kernel uses one of its storage buffers (binding i is `@group(0) @binding(i)`): `write` stores the values it
 * covers without reading what the buffer held (declared read_write in WGSL, which has no write-only storage), which
 * lets a step's memory plan give the buffer memory whose earlier contents are dead; `read_write` may read them.
 */
export type Access = 'read' | 'read_write' | 'write';

export interface Kernel {
  /** What it computes, for profiles and error messages. */
  name: string;
  /** Same key, same source: the plan compiles each key once. */
  key: string;
  source: string;
  bindings: Access[];
  workgroups: [number, number, number];
}

/**
 * One result computed by several dispatches in order (a tiled GEMM, then the sum of its split-K parts or the fix of
 * its mirrored borders). Each stage binds some of the caller's buffers, by index, and maybe the plan's scratch.
 */
export interface KernelSeq {
  name: string;
  stages: { kernel: Kernel; buffers: (number | Scratch)[] }[];
  /** Floats of plan scratch the stages share (0: none). */
  scratch: number;
  /** Floats of a second scratch buffer (a reflected conv's padded gradient, summed from split-K parts in the first). */
  scratch2?: number;
}

/** A plan's scratch buffers a stage may bind. */
export type Scratch = 'scratch' | 'scratch2';

/** What a plan dispatches for one layer's pass: one kernel, or a sequence of them. */
export type Op = Kernel | KernelSeq;

/** The kernels of an op, in dispatch order. */
export const kernelsOf = (op: Op): Kernel[] => ('stages' in op ? op.stages.map((s) => s.kernel) : [op]);

/** Threads per workgroup of one-dimensional kernels. */
export const WORKGROUP = 64;

/** Workgroups for `n` threads of WORKGROUP each, folded into y past the 65,535 limit of one dimension. */
export function groupsFor(n: number): [number, number, number] {
  const groups = Math.ceil(n / WORKGROUP);
  return groups <= 65535 ? [groups, 1, 1] : [65535, Math.ceil(groups / 65535), 1];
}

/** WGSL declarations of the storage bindings, named b0, b1, ... with their access, as f32 arrays. */
export function declareBindings(bindings: Access[]): string {
  return bindings.map((a, i) => `@group(0) @binding(${i}) var<storage, ${a === 'read' ? 'read' : 'read_write'}> b${i}: array<f32>;`).join('\n');
}

/** The flat thread index of a one-dimensional kernel (see groupsFor), and its entry point's header. */
export const MAIN_1D = `@compute @workgroup_size(${WORKGROUP})
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) ng: vec3<u32>) {
  let i = gid.x + gid.y * ng.x * ${WORKGROUP}u;`;

/** A float literal WGSL accepts (always with a decimal point or exponent). */
export const f32Literal = (x: number): string => (Number.isInteger(x) ? `${x}.0` : x.toExponential());
