/**
 * The training session inside the worker: a thin owner of the pieces (the data feed, the backend choice, the trainer,
 * the loop, checkpoints) and of the run's state machine. It reports through `post`; the loop keeps the generation it
 * started with and stops when that is outdated. Anything that reads or replaces the trainer while a loop may be running
 * first waits for that loop to end (`stopLoop`): Adam's updates replace variable data, so a checkpoint read alongside a
 * running step can read freed memory.
 */
import * as tf from '@tensorflow/tfjs';
import { createTrainer, totalEpochs } from '../model';
import type { Trainer } from '../model';
import { currentDeviceLimits, switchBackend } from './backend';
import { validateRunConfig } from '../config/runConfig';
import { trainingSide } from '../config/sizeLimits';
import { countCompiledMemory } from './compiledMemory';
import type { DataOptions } from '../data/preprocess';
import { BackendChooser } from './backendChoice';
import type { TrainingBackend } from './backend';
import type { BenchResult } from './benchmark';
import { packCheckpoint, unpackCheckpoint } from './checkpointFile';
import { deleteRun, listRuns, loadCheckpoint, loadDatasetOf, saveCheckpoint, saveDataset } from './checkpointStore';
import type { Checkpoint } from './checkpointStore';
import { DataFeed } from './dataFeed';
import { loadGenerator, saveGenerators, translatePicture } from './generators';
import type { ImportedGenerator } from './generators';
import { FIRST_THUMBNAILS, LoadFailed, sourceName } from './datasetLoader';
import { firstThumbnails, thumbnailPage } from './pictures';
import { previewRows } from './previews';
import type { BackendChoice, DataSource, EngineChoice, ExportFormat, LossChunk, Picture, ReferenceSummary, RunConfig, RunState, WorkerEvent } from './protocol';
import { ReferenceSlot } from './referenceSlot';
import { referenceCheckpointFiles } from '../interop/referenceExport';
import { generatorToOnnx } from '../interop/onnx';
import { checkpointOf, restoreInto } from './runCheckpoint';
import { StepEngine, tfjsStep } from './stepEngine';
import { awaitedStep, benchmarkSteps, timeOneStep } from './stepTiming';
import { trainingLoop } from './trainingLoop';

type Post = (event: WorkerEvent, transfer?: Transferable[]) => void;

/** A checkpoint at least this often while training (and on pause, stop, and when the page is hidden)… */
const CHECKPOINT_MIN_MS = 5000;
/** …but never more than 1/this of the training time goes into checkpoints (large models take seconds to save). */
const CHECKPOINT_COST_SHARE = 20;

/** Tells whether the command being run was cancelled (a Stop arrived after it). */
export type Cancelled = () => boolean;

export class Session {
  readonly feed = new DataFeed();
  readonly chooser: BackendChooser;
  private trainer: Trainer | null = null;
  /** The trainer's step as the run takes it: compiled on WebGPU unless the user chose TF.js's. */
  private engine: StepEngine | null = null;
  /** The step the user chose for WebGPU runs (Start, Resume): revert keeps it. */
  private engineChoice: EngineChoice = 'compiled';
  /** Bytes a run's step may take when the page gave them (`?budget=`; null: MEMORY_BUDGET's). */
  private budget: number | null = null;
  private config: RunConfig | null = null;
  private runId: string | null = null;
  private state: RunState = 'idle';
  private generation = 0;
  /** Settles when the current loop has returned. */
  private loopDone: Promise<void> = Promise.resolve();
  private history: LossChunk = { firstStep: 1, values: {} };
  private stepsLeft = Infinity;
  private lastCheckpoint = { at: 0, ms: 0, step: -1 };
  /** A generator loaded from exported files, for translation without training. */
  private imported: ImportedGenerator | null = null;
  /** The reference checkpoint imported last (its generators translate when no TF.js model was imported after it). */
  private readonly reference = new ReferenceSlot();

  constructor(private readonly post: Post) {
    this.chooser = new BackendChooser(post);
  }

  private setState(state: RunState, reason?: string) {
    this.state = state;
    // while a run starts (timing, tuning, building its step) and trains, the background check takes only a small share
    this.feed.paceCheck(state === 'starting' || state === 'running');
    this.post({ type: 'state', state, runId: this.runId, reason });
  }

  /** The state with no run in hand: ready when data are loaded. */
  private get restingState(): RunState {
    return this.feed.dataset ? 'ready' : 'idle';
  }

  /**
   * Reads and decodes a dataset; lists what could not be used. A failure leaves nothing loaded (the previous dataset
   * is dropped), is reported as `loadFailed`, and is thrown as a `LoadFailed` to whoever asked.
   */
  async load(source: DataSource, data: DataOptions): Promise<void> {
    await this.leaveRun();
    this.setState('loading');
    try {
      const dataset = await this.feed.load(source, data, (done, total) => this.post({ type: 'loadProgress', done, total }));
      const thumbnails = await firstThumbnails(dataset, FIRST_THUMBNAILS);
      this.post({ type: 'dataset', summary: dataset.summary, thumbnails }, [...thumbnails.A, ...thumbnails.B].map((p) => p.data.buffer));
      this.setState('ready');
      // the rest of the images are decoded once in the background, listing the unusable ones as they are found
      void this.feed.check((u) => this.post({ type: 'datasetUpdate', ...u })).catch((e: unknown) => this.post({ type: 'error', message: `checking the images: ${e instanceof Error ? e.message : String(e)}`, recoverable: true }));
    } catch (e) {
      const failure = e instanceof LoadFailed ? e : new LoadFailed(e instanceof Error ? e.message : String(e));
      this.feed.drop();
      this.post({ type: 'loadFailed', name: sourceName(source), message: failure.message, problems: failure.problems, oneDomain: failure.oneDomain });
      this.setState(this.restingState);
      throw failure;
    }
  }

  /** The page's load command: a failure shows in the data panel (`loadFailed`), so it is not raised again as an error. */
  async open(source: DataSource, data: DataOptions): Promise<void> {
    try {
      await this.load(source, data);
    } catch (e) {
      if (!(e instanceof LoadFailed)) throw e;
    }
  }

  /** A page of the loaded dataset's thumbnails. */
  async thumbnails(domain: 'A' | 'B', offset: number, count: number): Promise<void> {
    const d = this.feed.dataset;
    if (!d) throw new Error('no dataset loaded: load one first');
    const page = await thumbnailPage(d, domain, offset, count);
    this.post({ type: 'thumbnailPage', domain, offset, ...page }, page.items.flatMap((t) => t.pictures.map((p) => p.data.buffer)));
  }

  /** Starts a new run on the loaded dataset, on the chosen backend (timing the candidates if the choice is automatic). */
  async start(config: RunConfig, runId: string | undefined, choice: BackendChoice, cancelled: Cancelled, engine: EngineChoice = 'compiled', fromReference = false, budget: number | null = null): Promise<void> {
    if (fromReference && !this.reference.loaded) throw new Error('no reference checkpoint imported: import its .pth files first');
    // before the checks: they weigh the memory of the step this choice takes
    this.engineChoice = engine;
    this.budget = budget;
    await this.ensureLoaded(config);
    await this.disposeTrainer();
    if (!(await this.useBackend(choice, config, cancelled))) return;
    try {
      this.validate(config); // again, on the backend chosen
    } catch (e) {
      this.setState(this.restingState);
      throw e;
    }
    const t = this.prepare(config);
    // a reference checkpoint's networks, at the epoch after the one its files were saved at
    let epoch = 1;
    if (fromReference) {
      try {
        epoch = await this.reference.applyTo(t);
      } catch (e) {
        await this.disposeTrainer();
        this.setState(this.restingState);
        throw e;
      }
    }
    try {
      await this.prepareStep(config);
    } catch (e) {
      await this.disposeTrainer();
      this.setState(this.restingState);
      throw e;
    }
    this.runId = runId ?? `run-${Date.now().toString(36)}`;
    // a continued run counts its steps from the epochs before it, so the schedule ends where the reference's would
    t.step = (epoch - 1) * this.feed.stepsPerEpoch(config.batch_size);
    this.history = { firstStep: t.step + 1, values: Object.fromEntries(t.lossNames.map((n) => [n, []])) };
    this.feed.epochStep = 0;
    t.setEpoch(epoch);
    await saveDataset(this.runId, this.feed.source!);
    await this.checkpoint();
    this.run(Infinity);
  }

  /** Puts TF.js on the run's backend, saying so; false when a Stop cancelled the choice. */
  private async useBackend(choice: BackendChoice, config: RunConfig, cancelled: Cancelled): Promise<boolean> {
    this.setState('starting');
    try {
      await this.chooser.use(choice, config, (backend, budgetMs) => this.timeOn(config, backend, budgetMs, cancelled), cancelled, this.engineChoice);
    } catch (e) {
      this.setState(this.restingState);
      if (cancelled()) return false;
      throw e;
    }
    if (!cancelled()) return true;
    this.setState(this.restingState, 'Start was cancelled');
    return false;
  }

  /** Loads the dataset again if the run's data options differ from the loaded ones, then checks the config against it. */
  private async ensureLoaded(config: RunConfig): Promise<void> {
    if (!this.feed.source) throw new Error('load a dataset first');
    if (!this.feed.loadedAs(config.data)) await this.load(this.feed.source, config.data);
    this.validate(config);
  }

  /** A fresh trainer for the config and its step engine, with the images on the current backend. */
  private prepare(config: RunConfig): Trainer {
    this.config = config;
    this.trainer = createTrainer(config.train);
    this.engine = new StepEngine(this.trainer, this.engineChoice, (report) => this.post({ type: 'engine', report }));
    this.feed.shuffle(); // a fresh epoch order for the run
    return this.trainer;
  }

  /**
   * Milliseconds per step of this config on a backend, within a budget (after a warm-up step: compilation, first-use
   * costs, the compiled step's build), taken by the step the run would take there.
   */
  private async timeOn(config: RunConfig, backend: TrainingBackend, budgetMs: number, cancelled: Cancelled): Promise<number | null> {
    await switchBackend(backend);
    const t = createTrainer(config.train);
    const engine = new StepEngine(t, this.engineChoice);
    this.feed.shuffle(); // a fresh order: the next run starts its epoch anew anyway
    try {
      return await timeOneStep(engine.step, () => this.feed.nextBatch(config), { warmUp: true, budgetMs, cancelled });
    } finally {
      engine.dispose();
      t.dispose();
    }
  }

  /** Benchmarks a config on a backend (see `benchmarkSteps`). */
  async benchmark(config: RunConfig, backend: TrainingBackend, steps: number, maxSeconds: number, memorySteps = 0): Promise<BenchResult> {
    await this.disposeTrainer();
    await switchBackend(backend);
    await this.ensureLoaded(config);
    const t = this.prepare(config);
    try {
      // TF.js's step: the benchmark profiles TF.js's kernels
      return await benchmarkSteps(backend, () => awaitedStep(async (a, b) => tfjsStep(t, a, b), () => this.feed.nextBatch(config)), steps, maxSeconds, memorySteps);
    } finally {
      await this.disposeTrainer();
      this.setState(this.restingState);
    }
  }

  /** The option table's own checks with this backend's limits (the page shows them where they are set), plus what only the data can tell. */
  private validate(c: RunConfig) {
    if (c.train.model === 'pix2pix' && this.feed.dataset!.summary.arrangement === 'unaligned') {
      throw new Error('pix2pix needs paired images; this dataset is two unpaired domains: train CycleGAN');
    }
    const compiled = tf.getBackend() === 'webgpu' && this.engineChoice === 'compiled' ? countCompiledMemory(c).memory : null;
    const [problem] = validateRunConfig(c, { ...currentDeviceLimits(), ...(this.budget === null ? {} : { budget: this.budget }) }, compiled ? { step: 'compiled', memory: compiled } : { step: 'tfjs' });
    if (problem) throw new Error(`--${problem.option}: ${problem.message}`);
  }

  /** Builds the compiled step before the first step where the batch shape is known (a crop): out of memory throws here. */
  private async prepareStep(c: RunConfig): Promise<void> {
    const side = trainingSide(c);
    if (c.data.preprocess.includes('crop')) await this.engine!.prepare(c.batch_size, side, side);
  }

  /** Runs until paused (or for `steps` steps). */
  private run(steps: number) {
    this.stepsLeft = steps;
    this.setState('running');
    this.loopDone = this.loop(++this.generation);
  }

  private async loop(generation: number) {
    const session = this;
    const host = {
      trainer: this.trainer!,
      step: this.engine!.step,
      feed: this.feed,
      config: () => this.config!,
      history: this.history,
      post: (e: WorkerEvent) => this.post(e),
      outdated: () => this.generation !== generation,
      get stepsLeft() {
        return session.stepsLeft;
      },
      set stepsLeft(n: number) {
        session.stepsLeft = n;
      },
      preview: () => this.preview(),
      checkpointIfDue: (epochEnded: boolean) => this.checkpointIfDue(epochEnded),
    };
    const end = await trainingLoop(host);
    switch (end.kind) {
      case 'stopped':
        return; // whoever outdated the loop sets the state
      case 'budget':
      case 'done':
        await this.checkpoint();
        return this.setState(end.kind === 'done' ? 'done' : 'paused');
      case 'diverged':
        this.generation++;
        return this.setState('paused', end.reason);
      case 'failed':
        this.generation++;
        this.setState('paused', end.message);
        return this.post({ type: 'error', message: `training stopped: ${end.message}`, recoverable: true });
      default: {
        const never: never = end;
        return never;
      }
    }
  }

  async pause(): Promise<void> {
    if (this.state !== 'running') return;
    await this.stopLoop();
    await this.checkpoint();
    this.setState('paused');
  }

  resume(steps = Infinity): void {
    if (!this.trainer) throw new Error('nothing to resume: start a run first');
    if (this.state === 'running') return;
    this.run(steps);
  }

  /** Ends the run where it is, saved at its exact last step; during a Start it cancels the Start instead. */
  async stop(): Promise<void> {
    await this.stopLoop();
    this.engine?.dispose(); // a stopped run trains no more: its compiled step's buffers go now
    if (this.trainer && this.runId) {
      await this.checkpoint();
      this.setState('stopped');
    } else this.setState(this.restingState);
  }

  /** Saves the run now if it has steps no checkpoint holds (the page asks when it is hidden or closed). */
  async save(): Promise<void> {
    if (!this.trainer || this.trainer.step === this.lastCheckpoint.step) return;
    await this.withLoopHeld(() => this.checkpoint());
  }

  /** Leaves the current run (it stays saved) and goes back to a fresh start on the same data. */
  async reset(): Promise<void> {
    await this.leaveRun();
    this.setState(this.restingState);
  }

  /** Puts the current run away, saved at its last step, so that nothing of it stays beside new data or a new run. */
  private async leaveRun(): Promise<void> {
    await this.stopLoop();
    if (this.trainer && this.trainer.step !== this.lastCheckpoint.step) await this.checkpoint();
    await this.disposeTrainer();
    this.runId = null;
    this.config = null;
    this.history = { firstStep: 1, values: {} };
  }

  /** Ends the running loop, if any, and waits until it has returned. */
  private async stopLoop(): Promise<void> {
    this.generation++;
    await this.loopDone;
  }

  /** Runs `f` with the loop stopped, then lets a running run go on. */
  private async withLoopHeld<T>(f: () => Promise<T>): Promise<T> {
    const wasRunning = this.state === 'running';
    if (wasRunning) await this.stopLoop();
    try {
      return await f();
    } finally {
      if (wasRunning) this.run(this.stepsLeft);
    }
  }

  /** Changes how often previews are made, for the running run too. */
  setPreviewEvery(every: number): void {
    if (!Number.isInteger(every) || every < 1) throw new Error(`preview every ${every} steps: needs a whole number ≥ 1`);
    if (this.config) this.config = { ...this.config, preview_every: every };
  }

  /** The fixed preview images, translated. */
  async preview(): Promise<void> {
    const t = this.trainer;
    const d = this.feed.dataset;
    if (!t || !d || !this.config) return;
    const rows = await previewRows(t, d, this.config);
    this.post({ type: 'preview', step: t.step, rows }, rows.flatMap((r) => r.pictures.map((p) => p.data.buffer)));
  }

  /** A checkpoint when the last is older than the interval (or at an epoch's end, a third of it). */
  private async checkpointIfDue(epochEnded: boolean): Promise<void> {
    const every = Math.min(this.config!.checkpoint_every_s * 1000, Math.max(CHECKPOINT_MIN_MS, CHECKPOINT_COST_SHARE * this.lastCheckpoint.ms));
    const since = performance.now() - this.lastCheckpoint.at;
    if (since >= every || (epochEnded && since >= every / 3)) await this.checkpoint();
  }

  /** Saves everything needed to continue exactly. */
  async checkpoint(): Promise<void> {
    const t = this.trainer;
    if (!t || !this.runId || !this.config) return;
    const t0 = performance.now();
    const c = await checkpointOf(t, {
      runId: this.runId,
      config: this.config,
      datasetName: this.feed.dataset?.summary.name ?? 'dataset',
      epochStep: this.feed.epochStep,
      history: this.history,
    });
    await saveCheckpoint(c);
    this.lastCheckpoint = { at: performance.now(), ms: performance.now() - t0, step: c.step };
    this.post({ type: 'checkpoint', runId: c.runId, step: c.step, savedAt: c.savedAt });
    await this.listRuns();
  }

  /**
   * Loads a saved run (its dataset too) onto the chosen backend, as Start does, and trains on from its last
   * checkpoint; with `run` false it stays paused there.
   */
  async resumeRun(runId: string, choice: BackendChoice, cancelled: Cancelled, run = true, engine: EngineChoice = this.engineChoice, budget: number | null = this.budget): Promise<void> {
    const c = await loadCheckpoint(runId);
    const source = await loadDatasetOf(runId);
    if (!c || !source) throw new Error(`run ${runId} is not saved in this browser`);
    await this.disposeTrainer();
    this.engineChoice = engine;
    this.budget = budget;
    await this.load(source, c.config.data);
    if (!(await this.useBackend(choice, c.config, cancelled))) return;
    await this.restore(c);
    // a step that does not fit leaves the run paused at its checkpoint, saying why
    try {
      this.validate(c.config);
      await this.prepareStep(c.config);
    } catch (e) {
      this.setState('paused', e instanceof Error ? e.message : String(e));
      throw e;
    }
    if (run) this.run(Infinity);
    else this.setState('paused');
    await this.preview();
  }

  /** A fresh trainer with a checkpoint's state, and the page told where the run stands. */
  private async restore(c: Checkpoint): Promise<void> {
    this.runId = c.runId;
    const t = this.prepare(c.config);
    await restoreInto(t, c);
    this.feed.epochStep = c.epochStep;
    this.history = c.history;
    this.lastCheckpoint = { at: performance.now(), ms: this.lastCheckpoint.ms, step: c.step };
    this.post({ type: 'checkpoint', runId: c.runId, step: c.step, savedAt: c.savedAt, history: c.history });
    this.post({
      type: 'progress', step: c.step, epoch: c.epoch, epochs: totalEpochs(c.config.train), totalSteps: this.feed.stepsPerEpoch(c.config.batch_size) * totalEpochs(c.config.train), lr: t.lr,
      stepsPerSecond: 0, losses: { firstStep: c.step + 1, values: Object.fromEntries(t.lossNames.map((n) => [n, []])) },
    });
  }

  /** The current run as one file (checkpoint, history and dataset). */
  async exportCheckpoint(): Promise<{ name: string; data: ArrayBuffer }> {
    if (!this.runId || !this.trainer) throw new Error('no run to export: start or resume one first');
    await this.withLoopHeld(() => this.checkpoint()); // the file holds the run as it is now
    const c = await loadCheckpoint(this.runId);
    const source = await loadDatasetOf(this.runId);
    if (!c || !source) throw new Error('the run has no saved checkpoint yet');
    const bytes = await packCheckpoint(c, source);
    return { name: `${c.datasetName.replace(/[^\w.-]+/g, '_')}-${c.config.train.model}-step${c.step}.ganstudio.zip`, data: bytes.buffer as ArrayBuffer };
  }

  /** Saves a run from a checkpoint file into this browser; resume it from the list. */
  async importCheckpoint(file: Blob): Promise<string> {
    const { checkpoint, source } = unpackCheckpoint(new Uint8Array(await file.arrayBuffer()));
    await saveDataset(checkpoint.runId, source);
    await saveCheckpoint(checkpoint);
    await this.listRuns();
    return checkpoint.runId;
  }

  /** Back to the current run's last checkpoint (after a NaN, for instance), paused, on the backend in use. */
  async revert(): Promise<void> {
    if (!this.runId) throw new Error('no run to go back to');
    await this.resumeRun(this.runId, tf.getBackend() as TrainingBackend, () => false, false);
  }

  async listRuns(): Promise<void> {
    this.post({ type: 'runs', runs: await listRuns() });
  }

  async deleteRun(runId: string): Promise<void> {
    if (runId === this.runId) {
      await this.disposeTrainer();
      this.runId = null;
      this.config = null;
      this.setState(this.restingState);
    }
    await deleteRun(runId);
    await this.listRuns();
  }

  /**
   * The run's networks in a format: TF.js (the generators' model.json + weights), PyTorch (the reference's
   * checkpoints/<name>/ folder, every network) or ONNX (one file per generator).
   */
  async exportWeights(format: ExportFormat = 'tfjs'): Promise<{ name: string; data: ArrayBuffer }[]> {
    const t = this.trainer;
    const config = this.config;
    if (!t || !config) throw new Error('nothing to export: start or resume a run first');
    return this.withLoopHeld(async () => {
      switch (format) {
        case 'tfjs':
          return saveGenerators(t);
        case 'pytorch': {
          const datasetName = this.feed.dataset?.summary.name ?? 'dataset';
          return referenceCheckpointFiles(t.models, config, { name: `${datasetName}_${config.train.model}`, datasetName, epoch: t.epoch, step: t.step });
        }
        case 'onnx':
          return Object.entries(t.models)
            .filter(([name]) => name.startsWith('netG'))
            .map(([name, model]) => ({ name: `${name}.onnx`, data: generatorToOnnx(model, { name }).slice().buffer as ArrayBuffer }));
      }
    });
  }

  /** Loads an exported generator (model.json + weights files) for translation; it replaces an imported reference checkpoint. */
  async importModel(files: File[]): Promise<{ name: string; multiple: number }> {
    const g = await loadGenerator(files);
    this.imported?.model.dispose();
    this.imported = g;
    this.reference.dispose();
    return { name: g.name, multiple: g.multiple };
  }

  /** Reads the reference's .pth files (and options file): its generators translate now, and a run can start from it. */
  async importReference(files: File[]): Promise<ReferenceSummary> {
    const summary = await this.reference.load(files);
    this.imported?.model.dispose();
    this.imported = null;
    return summary;
  }

  /** Translates one picture of any size, with the run's generator or an imported one. */
  async translate(image: Picture, direction: 'AtoB' | 'BtoA', useImported = false): Promise<Picture> {
    const t = this.trainer;
    const withImported = useImported || !t;
    const imported = withImported ? (this.imported ?? this.reference.generator(direction)) : null;
    if (withImported && !imported && this.reference.loaded) {
      throw new Error(`the imported checkpoint has no generator for ${direction === 'AtoB' ? 'A → B (G_A)' : 'B → A (G_B)'}`);
    }
    if (!t && !imported) throw new Error('no model yet: start or resume a run, or import an exported model');
    return translatePicture(image, direction, imported ? { imported } : { trainer: t! });
  }

  private async disposeTrainer(): Promise<void> {
    await this.stopLoop();
    this.engine?.dispose();
    this.engine = null;
    this.trainer?.dispose();
    this.trainer = null;
  }

  async dispose(): Promise<void> {
    await this.disposeTrainer();
    this.reference.dispose();
    this.feed.drop();
  }
}
