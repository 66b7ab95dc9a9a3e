import { expect, test } from '@playwright/test';

test('on a software GPU the automatic choice measures each backend on the run itself and keeps the fastest', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('software-warning')).toBeVisible();
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await page.getByRole('button', { name: 'Start' }).click();
  // while it times the backends the page says so, and Start cannot be pressed twice
  await expect(page.getByTestId('backend-timing')).toContainText(/Timing (webgpu|webgl|cpu) on this model/);
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  const choice = page.getByTestId('backend-choice');
  await expect(choice).toContainText('measured', { timeout: 180_000 });
  const text = (await choice.textContent()) ?? '';
  console.log(text);
  const rates = Object.fromEntries([...text.matchAll(/(webgpu|webgl|cpu) ([\d.]+) steps\/s/g)].map((m) => [m[1], Number(m[2])]));
  const chosen = /Chose (webgpu|webgl|cpu)/.exec(text)![1];
  // the chosen one is the fastest measured, and it is what the header now says
  expect(rates[chosen]).toBe(Math.max(...Object.values(rates)));
  await expect(page.getByTestId('backend')).toHaveText(chosen);
  await expect(page.getByTestId('backend-timing')).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => window.__studio!.store.getState().progress?.step ?? 0), { timeout: 60_000 }).toBeGreaterThan(2);

  // a new run of the same model reuses the measurement instead of timing every backend again
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Start new run' }).click();
  await expect(choice).toContainText('at an earlier Start of the same model', { timeout: 30_000 });
  await expect(choice).toContainText(`Chose ${chosen}`);
});
