/**
 * The training worker's protocol: commands (main thread → worker) are verbs, events (worker → main thread)
 * are nouns. Both sides switch over `type` exhaustively. Images and weights cross as transferables.
 */
import type { DataOptions } from '../data/preprocess';
import type { DatasetSummary, DemoName, Problem, SourceFile } from '../data/dataset';
import type { BackendReport, TrainingBackend } from './backend';
import type { BenchResult } from './benchmark';

export type { RunConfig } from '../config/runConfig';
import type { RunConfig } from '../config/runConfig';
import type { CompiledMemory } from '../config/sizeLimits';
import type { TuningReport } from '../model/webgpu/tuning';

/** An RGBA image that crosses the boundary as a transferable buffer. */
export interface Picture {
  width: number;
  height: number;
  /** RGBA, 8 bits per channel. */
  data: Uint8ClampedArray;
}

/** One row of the preview grid: e.g. real_A, fake_B, rec_A (CycleGAN) or input, output, target (pix2pix). */
export interface PreviewRow {
  direction: 'AtoB' | 'BtoA';
  labels: string[];
  pictures: Picture[];
}

/** One thumbnail of the training set: an image of one domain, or a pair (A beside its B). */
export interface Thumbnail {
  /** The file it came from. */
  name: string;
  /** One picture, or two: A then B. */
  pictures: Picture[];
}

/** Where the images come from. */
export type DataSource =
  | { kind: 'files'; files: SourceFile[]; mode?: 'pix2pix' | 'cycle_gan' }
  | { kind: 'demo'; name: DemoName };

/** `auto` measures the candidates on the run's own model when the GPU is a software one, and keeps the fastest. */
export type BackendChoice = 'auto' | TrainingBackend;

/** What the automatic choice measured. */
export interface BackendMeasurement {
  chosen: TrainingBackend;
  /** Milliseconds per training step after a warm-up step, per backend tried (null: it failed or was too slow). */
  msPerStep: Partial<Record<TrainingBackend, number | null>>;
  reason: string;
}

/** Which step a run takes on WebGPU: the compiled WebGPU step (the default) or TF.js's own (`?engine=tfjs`). */
export type EngineChoice = 'compiled' | 'tfjs';

/** The step a run takes: the compiled WebGPU step, or TF.js's own with why (null: the backend has no other). */
export interface EngineReport {
  engine: EngineChoice;
  reason: string | null;
  /** The compiled step's conv kernels as tuned for this GPU before it was built (null: not tuned yet). */
  tuning?: TuningReport | null;
}

/** What an imported reference checkpoint holds, as the page shows it. */
export interface ReferenceSummary {
  model: 'pix2pix' | 'cycle_gan';
  /** Nothing named the model (a lone generator, no options file): `model` is what fine-tuning would train. */
  modelGuessed: boolean;
  /** The run's name (its `checkpoints/<name>/` folder), if the files tell. */
  name: string | null;
  /** Epochs trained, from `<epoch>_net_*.pth` (null: `latest`). */
  epoch: number | null;
  /** The reference's network names found: `G_A`, `D_A`… */
  networks: string[];
  /** Every network of the model is there. */
  complete: boolean;
  /** Every generator is there: a run can start from them. */
  canTrain: boolean;
  /** The epoch a run from it starts at: the next one for a whole run of known epoch, else 1 (fine-tuning). */
  startEpoch: number;
  /** One line per file read, and what starts fresh or was dropped. */
  notes: string[];
  /** The run's options (the options file's, or the reference's defaults with what the weights tell). */
  config: RunConfig;
}

/** The formats the generators (and, for PyTorch, every network) export to. */
export type ExportFormat = 'tfjs' | 'pytorch' | 'onnx';

/** Main thread → worker. */
export type Command =
  | { type: 'init'; backend?: TrainingBackend }
  | { type: 'load'; source: DataSource; data?: DataOptions }
  /**
   * `fromReference`: the run starts from the imported reference checkpoint's networks, at its epoch. `budget`: bytes
   * the step may take (`?budget=`), instead of what a page assumes.
   */
  | { type: 'start'; config: RunConfig; runId?: string; backend?: BackendChoice; engine?: EngineChoice; fromReference?: boolean; budget?: number }
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'step'; count: number }
  | { type: 'stop' }
  /** Save a checkpoint now if the run has unsaved steps (the page is being hidden or closed). */
  | { type: 'save' }
  | { type: 'reset' }
  | { type: 'preview' }
  | { type: 'setPreviewEvery'; every: number }
  | { type: 'listRuns' }
  /** Loads a saved run onto the chosen backend, as Start does, and trains on. */
  | { type: 'resumeRun'; runId: string; backend?: BackendChoice; engine?: EngineChoice; budget?: number }
  /** Counts the compiled WebGPU step's memory for a config (answered at once, even during a Start): a `stepMemory` event. */
  | { type: 'countMemory'; config: RunConfig; requestId: number }
  | { type: 'deleteRun'; runId: string }
  | { type: 'revert' }
  /** tfjs: the generators' model.json + weights; pytorch: the reference's checkpoints/<name>/ files; onnx: one .onnx per generator. */
  | { type: 'exportWeights'; format?: ExportFormat }
  | { type: 'exportCheckpoint' }
  | { type: 'importCheckpoint'; file: Blob }
  | { type: 'translate'; image: Picture; direction: 'AtoB' | 'BtoA'; requestId: number; useImported?: boolean }
  | { type: 'importModel'; files: File[] }
  /** The reference's .pth files (a zip or folder of checkpoints/<name>/, its train_opt.txt too). */
  | { type: 'importReference'; files: File[] }
  | { type: 'benchmark'; config: RunConfig; backend: TrainingBackend; steps: number; maxSeconds: number; memorySteps?: number }
  /** A page of the training set's thumbnails; for pairs, domain A's page holds the pairs. At most 96 at a time. */
  | { type: 'thumbnails'; domain: 'A' | 'B'; offset: number; count: number }
  | { type: 'dispose' };

/** A saved run, as the list of runs shows it. */
export interface RunInfo {
  runId: string;
  model: 'pix2pix' | 'cycle_gan';
  datasetName: string;
  step: number;
  epoch: number;
  savedAt: number;
}

/** Losses of consecutive steps, starting at `firstStep`, one array per loss name. */
export interface LossChunk {
  firstStep: number;
  values: Record<string, number[]>;
}

/** The run's state machine. */
export type RunState = 'idle' | 'loading' | 'ready' | 'starting' | 'running' | 'paused' | 'stopped' | 'done';

/** Worker → main thread. */
export type WorkerEvent =
  | { type: 'ready'; report: BackendReport }
  | { type: 'backendChosen'; measurement: BackendMeasurement; report: BackendReport }
  /** The step the run takes, once its first step has decided, and again if it falls back to TF.js's step. */
  | { type: 'engine'; report: EngineReport }
  /** The automatic choice is timing this backend on the run's model (before the run's first step). */
  | {
      type: 'backendTiming';
      backend: TrainingBackend;
      /** Its place among the backends timed (0-based), of how many. */
      index: number;
      of: number;
      /** How long it may take before it counts as too slow (null: the first one timed sets the bar). */
      budgetMs: number | null;
    }
  /** `thumbnails`: the first few of each domain; for pairs (aligned or paired data) A[i] and B[i] are one pair. */
  | { type: 'dataset'; summary: DatasetSummary; thumbnails?: { A: Picture[]; B: Picture[] } }
  | { type: 'loadProgress'; done: number; total: number }
  /** What the background check (or a step) found since: counts of usable images, images left to check, new problems. */
  | { type: 'datasetUpdate'; countA: number; countB: number; unchecked: number; problems: Problem[] }
  /** A load gave nothing to train on; nothing is loaded now (the previous dataset is gone too). */
  | {
      type: 'loadFailed';
      /** The folder, zip or demo that failed. */
      name: string;
      message: string;
      problems: Problem[];
      /** Set when the files look like one domain of ordinary photos: the page takes them as Domain A and asks for B. */
      oneDomain: { images: number } | null;
    }
  /** A page of thumbnails, as asked for; `total`: how many the domain (or the pairs) holds. */
  | { type: 'thumbnailPage'; domain: 'A' | 'B'; offset: number; total: number; items: Thumbnail[] }
  | { type: 'state'; state: RunState; runId: string | null; reason?: string }
  | {
      type: 'progress';
      step: number;
      epoch: number;
      epochs: number;
      /** Steps of the whole schedule (n_epochs + n_epochs_decay epochs). */
      totalSteps: number;
      lr: number;
      stepsPerSecond: number;
      losses: LossChunk;
    }
  | { type: 'preview'; step: number; rows: PreviewRow[] }
  | { type: 'checkpoint'; runId: string; step: number; savedAt: number; history?: LossChunk }
  | { type: 'runs'; runs: RunInfo[] }
  | { type: 'weights'; format: ExportFormat; files: { name: string; data: ArrayBuffer }[] }
  | { type: 'checkpointFile'; name: string; data: ArrayBuffer }
  | { type: 'imported'; runId: string }
  | { type: 'modelImported'; name: string; multiple: number }
  | { type: 'referenceImported'; summary: ReferenceSummary }
  | { type: 'translated'; requestId: number; image: Picture }
  | { type: 'benchmarkResult'; result: BenchResult }
  /** The compiled step's memory for a `countMemory` request; null with why where the config has no compiled step. */
  | { type: 'stepMemory'; requestId: number; memory: CompiledMemory | null; unsupported: string | null }
  | { type: 'error'; message: string; recoverable: boolean };

/** Compile-time exhaustiveness check for switches over `type`. */
export function unreachable(x: never): never {
  throw new Error(`unhandled message ${JSON.stringify(x)}`);
}
