/** The main thread's handle on the training worker: the only code that touches `Worker`. */
import type { Command, WorkerEvent } from './protocol';

export type Listener = (event: WorkerEvent) => void;

export class TrainingClient {
  private readonly worker: Worker;
  private readonly listeners = new Set<Listener>();

  constructor() {
    this.worker = new Worker(new URL('./trainer.worker.ts', import.meta.url), { type: 'module', name: 'training' });
    this.worker.onmessage = (e: MessageEvent<WorkerEvent>) => this.emit(e.data);
    this.worker.onerror = (e) => this.emit({ type: 'error', message: e.message || 'the training worker failed to start', recoverable: false });
  }

  private emit(event: WorkerEvent) {
    for (const l of this.listeners) l(event);
  }

  /** Sends a command; pass buffers to transfer rather than copy. */
  send(command: Command, transfer: Transferable[] = []): void {
    this.worker.postMessage(command, transfer);
  }

  /** Subscribes to events; returns the unsubscribe function. */
  on(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Ends the worker and everything it holds. */
  terminate(): void {
    this.worker.terminate();
    this.listeners.clear();
  }
}
