/**
 * Test helper for kernels: runs one kernel on the webgpu backend's device over TF.js tensors (inputs) and fresh
 * buffers (outputs), and reads the outputs back, to compare with the same TF.js op (the oracle).
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll } from 'vitest';
import { enableNodeWebGPU } from '../nodeWebgpu';
import { Plan } from './plan';
import type { Op } from './kernel';
import { readFloats, tensorBuffer, webgpuDevice } from './gpu';

/**
 * Puts TF.js on Node's WebGPU (Dawn) before a test file's tests, or warns why it cannot. Returns the reason to skip
 * (null once WebGPU is on); `unless`, when set, is a reason to skip without trying.
 */
export function useNodeWebGPU(what: string, unless: string | null = null): () => string | null {
  let skip: string | null = unless ?? 'not checked';
  beforeAll(async () => {
    if (unless) return;
    skip = await enableNodeWebGPU({ zeroWorkgroupMemory: false });
    if (skip) console.warn(`SKIPPING ${what}: ${skip}`);
    else await tf.setBackend('webgpu');
  }, 60_000);
  return () => skip;
}

/** Runs `kernel` (one or a sequence) with bindings = the inputs' buffers, then one buffer per output size (zeroed); returns the outputs. */
export async function runKernel(kernel: Op, inputs: tf.Tensor[], outputSizes: number[]): Promise<Float32Array[]> {
  const plan = new Plan(webgpuDevice());
  try {
    const outs = outputSizes.map((n, i) => plan.buffer(n, `out${i}`));
    plan.add(kernel, [...inputs.map(tensorBuffer), ...outs]);
    plan.run();
    return await Promise.all(outs.map((b, i) => readFloats(plan.device, b, outputSizes[i])));
  } finally {
    plan.dispose();
  }
}

/** Largest |a − b| / max(1, |b|) over two arrays of one length. */
export function worstRelative(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`lengths differ: ${a.length} vs ${b.length}`);
  let worst = 0;
  // Math.max keeps a NaN, so a value read before anything wrote it fails every bound
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]) / Math.max(1, Math.abs(b[i])));
  return worst;
}
