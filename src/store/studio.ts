/**
 * The one store the page reads: backend, dataset, run status, loss history and previews, fed by the worker's
 * events. Worker events arrive at most ~10 per second, so each becomes one store update.
 */
import { create } from 'zustand';
import type { DatasetSummary } from '../data/dataset';
import type { BackendReport, TrainingBackend } from '../worker/backend';
import type { BackendChoice, BackendMeasurement, LossChunk, Picture, PreviewRow, RunInfo, RunState, WorkerEvent } from '../worker/protocol';
import type { PresetName } from '../config/presets';
import { presetConfig } from '../config/presets';
import type { RunConfig } from '../worker/protocol';
import { fromQuery, getOption, setOption } from '../config/runConfig';
import { interruptedRun, noteTraining } from './activeRun';

/** The latest progress numbers (the worker's progress event without its losses). */
export type Progress = Omit<Extract<WorkerEvent, { type: 'progress' }>, 'type' | 'losses'>;

export interface StudioState {
  /** The chosen preset (data are decoded at its sizes). */
  preset: PresetName;
  setPreset(preset: PresetName): void;
  /** Every option of the next run, by the reference's names; mirrored in the URL. */
  config: RunConfig;
  /** Problems with the URL's options, shown once. */
  configErrors: string[];
  setConfig(config: RunConfig): void;
  backend: BackendReport | null;
  /** Which backend the next run uses: measured automatically, or forced. */
  backendChoice: BackendChoice;
  setBackendChoice(choice: BackendChoice): void;
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

const initialPreset = (): PresetName => {
  const p = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('preset');
  return p === 'tiny' || p === 'quick' || p === 'paper' ? p : 'quick';
};

/** `?backend=webgpu|webgl|cpu` forces a backend; otherwise the choice is automatic. */
function initialBackendChoice(): BackendChoice {
  const b = typeof location === 'undefined' ? null : new URLSearchParams(location.search).get('backend');
  return b === 'webgpu' || b === 'webgl' || b === 'cpu' ? b : 'auto';
}

/** The config a page opens with: the URL's preset, then the URL's options on top. */
function initialConfig(): { config: RunConfig; errors: string[] } {
  const query = typeof location === 'undefined' ? '' : location.search;
  const { config: fromUrl, errors } = fromQuery(query);
  const base = presetConfig(initialPreset(), fromUrl.train.model);
  const params = new URLSearchParams(query);
  // options the URL names win over the preset
  let config = base;
  for (const [k] of params) {
    try {
      config = setOption(config, k, getOption(fromUrl, k));
    } catch {
      // not an option (test, backend, preset)
    }
  }
  return { config, errors };
}
const first = initialConfig();

export const useStudio = create<StudioState>((set, get) => ({
  preset: initialPreset(),
  setPreset: (preset) => set({ preset, config: { ...presetConfig(preset, get().config.train.model) } }),
  config: first.config,
  configErrors: first.errors,
  setConfig: (config) => set({ config }),
  backend: null,
  backendChoice: initialBackendChoice(),
  setBackendChoice: (backendChoice) => set({ backendChoice }),
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
      case 'ready':
        return set({ backend: event.report });
      case 'backendTiming':
        return set({ timing: { backend: event.backend, index: event.index, of: event.of, budgetMs: event.budgetMs, since: Date.now() }, measurement: null });
      case 'backendChosen':
        return set({ backend: event.report, measurement: event.measurement, timing: null });
      case 'dataset': {
        // the layout decides the mode; the chosen preset's networks for that mode, the data options kept
        const current = get().config;
        const config =
          event.summary.countA > 0 && event.summary.mode !== current.train.model
            ? { ...current, train: presetConfig(get().preset, event.summary.mode).train }
            : current;
        return set({ dataset: event.summary, thumbnails: event.thumbnails ?? null, loading: null, config });
      }
      case 'loadProgress':
        return set({ loading: { done: event.done, total: event.total } });
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
      case 'benchmarkResult':
      case 'thumbnailPage':
        return; // handled by whoever asked
      case 'error':
        return set({ error: event.message, timing: null });
      default: {
        const never: never = event;
        return never;
      }
    }
  },
}));
