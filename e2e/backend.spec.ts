import { expect, test } from '@playwright/test';

test('the page gets a WebGPU adapter and the training worker runs TF.js on webgpu', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?probeStep');

  const adapter = await page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter();
    return a ? { vendor: a.info.vendor, architecture: a.info.architecture } : null;
  });
  expect(adapter, 'navigator.gpu.requestAdapter() gave no adapter').not.toBeNull();

  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('adapter')).not.toHaveText('none');
  // The worker ran one real pix2pix step on that backend: four finite losses.
  const step = page.getByTestId('step');
  await expect(step).toContainText('G_GAN');
  const numbers = ((await step.textContent()) ?? '').match(/-?\d+\.\d+/g)?.map(Number) ?? [];
  expect(numbers.length).toBeGreaterThanOrEqual(4);
  for (const n of numbers) expect(Number.isFinite(n)).toBe(true);
  expect(errors).toEqual([]);
});

test('a software adapter is named as such', async ({ page }) => {
  test.skip(!!process.env.E2E_REAL_GPU, 'runs on a real GPU');
  await page.goto('/');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('software-warning')).toBeVisible();
});
