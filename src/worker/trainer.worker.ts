/// <reference lib="webworker" />
/** The training worker: owns TF.js and the backend, and runs the session the page commands. */
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs';
import { DATA_DEFAULTS } from '../data/preprocess';
import { pickBackend, TRAINING_BACKENDS } from './backend';
import type { BackendReport, TrainingBackend } from './backend';
import type { BackendMeasurement, Command, RunConfig, WorkerEvent } from './protocol';
import { unreachable } from './protocol';
import { Session } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(event, transfer);
const session = new Session(post);

let report: BackendReport | null = null;

async function init(backend?: TrainingBackend) {
  const order = backend ? [backend, ...TRAINING_BACKENDS.filter((b) => b !== backend)] : TRAINING_BACKENDS;
  report = await pickBackend(order);
  if (report.backend === 'webgpu') {
    // A lost device (driver reset, GPU removed) ends this backend; the last checkpoint survives it.
    const device = (tf.backend() as unknown as { device?: GPUDevice }).device;
    void device?.lost.then((info) => {
      void session.stop();
      post({ type: 'error', message: `the GPU device was lost (${info.message || info.reason}). Reload the page and resume the run from its last checkpoint.`, recoverable: false });
    });
  }
  post({ type: 'ready', report });
}

/**
 * The automatic choice: on a real GPU, WebGPU. On a software adapter (or none), time a few steps of the run's
 * own model on each backend that trains and keep the fastest: on a software GPU the CPU often wins.
 */
async function choose(config: RunConfig, measure: (backend: TrainingBackend) => Promise<number>): Promise<void> {
  if (!report) await init();
  if (report!.backend === 'webgpu' && !report!.adapter?.software) return;
  const key = costKey(config);
  const earlier = measured.get(key);
  if (!earlier) measured.set(key, await timeBackends(measure));
  const measurement = earlier ? { ...earlier, reason: `${earlier.reason} (at an earlier Start of the same model)` } : measured.get(key)!;
  await tf.setBackend(measurement.chosen);
  await tf.ready();
  report = { ...report!, backend: measurement.chosen };
  post({ type: 'backendChosen', measurement, report });
}

/** Times each backend that trains on the run's model; the fastest is chosen. */
async function timeBackends(measure: (backend: TrainingBackend) => Promise<number>): Promise<BackendMeasurement> {
  const msPerStep: BackendMeasurement['msPerStep'] = {};
  for (const b of TRAINING_BACKENDS) {
    post({ type: 'backendTiming', backend: b });
    try {
      msPerStep[b] = await measure(b);
    } catch {
      msPerStep[b] = null;
    }
  }
  const ranked = TRAINING_BACKENDS.filter((b) => msPerStep[b] != null).sort((x, y) => msPerStep[x]! - msPerStep[y]!);
  if (!ranked.length) throw new Error('no backend could run a training step');
  const adapter = report!.adapter;
  const fmt = (b: TrainingBackend) => (msPerStep[b] == null ? `${b} failed` : `${b} ${(1000 / msPerStep[b]!).toFixed(2)} steps/s`);
  const reason = `${adapter?.software ? `the GPU is a software one (${adapter.description})` : 'no hardware WebGPU'}: measured ${TRAINING_BACKENDS.map(fmt).join(', ')}`;
  return { chosen: ranked[0], msPerStep, reason };
}

/** Choices measured in this page, by what sets a step's cost: a later Start of the same model needs no timing. */
const measured = new Map<string, BackendMeasurement>();
const costKey = (c: RunConfig) => {
  const t = c.train;
  return JSON.stringify([t.model, t.netG, t.netD, t.n_layers_D, t.ngf, t.ndf, t.norm, t.no_dropout, t.lambda_identity, t.input_nc, t.output_nc, c.batch_size, c.data.crop_size]);
};

async function handle(cmd: Command): Promise<void> {
  switch (cmd.type) {
    case 'init':
      return init(cmd.backend);
    case 'load':
      return session.load(cmd.source, cmd.data ?? DATA_DEFAULTS);
    case 'start':
      if (cmd.backend && cmd.backend !== 'auto' && cmd.backend !== report?.backend) await init(cmd.backend);
      return session.start(cmd.config, cmd.runId, cmd.backend === 'auto' ? choose : undefined);
    case 'pause':
      return session.pause();
    case 'resume':
      return session.resume();
    case 'step':
      return session.resume(cmd.count);
    case 'stop':
      return session.stop();
    case 'reset':
      return session.reset();
    case 'preview':
      return session.preview();
    case 'setPreviewEvery':
      return session.setPreviewEvery(cmd.every);
    case 'listRuns':
      return session.listRuns();
    case 'resumeRun':
      return session.resumeRun(cmd.runId);
    case 'deleteRun':
      return session.deleteRun(cmd.runId);
    case 'revert':
      return session.revert();
    case 'exportWeights': {
      const files = await session.exportWeights();
      return post({ type: 'weights', files }, files.map((f) => f.data));
    }
    case 'exportCheckpoint': {
      const file = await session.exportCheckpoint();
      return post({ type: 'checkpointFile', ...file }, [file.data]);
    }
    case 'importCheckpoint':
      return post({ type: 'imported', runId: await session.importCheckpoint(cmd.file) });
    case 'importModel':
      return post({ type: 'modelImported', ...(await session.importModel(cmd.files)) });
    case 'translate': {
      const image = await session.translate(cmd.image, cmd.direction, cmd.useImported);
      return post({ type: 'translated', requestId: cmd.requestId, image }, [image.data.buffer]);
    }
    case 'benchmark':
      return post({ type: 'benchmarkResult', result: await session.benchmark(cmd.config, cmd.backend, cmd.steps, cmd.maxSeconds, cmd.memorySteps) });
    case 'dispose':
      return session.dispose();
    default:
      return unreachable(cmd);
  }
}

// Commands run one after another, so a pause never races the start it follows.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev: MessageEvent<Command>) => {
  queue = queue.then(() =>
    handle(ev.data).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), recoverable: true })),
  );
};
