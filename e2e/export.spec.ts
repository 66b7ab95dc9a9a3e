/**
 * The Export panel: one click downloads one file (the .zip), the separate files are there on request, the
 * translate direction is named apart from the `direction` option, and a translation shows its input beside it.
 */
import { readFileSync } from 'node:fs';
import { unzipSync } from 'fflate';
import { expect, test } from '@playwright/test';
import type { Download } from '@playwright/test';
import { bmp } from './fixtures';
import { trainDemoThenPause } from './studioPage';
import { drawShapes } from '../src/data/demoShapes';

test('one click exports one zip; separate files on request; a translation shows its input beside its output', async ({ page }) => {
  test.setTimeout(240_000);
  const downloads: Download[] = [];
  page.on('download', (d) => downloads.push(d));
  await trainDemoThenPause(page, { backend: 'cpu', demo: /Try demo: Warm/, dataset: '200 A and 200 B images', steps: 3, pauseWithinMs: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText(/paused/);

  await page.getByRole('button', { name: 'Export model (.zip)' }).click();
  await expect.poll(() => downloads.length).toBeGreaterThan(0);
  // the separate files take another round trip to the worker: by the time they are listed, any other download
  // the click started has arrived
  await page.getByRole('button', { name: 'Separate files…' }).click();
  const list = page.getByRole('list', { name: 'Separate files' });
  await expect(list.getByRole('link')).toHaveText(['netG_A.json', 'netG_A.weights.bin', 'netG_B.json', 'netG_B.weights.bin']);
  expect(downloads.map((d) => d.suggestedFilename())).toEqual(['gan-studio-model.zip']);
  const zip = unzipSync(new Uint8Array(readFileSync((await downloads[0].path())!)));
  expect(Object.keys(zip)).toContain('netG_B/netG_B.weights.bin');

  // a separate file, one click each, the same bytes as in the zip
  const [single] = await Promise.all([page.waitForEvent('download'), list.getByRole('link', { name: 'netG_B.json' }).click()]);
  expect(single.suggestedFilename()).toBe('netG_B.json');
  expect(new Uint8Array(readFileSync((await single.path())!))).toEqual(zip['netG_B/netG_B.json']);

  // two selects are about a direction: the run's `direction` option and this one, named apart
  const direction = (name: string) => page.getByRole('combobox', { name, exact: true, includeHidden: true });
  await expect(direction('direction')).toHaveCount(1);
  await expect(direction('Translate direction')).toHaveCount(1);
  await expect(page.getByRole('combobox', { name: /direction/i, includeHidden: true })).toHaveCount(2);
  await direction('Translate direction').selectOption('BtoA');

  // a wide image: the input as chosen, beside its translation, each labelled
  await page.getByLabel('Translate an image').setInputFiles({ name: 'wide.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(drawShapes(1, 90, 6), 0, 90, 50)) });
  const result = page.getByTestId('translation');
  await expect(result).toContainText('Input: wide.bmp, 90×50');
  await expect(result).toContainText('Output (B → A), 90×50');
  const input = await page.getByTestId('translate-input').evaluate((c: HTMLCanvasElement) => ({ w: c.width, h: c.height, px: Array.from(c.getContext('2d')!.getImageData(0, 0, 1, 1).data) }));
  const expected = drawShapes(1, 90, 6).slice(0, 3).map((v) => Math.round((v + 1) * 127.5));
  expect(input).toEqual({ w: 90, h: 50, px: [...expected, 255] });
  // side by side: the output starts to the right of the input, on the same row
  const [a, b] = [await page.getByTestId('translate-input').boundingBox(), await page.getByTestId('translated').boundingBox()];
  expect(b!.x).toBeGreaterThanOrEqual(a!.x + a!.width);
  expect(Math.abs(b!.y - a!.y)).toBeLessThan(2);
});
