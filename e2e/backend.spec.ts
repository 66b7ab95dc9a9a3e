import { expect, test } from '@playwright/test';

test('the page gets a WebGPU adapter and the training worker picks TF.js on webgpu', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/');

  const adapter = await page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter();
    return a ? { vendor: a.info.vendor, architecture: a.info.architecture } : null;
  });
  expect(adapter, 'navigator.gpu.requestAdapter() gave no adapter').not.toBeNull();

  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('adapter')).not.toHaveText('none');
  expect(errors).toEqual([]);
});

test('a software adapter is named as such', async ({ page }) => {
  test.skip(!!process.env.E2E_REAL_GPU, 'runs on a real GPU');
  await page.goto('/');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('software-warning')).toBeVisible();
});
