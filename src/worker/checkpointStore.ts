/**
 * Checkpoints in IndexedDB: everything a run needs to continue exactly (weights, optimizer moments, step,
 * epoch, config, image pool, loss history) plus the dataset it trains on, so a reload loses nothing.
 */
import type { LossChunk, RunConfig, RunInfo, DataSource } from './protocol';

/** A named tensor's bytes and shape. */
export interface SavedTensor {
  name: string;
  shape: number[];
  /** float32 unless said (Adam's iteration count is int32). */
  dtype?: 'float32' | 'int32';
  data: ArrayBuffer;
}

/** One saved run. */
export interface Checkpoint {
  runId: string;
  config: RunConfig;
  datasetName: string;
  step: number;
  epoch: number;
  /** Steps done in the current epoch. */
  epochStep: number;
  savedAt: number;
  /** Weights per network, in `model.weights` order. */
  weights: Record<string, SavedTensor[]>;
  /** Optimizer state per optimizer (G, D), variables named by their position in the trainer's variable list. */
  optimizers: Record<string, SavedTensor[]>;
  /** Image pools by name (fake_A_pool, fake_B_pool). */
  pools: Record<string, SavedTensor[]>;
  history: LossChunk;
}

const DB_NAME = 'gan-studio';
const DB_VERSION = 1;

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('checkpoints')) db.createObjectStore('checkpoints', { keyPath: 'runId' });
      if (!db.objectStoreNames.contains('datasets')) db.createObjectStore('datasets', { keyPath: 'runId' });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB could not open'));
  });
}

async function tx<T>(stores: string[], mode: IDBTransactionMode, body: (t: IDBTransaction) => IDBRequest<T> | void): Promise<T | undefined> {
  const db = await open();
  try {
    return await new Promise<T | undefined>((resolve, reject) => {
      const t = db.transaction(stores, mode);
      const req = body(t);
      t.oncomplete = () => resolve(req ? req.result : undefined);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted (is the disk full?)'));
    });
  } finally {
    db.close();
  }
}

/** Saves (or replaces) a run's checkpoint. */
export async function saveCheckpoint(c: Checkpoint): Promise<void> {
  await tx(['checkpoints'], 'readwrite', (t) => t.objectStore('checkpoints').put(c));
}

/** Saves the dataset a run trains on (once, at its start). */
export async function saveDataset(runId: string, source: DataSource): Promise<void> {
  await tx(['datasets'], 'readwrite', (t) => t.objectStore('datasets').put({ runId, source }));
}

export async function loadCheckpoint(runId: string): Promise<Checkpoint | undefined> {
  return tx<Checkpoint>(['checkpoints'], 'readonly', (t) => t.objectStore('checkpoints').get(runId));
}

export async function loadDatasetOf(runId: string): Promise<DataSource | undefined> {
  const row = await tx<{ source: DataSource }>(['datasets'], 'readonly', (t) => t.objectStore('datasets').get(runId));
  return row?.source;
}

/** Saved runs, newest first. */
export async function listRuns(): Promise<RunInfo[]> {
  const all = (await tx<Checkpoint[]>(['checkpoints'], 'readonly', (t) => t.objectStore('checkpoints').getAll())) ?? [];
  return all
    .map((c) => ({ runId: c.runId, model: c.config.train.model, datasetName: c.datasetName, step: c.step, epoch: c.epoch, savedAt: c.savedAt }))
    .sort((a, b) => b.savedAt - a.savedAt);
}

export async function deleteRun(runId: string): Promise<void> {
  await tx(['checkpoints', 'datasets'], 'readwrite', (t) => {
    t.objectStore('checkpoints').delete(runId);
    t.objectStore('datasets').delete(runId);
  });
}
