import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';

/** Milliseconds from now until the store holds a first loss (the first chart point). */
const untilFirstPoint = (page: Page) =>
  page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        const t0 = performance.now();
        const off = window.__studio!.store.subscribe((s) => {
          if (s.history && Object.values(s.history.values).some((v) => v.length)) {
            off();
            resolve(performance.now() - t0);
          }
        });
      }),
  );

test('on a software GPU the automatic choice times each backend briefly on the run itself and keeps the fastest', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await expect(page.getByTestId('software-warning')).toBeVisible();
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  const firstPoint = untilFirstPoint(page);
  await page.getByRole('button', { name: 'Start' }).click();
  // while it times the backends the page says which, how far along, and Start cannot be pressed twice
  await expect(page.getByTestId('backend-timing')).toContainText(/timing (webgpu|webgl|cpu) \(\d of 3\) on this model/);
  await expect(page.getByRole('button', { name: 'Start' })).toBeDisabled();
  const choice = page.getByTestId('backend-choice');
  await expect(choice).toContainText('measured', { timeout: 60_000 });
  const ms = await firstPoint;
  const text = (await choice.textContent()) ?? '';
  console.log(`Start → first chart point ${(ms / 1000).toFixed(1)} s; ${text}`);
  const rates = Object.fromEntries([...text.matchAll(/(webgpu|webgl|cpu) ([\d.]+) steps\/s/g)].map((m) => [m[1], Number(m[2])]));
  const chosen = /Training on (webgpu|webgl|cpu)/.exec(text)![1];
  // the chosen one is the fastest measured, and it is what the header now says
  expect(rates[chosen]).toBe(Math.max(...Object.values(rates)));
  await expect(page.getByTestId('backend')).toHaveText(chosen);
  await expect(page.getByTestId('backend-timing')).toHaveCount(0);
  await expect.poll(() => page.evaluate(() => window.__studio!.store.getState().progress?.step ?? 0), { timeout: 60_000 }).toBeGreaterThan(2);

  // a new run of the same model reuses the measurement instead of timing every backend again
  await page.getByRole('button', { name: 'Pause' }).click();
  await page.getByRole('button', { name: 'Start new run' }).click();
  await expect(choice).toContainText('at an earlier Start of the same model', { timeout: 30_000 });
  await expect(choice).toContainText(`Training on ${chosen}`);
});

test('Stop cancels the backend timing of a Start: no run begins, and Start works again', async ({ page }) => {
  test.setTimeout(180_000);
  await page.goto('/?test&preset=tiny');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 A and 200 B images');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('backend-timing')).toBeVisible();
  await expect(page.getByRole('button', { name: 'Stop' })).toBeEnabled();
  await page.getByRole('button', { name: 'Stop' }).click();
  await expect(page.getByTestId('run-state')).toContainText('ready', { timeout: 30_000 });
  await expect(page.getByTestId('backend-timing')).toHaveCount(0);
  const s = await page.evaluate(() => ({ runs: window.__studio!.store.getState().runs.length, step: window.__studio!.store.getState().progress?.step ?? 0 }));
  expect(s).toEqual({ runs: 0, step: 0 });
  await expect(page.getByRole('button', { name: 'Start' })).toBeEnabled();
});
