/**
 * A network compiled for one batch and image size: the dispatches of its forward pass and of its backward pass,
 * appended to a plan, over the GPU buffers of the TF.js model's own variables. The step that uses it (issue 10)
 * writes `input`, replays forward, writes `dOutput` (a loss kernel's gradient), replays backward, and finds each
 * trainable weight's gradient in `grads`, in the order of `model.trainableWeights`.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Plan } from './plan';

export interface NetworkPlan {
  /** NHWC input, batch × height × width × channels floats. */
  input: GPUBuffer;
  /** NHWC output of the last layer (after its activation). */
  output: GPUBuffer;
  /** Gradient of the loss w.r.t. `output`, written by the step before `backward` runs. */
  dOutput: GPUBuffer;
  /** Gradient w.r.t. `input` (needed when the network feeds another's loss, as G feeds D); null when not asked. */
  dInput: GPUBuffer | null;
  /** One gradient buffer per trainable weight, in `model.trainableWeights` order, each of the weight's size. */
  grads: GPUBuffer[];
  /** Output shape [N, H, W, C]. */
  outputShape: [number, number, number, number];
  /** Appends the forward pass's dispatches (training mode: batch statistics, dropout from the step's seeds). */
  forward(plan: Plan): void;
  /** Appends the backward pass's dispatches: `dOutput` to `grads` (overwritten, not accumulated) and `dInput`. */
  backward(plan: Plan): void;
}

/** What a network plan is built from: the TF.js model whose variables it binds, and the shapes it is made for. */
export interface NetworkPlanArgs {
  model: tf.LayersModel;
  batch: number;
  height: number;
  width: number;
  /** Make `dInput` (costs one more input-gradient kernel on the first layer). */
  inputGradient: boolean;
}
