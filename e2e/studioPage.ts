/** The page through its test hook: the store's state, waiting for training steps, a demo trained then paused. */
import { expect } from '@playwright/test';
import type { Page } from '@playwright/test';

export type Snapshot = { state: string; step: number; losses: Record<string, number[]>; reason: string | null; error: string | null; problems: { path: string; reason: string }[] };

/** Reads the store through the test hook. */
export const studio = (page: Page) =>
  page.evaluate((): Snapshot => {
    const s = window.__studio!.store.getState();
    return {
      state: s.runState,
      step: s.progress?.step ?? 0,
      losses: s.history?.values ?? {},
      reason: s.reason,
      error: s.error,
      problems: s.dataset?.problems ?? [],
    };
  });

/** Waits until the run has taken at least `atLeast` steps. */
export const waitForStep = async (page: Page, atLeast: number, timeout = 120_000) =>
  expect.poll(async () => (await studio(page)).step, { timeout, intervals: [500] }).toBeGreaterThanOrEqual(atLeast);

/** Opens the page on a forced backend, trains a demo past `steps` steps and pauses it; returns the step it paused at. */
export async function trainDemoThenPause(page: Page, o: { backend: string; demo: RegExp; dataset: string; steps: number; pauseWithinMs: number }) {
  await page.goto(`/?test&preset=tiny&backend=${o.backend}`);
  await expect(page.getByTestId('backend')).toHaveText(o.backend);
  await page.getByRole('button', { name: o.demo }).click();
  await expect(page.getByTestId('dataset')).toContainText(o.dataset);
  await page.getByRole('button', { name: 'Start' }).click();
  await waitForStep(page, o.steps);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect.poll(async () => (await studio(page)).state, { timeout: o.pauseWithinMs }).toBe('paused');
  return (await studio(page)).step;
}
