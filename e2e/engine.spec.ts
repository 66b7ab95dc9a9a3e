/**
 * Which training step a WebGPU run takes, in real Chromium: the compiled WebGPU step by default, TF.js's own when the
 * Backend menu or `?engine=tfjs` asks for it; the Training card says which, beside the backend.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';

/** Steps the run has reported, and its loss values so far. */
const progress = (page: Page) =>
  page.evaluate(() => {
    const s = window.__studio!.store.getState();
    return { step: s.progress?.step ?? 0, losses: Object.values(s.history?.values ?? {}).flat() };
  });

/** Waits until the run has trained past `steps` steps with finite losses. */
async function trainsPast(page: Page, steps: number) {
  await expect.poll(async () => (await progress(page)).step, { timeout: 120_000, intervals: [500] }).toBeGreaterThanOrEqual(steps);
  const { losses } = await progress(page);
  expect(losses.length).toBeGreaterThan(0);
  expect(losses.every(Number.isFinite)).toBe(true);
}

/** Opens the studio at `query` on WebGPU and loads a demo (its button's name and what the data card then says). */
async function openDemo(page: Page, query: string, demo: RegExp, dataset: string) {
  await page.goto(`/?test&preset=tiny${query}`);
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: demo }).click();
  await expect(page.getByTestId('dataset')).toContainText(dataset);
}

/** Starts a run, checks which step the card names, lets it train `steps` steps, pauses it and takes a screenshot. */
async function trainOn(page: Page, engine: string, steps: number, shot: string) {
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('step-engine')).toContainText(engine);
  await trainsPast(page, steps);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.screenshot({ path: test.info().outputPath(shot), fullPage: true });
}

test('a pix2pix demo on WebGPU trains on the compiled WebGPU step; the Backend menu can ask for TF.js’s step instead', async ({ page }) => {
  test.setTimeout(240_000);
  await openDemo(page, '', /Try demo: Shapes/, '200 pairs');
  const menu = page.getByRole('combobox', { name: 'Backend' });
  await menu.selectOption({ label: 'WebGPU' });
  await page.getByRole('button', { name: 'Start' }).click();
  const choice = page.getByTestId('backend-choice');
  await expect(choice).toContainText(/Training on webgpu · compiled WebGPU step( \(conv kernels tuned for this GPU: [^)]*\))?: chosen in the Backend menu/);
  await trainsPast(page, 3);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.locator('section[aria-labelledby=train-title]').screenshot({ path: test.info().outputPath('engine-compiled.png') });

  await menu.selectOption({ label: 'WebGPU, TF.js step' });
  await page.getByRole('button', { name: 'Start new run' }).click();
  await expect(choice).toContainText('Training on webgpu · TF.js step (asked for)');
  await trainsPast(page, 3);
});

test('a CycleGAN demo on WebGPU trains on the compiled WebGPU step too, its conv kernels tuned for this GPU and remembered after a reload', async ({ page }) => {
  test.setTimeout(360_000);
  await openDemo(page, '&backend=webgpu', /Try demo: Warm shapes/, 'CycleGAN');
  await trainOn(page, ' · compiled WebGPU step', 3, 'engine-cyclegan.png');
  // the first build timed tile candidates for this adapter (within its budget) and kept the choices in IndexedDB
  const engine = page.getByTestId('step-engine');
  await expect(engine).toContainText(/conv kernels tuned for this GPU: \d+ passes, [\d.]+ s/);
  // a new page (a new worker, nothing in memory): the choices come back from IndexedDB
  await openDemo(page, '&backend=webgpu', /Try demo: Warm shapes/, 'CycleGAN');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(engine).toContainText(/conv kernels tuned for this GPU: \d+ passes \(\d+ remembered\)/, { timeout: 120_000 });
  await trainsPast(page, 2);
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.locator('section[aria-labelledby=train-title]').screenshot({ path: test.info().outputPath('engine-tuned-remembered.png') });
});

test('?engine=tfjs trains on TF.js’s step on WebGPU, and says so', async ({ page }) => {
  test.setTimeout(240_000);
  await openDemo(page, '&backend=webgpu&engine=tfjs', /Try demo: Shapes/, '200 pairs');
  await expect(page.getByRole('combobox', { name: 'Backend' })).toHaveValue('webgpu-tfjs');
  await trainOn(page, ' · TF.js step (asked for)', 3, 'engine-tfjs.png');
});

test('a config the compiled step does not cover trains on TF.js’s step on WebGPU, and the card says why', async ({ page }) => {
  test.setTimeout(240_000);
  // pix2pix's default dropout in a ResNet generator: the compiled ResNet has none
  await openDemo(page, '&netG=resnet_6blocks&backend=webgpu', /Try demo: Shapes/, '200 pairs');
  await trainOn(page, " · TF.js step (the compiled resnet_6blocks has no dropout (CycleGAN's default --no_dropout))", 2, 'engine-fallback.png');
});
