/**
 * The page on a phone (390 × 844), after a run has drawn curves and translations: nothing scrolls sideways, the
 * three loss charts end at the same step, and the enlarged translation is a proper dialog (focus, Escape).
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { bmp } from './fixtures';
import { drawShapes } from '../src/data/demoShapes';

let page: Page;

test.beforeAll(async ({ browser }, info) => {
  test.setTimeout(240_000);
  page = await browser.newPage({ baseURL: info.project.use.baseURL, viewport: { width: 390, height: 844 } });
  await page.goto('/?test&preset=tiny&backend=cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 A and 200 B images');
  await page.getByRole('button', { name: 'Start' }).click();
  await expect(page.getByTestId('previews')).toBeVisible({ timeout: 120_000 });
  await expect.poll(async () => Number(await page.getByTestId('chart-2').getAttribute('data-points')), { timeout: 120_000 }).toBeGreaterThanOrEqual(10);
  await page.getByRole('button', { name: 'Pause' }).click();
  await expect(page.getByTestId('run-state')).toHaveText(/paused/, { timeout: 60_000 });
  // and a translation, input beside output
  await page.getByLabel('Translate an image').setInputFiles({ name: 'wide.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(drawShapes(1, 120, 5), 0, 120, 60)) });
  await expect(page.getByTestId('translated')).toBeVisible({ timeout: 60_000 });
});

test.afterAll(async () => {
  await page.close();
});

test('at 390 px wide nothing scrolls sideways, with data, curves, translations and a translated image shown', async ({}, info) => {
  const widest = await page.evaluate(() => {
    // the elements that stick out of the page (not clipped by a scrolling or clipping box), to say what overflows
    const clipped = (e: Element) => {
      for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) if (getComputedStyle(p).overflowX !== 'visible') return true;
      return false;
    };
    const out = [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5 && !clipped(e))
      .map((e) => `${e.tagName.toLowerCase()}${e.getAttribute('aria-label') ? `[${e.getAttribute('aria-label')}]` : ''}.${e.className}`);
    return { scrollWidth: document.scrollingElement!.scrollWidth, out: out.slice(0, 10) };
  });
  await page.screenshot({ path: info.outputPath('phone.png'), fullPage: true });
  expect(widest.out).toEqual([]);
  expect(widest.scrollWidth).toBeLessThanOrEqual(390);
});

test('the three loss charts end at the same step, the last one the run logged', async () => {
  const paused = await page.evaluate(() => window.__studio!.store.getState().progress!.step);
  const ends = () => Promise.all([0, 1, 2].map(async (i) => Number(await page.getByTestId(`chart-${i}`).getAttribute('data-last-step'))));
  // once the latest history has been drawn (charts redraw every 2 s); the last drawn point is the middle of the
  // last downsampling bucket, at most one step before the run's last
  await expect.poll(async () => (await ends()).map((s) => s >= paused - 1)).toEqual([true, true, true]);
  expect(new Set(await ends()).size).toBe(1);
});

test('the enlarged translation takes focus, closes with Escape and gives focus back to its thumbnail', async () => {
  const thumb = page.getByTestId('previews').getByRole('button', { name: /show large/ }).first();
  const label = (await thumb.getAttribute('aria-label'))!.replace(/: show large$/, '');
  await thumb.click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await expect(dialog).toHaveAttribute('aria-modal', 'true');
  await expect(dialog).toHaveAccessibleName(new RegExp(`^${label}`));
  // focus is inside the dialog, and Tab keeps it there
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Tab');
  await expect(dialog.getByRole('button', { name: 'Close' })).toBeFocused();
  await page.keyboard.press('Escape');
  await expect(dialog).toHaveCount(0);
  await expect(thumb).toBeFocused();
  // from the keyboard: Enter opens it, Enter on Close closes it
  await page.keyboard.press('Enter');
  await expect(dialog).toBeVisible();
  await page.keyboard.press('Enter');
  await expect(dialog).toHaveCount(0);
  await expect(thumb).toBeFocused();
});
