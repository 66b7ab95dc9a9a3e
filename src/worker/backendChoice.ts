/**
 * Which backend a run trains on. Forced by the user, or automatic: on a real GPU, WebGPU; on a software adapter
 * (or none), time one step of the run's own model on each backend, within a few seconds each, and keep the fastest.
 */
import * as tf from '@tensorflow/tfjs';
import { pickBackend, switchBackend, TRAINING_BACKENDS } from './backend';
import type { BackendReport, TrainingBackend } from './backend';
import type { BackendChoice, BackendMeasurement, EngineChoice, RunConfig, WorkerEvent } from './protocol';

/** Times one step of the run on a backend (after a warm-up step); null when it was too slow or cancelled. */
export type Measure = (backend: TrainingBackend, budgetMs: number) => Promise<number | null>;

/** The order timing tries backends in: the CPU first, since on a software GPU it often wins and sets the bar. */
const TIMING_ORDER: readonly TrainingBackend[] = ['cpu', 'webgl', 'webgpu'];

/** A backend's warm-up may take this long at least (shader compilation)… */
const MIN_BUDGET_MS = 2500;
/** …and at most this long, or this many times the best step so far, whichever is larger. */
const MAX_BUDGET_MS = 6000;
const BUDGET_FACTOR = 3;
/**
 * WebGL compiles its shaders during its first step without yielding (about 10 s for a tiny model on a software
 * GPU), so its timing cannot be cut short: it is timed only when the best step so far is slower than this.
 */
const WEBGL_WORTH_MS = 400;

export class BackendChooser {
  report: BackendReport | null = null;
  /** Choices measured in this page, by what sets a step's cost: a later Start of the same model needs no timing. */
  private readonly measured = new Map<string, BackendMeasurement>();

  constructor(private readonly post: (event: WorkerEvent) => void) {}

  /** Starts on the given backend (or the first that works) and says which, with the adapter. */
  async init(backend?: TrainingBackend, onDeviceLost?: (message: string) => void): Promise<void> {
    const order = backend ? [backend, ...TRAINING_BACKENDS.filter((b) => b !== backend)] : TRAINING_BACKENDS;
    this.report = await pickBackend(order);
    if (this.report.backend === 'webgpu') {
      const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
      void device?.lost.then((info) => onDeviceLost?.(info.message || info.reason));
    }
    this.post({ type: 'ready', report: this.report });
  }

  /**
   * Puts TF.js on the backend a run should use: the forced one, or the automatic choice (timing if it must, each
   * backend with the step the run would take there: `engine` on WebGPU).
   */
  async use(choice: BackendChoice, config: RunConfig, measure: Measure, cancelled: () => boolean, engine: EngineChoice = 'compiled'): Promise<void> {
    if (!this.report) await this.init();
    if (choice !== 'auto') {
      if (choice !== tf.getBackend()) await this.switchTo(choice);
      this.post({ type: 'backendChosen', report: this.report!, measurement: { chosen: choice, msPerStep: {}, reason: 'chosen in the Backend menu' } });
      return;
    }
    const adapter = this.report!.adapter;
    if (this.report!.backend === 'webgpu' && adapter && !adapter.software) {
      if (tf.getBackend() !== 'webgpu') await this.switchTo('webgpu');
      this.post({ type: 'backendChosen', report: this.report!, measurement: { chosen: 'webgpu', msPerStep: {}, reason: `a hardware GPU (${adapter.description})` } });
      return;
    }
    const key = costKey(config, engine);
    const earlier = this.measured.get(key);
    let measurement: BackendMeasurement;
    if (earlier) measurement = { ...earlier, reason: `${earlier.reason} (at an earlier Start of the same model)` };
    else {
      const timed = await this.time(measure, cancelled);
      if (!timed) return;
      measurement = timed;
      this.measured.set(key, measurement);
    }
    await this.switchTo(measurement.chosen);
    this.post({ type: 'backendChosen', measurement, report: this.report! });
  }

  private async switchTo(backend: TrainingBackend): Promise<void> {
    await switchBackend(backend);
    this.report = { ...this.report!, backend };
  }

  /** Times each backend that trains on the run's model, within a budget each; the fastest is chosen (null: cancelled). */
  private async time(measure: Measure, cancelled: () => boolean): Promise<BackendMeasurement | null> {
    const msPerStep: BackendMeasurement['msPerStep'] = {};
    const notes: string[] = [];
    const order = TIMING_ORDER.filter((b) => b !== 'webgpu' || this.report!.adapter);
    for (const [index, b] of order.entries()) {
      if (cancelled()) break;
      const best = Math.min(...Object.values(msPerStep).filter((v): v is number => v != null));
      if (b === 'webgl' && best < WEBGL_WORTH_MS) {
        notes.push(`webgl not timed (its shader compilation alone takes longer than the ${best.toFixed(0)} ms step it would have to beat)`);
        continue;
      }
      const budgetMs = Math.min(MAX_BUDGET_MS, Math.max(MIN_BUDGET_MS, Number.isFinite(best) ? BUDGET_FACTOR * best : MAX_BUDGET_MS));
      this.post({ type: 'backendTiming', backend: b, index, of: order.length, budgetMs: Number.isFinite(best) ? budgetMs : null });
      try {
        msPerStep[b] = await measure(b, Number.isFinite(best) ? budgetMs : Infinity);
        if (msPerStep[b] == null && !cancelled()) notes.push(`${b} not done within ${(budgetMs / 1000).toFixed(1)} s (warm-up and one step)`);
      } catch (e) {
        msPerStep[b] = null;
        notes.push(`${b} failed (${e instanceof Error ? e.message : String(e)})`);
      }
    }
    if (cancelled()) return null;
    const ranked = order.filter((b) => msPerStep[b] != null).sort((x, y) => msPerStep[x]! - msPerStep[y]!);
    if (!ranked.length) throw new Error(`no backend could run a training step: ${notes.join('; ')}`);
    const adapter = this.report!.adapter;
    const rates = ranked.map((b) => `${b} ${(1000 / msPerStep[b]!).toFixed(2)} steps/s`);
    const reason = `${adapter?.software ? `the GPU is a software one (${adapter.description})` : 'no hardware WebGPU'}: measured ${[...rates, ...notes].join(', ')}`;
    return { chosen: ranked[0], msPerStep, reason };
  }
}

const costKey = (c: RunConfig, engine: EngineChoice) => {
  const t = c.train;
  return JSON.stringify([t.model, t.netG, t.netD, t.n_layers_D, t.ngf, t.ndf, t.norm, t.no_dropout, t.lambda_identity, t.input_nc, t.output_nc, c.batch_size, c.data.crop_size, engine]);
};
