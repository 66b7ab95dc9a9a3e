/**
 * The losses of ../losses.ts as kernels: the GAN losses on discriminator logits (lsgan, vanilla) and the L1 loss, each
 * as a value kernel (a mean reduced to one slot of a small losses buffer, times a weight) and a gradient kernel (the
 * mean's gradient times a weight, written or added into a gradient buffer, since G's gradient sums several terms).
 * Value and gradient take their own weight: pix2pix reports D_real and D_fake unweighted while their gradients carry
 * D's 0.5; CycleGAN reports D_A = 0.5 · (real + fake), the second half added into the first's slot.
 */
import type { GanMode } from '../options';
import { declareBindings, f32Literal, groupsFor, MAIN_1D } from './kernel';
import type { Access, Kernel } from './kernel';

/** Where a loss value goes: its weight, its slot in the losses buffer, and whether it adds to the slot or replaces it. */
export interface LossSlot {
  weight: number;
  slot: number;
  accumulate: boolean;
}

/** How a gradient is written: its weight, and whether it adds to the gradient buffer (G's terms sum) or replaces it. */
export interface GradientOutput {
  weight: number;
  accumulate: boolean;
}

/** Threads of the one workgroup that reduces a loss: no second pass, a fixed summing order; the largest input (L1 at 256² × 3) is 0.2M values. */
const REDUCE = 256;

/** WGSL: `log(1 + e)` for e in [0, 1] without log1p, by Kahan's trick (exact where 1 + e rounds to 1). */
const LOG1P = `fn log1p_(e: f32) -> f32 {
  let u = 1.0 + e;
  return select(log(u) * e / (u - 1.0), e, u == 1.0);
}`;

/** WGSL of one element's GAN loss for logit `x` against the target (1 real, 0 fake), as ../losses.ts writes it. */
function ganTerm(mode: GanMode, real: boolean, x: string): string {
  const t = real ? '1.0' : '0.0';
  switch (mode) {
    case 'lsgan':
      return `(${x} - ${t}) * (${x} - ${t})`;
    case 'vanilla':
      return `max(${x}, 0.0) - ${x} * ${t} + log1p_(exp(-abs(${x})))`;
  }
}

/**
 * WGSL of one element's gradient of the GAN loss (before the 1/n of the mean). Vanilla's is sigmoid(x) − t, the
 * sigmoid from e^-|x| so it never overflows; at x = 0 it is 0.5 − t, as TF.js's relu and abs gradients give.
 */
function ganSlope(mode: GanMode, real: boolean, x: string): string {
  const t = real ? '1.0' : '0.0';
  switch (mode) {
    case 'lsgan':
      return `2.0 * (${x} - ${t})`;
    case 'vanilla':
      return `select(e / (1.0 + e), 1.0 / (1.0 + e), ${x} > 0.0) - ${t}`;
  }
}

/** A one-workgroup kernel: sums `term(i)` over n elements, then writes or adds sum · weight / n into the slot. */
function reduceKernel(name: string, key: string, n: number, inputs: number, term: string, out: LossSlot, helpers = ''): Kernel {
  const bindings: Access[] = [...Array<Access>(inputs).fill('read'), out.accumulate ? 'read_write' : 'write'];
  const loss = `b${inputs}`;
  const previous = out.accumulate ? `${loss}[${out.slot}u]` : '0.0';
  return {
    name,
    key: `${key}-${n}-w${out.weight}-s${out.slot}-${out.accumulate ? 'add' : 'set'}`,
    bindings,
    workgroups: [1, 1, 1],
    source: `${declareBindings(bindings)}
${helpers}
var<workgroup> part: array<f32, ${REDUCE}>;
@compute @workgroup_size(${REDUCE})
fn main(@builtin(local_invocation_index) l: u32) {
  var s = 0.0;
  for (var i = l; i < ${n}u; i += ${REDUCE}u) {
    s += ${term};
  }
  part[l] = s;
  workgroupBarrier();
  for (var k = ${REDUCE / 2}u; k > 0u; k >>= 1u) {
    if (l < k) { part[l] += part[l + k]; }
    workgroupBarrier();
  }
  if (l == 0u) { ${loss}[${out.slot}u] = ${previous} + part[0] * ${f32Literal(out.weight / n)}; }
}`,
  };
}

/**
 * An elementwise kernel: grad[to + i] = (grad[to + i] if accumulating) + slope(i) · weight / n, grad being the last
 * binding.
 */
function gradientKernel(name: string, key: string, n: number, inputs: number, prologue: string, slope: string, out: GradientOutput, to = 0): Kernel {
  const bindings: Access[] = [...Array<Access>(inputs).fill('read'), out.accumulate ? 'read_write' : 'write'];
  const grad = `b${inputs}[${to}u + i]`;
  const previous = out.accumulate ? `${grad} + ` : '';
  return {
    name,
    key: `${key}-${n}-w${out.weight}-${out.accumulate ? 'add' : 'set'}-to${to}`,
    bindings,
    workgroups: groupsFor(n),
    source: `${declareBindings(bindings)}
${MAIN_1D}
  if (i >= ${n}u) { return; }
  ${prologue}
  ${grad} = ${previous}(${slope}) * ${f32Literal(out.weight / n)};
}`,
  };
}

/** The GAN loss of n logits against an all-real or all-fake target, weighted into a slot: b0 logits, b1 losses. */
export function ganLossValue(mode: GanMode, real: boolean, n: number, out: LossSlot): Kernel {
  const which = `${mode} ${real ? 'real' : 'fake'}`;
  return reduceKernel(`${which} loss`, `gan-loss-${mode}-${real ? 1 : 0}`, n, 1, ganTerm(mode, real, 'b0[i]'), out, mode === 'vanilla' ? LOG1P : '');
}

/** The GAN loss's gradient w.r.t. the n logits, weighted: b0 logits, b1 gradient (written or added). */
export function ganLossGradient(mode: GanMode, real: boolean, n: number, out: GradientOutput): Kernel {
  const which = `${mode} ${real ? 'real' : 'fake'}`;
  const prologue = mode === 'vanilla' ? 'let x = b0[i];\n  let e = exp(-abs(x));' : 'let x = b0[i];';
  return gradientKernel(`${which} loss gradient`, `gan-grad-${mode}-${real ? 1 : 0}`, n, 1, prologue, ganSlope(mode, real, 'x'), out);
}

/**
 * Where the L1 kernels read and write, in floats from each buffer's start: a and b, and the gradient (CycleGAN's rec_A
 * is a segment of G_B's batched output, and its gradient a segment of that pass's output gradient).
 */
export interface L1Offsets {
  a?: number;
  b?: number;
  grad?: number;
}

/** mean |a − b| over n values, weighted into a slot: b0 a (from offset `at.a`), b1 b (from `at.b`), b2 losses. */
export function l1LossValue(n: number, out: LossSlot, at: L1Offsets = {}): Kernel {
  const { a = 0, b = 0 } = at;
  return reduceKernel('L1 loss', `l1-loss-a${a}-b${b}`, n, 2, `abs(b0[${a}u + i] - b1[${b}u + i])`, out);
}

/**
 * The L1 loss's gradient w.r.t. a, weighted: b0 a, b1 b, b2 gradient (written or added), each from its offset in `at`.
 * sign(a − b) is −1 where a = b, as TF.js's abs gradient (step(x, −1)) gives, so ties agree with the TF.js step.
 */
export function l1LossGradient(n: number, out: GradientOutput, at: L1Offsets = {}): Kernel {
  const { a = 0, b = 0, grad = 0 } = at;
  return gradientKernel('L1 loss gradient', `l1-grad-a${a}-b${b}`, n, 2, `let d = b0[${a}u + i] - b1[${b}u + i];`, 'select(-1.0, 1.0, d > 0.0)', out, grad);
}
