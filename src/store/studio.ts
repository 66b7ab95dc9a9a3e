/**
 * The one store the page reads: backend, dataset, run status, loss history and previews, fed by the worker's
 * events. Worker events arrive at most ~10 per second, so each becomes one store update.
 */
import { create } from 'zustand';
import type { DatasetSummary } from '../data/dataset';
import type { BackendReport } from '../worker/backend';
import type { LossChunk, PreviewRow, RunInfo, RunState, WorkerEvent } from '../worker/protocol';
import type { PresetName } from '../ui/presets';

export interface Progress {
  step: number;
  epoch: number;
  epochs: number;
  lr: number;
  stepsPerSecond: number;
}

export interface StudioState {
  /** The chosen preset (data are decoded at its sizes). */
  preset: PresetName;
  setPreset(preset: PresetName): void;
  backend: BackendReport | null;
  dataset: DatasetSummary | null;
  loading: { done: number; total: number } | null;
  runState: RunState;
  runId: string | null;
  reason: string | null;
  progress: Progress | null;
  /** Every step's losses since the run began (restored on resume). */
  history: LossChunk | null;
  previews: { step: number; rows: PreviewRow[] } | null;
  lastCheckpoint: { step: number; savedAt: number } | null;
  runs: RunInfo[];
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

export const useStudio = create<StudioState>((set, get) => ({
  preset: initialPreset(),
  setPreset: (preset) => set({ preset }),
  backend: null,
  dataset: null,
  loading: null,
  runState: 'idle',
  runId: null,
  reason: null,
  progress: null,
  history: null,
  previews: null,
  lastCheckpoint: null,
  runs: [],
  error: null,
  clearError: () => set({ error: null }),
  apply(event) {
    switch (event.type) {
      case 'ready':
        return set({ backend: event.report });
      case 'dataset':
        return set({ dataset: event.summary, loading: null });
      case 'loadProgress':
        return set({ loading: { done: event.done, total: event.total } });
      case 'state': {
        const fresh = event.runId !== get().runId;
        return set({
          runState: event.state,
          runId: event.runId,
          reason: event.reason ?? null,
          loading: event.state === 'loading' ? { done: 0, total: 0 } : get().loading,
          ...(fresh ? { history: null, previews: null, progress: null } : {}),
        });
      }
      case 'progress': {
        const { losses, type: _type, ...progress } = event;
        const history = losses.values && Object.values(losses.values).some((v) => v.length) ? append(get().history, losses) : get().history;
        return set({ progress, history });
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
        return; // handled by whoever asked
      case 'error':
        return set({ error: event.message });
      default: {
        const never: never = event;
        return never;
      }
    }
  },
}));
