/**
 * The training session inside the worker: dataset, trainer, the loop and its checkpoints. It reports
 * through `post`; the loop keeps the generation it started with and stops when that is outdated. Anything that
 * reads or replaces the trainer while a loop may be running first waits for that loop to end (`stopLoop`): Adam's
 * updates replace variable data, so a checkpoint read alongside a running step can read freed memory.
 */
import * as tf from '@tensorflow/tfjs';
import { createTrainer, generatorMultiple, runAtAnySize, totalEpochs } from '../model';
import type { Trainer } from '../model';
import { deleteRun, listRuns, loadCheckpoint, loadDatasetOf, saveCheckpoint, saveDataset } from './checkpointStore';
import type { Checkpoint } from './checkpointStore';
import { loadDataset, resizeRgb } from './datasetLoader';
import { packCheckpoint, unpackCheckpoint } from './checkpointFile';
import type { RgbImage } from '../data/demos';
import type { LoadedDataset } from './datasetLoader';
import { bytesToUnit, centredPlan, ImageStore } from './imageStore';
import type { Part } from './imageStore';
import type { DataSource, LossChunk, Picture, PreviewRow, RunConfig, RunState, WorkerEvent } from './protocol';
import type { TrainingBackend } from './backend';
import { currentDeviceLimits } from './backend';
import { countTraffic, peakThroughput, profileStep, stepStats } from './benchmark';
import type { BenchResult } from './benchmark';
import { validateRunConfig } from '../config/runConfig';
import type { DataOptions } from '../data/preprocess';
import { restoreOptimizers, restorePools, restoreWeights, saveOptimizers, savePools, saveWeights } from './snapshot';

/** Progress events at most this often. */
const REPORT_MS = 100;

type Post = (event: WorkerEvent, transfer?: Transferable[]) => void;

export class Session {
  private source: DataSource | null = null;
  private dataset: LoadedDataset | null = null;
  private loadedWith: DataOptions | null = null;
  private storeA: ImageStore | null = null;
  private storeB: ImageStore | null = null;
  private trainer: Trainer | null = null;
  private config: RunConfig | null = null;
  private runId: string | null = null;
  private state: RunState = 'idle';
  private generation = 0;
  /** Settles when the current loop has returned. */
  private loopDone: Promise<void> = Promise.resolve();
  private epochStep = 0;
  private order: number[] = [];
  private history: LossChunk = { firstStep: 1, values: {} };
  private stepsLeft = Infinity;
  private lastCheckpointAt = 0;
  /** A generator loaded from exported files, for translation without training. */
  private imported: { model: tf.LayersModel; multiple: number; name: string } | null = null;

  constructor(private readonly post: Post) {}

  private setState(state: RunState, reason?: string) {
    this.state = state;
    this.post({ type: 'state', state, runId: this.runId, reason });
  }

  /** Reads and decodes a dataset; lists what could not be used. */
  async load(source: DataSource, data: DataOptions): Promise<void> {
    await this.stopLoop();
    this.setState('loading');
    try {
      const dataset = await loadDataset(source, data, (done, total) => this.post({ type: 'loadProgress', done, total }));
      this.disposeData();
      this.source = source;
      this.dataset = dataset;
      this.loadedWith = data;
      const thumbnails = { A: dataset.A.slice(0, 8).map(thumbnail), B: (dataset.aligned ? [] : dataset.B.slice(0, 8)).map(thumbnail) };
      this.post({ type: 'dataset', summary: dataset.summary, thumbnails }, [...thumbnails.A, ...thumbnails.B].map((p) => p.data.buffer));
      this.setState('ready');
    } catch (e) {
      const problems = (e as { problems?: { path: string; reason: string }[] }).problems;
      if (problems?.length) this.post({ type: 'dataset', summary: { name: 'dataset', mode: 'cycle_gan', arrangement: 'unaligned', countA: 0, countB: 0, testCount: 0, problems, ignored: 0 } });
      this.setState(this.dataset ? 'ready' : 'idle');
      throw e;
    }
  }

  /** Starts a new run on the loaded dataset; `choose` may first pick the backend it runs on. */
  async start(config: RunConfig, runId?: string, choose?: (config: RunConfig, measure: (backend: TrainingBackend) => Promise<number>) => Promise<void>): Promise<void> {
    await this.ensureLoaded(config);
    await this.disposeTrainer();
    if (choose) await choose(config, (backend) => this.timeSteps(config, backend));
    const t = this.prepare(config);
    this.runId = runId ?? `run-${Date.now().toString(36)}`;
    this.history = { firstStep: 1, values: Object.fromEntries(t.lossNames.map((n) => [n, []])) };
    this.epochStep = 0;
    t.setEpoch(1);
    await saveDataset(this.runId, this.source!);
    await this.checkpoint();
    this.run(Infinity);
  }

  /** Loads the dataset again if the run's data options differ from the loaded ones, then checks the config against it. */
  private async ensureLoaded(config: RunConfig): Promise<void> {
    if (!this.source) throw new Error('load a dataset first');
    if (!this.dataset || JSON.stringify(this.loadedWith) !== JSON.stringify(config.data)) await this.load(this.source, config.data);
    this.validate(config);
  }

  /** Switches TF.js to a backend, or says it is not available. */
  private async useBackend(backend: TrainingBackend): Promise<void> {
    if (!(await tf.setBackend(backend))) throw new Error(`${backend} is not available`);
    await tf.ready();
  }

  /** A fresh trainer for the config, with image stores on the current backend. */
  private prepare(config: RunConfig): Trainer {
    this.config = config;
    this.trainer = createTrainer(config.train);
    this.makeStores();
    this.shuffle();
    return this.trainer;
  }

  /** One training step, awaited until its losses are read back (for timing, not for the training loop). */
  private async awaitedStep(t: Trainer): Promise<void> {
    const { a, b } = this.nextBatch();
    const losses = t.trainStep(a, b);
    const packed = tf.stack(t.lossNames.map((n) => losses[n]));
    await packed.data();
    tf.dispose([a, b, packed, ...Object.values(losses)]);
  }

  /** Milliseconds per step of this config on a backend: one warm-up step (shader compilation), then two timed. */
  private async timeSteps(config: RunConfig, backend: TrainingBackend): Promise<number> {
    await this.useBackend(backend);
    const keep = { trainer: this.trainer, config: this.config, storeA: this.storeA, storeB: this.storeB };
    this.storeA = this.storeB = null; // keep.* stay untouched
    const t = this.prepare(config);
    try {
      await this.awaitedStep(t);
      const t0 = performance.now();
      await this.awaitedStep(t);
      await this.awaitedStep(t);
      return (performance.now() - t0) / 2;
    } finally {
      t.dispose();
      (this.storeA as ImageStore | null)?.dispose();
      (this.storeB as ImageStore | null)?.dispose();
      Object.assign(this, keep);
    }
  }

  /**
   * Benchmarks a config on a backend: per-step times, kernels, dispatches and multiply-adds of a step, memory after 10
   * steps and after `memorySteps` (untimed steps past the timed ones, while `maxSeconds` lasts), peak throughput.
   */
  async benchmark(config: RunConfig, backend: TrainingBackend, steps: number, maxSeconds: number, memorySteps = 0): Promise<BenchResult> {
    await this.disposeTrainer();
    await this.useBackend(backend);
    await this.ensureLoaded(config);
    const t = this.prepare(config);
    const step = () => this.awaitedStep(t);
    const memory = (after: number) => ({ steps: after, bytes: tf.memory().numBytes, tensors: tf.memory().numTensors });
    try {
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
    } finally {
      await this.disposeTrainer();
      this.setState(this.dataset ? 'ready' : 'idle');
    }
  }

  /** The option table's own checks with this backend's limits (the page shows them where they are set), plus what only the data can tell. */
  private validate(c: RunConfig) {
    if (c.train.model === 'pix2pix' && this.dataset!.summary.arrangement === 'unaligned') {
      throw new Error('pix2pix needs paired images; this dataset is two unpaired domains: train CycleGAN');
    }
    const [problem] = validateRunConfig(c, currentDeviceLimits());
    if (problem) throw new Error(`--${problem.option}: ${problem.message}`);
  }

  private makeStores() {
    const d = this.dataset!;
    this.storeA?.dispose();
    this.storeB?.dispose();
    this.storeA = new ImageStore(d.A);
    this.storeB = d.B.length ? new ImageStore(d.B) : null;
  }

  private get epochSize(): number {
    const d = this.dataset!;
    return d.aligned ? d.A.length : Math.max(d.A.length, d.B.length);
  }

  private get stepsPerEpoch(): number {
    return Math.ceil(this.epochSize / this.config!.batch_size);
  }

  private shuffle() {
    const n = this.epochSize;
    this.order = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1));
      [this.order[i], this.order[j]] = [this.order[j], this.order[i]];
    }
  }

  /** This step's batch: pix2pix halves share one plan; CycleGAN's B is drawn at random, as the reference does. */
  private nextBatch(): { a: tf.Tensor4D; b: tf.Tensor4D } {
    const c = this.config!;
    const A = this.storeA!;
    const as: tf.Tensor3D[] = [];
    const bs: tf.Tensor3D[] = [];
    for (let k = 0; k < c.batch_size; k++) {
      const i = this.order[(this.epochStep * c.batch_size + k) % this.order.length];
      if (this.dataset!.aligned) {
        const plan = A.plan(i, 'left', c.data, Math.random);
        as.push(A.cut(i, 'left', plan));
        bs.push(A.cut(i, 'right', plan));
      } else if (c.train.model === 'pix2pix') {
        const plan = A.plan(i, 'whole', c.data, Math.random);
        as.push(A.cut(i, 'whole', plan));
        bs.push(this.storeB!.cut(i, 'whole', plan));
      } else {
        const ia = i % A.length;
        const ib = Math.floor(Math.random() * this.storeB!.length);
        as.push(A.cut(ia, 'whole', A.plan(ia, 'whole', c.data, Math.random)));
        bs.push(this.storeB!.cut(ib, 'whole', this.storeB!.plan(ib, 'whole', c.data, Math.random)));
      }
    }
    const a = tf.stack(as) as tf.Tensor4D;
    const b = tf.stack(bs) as tf.Tensor4D;
    tf.dispose([...as, ...bs]);
    const swap = c.train.model === 'pix2pix' && c.data.direction === 'BtoA';
    return swap ? { a: b, b: a } : { a, b };
  }

  /** Runs until paused (or for `steps` steps). */
  private run(steps: number) {
    this.stepsLeft = steps;
    this.setState('running');
    this.loopDone = this.loop(++this.generation);
  }

  private async loop(generation: number) {
    const t = this.trainer!;
    const names = t.lossNames;
    let pending: tf.Tensor1D[] = [];
    let pendingFirst = t.step + 1;
    let lastReport = performance.now();
    let stepsSinceReport = 0;
    const total = this.stepsPerEpoch * totalEpochs(t.config);
    /** One read for all steps since the last report (it also keeps the GPU queue short); appends them to the history. */
    const report = async (): Promise<LossChunk> => {
      const packed = tf.stack(pending);
      const values = await packed.data();
      tf.dispose([packed, ...pending]);
      const chunk: LossChunk = { firstStep: pendingFirst, values: Object.fromEntries(names.map((n) => [n, [] as number[]])) };
      for (let s = 0; s < pending.length; s++) names.forEach((n, j) => chunk.values[n].push(values[s * names.length + j]));
      pending = [];
      pendingFirst = t.step + 1;
      for (const n of names) this.history.values[n].push(...chunk.values[n]);
      const elapsed = (performance.now() - lastReport) / 1000;
      this.post({
        type: 'progress', step: t.step, epoch: t.epoch, epochs: totalEpochs(t.config), totalSteps: total, lr: t.lr,
        stepsPerSecond: stepsSinceReport / elapsed, losses: chunk,
      });
      lastReport = performance.now();
      stepsSinceReport = 0;
      return chunk;
    };
    try {
      while (this.generation === generation && this.stepsLeft > 0 && t.step < total) {
        const { a, b } = this.nextBatch();
        const losses = t.trainStep(a, b);
        pending.push(tf.stack(names.map((n) => losses[n])) as tf.Tensor1D);
        tf.dispose([a, b, ...Object.values(losses)]);
        this.stepsLeft--;
        stepsSinceReport++;
        if (++this.epochStep >= this.stepsPerEpoch) {
          this.epochStep = 0;
          t.setEpoch(t.epoch + 1);
          this.shuffle();
        }
        if (performance.now() - lastReport >= REPORT_MS || this.stepsLeft === 0 || t.step >= total) {
          const chunk = await report();
          const bad = names.find((n) => chunk.values[n].some((v) => !Number.isFinite(v)));
          if (bad) {
            this.generation++;
            this.setState('paused', `the loss ${bad} became ${chunk.values[bad].find((v) => !Number.isFinite(v))} at step ${t.step}: training diverged. Go back to the last checkpoint and lower --lr`);
            return;
          }
          // let commands (pause, stop) in: on the CPU backend data() resolves without ever leaving the microtask queue
          await new Promise((r) => setTimeout(r, 0));
          if (this.generation !== generation) break;
        }
        // the first step's too, so a new run shows its translations at once rather than after preview_every steps
        if (t.step % this.config!.preview_every === 0 || t.step === 1) await this.preview();
        if (performance.now() - this.lastCheckpointAt > this.config!.checkpoint_every_s * 1000) await this.checkpoint();
      }
      // steps taken since the last report belong to the history a checkpoint saves
      if (pending.length) await report();
      if (this.generation === generation) {
        await this.checkpoint();
        this.setState(t.step >= total ? 'done' : 'paused');
      }
    } catch (e) {
      tf.dispose(pending);
      this.generation++;
      this.setState('paused', e instanceof Error ? e.message : String(e));
      this.post({ type: 'error', message: `training stopped: ${e instanceof Error ? e.message : String(e)}`, recoverable: true });
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

  async stop(): Promise<void> {
    await this.stopLoop();
    this.setState('stopped');
  }

  /** Leaves the current run (it stays saved) and goes back to a fresh start on the same data. */
  async reset(): Promise<void> {
    await this.disposeTrainer();
    this.runId = null;
    this.config = null;
    this.history = { firstStep: 1, values: {} };
    this.setState(this.dataset ? 'ready' : 'idle');
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
    const d = this.dataset;
    if (!t || !d || !this.config) return;
    const crop = this.config.data.preprocess.includes('crop') ? this.config.data.crop_size : null;
    const rows: PreviewRow[] = [];
    const cut = (store: ImageStore, i: number, part: Part) => {
      const { width, height } = store.partSize(i, part);
      return tf.expandDims(store.cut(i, part, centredPlan(width, height, crop))) as tf.Tensor4D;
    };
    const previewA = new ImageStore(d.previewA);
    const previewB = d.previewB.length ? new ImageStore(d.previewB) : null;
    try {
      for (let i = 0; i < previewA.length; i++) {
        if (t.config.model === 'pix2pix') {
          const swap = this.config.data.direction === 'BtoA';
          const left = d.aligned ? cut(previewA, i, 'left') : cut(previewA, i, 'whole');
          const right = d.aligned ? cut(previewA, i, 'right') : previewB ? cut(previewB, i % previewB.length, 'whole') : left.clone();
          const [input, target] = swap ? [right, left] : [left, right];
          const output = t.translate(input, 'AtoB');
          rows.push({ direction: 'AtoB', labels: ['input', 'output', 'target'], pictures: await pictures([input, output, target]) });
          tf.dispose([left, right, output]);
        } else {
          const realA = cut(previewA, i, 'whole');
          const fakeB = t.translate(realA, 'AtoB', { eval: true });
          const recA = t.translate(fakeB, 'BtoA', { eval: true });
          rows.push({ direction: 'AtoB', labels: ['real_A', 'fake_B', 'rec_A'], pictures: await pictures([realA, fakeB, recA]) });
          tf.dispose([realA, fakeB, recA]);
        }
      }
      if (previewB && t.config.model === 'cycle_gan') {
        for (let i = 0; i < previewB.length; i++) {
          const realB = cut(previewB, i, 'whole');
          const fakeA = t.translate(realB, 'BtoA', { eval: true });
          const recB = t.translate(fakeA, 'AtoB', { eval: true });
          rows.push({ direction: 'BtoA', labels: ['real_B', 'fake_A', 'rec_B'], pictures: await pictures([realB, fakeA, recB]) });
          tf.dispose([realB, fakeA, recB]);
        }
      }
    } finally {
      previewA.dispose();
      previewB?.dispose();
    }
    this.post({ type: 'preview', step: t.step, rows }, rows.flatMap((r) => r.pictures.map((p) => p.data.buffer)));
  }

  /** Saves everything needed to continue exactly. */
  async checkpoint(): Promise<void> {
    const t = this.trainer;
    if (!t || !this.runId || !this.config) return;
    const c: Checkpoint = {
      runId: this.runId,
      config: this.config,
      datasetName: this.dataset?.summary.name ?? 'dataset',
      step: t.step,
      epoch: t.epoch,
      epochStep: this.epochStep,
      savedAt: Date.now(),
      weights: await saveWeights(t),
      optimizers: await saveOptimizers(t),
      pools: await savePools(t),
      history: this.history,
    };
    await saveCheckpoint(c);
    this.lastCheckpointAt = performance.now();
    this.post({ type: 'checkpoint', runId: c.runId, step: c.step, savedAt: c.savedAt });
    await this.listRuns();
  }

  /** Loads a saved run (its dataset too) and leaves it paused where it was. */
  async resumeRun(runId: string): Promise<void> {
    const c = await loadCheckpoint(runId);
    const source = await loadDatasetOf(runId);
    if (!c || !source) throw new Error(`run ${runId} is not saved in this browser`);
    await this.load(source, c.config.data);
    await this.disposeTrainer();
    this.runId = c.runId;
    const t = this.prepare(c.config);
    restoreWeights(t, c.weights);
    await restoreOptimizers(t, c.optimizers);
    restorePools(t, c.pools);
    t.step = c.step;
    t.setEpoch(c.epoch);
    this.epochStep = c.epochStep;
    this.history = c.history;
    this.post({ type: 'checkpoint', runId: c.runId, step: c.step, savedAt: c.savedAt, history: c.history });
    this.post({
      type: 'progress', step: c.step, epoch: c.epoch, epochs: totalEpochs(c.config.train), totalSteps: this.stepsPerEpoch * totalEpochs(c.config.train), lr: t.lr,
      stepsPerSecond: 0, losses: { firstStep: c.step + 1, values: Object.fromEntries(t.lossNames.map((n) => [n, []])) },
    });
    this.setState('paused');
    await this.preview();
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

  /** Back to the current run's last checkpoint (after a NaN, for instance). */
  async revert(): Promise<void> {
    if (!this.runId) throw new Error('no run to go back to');
    await this.resumeRun(this.runId);
  }

  async listRuns(): Promise<void> {
    this.post({ type: 'runs', runs: await listRuns() });
  }

  async deleteRun(runId: string): Promise<void> {
    if (runId === this.runId) {
      await this.stop();
      await this.disposeTrainer();
      this.runId = null;
    }
    await deleteRun(runId);
    await this.listRuns();
  }

  /** The generators as TF.js Layers models: model.json and weights per generator. */
  async exportWeights(): Promise<{ name: string; data: ArrayBuffer }[]> {
    return this.withLoopHeld(() => this.saveGenerators());
  }

  private async saveGenerators(): Promise<{ name: string; data: ArrayBuffer }[]> {
    const t = this.trainer;
    if (!t) throw new Error('nothing to export: start or resume a run first');
    const files: { name: string; data: ArrayBuffer }[] = [];
    for (const [name, model] of Object.entries(t.models)) {
      if (!name.startsWith('netG')) continue;
      await model.save(
        tf.io.withSaveHandler(async (artifacts) => {
          const { weightData, ...rest } = artifacts;
          const json = { ...rest, weightsManifest: [{ paths: [`${name}.weights.bin`], weights: artifacts.weightSpecs }] };
          delete (json as { weightSpecs?: unknown }).weightSpecs;
          files.push({ name: `${name}.json`, data: new TextEncoder().encode(JSON.stringify(json)).buffer as ArrayBuffer });
          files.push({ name: `${name}.weights.bin`, data: tf.io.concatenateArrayBuffers(weightData!) });
          return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
        }),
      );
    }
    return files;
  }

  /** Loads an exported generator (model.json + weights files) for translation. */
  async importModel(files: File[]): Promise<{ name: string; multiple: number }> {
    const json = files.find((f) => f.name.endsWith('.json'));
    if (!json) throw new Error('choose the model’s .json file together with its .weights.bin file(s)');
    let model: tf.LayersModel;
    try {
      model = await tf.loadLayersModel(tf.io.browserFiles([json, ...files.filter((f) => f !== json)]));
    } catch (e) {
      throw new Error(`could not load ${json.name}: ${e instanceof Error ? e.message : String(e)}`);
    }
    this.imported?.model.dispose();
    this.imported = { model, multiple: generatorMultiple(model), name: json.name.replace(/\.json$/, '') };
    return { name: this.imported.name, multiple: this.imported.multiple };
  }

  /** Translates one picture of any size, with the run's generator or an imported one. */
  async translate(image: Picture, direction: 'AtoB' | 'BtoA', useImported = false): Promise<Picture> {
    const t = this.trainer;
    const imported = useImported || !t ? this.imported : null;
    if (!t && !imported) throw new Error('no model yet: start or resume a run, or import an exported model');
    const x = tf.tidy(() => {
      const rgba = tf.tensor3d(new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength), [image.height, image.width, 4], 'int32');
      const rgb = tf.slice(rgba, [0, 0, 0], [-1, -1, 3]);
      return tf.expandDims(bytesToUnit(rgb)) as tf.Tensor4D;
    });
    const y = imported ? runAtAnySize(imported.model, x, imported.multiple, true) : t!.translate(x, direction, { eval: t!.config.model === 'cycle_gan' });
    const [p] = await pictures([y]);
    tf.dispose([x, y]);
    return p;
  }

  private async disposeTrainer(): Promise<void> {
    await this.stopLoop();
    this.trainer?.dispose();
    this.trainer = null;
  }

  private disposeData() {
    this.storeA?.dispose();
    this.storeB?.dispose();
    this.storeA = this.storeB = null;
  }

  async dispose(): Promise<void> {
    await this.disposeTrainer();
    this.disposeData();
  }
}

/** A small RGBA copy of an image (48 px high) for the data panel. */
function thumbnail(im: RgbImage): Picture {
  const small = resizeRgb(im, { width: Math.max(1, Math.round((im.width * 48) / im.height)), height: 48 });
  const data = new Uint8ClampedArray(small.width * small.height * 4);
  for (let i = 0, j = 0; i < small.data.length; i += 3, j += 4) {
    data[j] = small.data[i];
    data[j + 1] = small.data[i + 1];
    data[j + 2] = small.data[i + 2];
    data[j + 3] = 255;
  }
  return { width: small.width, height: small.height, data };
}

/** NHWC [1, H, W, 3] tensors in [-1, 1] to RGBA pictures. */
async function pictures(list: tf.Tensor4D[]): Promise<Picture[]> {
  return Promise.all(
    list.map(async (t) => {
      const [, height, width] = t.shape;
      const rgba = tf.tidy(() => {
        const rgb = tf.cast(tf.clipByValue(tf.round(tf.mul(tf.add(tf.squeeze(t, [0]), 1), 127.5)), 0, 255), 'int32');
        return tf.concat([rgb, tf.fill([height, width, 1], 255, 'int32')], 2);
      });
      const data = new Uint8ClampedArray(await rgba.data());
      rgba.dispose();
      return { width, height, data };
    }),
  );
}
