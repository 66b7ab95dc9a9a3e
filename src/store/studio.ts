/**
 * The one store the page reads: backend, dataset, run status, loss history and previews, fed by the worker's
 * events. Worker events arrive at most ~10 per second, so each becomes one store update.
 */
import { create } from 'zustand';
import type { DatasetSummary } from '../data/dataset';
import type { BackendReport, TrainingBackend } from '../worker/backend';
import type { BackendChoice, BackendMeasurement, Command, EngineChoice, EngineReport, LossChunk, Picture, PreviewRow, RunInfo, RunState, WorkerEvent } from '../worker/protocol';
import type { PresetName } from '../config/presets';
import { matchingPreset, presetConfig, presetWith, setOnTopOf } from '../config/presets';
import type { RunConfig } from '../worker/protocol';
import { applyCommandLine, commandLineNote, describeChanges, fromQuery, getOption, OPTIONS, parseValue, setOption, validateRunConfig } from '../config/runConfig';
import { limitsOf } from '../config/sizeLimits';
import type { CompiledMemory, MemoryFigure } from '../config/sizeLimits';
import type { ModelName } from '../model/options';
import { interruptedRun, noteTraining } from './activeRun';

/** The latest progress numbers (the worker's progress event without its losses). */
export type Progress = Omit<Extract<WorkerEvent, { type: 'progress' }>, 'type' | 'losses'>;

/** A field's text that is not a valid value, and why. */
export interface FieldError {
  draft: string;
  message: string;
}

/** Where the preset the options start from came from. */
export type PresetSource = 'default' | 'link' | 'user' | 'device';

export interface StudioState {
  /** The preset the options start from: options the user did not set follow it (its other mode's after a mode switch). */
  preset: PresetName;
  presetSource: PresetSource;
  /** Why the preset was chosen for the user (e.g. a software GPU), while it stands. */
  presetReason: string | null;
  /** Takes a preset's options for the current model; what the user set before is dropped. */
  setPreset(preset: PresetName): void;
  /** Every option of the next run, by the reference's names; mirrored in the URL. */
  config: RunConfig;
  /** Problems with the URL's options, shown once. */
  configErrors: string[];
  setConfig(config: RunConfig): void;
  /** Options the user set explicitly (typed, pasted, from the link): a mode switch keeps them. */
  userSet: string[];
  /** Fields whose text is not a valid value: Start waits until they are fixed. */
  fieldErrors: Record<string, FieldError>;
  /** Sets an option from what the user typed or picked: applied when valid, else kept as the field's error. */
  setOptionText(name: string, raw: string): void;
  /** Applies a pasted train.py line (the reference's defaults for what it omits); returns the note saying what it did. */
  pasteCommandLine(line: string): string;
  /** What the last mode switch changed, for the options card. */
  modeNote: string | null;
  backend: BackendReport | null;
  /** Which backend the next run uses: measured automatically, or forced. */
  backendChoice: BackendChoice;
  /** Which step a WebGPU run takes: the compiled WebGPU step, or TF.js's (`?engine=tfjs`, the Backend menu). */
  engineChoice: EngineChoice;
  /** Sets the backend choice, and the step on WebGPU when given. */
  setBackendChoice(choice: BackendChoice, engine?: EngineChoice): void;
  /** The step the current run takes, once its first step has decided. */
  engine: EngineReport | null;
  /** Bytes a run's step may take, from `?budget=` (in MiB); null: what a page assumes (sizeLimits' MEMORY_BUDGET). */
  memoryBudget: number | null;
  /** The compiled step's memory as the worker counted it, for the config it was asked about (null: not yet). */
  compiledMemory: { config: RunConfig; memory: CompiledMemory | null; unsupported: string | null } | null;
  /** The last count asked for: its request id and config (an answer for another id is stale). */
  memoryRequest: { requestId: number; config: RunConfig } | null;
  /** The command that asks the worker to count the current config's compiled step; remembers it to match the answer. */
  countMemoryCommand(): Extract<Command, { type: 'countMemory' }>;
  /** What the last automatic choice measured. */
  measurement: BackendMeasurement | null;
  /** The backend the automatic choice is timing now, if it is: which, its place in the order, since when. */
  timing: { backend: TrainingBackend; index: number; of: number; budgetMs: number | null; since: number } | null;
  dataset: DatasetSummary | null;
  thumbnails: { A: Picture[]; B: Picture[] } | null;
  loading: { done: number; total: number } | null;
  /** The last load that failed (nothing is loaded since); the data panel shows it while no dataset is loaded. */
  loadFailure: Omit<Extract<WorkerEvent, { type: 'loadFailed' }>, 'type'> | null;
  runState: RunState;
  runId: string | null;
  reason: string | null;
  progress: Progress | null;
  /** The model of the run the history belongs to. */
  runModel: 'pix2pix' | 'cycle_gan' | null;
  /** Every step's losses since the run began (restored on resume). */
  history: LossChunk | null;
  previews: { step: number; rows: PreviewRow[] } | null;
  lastCheckpoint: { step: number; savedAt: number } | null;
  runs: RunInfo[];
  /** A run that was training when the previous page closed (reload, crash): the Saved runs card offers it. */
  interruptedRun: string | null;
  error: string | null;
  /** Applies one worker event. */
  apply(event: WorkerEvent): void;
  clearError(): void;
}

const append = (history: LossChunk | null, chunk: LossChunk): LossChunk => {
  if (!history) return { firstStep: chunk.firstStep, values: Object.fromEntries(Object.entries(chunk.values).map(([k, v]) => [k, [...v]])) };
  for (const [k, v] of Object.entries(chunk.values)) (history.values[k] ??= []).push(...v);
  return { ...history };
};

/** The options a page opens with, from its link, and the preset they start from. */
export function initialOptions(query: string): Pick<StudioState, 'config' | 'configErrors' | 'preset' | 'presetSource' | 'userSet'> {
  const params = new URLSearchParams(query);
  const named = params.get('preset');
  const presetParam = named === 'tiny' || named === 'quick' || named === 'paper' ? named : null;
  const optionKeys = [...params.keys()].filter((k) => OPTIONS.some((o) => o.name === k));
  const { config: fromUrl, errors } = fromQuery(query);
  let config: RunConfig;
  if (params.has('model')) {
    // a link the page wrote: the model and every option that differs from the reference's defaults
    config = fromUrl;
  } else {
    // a hand-written one: a preset (Quick unless named) and any options on top
    config = presetConfig(presetParam ?? 'quick', fromUrl.train.model);
    for (const k of optionKeys) config = setOption(config, k, getOption(fromUrl, k));
  }
  const preset = presetParam ?? matchingPreset(config) ?? (params.has('model') ? 'paper' : 'quick');
  const linked = presetParam !== null || optionKeys.length > 0;
  return { config, configErrors: errors, preset, presetSource: linked ? 'link' : 'default', userSet: setOnTopOf(preset, config) };
}

/** `?engine=tfjs` makes WebGPU runs take TF.js's step; otherwise they take the compiled WebGPU step. */
function initialEngineChoice(): EngineChoice {
  return typeof location !== 'undefined' && new URLSearchParams(location.search).get('engine') === 'tfjs' ? 'tfjs' : 'compiled';
}

/** The Backend menu's entries: a backend choice, or WebGPU with TF.js's own step. */
export type BackendMenuEntry = BackendChoice | 'webgpu-tfjs';

/** The menu entry that the choices stand for. */
export const backendMenuEntry = (s: Pick<StudioState, 'backendChoice' | 'engineChoice'>): BackendMenuEntry =>
  s.backendChoice === 'webgpu' && s.engineChoice === 'tfjs' ? 'webgpu-tfjs' : s.backendChoice;

/** What Start and Resume ask the worker to train on: the backend choice, the step on WebGPU, and a budget if given. */
export const trainingTarget = (s: Pick<StudioState, 'backendChoice' | 'engineChoice'> & Partial<Pick<StudioState, 'memoryBudget'>>): { backend: BackendChoice; engine: EngineChoice; budget?: number } => ({
  backend: s.backendChoice,
  engine: s.engineChoice,
  ...(s.memoryBudget != null ? { budget: s.memoryBudget } : {}),
});

/** `?backend=webgpu|webgl|cpu` forces a backend; otherwise the choice is automatic. */
function initialBackendChoice(): BackendChoice {
  const b = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'cpu' ? b : 'auto';
}

const MODE_NAMES: Record<ModelName, string> = { pix2pix: 'pix2pix', cycle_gan: 'CycleGAN' };

/** The options for another model: the preset's for that model, with what the user set kept; and a note saying what changed. */
function switchMode(s: StudioState, model: ModelName, why: string): Pick<StudioState, 'config' | 'modeNote'> {
  const config = presetWith(s.preset, model, s.config, s.userSet);
  const changes = describeChanges(s.config, config).filter((c) => !c.startsWith('model '));
  const kept = s.userSet.filter((n) => n !== 'model').map((n) => `${n} ${String(getOption(config, n))}`);
  const modeNote = `Switched to ${MODE_NAMES[model]} ${why}${changes.length ? `: ${changes.join(', ')}` : ''}${kept.length ? `; kept what you set: ${kept.join(', ')}` : ''}.`;
  return { config, modeNote };
}

/** Why a fresh page trains the Tiny preset on this backend, or null where the default stands. */
function tinyReason(report: BackendReport): string | null {
  if (report.backend === 'cpu') return 'Tiny, because there is no GPU to train on: the CPU backend runs it';
  if (report.backend === 'webgpu' && report.adapter?.software) return `Tiny, because the GPU is a software one (${report.adapter.description})`;
  return null;
}

/** `?budget=<MiB>`: the bytes a run's step may take, instead of what a page assumes (null when absent or not a number). */
export function initialMemoryBudget(): number | null {
  const mib = typeof location === 'undefined' ? null : Number(new URLSearchParams(location.search).get('budget') ?? NaN);
  return mib !== null && Number.isFinite(mib) && mib > 0 ? Math.round(mib * 1024 ** 2) : null;
}

/** The backend the next run trains on, as far as the page knows: the one chosen, else the worker's (null: not yet told). */
export const nextBackend = (s: Pick<StudioState, 'backend' | 'backendChoice'>): TrainingBackend | null => (s.backendChoice === 'auto' ? (s.backend?.backend ?? null) : s.backendChoice);

/** What the page weighs a step's memory by: the compiled step's where a WebGPU run takes it (once counted), else TF.js's. */
export function memoryFigure(s: Pick<StudioState, 'config' | 'backend' | 'backendChoice' | 'engineChoice' | 'compiledMemory'>): MemoryFigure {
  if (nextBackend(s) !== 'webgpu' || s.engineChoice !== 'compiled') return { step: 'tfjs' };
  const counted = s.compiledMemory;
  if (!counted || counted.config !== s.config) return { step: 'counting' };
  return counted.memory ? { step: 'compiled', memory: counted.memory } : { step: 'tfjs' };
}

/**
 * Everything that keeps Start disabled, in words that name the option: fields holding invalid text, invalid
 * combinations, and runs too large for the device the worker reported.
 */
export function startBlockers(s: Pick<StudioState, 'config' | 'fieldErrors' | 'backend' | 'backendChoice' | 'engineChoice' | 'compiledMemory' | 'memoryBudget'>): string[] {
  return [
    ...Object.values(s.fieldErrors).map((e) => e.message),
    ...validateRunConfig(s.config, limitsOf(s.backend, s.memoryBudget), memoryFigure(s)).map((p) => `${p.option}: ${p.message}`),
  ];
}

const first = initialOptions(typeof location === 'undefined' ? '' : location.search);

export const useStudio = create<StudioState>((set, get) => ({
  ...first,
  presetReason: null,
  setPreset: (preset) =>
    set({ preset, presetSource: 'user', presetReason: null, config: presetConfig(preset, get().config.train.model), userSet: [], fieldErrors: {}, modeNote: null }),
  setConfig: (config) => set({ config }),
  fieldErrors: {},
  setOptionText(name, raw) {
    const s = get();
    const { [name]: _old, ...fieldErrors } = s.fieldErrors;
    let value: unknown;
    try {
      value = parseValue(name, raw);
    } catch (e) {
      return set({ fieldErrors: { ...fieldErrors, [name]: { draft: raw, message: (e as Error).message } } });
    }
    const userSet = s.userSet.includes(name) ? s.userSet : [...s.userSet, name];
    if (name === 'model' && value !== s.config.train.model) {
      return set({ fieldErrors, userSet, ...switchMode({ ...s, userSet }, value as ModelName, 'as you chose') });
    }
    set({ fieldErrors, userSet, config: setOption(s.config, name, value) });
  },
  pasteCommandLine(line) {
    const before = get().config;
    const r = applyCommandLine(before, line);
    // a train.py line stands on the reference's defaults: the Paper preset's values
    set({ config: r.config, preset: 'paper', presetSource: 'user', presetReason: null, userSet: r.set, fieldErrors: {}, modeNote: null });
    return commandLineNote(before, r);
  },
  modeNote: null,
  backend: null,
  backendChoice: initialBackendChoice(),
  engineChoice: initialEngineChoice(),
  setBackendChoice: (backendChoice, engineChoice = get().engineChoice) => set({ backendChoice, engineChoice }),
  engine: null,
  memoryBudget: initialMemoryBudget(),
  compiledMemory: null,
  memoryRequest: null,
  countMemoryCommand() {
    const request = { requestId: (get().memoryRequest?.requestId ?? 0) + 1, config: get().config };
    set({ memoryRequest: request });
    return { type: 'countMemory', ...request };
  },
  measurement: null,
  timing: null,
  dataset: null,
  thumbnails: null,
  loading: null,
  loadFailure: null,
  runState: 'idle',
  runId: null,
  reason: null,
  progress: null,
  runModel: null,
  history: null,
  previews: null,
  lastCheckpoint: null,
  runs: [],
  interruptedRun: interruptedRun(),
  error: null,
  clearError: () => set({ error: null }),
  apply(event) {
    switch (event.type) {
      case 'ready': {
        // a fresh page on a software GPU (or none) starts on Tiny, unless a link or the user chose otherwise
        const s = get();
        const reason = s.backend === null && s.presetSource === 'default' && !s.userSet.length && !Object.keys(s.fieldErrors).length ? tinyReason(event.report) : null;
        if (!reason) return set({ backend: event.report });
        return set({ backend: event.report, preset: 'tiny', presetSource: 'device', presetReason: reason, config: presetConfig('tiny', s.config.train.model) });
      }
      case 'backendTiming':
        return set({ timing: { backend: event.backend, index: event.index, of: event.of, budgetMs: event.budgetMs, since: Date.now() }, measurement: null });
      case 'backendChosen':
        return set({ backend: event.report, measurement: event.measurement, timing: null, engine: null });
      case 'engine':
        return set({ engine: event.report });
      case 'dataset': {
        // the layout decides the mode: the preset's options for it, what the user set kept, and a note of what changed
        const s = get();
        const switched = event.summary.countA > 0 && event.summary.mode !== s.config.train.model ? switchMode(s, event.summary.mode, 'for this data') : {};
        return set({ dataset: event.summary, thumbnails: event.thumbnails ?? null, loading: null, ...switched });
      }
      case 'loadProgress':
        return set({ loading: { done: event.done, total: event.total } });
      case 'datasetUpdate': {
        const d = get().dataset;
        if (!d) return;
        return set({ dataset: { ...d, countA: event.countA, countB: event.countB, unchecked: event.unchecked, problems: event.problems.length ? [...d.problems, ...event.problems] : d.problems } });
      }
      case 'loadFailed': {
        const { type: _type, ...failure } = event;
        return set({ dataset: null, thumbnails: null, loading: null, loadFailure: failure });
      }
      case 'state': {
        const fresh = event.runId !== get().runId;
        if (event.state === 'running') noteTraining(event.runId);
        else if (event.state !== 'starting' && event.state !== 'loading') noteTraining(null);
        return set({
          runState: event.state,
          ...(event.state === 'running' ? { interruptedRun: null } : {}),
          runId: event.runId,
          reason: event.reason ?? null,
          timing: event.state === 'starting' ? get().timing : null,
          loading: event.state === 'loading' ? { done: 0, total: 0 } : get().loading,
          ...(fresh ? { history: null, previews: null, progress: null } : {}),
        });
      }
      case 'progress': {
        const { losses, type: _type, ...progress } = event;
        const names = Object.keys(losses.values);
        const runModel = names.includes('G_L1') ? 'pix2pix' : names.includes('cycle_A') ? 'cycle_gan' : get().runModel;
        const history = losses.values && Object.values(losses.values).some((v) => v.length) ? append(get().history, losses) : get().history;
        return set({ progress, history, runModel });
      }
      case 'preview':
        return set({ previews: { step: event.step, rows: event.rows } });
      case 'checkpoint':
        return set({
          lastCheckpoint: { step: event.step, savedAt: event.savedAt },
          runId: event.runId,
          ...(event.history ? { history: { firstStep: event.history.firstStep, values: event.history.values } } : {}),
        });
      case 'runs':
        return set({ runs: event.runs });
      case 'weights':
      case 'translated':
      case 'checkpointFile':
      case 'imported':
      case 'modelImported':
      case 'referenceImported':
      case 'benchmarkResult':
      case 'thumbnailPage':
        return; // handled by whoever asked
      case 'stepMemory': {
        const asked = get().memoryRequest;
        if (asked?.requestId !== event.requestId) return; // a later count is on its way
        return set({ compiledMemory: { config: asked.config, memory: event.memory, unsupported: event.unsupported } });
      }
      case 'error':
        return set({ error: event.message, timing: null });
      default: {
        const never: never = event;
        return never;
      }
    }
  },
}));
