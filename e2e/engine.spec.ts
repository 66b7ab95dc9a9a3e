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

test('a pix2pix demo on WebGPU trains on the compiled WebGPU step; the Backend menu can ask for TF.js’s step instead', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  const menu = page.getByRole('combobox', { name: 'Backend' });
  await menu.selectOption({ label: 'WebGPU' });
  await page.getByRole('button', { name: 'Start' }).click();
  const choice = page.getByTestId('backend-choice');
  await expect(choice).toContainText('Training on webgpu · compiled WebGPU step: chosen in the Backend menu');
  await trainsPast(page, 3);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.locator('section[aria-labelledby=train-title]').screenshot({ path: test.info().outputPath('engine-compiled.png') });

  await menu.selectOption({ label: 'WebGPU, TF.js step' });
  await page.getByRole('button', { name: 'Start new run' }).click();
  await expect(choice).toContainText('Training on webgpu · TF.js step (asked for)');
  await trainsPast(page, 3);
});

test('a CycleGAN demo on WebGPU trains on the compiled WebGPU step too', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny&backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Warm shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('CycleGAN');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('step-engine')).toHaveText(' · compiled WebGPU step');
  await trainsPast(page, 3);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.screenshot({ path: test.info().outputPath('engine-cyclegan.png'), fullPage: true });
});

test('?engine=tfjs trains on TF.js’s step on WebGPU, and says so', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny&backend=webgpu&engine=tfjs');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByRole('combobox', { name: 'Backend' })).toHaveValue('webgpu-tfjs');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('step-engine')).toHaveText(' · TF.js step (asked for)');
  await trainsPast(page, 3);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.locator('section[aria-labelledby=train-title]').screenshot({ path: test.info().outputPath('engine-tfjs.png') });
});

test('a config the compiled step does not cover trains on TF.js’s step on WebGPU, and the card says why', async ({ page }) => {
  test.setTimeout(240_000);
  // pix2pix's default dropout in a ResNet generator: the compiled ResNet has none
  await page.goto('/?test&preset=tiny&netG=resnet_6blocks&backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('step-engine')).toHaveText(" · TF.js step (the compiled resnet_6blocks has no dropout (CycleGAN's default --no_dropout))");
  await trainsPast(page, 2);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toContainText('paused');
  await page.locator('section[aria-labelledby=train-title]').screenshot({ path: test.info().outputPath('engine-fallback.png') });
});
