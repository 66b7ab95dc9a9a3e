/**
 * A step's memory as a user meets it: a budget (`?budget=`, in MiB) below what the compiled step needs refuses the
 * Start, on the page and in the worker, with what needs how much and the option to lower; a saved run whose step
 * does not fit stays paused at its checkpoint.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { studio, trainDemoThenPause } from './studioPage';

const start = (page: Page) => page.getByRole('button', { name: 'Start', exact: true });
/** Tiny pix2pix's compiled step takes 1.5 MiB (0.6 of its buffers, 0.9 of weights and Adam): over a 1 MiB budget. */
const refusal = /ngf: the compiled WebGPU step needs 1\.\d MiB \(its buffers [\d.]+ KiB; weights and Adam [\d.]+ KiB\), more than the 1 MiB this page was given \(\?budget=\): lower ngf/;

test('a budget below the compiled step refuses Start on the page and in the worker, and nothing starts', async ({ page }) => {
  await page.goto('/?test&preset=tiny&backend=webgpu&budget=1');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await expect(page.getByTestId('step-memory')).toHaveAttribute('data-step', 'compiled');
  await expect(page.getByTestId('start-blockers')).toHaveText(new RegExp(`^Fix the options first: ${refusal.source}$`));
  await expect(start(page)).toBeDisabled();
  // a start command that skips the page meets the worker's own check, before anything is built
  await page.evaluate(() => {
    const s = window.__studio!;
    s.client.send({ type: 'start', config: s.store.getState().config, backend: 'webgpu', budget: 1024 ** 2 });
  });
  await expect(page.getByRole('alert')).toContainText(/--ngf: the compiled WebGPU step needs 1\.\d MiB/);
  await expect(page.getByTestId('run-state')).toHaveText(/ready/);
  const s = await studio(page);
  expect([s.state, s.step]).toEqual(['ready', 0]);
});

test('a saved run whose step does not fit the budget stays paused at its checkpoint, saying why', async ({ page }) => {
  const step = await trainDemoThenPause(page, { backend: 'webgpu', demo: /Try demo: Shapes/, dataset: '200 pairs', steps: 2, pauseWithinMs: 60_000 });
  const runId = await page.evaluate(() => window.__studio!.store.getState().runId);
  await page.evaluate((id) => window.__studio!.client.send({ type: 'resumeRun', runId: id!, backend: 'webgpu', budget: 1024 ** 2 }), runId);
  await expect(page.getByRole('alert')).toContainText(/--ngf: the compiled WebGPU step needs 1\.\d MiB/);
  await expect.poll(async () => (await studio(page)).reason ?? '').toMatch(refusal);
  const s = await studio(page);
  expect([s.state, s.step]).toEqual(['paused', step]);
  // and it stays there: no step is taken
  await page.waitForTimeout(2000);
  expect((await studio(page)).step).toBe(step);
});
