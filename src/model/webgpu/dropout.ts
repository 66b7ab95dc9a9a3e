/**
 * The U-Net's dropout (rate 0.5, active in training) with a seeded per-step mask: element i is kept when a hash of
 * (the step's seed, i) clears the rate. The backward pass recomputes the mask from the same seed instead of keeping
 * it, so a plan holds no mask buffers. The seeds live in a small u32 buffer, one slot per dropout layer, that the step
 * writes once; TF.js's random stream cannot be reproduced, so dropoutMask gives the same masks on the CPU for oracles.
 */
import { declareBindings, f32Literal, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** The reference's dropout rate in the U-Net's inner blocks. */
export const DROPOUT_RATE = 0.5;

/** The u32 a kept element's hash must reach: rate · 2^32. */
const threshold = (rate: number): number => Math.round(rate * 2 ** 32);

/** WGSL: PCG's output hash (Jarzynski & Olano 2020), and whether element i is kept under seed s. */
const HASH = (rate: number) => `fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}
fn kept(s: u32, i: u32) -> bool {
  return pcg(i + pcg(s)) >= ${threshold(rate)}u;
}`;

/** The same PCG hash in JavaScript (u32 arithmetic through Math.imul and >>> 0). */
function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}

/** The mask the kernels apply for this seed: 1/(1 − rate) where kept, 0 where dropped (for TF.js oracles and tests). */
export function dropoutMask(seed: number, n: number, rate = DROPOUT_RATE): Float32Array {
  const s = pcg(seed);
  const limit = threshold(rate);
  const scale = 1 / (1 - rate);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) mask[i] = pcg((i + s) >>> 0) >= limit ? scale : 0;
  return mask;
}

/** Bindings: b0 the seeds (u32, declared apart), then f32 input and output. */
function dropoutKernel(name: string, n: number, slot: number, rate: number): Kernel {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate ${rate} is outside [0, 1)`);
  const bindings: Access[] = ['read', 'read', 'write'];
  const floats = declareBindings(bindings).split('\n').slice(1).join('\n');
  return {
    name,
    // forward and backward are the same map (times the mask), so they share one key and one pipeline
    key: `dropout-${n}-s${slot}-r${rate}`,
    bindings,
    workgroups: groupsFor(n),
    source: `@group(0) @binding(0) var<storage, read> seeds: array<u32>;
${floats}
${HASH(rate)}
${MAIN_1D}
  if (i >= ${n}u) { return; }
  b2[i] = select(0.0, b1[i] * ${f32Literal(1 / (1 - rate))}, kept(seeds[${slot}u], i));
}`,
  };
}

/** y = x · mask / (1 − rate), the mask from seeds[slot]: b0 seeds (u32), b1 x, b2 y. */
export function dropoutForward(n: number, slot: number, rate = DROPOUT_RATE): Kernel {
  return dropoutKernel('dropout forward', n, slot, rate);
}

/** dx = dy · mask / (1 − rate), the forward's mask regenerated from seeds[slot]: b0 seeds (u32), b1 dy, b2 dx. */
export function dropoutBackward(n: number, slot: number, rate = DROPOUT_RATE): Kernel {
  return dropoutKernel('dropout backward', n, slot, rate);
}
