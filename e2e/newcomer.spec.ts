/**
 * As a newcomer: open the page, try the demo, start, see curves and translations, pause, export; the exported
 * model loads in Node with tf.loadLayersModel and gives the page's output; translate an image in the page.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { expect, test } from '@playwright/test';
import { bmp } from './fixtures';
import { drawShapes } from '../src/data/demoShapes';

test('try the demo, train, pause, export; the exported generator loads in Node and matches the page', async ({ page }, info) => {
  test.setTimeout(300_000);
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto('/?test&preset=tiny&backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 A and 200 B images');
  await page.getByRole('button', { name: 'Start' }).click();

  // curves fill and translations appear
  await expect(page.getByTestId('chart-0')).toBeVisible({ timeout: 120_000 });
  await expect.poll(async () => Number(await page.getByTestId('chart-0').getAttribute('data-points')), { timeout: 120_000 }).toBeGreaterThanOrEqual(6);
  await expect(page.getByTestId('previews')).toBeVisible({ timeout: 120_000 });
  const firstPreview = Number(await page.getByTestId('previews').getAttribute('data-step'));
  await expect.poll(async () => Number(await page.getByTestId('previews').getAttribute('data-step')), { timeout: 120_000 }).toBeGreaterThan(firstPreview);
  await page.screenshot({ path: info.outputPath('training.png'), fullPage: true });

  await page.keyboard.press('Space'); // pauses
  await expect(page.getByTestId('run-state')).toHaveText(/paused/, { timeout: 60_000 });

  // export the zip and read it in Node
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export .zip' }).click()]);
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  expect(Object.keys(zip).sort()).toEqual([
    'README.md', 'gan-studio-layers.js', 'index.html', 'netG_A/netG_A.json', 'netG_A/netG_A.weights.bin',
    'netG_B/netG_B.json', 'netG_B/netG_B.weights.bin', 'package.json', 'translate.mjs',
  ]);
  expect(new TextDecoder().decode(zip['README.md'])).toContain('tf.loadLayersModel');

  // the exported custom-layers module, imported as a user would, then tf.loadLayersModel
  const moduleUrl = `data:text/javascript;base64,${Buffer.from(zip['gan-studio-layers.js']).toString('base64')}`;
  const { registerGanStudioLayers } = await import(moduleUrl);
  registerGanStudioLayers(tf);
  const json = JSON.parse(new TextDecoder().decode(zip['netG_A/netG_A.json']));
  const weights = zip['netG_A/netG_A.weights.bin'];
  const netG = await tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer }),
  );

  // the same input through Node and through the page's worker
  const side = 32;
  const pixels = drawShapes(1, side, 77);
  const rgba = new Uint8ClampedArray(side * side * 4);
  for (let i = 0; i < side * side; i++) {
    for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round((pixels[i * 3 + c] + 1) * 127.5);
    rgba[i * 4 + 3] = 255;
  }
  const nodeOut = tf.tidy(() => {
    const x = tf.tensor4d(Float32Array.from(rgba.filter((_, i) => i % 4 !== 3), (v) => v / 127.5 - 1), [1, side, side, 3]);
    const y = netG.apply(x, { training: false }) as tf.Tensor;
    return Array.from(tf.round(tf.clipByValue(tf.mul(tf.add(y, 1), 127.5), 0, 255)).dataSync());
  });
  const pageOut = await page.evaluate(
    ({ data, side }) =>
      new Promise<number[]>((resolve) => {
        const s = window.__studio!;
        const off = s.client.on((e) => {
          if (e.type === 'translated' && e.requestId === 4242) {
            off();
            resolve(Array.from(e.image.data).filter((_, i) => i % 4 !== 3));
          }
        });
        s.client.send({ type: 'translate', requestId: 4242, direction: 'AtoB', image: { width: side, height: side, data: new Uint8ClampedArray(data) } });
      }),
    { data: Array.from(rgba), side },
  );
  expect(pageOut).toHaveLength(nodeOut.length);
  const worst = Math.max(...pageOut.map((v, i) => Math.abs(v - nodeOut[i])));
  console.log(`exported netG_A in Node vs the page's worker: largest difference ${worst} of 255`);
  expect(worst).toBeLessThanOrEqual(2); // WebGPU vs CPU float rounding, then 8-bit quantisation

  // translate an image of another size in the page
  const file = bmp(drawShapes(1, 48, 3), 0, 48, 48);
  await page.getByLabel('Translate an image').setInputFiles({ name: 'photo.bmp', mimeType: 'image/bmp', buffer: Buffer.from(file) });
  await expect(page.getByTestId('translated')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText('48×48')).toBeVisible();
  await page.screenshot({ path: info.outputPath('exported.png'), fullPage: true });

  // a fresh page, no run: import the exported generator and translate with it
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  writeFileSync(join(dir, 'netG_A.json'), zip['netG_A/netG_A.json']);
  writeFileSync(join(dir, 'netG_A.weights.bin'), zip['netG_A/netG_A.weights.bin']);
  await page.goto('/?test&preset=tiny&backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByLabel('Import a model').setInputFiles([join(dir, 'netG_A.json'), join(dir, 'netG_A.weights.bin')]);
  await expect(page.getByTestId('imported')).toContainText('netG_A');
  await page.getByLabel('Translate an image').setInputFiles({ name: 'photo.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(drawShapes(1, 60, 4), 0, 60, 36)) });
  await expect(page.getByTestId('translated')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByText('60×36')).toBeVisible();

  // the user's data never left the page's origin
  const origin = new URL(page.url()).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  expect(foreign).toEqual([]);
});
