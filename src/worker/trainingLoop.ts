/**
 * The training loop: steps until told to stop, the schedule ends or the step budget is spent. Losses are read once
 * per report (which also keeps the GPU queue short) and appended to the run's history; a non-finite loss ends it.
 */
import * as tf from '@tensorflow/tfjs';
import { totalEpochs } from '../model';
import type { Trainer } from '../model';
import type { DataFeed } from './dataFeed';
import type { LossChunk, RunConfig, WorkerEvent } from './protocol';
import type { StepFn } from './stepEngine';

/** Progress events at most this often. */
const REPORT_MS = 100;

/** What the loop needs from the session that owns it. */
export interface LoopHost {
  trainer: Trainer;
  /** The trainer's step as the run takes it (compiled on WebGPU, else TF.js's): see StepEngine. */
  step: StepFn;
  feed: DataFeed;
  /** Read every step: preview_every may change while the loop runs. */
  config(): RunConfig;
  /** Every step's losses since the run began; the loop appends to it. */
  history: LossChunk;
  post(event: WorkerEvent): void;
  /** True once the loop should return (a pause, stop or newer command). */
  outdated(): boolean;
  /** Steps the loop may still take (Infinity: until paused); it counts down. */
  stepsLeft: number;
  preview(): Promise<void>;
  /** Saves a checkpoint if one is due (by time, or at an epoch's end). */
  checkpointIfDue(epochEnded: boolean): Promise<void>;
}

/** Why the loop returned. */
export type LoopEnd = { kind: 'stopped' } | { kind: 'budget' } | { kind: 'done' } | { kind: 'diverged'; reason: string } | { kind: 'failed'; message: string };

export async function trainingLoop(h: LoopHost): Promise<LoopEnd> {
  const t = h.trainer;
  const names = t.lossNames;
  let pending: tf.Tensor1D[] = [];
  let pendingFirst = t.step + 1;
  let lastReport = performance.now();
  let stepsSinceReport = 0;
  const total = h.feed.stepsPerEpoch(h.config().batch_size) * totalEpochs(t.config);
  /** One read for all steps since the last report; appends them to the history. */
  const report = async (): Promise<LossChunk> => {
    const packed = tf.stack(pending);
    const values = await packed.data();
    tf.dispose([packed, ...pending]);
    const chunk: LossChunk = { firstStep: pendingFirst, values: Object.fromEntries(names.map((n) => [n, [] as number[]])) };
    for (let s = 0; s < pending.length; s++) names.forEach((n, j) => chunk.values[n].push(values[s * names.length + j]));
    pending = [];
    pendingFirst = t.step + 1;
    for (const n of names) h.history.values[n].push(...chunk.values[n]);
    const elapsed = (performance.now() - lastReport) / 1000;
    h.post({
      type: 'progress', step: t.step, epoch: t.epoch, epochs: totalEpochs(t.config), totalSteps: total, lr: t.lr,
      stepsPerSecond: stepsSinceReport / elapsed, losses: chunk,
    });
    // an image found unusable by this step's batch is listed at once, the check may be long done
    if (h.feed.hasNews) h.post({ type: 'datasetUpdate', ...h.feed.update() });
    lastReport = performance.now();
    stepsSinceReport = 0;
    return chunk;
  };
  try {
    while (!h.outdated() && h.stepsLeft > 0 && t.step < total) {
      const c = h.config();
      const { a, b } = await h.feed.nextBatch(c);
      try {
        pending.push(await h.step(a, b));
      } finally {
        tf.dispose([a, b]);
      }
      h.stepsLeft--;
      stepsSinceReport++;
      let epochEnded = false;
      if (++h.feed.epochStep >= h.feed.stepsPerEpoch(c.batch_size)) {
        h.feed.epochStep = 0;
        t.setEpoch(t.epoch + 1);
        h.feed.shuffle();
        epochEnded = true;
      }
      if (performance.now() - lastReport >= REPORT_MS || h.stepsLeft === 0 || t.step >= total || epochEnded) {
        const chunk = await report();
        const bad = names.find((n) => chunk.values[n].some((v) => !Number.isFinite(v)));
        if (bad) {
          const value = chunk.values[bad].find((v) => !Number.isFinite(v));
          return { kind: 'diverged', reason: `the loss ${bad} became ${value} at step ${t.step}: training diverged. Go back to the last checkpoint and lower --lr` };
        }
        // let commands (pause, stop) in: on the CPU backend data() resolves without ever leaving the microtask queue
        await new Promise((r) => setTimeout(r, 0));
        if (h.outdated()) break;
      }
      // the first step's too, so a new run shows its translations at once rather than after preview_every steps
      if (t.step % c.preview_every === 0 || t.step === 1) await h.preview();
      // a checkpoint holds every step it counts, so only right after a report
      if (!pending.length) await h.checkpointIfDue(epochEnded);
    }
    // steps taken since the last report belong to the history a checkpoint saves
    if (pending.length) await report();
    return h.outdated() ? { kind: 'stopped' } : t.step >= total ? { kind: 'done' } : { kind: 'budget' };
  } catch (e) {
    tf.dispose(pending);
    return { kind: 'failed', message: e instanceof Error ? e.message : String(e) };
  }
}
