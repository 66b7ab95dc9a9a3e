/**
 * The data panel as a new user meets it: two domain folders that happen to pair by name, loose photos, a failed load
 * after a good one, grouped problems, dataset names, and browsing the whole training set a page at a time.
 * Set DATA_SHOTS=<folder> to keep screenshots of the panel in each state.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import type { Page, TestInfo } from '@playwright/test';
import { cycleGanFiles, writeTree, zipOf } from './fixtures';
import { numbered, shapeFiles, sideBySideFiles } from './dataFixtures';

const panel = (page: Page) => page.getByRole('region', { name: 'Data' });
const start = (page: Page) => page.getByRole('button', { name: 'Start' });
const folder = (name: string, files: Record<string, Uint8Array>) => writeTree(join(mkdtempSync(join(tmpdir(), 'data-')), name), files);

/** A screenshot of the data panel, kept in DATA_SHOTS when set. */
const shot = (page: Page, info: TestInfo, name: string) =>
  panel(page).screenshot({ path: process.env.DATA_SHOTS ? join(process.env.DATA_SHOTS, `data-${name}.png`) : info.outputPath(`${name}.png`) });

/** Drops files on the drop zone, as a user dragging them from a file manager. */
async function drop(page: Page, files: Record<string, Uint8Array>) {
  await page.evaluate((entries) => {
    const dt = new DataTransfer();
    for (const [name, bytes] of entries) dt.items.add(new File([new Uint8Array(bytes)], name));
    document.querySelector('[data-testid=drop-zone]')!.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
  }, Object.entries(files).map(([name, bytes]) => [name, Array.from(bytes)] as const));
}

async function open(page: Page) {
  await page.goto('/?test&preset=tiny&backend=cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
}

test('two domain folders whose files share names are two domains, with pix2pix on pairs one click away', async ({ page }, info) => {
  test.setTimeout(180_000);
  await open(page);
  const horses = folder('horses', shapeFiles(6, numbered));
  const zebras = folder('zebras', shapeFiles(6, numbered, { seed: 12, green: true }));

  await page.getByLabel('Domain A').setInputFiles(horses);
  await expect(page.getByTestId('pending')).toHaveText('Domain A: horses (6 files). Now pick Domain B, the other kind of images.');
  await expect(start(page)).toBeDisabled();
  await shot(page, info, 'domain-a-only');

  await page.getByLabel('Domain B').setInputFiles(zebras);
  const dataset = page.getByTestId('dataset');
  await expect(dataset).toContainText('horses ↔ zebras: CycleGAN (unaligned), 6 A and 6 B images');
  await expect(page.getByTestId('pending')).toHaveCount(0);
  await expect(page.getByTestId('pairing')).toContainText('These 6 files pair by name');
  await shot(page, info, 'two-domains-offer');

  await page.getByRole('button', { name: 'Train pix2pix on 6 pairs' }).click();
  await expect(dataset).toContainText('horses ↔ zebras: pix2pix (paired), 6 pairs');
  // each pair is shown together: A beside its B, labelled
  const pairs = panel(page).getByRole('list', { name: 'Pairs, A beside B' }).getByRole('listitem');
  await expect(pairs).toHaveCount(6);
  await expect(pairs.first().getByLabel('pair 1, A', { exact: true })).toBeVisible();
  await expect(pairs.first().getByLabel('pair 1, B', { exact: true })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Train CycleGAN on two unpaired domains' })).toBeVisible();
  await shot(page, info, 'pairs');

  // the pairs train pix2pix
  expect(await page.evaluate(() => window.__studio!.store.getState().config.train.model)).toBe('pix2pix');
  await start(page).click();
  await expect.poll(() => page.evaluate(() => window.__studio!.store.getState().progress?.step ?? 0), { timeout: 150_000 }).toBeGreaterThanOrEqual(1);
  expect(Object.keys(await page.evaluate(() => window.__studio!.store.getState().history?.values ?? {}))).toContain('G_L1');
});

test('loose square photos are not cut in half: they become Domain A and the panel asks for Domain B', async ({ page }, info) => {
  await open(page);
  await drop(page, shapeFiles(8, (i) => `photo_000${i}.bmp`, { side: 64 }));
  await expect(panel(page).getByRole('alert')).toHaveText(
    'These 8 images look like one domain of ordinary photos, not side-by-side A|B pairs (twice as wide as tall): pick the other domain.',
  );
  await expect(page.getByTestId('pending')).toHaveText('Domain A: 8 files. Now pick Domain B, the other kind of images.');
  await expect(page.getByTestId('dataset')).toHaveCount(0);
  await expect(start(page)).toBeDisabled();
  await shot(page, info, 'square-photos');

  await page.getByLabel('Domain B').setInputFiles(folder('zebras', shapeFiles(8, (i) => `z${i}.bmp`, { side: 64, green: true })));
  await expect(page.getByTestId('dataset')).toContainText('8 images ↔ zebras: CycleGAN (unaligned), 8 A and 8 B images');
  // whole photos: square thumbnails, not halves
  const first = panel(page).getByLabel('A 1', { exact: true });
  expect(await first.evaluate((c: HTMLCanvasElement) => c.width / c.height)).toBe(1);
  await expect(start(page)).toBeEnabled();
});

test('a failed load after a good one says why inside the data panel, and leaves nothing loaded', async ({ page }, info) => {
  await open(page);
  await page.getByLabel('Dataset folder').setInputFiles(folder('cats2dogs', cycleGanFiles(4)));
  await expect(page.getByTestId('dataset')).toContainText('cats2dogs: CycleGAN (unaligned), 4 A and 4 B images');
  await expect(start(page)).toBeEnabled();

  const onesided = folder('onesided', { ...shapeFiles(3, (i) => `trainA/a${i}.bmp`), 'trainA/notes.txt': new TextEncoder().encode('x') });
  await page.getByLabel('Dataset folder').setInputFiles(onesided);
  const alert = panel(page).getByRole('alert');
  await expect(alert).toHaveText('onesided could not be loaded: domain B has no images: CycleGAN needs images of both domains (trainA/ and trainB/).');
  // announced once, where the user looks: no second alert at the top of the page
  await expect(page.getByRole('alert')).toHaveCount(1);
  await expect(panel(page)).toContainText('Nothing is loaded now');
  await expect(page.getByTestId('problems')).toContainText('onesided/trainA/notes.txt: not an image (.txt)');
  await expect(page.getByTestId('dataset')).toHaveCount(0);
  await expect(start(page)).toBeDisabled();
  await shot(page, info, 'load-failed');

  // a good load clears it
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 A and 200 B images');
  await expect(page.getByTestId('load-failed')).toHaveCount(0);
});

test('forty files outside the dataset folders are one line with a count and the first names; the rest on request', async ({ page }, info) => {
  await open(page);
  const truth = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`testA_truth/t${i}.bmp`, new Uint8Array([1])]));
  await page.getByLabel('Dataset folder').setInputFiles(folder('h2z', { ...cycleGanFiles(4), ...truth }));
  const problems = page.getByTestId('problems');
  await expect(panel(page).getByText('43 files could not be used, for 4 reasons')).toBeVisible();
  const group = problems.locator('li.problem-group', { hasText: '40 files' });
  await expect(group).toContainText(`40 files: outside the dataset's folders (traina, trainb, testa, testb): "testA_truth" is not one of them`);
  await expect(group.getByRole('listitem').filter({ visible: true })).toHaveCount(3);
  await expect(group.getByText('h2z/testA_truth/t39.bmp')).toBeHidden();
  await shot(page, info, 'grouped-problems');
  await group.getByText('37 more').click();
  await expect(group.getByText('h2z/testA_truth/t39.bmp')).toBeVisible();
  await expect(group.getByRole('listitem').filter({ visible: true })).toHaveCount(40);
});

test('a zip is named after the zip; its 2:1 A|B images are split and shown as pairs', async ({ page }, info) => {
  await open(page);
  await drop(page, { 'my-facades.zip': zipOf('facades', sideBySideFiles(5, (i) => `train/${i}.bmp`)) });
  await expect(page.getByTestId('dataset')).toContainText('my-facades: pix2pix (aligned), 5 pairs');
  const pairs = panel(page).getByRole('list', { name: 'Pairs, A beside B' }).getByRole('listitem');
  await expect(pairs).toHaveCount(5);
  // A is the left half, B the right: both square
  const a = pairs.first().getByLabel('pair 1, A', { exact: true });
  expect(await a.evaluate((c: HTMLCanvasElement) => c.width / c.height)).toBe(1);
  await shot(page, info, 'aligned-zip');
});

test('the whole training set can be browsed a page at a time', async ({ page }, info) => {
  await open(page);
  const files = { ...shapeFiles(60, (i) => `trainA/a${i}.bmp`), ...shapeFiles(50, (i) => `trainB/b${i}.bmp`, { seed: 3, green: true }) };
  await page.getByLabel('Dataset folder').setInputFiles(folder('big', files));
  await expect(page.getByTestId('dataset')).toContainText('60 A and 50 B images');
  await page.evaluate(() => {
    const w = window as unknown as { __pageSizes: number[] };
    w.__pageSizes = [];
    window.__studio!.client.on((e) => e.type === 'thumbnailPage' && w.__pageSizes.push(e.items.length));
  });
  await page.getByRole('button', { name: 'Show all (110)' }).click();
  const grid = (name: string) => panel(page).getByRole('list', { name }).getByRole('listitem');
  await expect(grid('Domain A, page 1 of 2')).toHaveCount(48);
  await shot(page, info, 'show-all');
  await page.getByRole('button', { name: 'Next ›' }).click();
  await expect(grid('Domain A, page 2 of 2')).toHaveCount(12);
  await expect(panel(page).getByRole('list', { name: 'Domain A, page 2 of 2' })).toContainText('a59.bmp');
  await expect(page.getByRole('button', { name: 'Next ›' })).toBeDisabled();
  await page.getByRole('button', { name: 'Domain B (50)' }).click();
  await expect(grid('Domain B, page 1 of 2')).toHaveCount(48);
  await page.getByRole('button', { name: 'Next ›' }).click();
  await expect(grid('Domain B, page 2 of 2')).toHaveCount(2);
  // the worker sent pages, never the whole set
  expect(await page.evaluate(() => (window as unknown as { __pageSizes: number[] }).__pageSizes)).toEqual([48, 12, 48, 2]);
});
