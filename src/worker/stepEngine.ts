/**
 * The step a run takes, one at a time: the compiled WebGPU step (planned once for a batch shape, replayed every step)
 * wherever the run is on webgpu, else TF.js's own. The compiled step is built at the first step, rebuilt when TF.js has
 * moved a variable it binds (a preview's batch norm, a restored checkpoint) or the batch shape changes (an epoch's last,
 * smaller batch); a config it does not cover, or a build or first step that fails, leaves the run on TF.js's step with
 * the reason, never with a wrong result. A build whose buffers the GPU cannot make is no reason to fall back (TF.js's
 * step needs more): it throws StepOutOfMemory, which names what needed how much and the option to lower.
 */
import * as tf from '@tensorflow/tfjs';
import { compileStep, UnsupportedStep } from '../model';
import type { CompiledStep, Trainer } from '../model';
import { webgpuAdapterInfo, webgpuDevice } from '../model/webgpu/gpu';
import { adapterKey, tuneFor } from '../model/webgpu/tuning';
import type { TuningReport, TuningStore } from '../model/webgpu/tuning';
import { indexedDbTuningStore } from '../model/webgpu/tuningStoreIndexedDb';
import { compiledCulprit, formatBytes } from '../config/sizeLimits';
import { compiledMemoryFor } from './compiledMemory';
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

/** The GPU could not make the compiled step's buffers: the run cannot take this step, nor TF.js's, which needs more. */
export class StepOutOfMemory extends Error {
  constructor(
    message: string,
    /** The option to lower. */
    readonly option: string,
  ) {
    super(message);
  }
}

/** Pops error scopes pushed in `filters`' order; the errors by filter (all popped before any await). */
async function popScopes(device: GPUDevice, filters: GPUErrorFilter[]): Promise<Partial<Record<GPUErrorFilter, string>>> {
  const popped = filters.map(() => device.popErrorScope());
  const errors = await Promise.all(popped.map((p) => p.catch((e: unknown) => ({ message: String(e) }))));
  const out: Partial<Record<GPUErrorFilter, string>> = {};
  // scopes pop innermost first: the last filter pushed is the first popped
  errors.forEach((e, i) => {
    if (e) out[filters[filters.length - 1 - i]] = e.message.split('\n')[0];
  });
  return out;
}

export class StepEngine {
  private compiled: CompiledStep | null = null;
  /** The compiled step was built and has not run yet: its first step is checked for GPU errors. */
  private unchecked = false;
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
    this.unchecked = false;
  }

  /** The compiled step's losses, or null once it has fallen back (nothing counted, nothing updated). */
  private async compiledStep(realA: tf.Tensor4D, realB: tf.Tensor4D): Promise<tf.Tensor1D | null> {
    const counts = this.counts();
    try {
      if (tf.getBackend() !== 'webgpu') throw new UnsupportedStep(`the backend is now ${tf.getBackend()}`);
      const [batch, height, width] = realA.shape;
      const s = this.compiled;
      const fresh = s && !s.stale() && s.shape[0] === batch && s.shape[1] === height && s.shape[2] === width;
      if (!fresh) await this.build(batch, height, width);
      if (!this.unchecked) return this.compiled!.run(realA, realB);
      return await this.runChecked(realA, realB);
    } catch (e) {
      this.dispose();
      this.rewind(counts);
      if (e instanceof StepOutOfMemory) throw e;
      this.fellBack = e instanceof UnsupportedStep ? e.message : `the compiled step failed: ${e instanceof Error ? e.message : String(e)}`;
      return null;
    }
  }

  /**
   * Builds the compiled step for batches of this shape before the first step (its kernels tuned first), so that a
   * step whose buffers the GPU cannot make stops a Start or Resume before anything trains (StepOutOfMemory); any
   * other failure leaves TF.js's step with the reason, as at a first step.
   */
  async prepare(batch: number, height: number, width: number): Promise<void> {
    if (!this.wanted || this.fellBack || tf.getBackend() !== 'webgpu') return;
    try {
      await this.build(batch, height, width);
    } catch (e) {
      this.dispose();
      if (e instanceof StepOutOfMemory) throw e;
      this.fellBack = e instanceof UnsupportedStep ? e.message : `the compiled step failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    this.tell();
  }

  /**
   * Builds the step for this batch shape (the old one destroyed first), its buffers' allocation watched: out of
   * memory throws StepOutOfMemory with what the step needs; a build the GPU refuses otherwise throws to fall back.
   */
  private async build(batch: number, height: number, width: number): Promise<void> {
    this.dispose();
    const device = webgpuDevice();
    await this.tune(batch, height, width);
    const filters: GPUErrorFilter[] = ['validation', 'out-of-memory'];
    for (const f of filters) device.pushErrorScope(f);
    let step: CompiledStep | null = null;
    let thrown: unknown = null;
    try {
      step = this.compile(this.trainer, batch, height, width);
    } catch (e) {
      thrown = e;
    }
    const errors = await popScopes(device, filters);
    if (errors['out-of-memory'] !== undefined) {
      step?.dispose();
      throw this.outOfMemory(batch, height, width, errors['out-of-memory']);
    }
    if (thrown) throw thrown;
    if (errors.validation !== undefined) {
      step?.dispose();
      throw new Error(`the GPU refused its build (${errors.validation})`);
    }
    this.compiled = step;
    this.unchecked = true;
  }

  /** What the step that did not fit needed (counted as its build counts it), and the option to lower. */
  private outOfMemory(batch: number, height: number, width: number, why: string): StepOutOfMemory {
    const m = compiledMemoryFor(this.trainer.config, batch, height, width);
    const option = compiledCulprit({ batch_size: batch }, m);
    return new StepOutOfMemory(
      `the GPU could not make the compiled step's buffers: ${formatBytes(m.plan)} for its plan at ${batch}×${height}×${width}, on top of ${formatBytes(m.weights + m.adam)} of weights and Adam's moments (${why}): lower ${option}`,
      option,
    );
  }

  /** The first step of a build, checked for GPU errors. */
  private async runChecked(realA: tf.Tensor4D, realB: tf.Tensor4D): Promise<tf.Tensor1D> {
    const device = webgpuDevice();
    for (const f of SCOPES) device.pushErrorScope(f);
    let losses: tf.Tensor1D | null = null;
    try {
      losses = this.compiled!.run(realA, realB);
    } finally {
      // all popped before any await, so the device's scopes stay balanced whatever threw
      const errors = await popScopes(device, SCOPES);
      const error = errors['out-of-memory'] ?? errors.validation ?? errors.internal;
      if (error !== undefined) {
        losses?.dispose();
        // a refused submit updated nothing: the caller rewinds the counts and falls back
        throw new Error(`the GPU refused it (${error})`);
      }
    }
    this.unchecked = false;
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
