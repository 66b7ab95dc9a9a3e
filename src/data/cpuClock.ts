/**
 * Milliseconds this thread has spent in the synchronous parts of reading images (inflating, copying pixels out):
 * the share of a decode that holds up a training step; `createImageBitmap` itself decodes on other threads.
 */
export const cpuClock = { ms: 0 };

/** Runs `f`, adding its time to the clock. */
export function timed<T>(f: () => T): T {
  const t0 = performance.now();
  try {
    return f();
  } finally {
    cpuClock.ms += performance.now() - t0;
  }
}
