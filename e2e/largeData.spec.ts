/**
 * A dataset read on demand in real Chromium: a zip's counts show from its directory and first images, a run starts
 * before every image is decoded, and a corrupt image deep inside is listed and skipped while the run goes on.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { zipOf } from './fixtures';
import { shapeFiles } from './dataFixtures';
import { studio, waitForStep } from './studioPage';

/** A PNG whose header says 40×40 (so its size checks pass) and whose image data is garbage: only decoding finds out. */
function corruptPng(): Uint8Array {
  const out = new Uint8Array(8 + 25 + 12 + 64);
  out.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const v = new DataView(out.buffer);
  v.setUint32(8, 13);
  out.set([0x49, 0x48, 0x44, 0x52], 12);
  v.setUint32(16, 40);
  v.setUint32(20, 40);
  out.set([8, 2, 0, 0, 0], 24);
  v.setUint32(33, 64);
  out.set([0x49, 0x44, 0x41, 0x54], 37);
  for (let i = 41; i < out.length; i++) out[i] = (i * 37) % 256;
  return out;
}

test('a zip of 300 images trains at once; a corrupt image deep inside is listed and skipped, and the run goes on', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny&backend=cpu');
  await expect(page.getByTestId('backend')).toHaveText('cpu');
  const files = { ...shapeFiles(150, (i) => `trainA/a${String(i).padStart(4, '0')}.bmp`), ...shapeFiles(150, (i) => `trainB/b${String(i).padStart(4, '0')}.bmp`, { seed: 3, green: true }) };
  files['trainA/a0120.png'] = corruptPng();
  const zip = join(mkdtempSync(join(tmpdir(), 'studio-')), 'shapes2green.zip');
  writeFileSync(zip, zipOf('shapes2green', files));
  await page.getByLabel('Dataset zip').setInputFiles(zip);
  // the counts come from the directory: the corrupt file is not known to be one yet
  await expect(page.getByTestId('dataset')).toContainText('151 A and 150 B images');
  await page.getByRole('button', { name: 'Start' }).click();
  await waitForStep(page, 2);
  // the background check finds it while the run trains, lists it by name, and the counts follow
  await expect(page.getByTestId('problems')).toContainText('a0120.png: corrupt png image', { timeout: 180_000 });
  await expect(page.getByTestId('dataset')).toContainText('150 A and 150 B images');
  const before = (await studio(page)).step;
  await waitForStep(page, before + 3);
  const s = await studio(page);
  expect(s.state).toBe('running');
  expect(s.error).toBeNull();
  expect(s.problems.map((p) => p.path)).toEqual(['shapes2green/trainA/a0120.png']);
});
