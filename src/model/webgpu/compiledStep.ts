/**
 * A compiled training step (issue 10): the whole pix2pix or CycleGAN step planned once for one batch and image size,
 * then replayed each step as one compute pass and one submit over the TF.js models' own variables and optimizers.
 * What both steps share: their contract, the copy of a batch into the plan, and the losses read back as a tensor.
 */
import * as tf from '@tensorflow/tfjs';
import { flushTfjs, tensorBuffer, webgpuDevice } from './gpu';
import { assignMemory, buildWith, dryRecord, memoryTesting, recordBuild, StepBuffers } from './memory';
import type { MemoryLayout } from './memory';
import { Plan } from './plan';

/** What a compiled step's plans allocate, counted in its dry build (memory.ts): bytes and buffers. */
export type StepMemory = Pick<MemoryLayout, 'unshared' | 'own' | 'shared' | 'total' | 'buffers' | 'gpuBuffers'>;

export interface CompiledStep {
  /** Dispatches one step replays. */
  readonly dispatches: number;
  /** The [batch, height, width] it was built for (the inputs' shapes without channels). */
  readonly shape: readonly [number, number, number];
  /** The GPU memory its plans hold (not the variables or Adam's moments, which are TF.js's). */
  readonly memory: StepMemory;
  /**
   * One training step on NHWC float32 batches in [-1, 1] on the webgpu backend; updates the trainer's variables and
   * optimizer state and counts its step. Returns the losses in the trainer's `lossNames` order (the caller disposes).
   */
  run(realA: tf.Tensor4D, realB: tf.Tensor4D): tf.Tensor1D;
  /** True once TF.js has moved a bound variable to another buffer (its own step, a restored checkpoint): rebuild. */
  stale(): boolean;
  /** Destroys the step's own buffers (never the models' variables or the optimizers' state). */
  dispose(): void;
}

/** A run configuration the compiled step does not cover; the caller falls back to the TF.js step and shows `message`. */
export class UnsupportedStep extends Error {}

/** Something a step builds and must free: a network plan, a plan, their buffers. */
type Owned = { dispose(): void };

/** A step's build: `own` keeps what it makes, so that the step's `dispose` frees it all. */
type Build = (own: <T extends Owned>(part: T) => T) => Omit<CompiledStep, 'dispose' | 'memory'>;

const unsupported = (e: unknown): UnsupportedStep => (e instanceof UnsupportedStep ? e : new UnsupportedStep(e instanceof Error ? e.message : String(e)));

/** Runs `build` once; a build that throws frees what it had made (and `first`), and its error becomes an UnsupportedStep. */
function buildOnce(build: Build, first: Owned[] = []): Omit<CompiledStep, 'memory'> {
  const parts: Owned[] = [...first];
  const own = <T extends Owned>(part: T): T => {
    parts.push(part);
    return part;
  };
  try {
    const step = build(own);
    return { ...step, dispose: () => parts.splice(0).forEach((p) => p.dispose()) };
  } catch (e) {
    parts.forEach((p) => p.dispose());
    throw unsupported(e);
  }
}

/** The figures of a layout that a step reports. */
const memoryOf = (l: MemoryLayout): StepMemory => ({ unshared: l.unshared, own: l.own, shared: l.shared, total: l.total, buffers: l.buffers, gpuBuffers: l.gpuBuffers });

/**
 * Builds a step twice: dry, on a stand-in device, to learn its buffers and their lifetimes (memory.ts), then for real
 * with buffers whose lifetimes do not overlap sharing memory. Inside another dry build (the tuner's, a memory count)
 * it builds once, into that record. A build that throws frees what it had made, and its error becomes an
 * UnsupportedStep (the caller falls back and shows why).
 */
export function ownedBuild(build: Build): CompiledStep {
  if (dryRecord()) return { ...buildOnce(build), memory: memoryOf(assignMemory(dryRecord()!)) };
  const device = webgpuDevice();
  let record;
  try {
    record = recordBuild(device.limits, () => buildOnce(build).dispose());
  } catch (e) {
    throw unsupported(e);
  }
  const layout = assignMemory(record);
  const buffers = new StepBuffers(device, record, layout, (n) => (Plan.liveBuffers += n));
  const step = buildWith(buffers, () => buildOnce(build, [buffers]));
  try {
    buffers.finish();
  } catch (e) {
    step.dispose();
    throw unsupported(e);
  }
  if (memoryTesting.poison) buffers.poison();
  return { ...step, memory: memoryOf(layout) };
}

/** Throws unless both batches have the [batch, height, width] a step was built for (before the step changes anything). */
export function checkBatches(shape: readonly [number, number, number], realA: tf.Tensor4D, realB: tf.Tensor4D): void {
  for (const [name, t] of [['A', realA], ['B', realB]] as const) {
    if (t.shape[0] !== shape[0] || t.shape[1] !== shape[1] || t.shape[2] !== shape[2])
      throw new Error(`this compiled step takes ${shape.join('×')} batches, not ${t.shape.slice(0, 3).join('×')} (real_${name})`);
  }
}

/**
 * Starts a step's commands: the batches' buffers found first (a tensor still on the CPU is uploaded by a command TF.js
 * records), then TF.js's queue submitted, so the copies that follow see the batches' values.
 */
export function beginStep(device: GPUDevice, batches: tf.Tensor[]): { encoder: GPUCommandEncoder; copy(i: number, to: GPUBuffer, offset?: number): void } {
  const buffers = batches.map(tensorBuffer);
  flushTfjs();
  const encoder = device.createCommandEncoder();
  return {
    encoder,
    /** Records a copy of batch i's values into a plan buffer at `offset` floats. */
    copy: (i, to, offset = 0) => encoder.copyBufferToBuffer(buffers[i], 0, to, offset * 4, batches[i].size * 4),
  };
}

/** The losses buffer's first `count` values as a new tensor (TF.js copies it after the step's submit). */
export function lossTensor(buffer: GPUBuffer, count: number): tf.Tensor1D {
  return tf.tensor({ buffer, zeroCopy: false }, [count], 'float32') as tf.Tensor1D;
}

/** The u32 dropout seed of slot k in step s (1-based), as seedDropout numbers the TF.js step's StepDropout layers. */
export const dropoutSeed = (step: number, slot: number): number => step * 131 + slot;
