/**
 * One optimizer's part of a compiled step: each variable's gradient summed over the passes that used its network into
 * one flat buffer, then FlatAdam's update on its own moments (adam.ts). The step writes the two Adam scalars once.
 */
import type * as tf from '@tensorflow/tfjs';
import type { FlatAdam } from '../adam';
import { adamLayout } from './adam';
import type { AdamLayout } from './adam';
import { tensorBuffer } from './gpu';
import type { Plan } from './plan';
import { gatherGradients } from './wiring';

export class OptimizerPlan {
  readonly params: GPUBuffer;
  readonly grads: GPUBuffer;
  private readonly layout: AdamLayout;
  private readonly limit: number;

  constructor(
    store: Plan,
    readonly optimizer: FlatAdam,
    label: string,
  ) {
    this.limit = store.device.limits.maxStorageBuffersPerShaderStage;
    this.layout = adamLayout(optimizer, this.limit);
    this.params = store.buffer(2, `${label} Adam scalars`);
    this.grads = store.buffer(this.layout.size, `${label} gradients`);
  }

  /**
   * Appends the sum of one network's gradients over its passes: `passes[k]` is pass k's gradient buffers in the
   * network's trainableWeights order, which are `optimizer.variables` from index `first` on.
   */
  gather(plan: Plan, first: number, passes: GPUBuffer[][]): void {
    const n = passes[0].length;
    if (passes.some((p) => p.length !== n)) throw new Error('gather: every pass of a network has one gradient per weight');
    const sizes = this.optimizer.variables.slice(first, first + n).map((v) => v.size);
    const offsets = this.layout.offsets.slice(first, first + n);
    for (const d of gatherGradients(sizes, offsets, passes.length, this.limit)) {
      plan.add(d.kernel, [...d.variables.flatMap((v) => passes.map((p) => p[v])), this.grads]);
    }
  }

  /** Appends the Adam update of every variable. */
  update(plan: Plan): void {
    const vars = this.optimizer.variables;
    for (const d of this.layout.dispatches) {
      const c = this.optimizer.state[d.chunk];
      plan.add(d.kernel, [this.params, this.grads, tensorBuffer(c.m), tensorBuffer(c.v), ...d.variables.map((i) => tensorBuffer(vars[i]))]);
    }
  }

  /** Counts the step in the optimizer and writes its scalars (before the step's submit). */
  advance(queue: GPUQueue): void {
    queue.writeBuffer(this.params, 0, new Float32Array(this.optimizer.advance()));
  }

  /** What the update writes in place: the variables and the moments. */
  get written(): tf.Tensor[] {
    return [...this.optimizer.variables, ...this.optimizer.state.flatMap((c) => [c.m, c.v])];
  }
}
