/** The tuner's store in a browser (the worker): IndexedDB, so a second run on the same adapter times nothing. */
import type { GemmConfig } from './convGemm';
import type { TuningStore } from './tuning';

const DB = 'gan-studio-kernel-tuning';
const STORE = 'choices';

/** Opens (creating on first use) the database; rejects where IndexedDB is refused (a private window may do that). */
function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB refused'));
  });
}

/** Resolves when a transaction is done; rejects with its error. */
const done = (tx: IDBTransaction) =>
  new Promise<void>((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
  });

/** The IndexedDB store, or null where this context has no IndexedDB (Node). */
export function indexedDbTuningStore(): TuningStore | null {
  if (typeof indexedDB === 'undefined') return null;
  return {
    async load(keys) {
      const db = await open();
      try {
        const tx = db.transaction(STORE, 'readonly');
        const store = tx.objectStore(STORE);
        const found = new Map<string, GemmConfig>();
        for (const key of keys) {
          const req = store.get(key);
          req.onsuccess = () => req.result !== undefined && found.set(key, req.result as GemmConfig);
        }
        await done(tx);
        return found;
      } finally {
        db.close();
      }
    },
    async save(entries) {
      const db = await open();
      try {
        const tx = db.transaction(STORE, 'readwrite');
        for (const [key, config] of entries) tx.objectStore(STORE).put(config, key);
        await done(tx);
      } finally {
        db.close();
      }
    },
  };
}
