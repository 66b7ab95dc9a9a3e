/// <reference lib="webworker" />
/** The training worker: owns TF.js and the backend, and runs the session the page commands. */
import '@tensorflow/tfjs-backend-webgpu';
import { DATA_DEFAULTS } from '../data/preprocess';
import type { Command, WorkerEvent } from './protocol';
import { unreachable } from './protocol';
import { Session } from './session';
import { countCompiledMemory } from './compiledMemory';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(event, transfer);
const session = new Session(post);

/** Stops asked for so far: a Start or Resume that began before the latest Stop gives up (its backend timing too). */
let stops = 0;

/** A lost device (driver reset, GPU removed) ends this backend; the last checkpoint survives it. */
const onDeviceLost = (message: string) => {
  void session.stop();
  post({ type: 'error', message: `the GPU device was lost (${message}). Reload the page and resume the run from its last checkpoint.`, recoverable: false });
};

async function handle(cmd: Command, stopsBefore: number): Promise<void> {
  const cancelled = () => stops !== stopsBefore;
  switch (cmd.type) {
    case 'init':
      return session.chooser.init(cmd.backend, onDeviceLost);
    case 'load':
      return session.open(cmd.source, cmd.data ?? DATA_DEFAULTS);
    case 'thumbnails':
      return session.thumbnails(cmd.domain, cmd.offset, cmd.count);
    case 'start':
      return session.start(cmd.config, cmd.runId, cmd.backend ?? 'auto', cancelled, cmd.engine ?? 'compiled', cmd.fromReference ?? false, cmd.budget ?? null);
    case 'pause':
      return session.pause();
    case 'resume':
      return session.resume();
    case 'step':
      return session.resume(cmd.count);
    case 'stop':
      return session.stop();
    case 'save':
      return session.save();
    case 'reset':
      return session.reset();
    case 'preview':
      return session.preview();
    case 'setPreviewEvery':
      return session.setPreviewEvery(cmd.every);
    case 'listRuns':
      return session.listRuns();
    case 'resumeRun':
      return session.resumeRun(cmd.runId, cmd.backend ?? 'auto', cancelled, true, cmd.engine ?? 'compiled', cmd.budget ?? null);
    case 'countMemory':
      return countMemory(cmd);
    case 'deleteRun':
      return session.deleteRun(cmd.runId);
    case 'revert':
      return session.revert();
    case 'exportWeights': {
      const format = cmd.format ?? 'tfjs';
      const files = await session.exportWeights(format);
      return post({ type: 'weights', format, files }, files.map((f) => f.data));
    }
    case 'exportCheckpoint': {
      const file = await session.exportCheckpoint();
      return post({ type: 'checkpointFile', ...file }, [file.data]);
    }
    case 'importCheckpoint':
      return post({ type: 'imported', runId: await session.importCheckpoint(cmd.file) });
    case 'importModel':
      return post({ type: 'modelImported', ...(await session.importModel(cmd.files)) });
    case 'importReference':
      return post({ type: 'referenceImported', summary: await session.importReference(cmd.files) });
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

/** Answers a count of the compiled step's memory: pure (no session state), milliseconds. */
function countMemory(cmd: Extract<Command, { type: 'countMemory' }>): void {
  try {
    post({ type: 'stepMemory', requestId: cmd.requestId, ...countCompiledMemory(cmd.config) });
  } catch (e) {
    post({ type: 'stepMemory', requestId: cmd.requestId, memory: null, unsupported: `it could not be counted: ${e instanceof Error ? e.message : String(e)}` });
  }
}

// Commands run one after another, so a pause never races the start it follows; a Stop is also noted at once,
// so that a Start still choosing its backend gives up without waiting for its turn. A memory count is answered at
// once: the Model card follows the options while a Start tunes or times backends.
let queue: Promise<void> = Promise.resolve();
scope.onmessage = (ev: MessageEvent<Command>) => {
  const cmd = ev.data;
  if (cmd.type === 'countMemory') return countMemory(cmd);
  if (cmd.type === 'stop') stops++;
  const stopsBefore = stops;
  queue = queue.then(() =>
    handle(cmd, stopsBefore).catch((e: unknown) => post({ type: 'error', message: e instanceof Error ? e.message : String(e), recoverable: true })),
  );
};
