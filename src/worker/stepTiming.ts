/** Timing training steps: one bounded measurement for the backend choice, and the benchmark's full set of numbers. */
import * as tf from '@tensorflow/tfjs';
import { countTraffic, peakThroughput, profileStep, stepStats } from './benchmark';
import type { BenchResult } from './benchmark';
import type { StepFn } from './stepEngine';

/** Makes one step's input batches. */
export type Batch = () => Promise<{ a: tf.Tensor4D; b: tf.Tensor4D }>;

/** One training step (a StepEngine's, or TF.js's), awaited until its losses are read back (for timing, not for the training loop). */
export async function awaitedStep(step: StepFn, batch: Batch): Promise<void> {
  const { a, b } = await batch();
  let packed: tf.Tensor1D;
  try {
    packed = await step(a, b);
  } finally {
    a.dispose();
    b.dispose();
  }
  try {
    await packed.data();
  } finally {
    packed.dispose();
  }
}

/**
 * Milliseconds of one step, after a warm-up step where the backend compiles shaders (and the compiled WebGPU step is
 * built), so the time is the step's alone; null once the whole measurement passes `budgetMs` or `cancelled()` turns
 * true. A GPU step given up on finishes in the background.
 */
export async function timeOneStep(step: StepFn, batch: Batch, o: { warmUp: boolean; budgetMs: number; cancelled: () => boolean }): Promise<number | null> {
  const deadline = performance.now() + o.budgetMs;
  const within = (running: Promise<void>) =>
    new Promise<boolean>((resolve, reject) => {
      const poll = setInterval(() => {
        if (o.cancelled() || performance.now() > deadline) {
          clearInterval(poll);
          resolve(false);
        }
      }, 25);
      running.then(
        () => (clearInterval(poll), resolve(!o.cancelled())),
        (e: unknown) => (clearInterval(poll), reject(e)),
      );
    });
  const once = () => {
    const p = awaitedStep(step, batch);
    p.catch(() => undefined); // a step given up on may fail after its trainer is gone
    return p;
  };
  if (o.warmUp && !(await within(once()))) return null;
  const t0 = performance.now();
  if (!(await within(once()))) return null;
  return performance.now() - t0;
}

/**
 * Benchmarks a step: per-step times, kernels, dispatches and multiply-adds of a step, memory after 10 steps and
 * after `memorySteps` (untimed steps past the timed ones, while `maxSeconds` lasts), peak throughput.
 */
export async function benchmarkSteps(backend: string, step: () => Promise<void>, steps: number, maxSeconds: number, memorySteps = 0): Promise<BenchResult> {
  const memory = (after: number) => ({ steps: after, bytes: tf.memory().numBytes, tensors: tf.memory().numTensors });
  const start = performance.now();
  const outOfTime = () => (performance.now() - start) / 1000 > maxSeconds;
  await step(); // warm-up: shader compilation
  const profile = await profileStep(step);
  const traffic = await countTraffic(step);
  const msPerStep: number[] = [];
  let after10: BenchResult['memory']['after10'] = null;
  let cut = false;
  let taken = 0;
  for (; taken < Math.max(steps, memorySteps); taken++) {
    if (taken > 0 && outOfTime()) {
      cut = taken < steps;
      break;
    }
    const t0 = performance.now();
    await step();
    if (taken < steps) msPerStep.push(performance.now() - t0);
    if (taken === 9) after10 = memory(10);
  }
  const afterAll = memory(taken);
  return {
    backend,
    msPerStep,
    stepMs: stepStats(msPerStep),
    kernelsPerStep: profile.kernels,
    kernelKinds: profile.kinds,
    macsPerStep: profile.macs,
    traffic,
    memory: { after10, afterAll },
    peakBytes: profile.peakBytes,
    limits: await peakThroughput(),
    cut,
  };
}
