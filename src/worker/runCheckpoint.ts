/** A run as a checkpoint and back: weights, optimizer moments, pools, position in the schedule and loss history. */
import type { Trainer } from '../model';
import type { Checkpoint } from './checkpointStore';
import type { LossChunk, RunConfig } from './protocol';
import { restoreOptimizers, restorePools, restoreWeights, saveOptimizers, savePools, saveWeights } from './snapshot';

/** Where a run stands, besides its trainer. */
export interface RunPosition {
  runId: string;
  config: RunConfig;
  datasetName: string;
  epochStep: number;
  history: LossChunk;
}

/** Everything needed to continue exactly, read from the trainer (the loop must not be running). */
export async function checkpointOf(t: Trainer, p: RunPosition): Promise<Checkpoint> {
  return {
    runId: p.runId,
    config: p.config,
    datasetName: p.datasetName,
    step: t.step,
    epoch: t.epoch,
    epochStep: p.epochStep,
    savedAt: Date.now(),
    weights: await saveWeights(t),
    optimizers: await saveOptimizers(t),
    pools: await savePools(t),
    history: p.history,
  };
}

/** Puts a checkpoint's state into a fresh trainer of the same config. */
export async function restoreInto(t: Trainer, c: Checkpoint): Promise<void> {
  restoreWeights(t, c.weights);
  await restoreOptimizers(t, c.optimizers);
  restorePools(t, c.pools);
  t.step = c.step;
  t.setEpoch(c.epoch);
}
