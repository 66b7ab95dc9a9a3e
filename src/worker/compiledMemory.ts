/**
 * The compiled WebGPU step's memory of a run config, as the page's Model card shows it and the Start check weighs
 * it: counted from the options by a dry build (model/webgpu/stepMemory.ts; milliseconds, nothing allocated), with the
 * kernel choices this worker has tuned so far.
 */
import type { CompiledMemory } from '../config/sizeLimits';
import { trainingSide } from '../config/sizeLimits';
import type { RunConfig } from '../config/runConfig';
import { compiledStepMemory, UnsupportedStep } from '../model';
import type { TrainConfig } from '../model';
import { webgpuLimits } from '../model/webgpu/gpu';

/**
 * The compiled step's memory for batches of `batch` images of height × width, on TF.js's webgpu device's limits once
 * there is one (how many buffers a dispatch binds), else WebGPU's defaults; throws UnsupportedStep where it has none.
 */
export function compiledMemoryFor(t: TrainConfig, batch: number, height: number, width: number): CompiledMemory {
  const m = compiledStepMemory(t, batch, height, width, webgpuLimits());
  return { ...m, plan: m.plan.total, unshared: m.plan.unshared };
}

/** The compiled step's memory for `c`, or why `c` has no compiled step (TF.js's step runs it then). */
export function countCompiledMemory(c: RunConfig): { memory: CompiledMemory | null; unsupported: string | null } {
  const side = trainingSide(c);
  try {
    return { memory: compiledMemoryFor(c.train, c.batch_size, side, side), unsupported: null };
  } catch (e) {
    if (e instanceof UnsupportedStep) return { memory: null, unsupported: e.message };
    throw e;
  }
}
