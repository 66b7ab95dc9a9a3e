/**
 * The step a run takes, one at a time: the compiled WebGPU step (planned once for a batch shape, replayed every step)
 * wherever the run is on webgpu, else TF.js's own. The compiled step is built at the first step, rebuilt when TF.js has
 * moved a variable it binds (a preview's batch norm, a restored checkpoint) or the batch shape changes (an epoch's last,
 * smaller batch); a config it does not cover, or a build or first step that fails, leaves the run on TF.js's step with
 * the reason, never with a wrong result.
 */
import * as tf from '@tensorflow/tfjs';
import { compileStep, UnsupportedStep } from '../model';
import type { CompiledStep, Trainer } from '../model';
import { webgpuAdapterInfo, webgpuDevice } from '../model/webgpu/gpu';
import { adapterKey, tuneFor } from '../model/webgpu/tuning';
import type { TuningReport, TuningStore } from '../model/webgpu/tuning';
import { indexedDbTuningStore } from '../model/webgpu/tuningStoreIndexedDb';
import type { EngineChoice, EngineReport } from './protocol';

/** One training step on a batch: the losses in the trainer's `lossNames` order (the caller disposes them). */
export type StepFn = (realA: tf.Tensor4D, realB: tf.Tensor4D) => Promise<tf.Tensor1D>;

/** TF.js's own step: the trainer's scalar losses stacked in `lossNames` order. */
export function tfjsStep(trainer: Trainer, realA: tf.Tensor4D, realB: tf.Tensor4D): tf.Tensor1D {
  const losses = trainer.trainStep(realA, realB);
  const packed = tf.stack(trainer.lossNames.map((n) => losses[n])) as tf.Tensor1D;
  tf.dispose(Object.values(losses));
  return packed;
}

/** Why a run on webgpu takes TF.js's step when the user asked for it. */
export const ASKED_FOR_TFJS = 'asked for';

/** What a failed compiled step may have counted before its commands were refused. */
interface Counts {
  step: number;
  G: number;
  D: number;
}

/** GPU errors that make a build or its first step unusable (errors of TF.js's own work in between count too). */
const SCOPES: GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

export class StepEngine {
  private compiled: CompiledStep | null = null;
  /** Why the compiled step was given up for this run (null: it was not). */
  private fellBack: string | null = null;
  private told: EngineReport | null = null;
  /** The last tuning (null: none yet); batch shapes already tuned for, so a rebuild does not tune again. */
  private tuning: TuningReport | null = null;
  private readonly tunedShapes = new Set<string>();
  private readonly wanted: boolean;
  private readonly asked: boolean;

  /**
   * An engine for `trainer` on the current backend; `onReport` hears which step runs, at the first step and whenever
   * that changes.
   */
  constructor(
    readonly trainer: Trainer,
    choice: EngineChoice,
    private readonly onReport: (report: EngineReport) => void = () => undefined,
    /** Builds the compiled step (tests put a failing one here). */
    private readonly compile: typeof compileStep = compileStep,
    /** Where tuned kernel choices are kept between runs (IndexedDB in a browser; none in Node unless given). */
    private readonly tuningStore: TuningStore | null = indexedDbTuningStore(),
    /** Milliseconds the kernel tuning may take before a build; passes left untimed keep defaults until a later run. */
    private readonly tuningBudgetMs = 2000,
  ) {
    const webgpu = tf.getBackend() === 'webgpu';
    this.wanted = webgpu && choice === 'compiled';
    this.asked = webgpu && choice === 'tfjs';
  }

  /** The step that runs now (before the first step: the one that is meant to). */
  get report(): EngineReport {
    if (this.wanted && !this.fellBack) return { engine: 'compiled', reason: null, tuning: this.tuning };
    return { engine: 'tfjs', reason: this.fellBack ?? (this.asked ? ASKED_FOR_TFJS : null) };
  }

  /** One training step on NHWC batches; returns the losses in `lossNames` order (the caller disposes them). */
  readonly step: StepFn = async (realA, realB) => {
    const losses = this.wanted && !this.fellBack ? await this.compiledStep(realA, realB) : null;
    this.tell();
    return losses ?? tfjsStep(this.trainer, realA, realB);
  };

  /** Destroys the compiled step's own buffers (a later step builds it again); the trainer is the caller's. */
  dispose(): void {
    this.compiled?.dispose();
    this.compiled = null;
  }

  /** The compiled step's losses, or null once it has fallen back (nothing counted, nothing updated). */
  private async compiledStep(realA: tf.Tensor4D, realB: tf.Tensor4D): Promise<tf.Tensor1D | null> {
    const counts = this.counts();
    try {
      if (tf.getBackend() !== 'webgpu') throw new UnsupportedStep(`the backend is now ${tf.getBackend()}`);
      const [batch, height, width] = realA.shape;
      const s = this.compiled;
      if (s && !s.stale() && s.shape[0] === batch && s.shape[1] === height && s.shape[2] === width) return s.run(realA, realB);
      return await this.buildAndRun(realA, realB);
    } catch (e) {
      this.dispose();
      this.rewind(counts);
      this.fellBack = e instanceof UnsupportedStep ? e.message : `the compiled step failed: ${e instanceof Error ? e.message : String(e)}`;
      return null;
    }
  }

  /** Builds the step for this batch's shape (the old one destroyed first) and runs it once, checked for GPU errors. */
  private async buildAndRun(realA: tf.Tensor4D, realB: tf.Tensor4D): Promise<tf.Tensor1D> {
    this.dispose();
    const device = webgpuDevice();
    await this.tune(realA.shape[0], realA.shape[1], realA.shape[2]);
    for (const f of SCOPES) device.pushErrorScope(f);
    let losses: tf.Tensor1D | null = null;
    try {
      const [batch, height, width] = realA.shape;
      this.compiled = this.compile(this.trainer, batch, height, width);
      losses = this.compiled.run(realA, realB);
    } finally {
      // all popped before any await, so the device's scopes stay balanced whatever threw
      const popped = SCOPES.map(() => device.popErrorScope());
      const errors = await Promise.all(popped.map((p) => p.catch((e: unknown) => ({ message: String(e) }))));
      const error = errors.find((x) => x != null);
      if (error) {
        losses?.dispose();
        // a refused submit updated nothing: the caller rewinds the counts and falls back
        throw new Error(`the GPU refused it (${error.message.split('\n')[0]})`);
      }
    }
    return losses;
  }

  /**
   * Times the conv kernels' tile candidates for this batch shape on this GPU (choices kept in the store), once per
   * shape; a tuning that fails leaves the defaults, which are as exact, only slower.
   */
  private async tune(batch: number, height: number, width: number): Promise<void> {
    const shape = `${batch}x${height}x${width}`;
    if (this.tunedShapes.has(shape)) return;
    this.tunedShapes.add(shape);
    try {
      const device = webgpuDevice();
      const report = await tuneFor(device, adapterKey(webgpuAdapterInfo()), () => this.compile(this.trainer, batch, height, width), this.tuningStore, this.tuningBudgetMs);
      this.tuning = { ...report, timings: [] }; // the page needs the counts, not every candidate
    } catch {
      this.tuning = null;
    }
  }

  private counts(): Counts {
    const t = this.trainer;
    return { step: t.step, G: t.optimizers.G.iterations, D: t.optimizers.D.iterations };
  }

  /** Takes back what a compiled step counted before its commands were refused. */
  private rewind(c: Counts): void {
    this.trainer.step = c.step;
    this.trainer.optimizers.G.setIterations(c.G);
    this.trainer.optimizers.D.setIterations(c.D);
  }

  /** Tells the step that runs, when it is news. */
  private tell(): void {
    const r = this.report;
    if (this.told && this.told.engine === r.engine && this.told.reason === r.reason && this.told.tuning === r.tuning) return;
    this.told = r;
    this.onReport(r);
  }
}
