/** Activations as the networks use them (ReLU, LeakyReLU 0.2, Tanh), forward and backward from the output alone. */
import { declareBindings, groupsFor, MAIN_1D } from './kernel';
import type { Kernel } from './kernel';

export type Activation = 'none' | 'relu' | 'leaky_relu' | 'tanh';

/** The reference's LeakyReLU slope. */
export const LEAKY_SLOPE = 0.2;

/** WGSL of `f(v)`: the epilogue that fused kernels apply to their output. */
export function activate(kind: Activation, v: string): string {
  switch (kind) {
    case 'none':
      return v;
    case 'relu':
      return `max(${v}, 0.0)`;
    case 'leaky_relu':
      return `select(${LEAKY_SLOPE} * ${v}, ${v}, ${v} > 0.0)`;
    case 'tanh':
      return `tanh(${v})`;
  }
}

/** WGSL of `f'(x)` written with the output `y = f(x)`: every one of these is a function of y, so x need not be kept. */
export function slopeFromOutput(kind: Activation, y: string): string {
  switch (kind) {
    case 'none':
      return '1.0';
    case 'relu':
      return `select(0.0, 1.0, ${y} > 0.0)`;
    case 'leaky_relu':
      return `select(${LEAKY_SLOPE}, 1.0, ${y} > 0.0)`;
    case 'tanh':
      return `(1.0 - ${y} * ${y})`;
  }
}

/** y = f(x) over n values: b0 x, b1 y. */
export function activationForward(kind: Activation, n: number): Kernel {
  return {
    name: `${kind} forward`,
    key: `act-fwd-${kind}-${n}`,
    bindings: ['read', 'write'],
    workgroups: groupsFor(n),
    source: `${declareBindings(['read', 'write'])}
${MAIN_1D}
  if (i >= ${n}u) { return; }
  b1[i] = ${activate(kind, 'b0[i]')};
}`,
  };
}

/** dx = dy · f'(x), from y = f(x): b0 y, b1 dy, b2 dx. */
export function activationBackward(kind: Activation, n: number): Kernel {
  return {
    name: `${kind} backward`,
    key: `act-bwd-${kind}-${n}`,
    bindings: ['read', 'read', 'write'],
    workgroups: groupsFor(n),
    source: `${declareBindings(['read', 'read', 'write'])}
${MAIN_1D}
  if (i >= ${n}u) { return; }
  let y = b0[i];
  b2[i] = b1[i] * ${slopeFromOutput(kind, 'y')};
}`,
  };
}
