/** Messages of the start-up probe worker: which backend and adapter TF.js gets, and one real training step. */
import type { BackendReport } from './backend';

/** Main thread → worker. */
export type ProbeCommand = { type: 'probe'; trainStep: boolean };

/** Worker → main thread. */
export type ProbeEvent =
  | { type: 'probed'; report: BackendReport; stepLosses: Record<string, number> | null; stepMs: number | null }
  | { type: 'error'; message: string };
