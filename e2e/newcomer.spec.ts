/**
 * As a newcomer: open the page, try the demo, start, see curves and translations, pause, export; the exported
 * README's own Node script and browser page run as written and give the page's output at a size the network alone
 * cannot take; translate an image in the page; import the export into a fresh page.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, extname, join, resolve } from 'node:path';
import { unzipSync } from 'fflate';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { bmp } from './fixtures';
import { drawShapes } from '../src/data/demoShapes';

/** The fenced code block of a language in a README. */
const codeBlock = (readme: string, lang: string) => new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(readme)![1];

/** The page's own translation (the worker's generator) of an RGBA image, as RGB bytes. */
const pageTranslation = (page: Page, rgba: Uint8ClampedArray, width: number, height: number) =>
  page.evaluate(
    ({ data, width, height }) =>
      new Promise<number[]>((resolve) => {
        const s = window.__studio!;
        const off = s.client.on((e) => {
          if (e.type === 'translated' && e.requestId === 4242) {
            off();
            resolve(Array.from(e.image.data).filter((_, i) => i % 4 !== 3));
          }
        });
        s.client.send({ type: 'translate', requestId: 4242, direction: 'AtoB', image: { width, height, data: new Uint8ClampedArray(data) } });
      }),
    { data: Array.from(rgba), width, height },
  );

const largestDifference = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

test('try the demo, train, pause, export; the README’s Node and browser code run as written and match the page', async ({ page }, info) => {
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

  // export: one click, one zip, unpacked as a user would
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export model (.zip)' }).click()]);
  expect(download.suggestedFilename()).toBe('gan-studio-model.zip');
  const zip = unzipSync(new Uint8Array(readFileSync((await download.path())!)));
  const names = Object.keys(zip).sort();
  expect(names.filter((n) => !/^(pytorch|onnx)\//.test(n))).toEqual([
    'README.md', 'gan-studio-layers.js', 'index.html', 'netG_A/netG_A.json', 'netG_A/netG_A.weights.bin',
    'netG_B/netG_B.json', 'netG_B/netG_B.weights.bin', 'package.json', 'translate.mjs',
  ]);
  // the same run for PyTorch (the reference's checkpoints folder) and as ONNX, beside it
  expect(names.filter((n) => n.startsWith('onnx/'))).toEqual(['onnx/netG_A.onnx', 'onnx/netG_B.onnx']);
  expect(names.filter((n) => n.startsWith('pytorch/')).map((n) => n.replace(/^pytorch\/checkpoints\/[^/]+\//, ''))).toEqual([
    'README.md', 'latest_net_D_A.pth', 'latest_net_D_B.pth', 'latest_net_G_A.pth', 'latest_net_G_B.pth', 'train_opt.txt',
  ]);
  const readme = new TextDecoder().decode(zip['README.md']);
  // Tiny's unet_32 halves the image 5 times
  expect(readme).toContain('Sides a multiple of 32');
  const dir = mkdtempSync(join(tmpdir(), 'export-'));
  for (const [path, data] of Object.entries(zip)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), data);
  }
  // the README's own code, written beside the model as the README says
  writeFileSync(join(dir, 'translate.mjs'), codeBlock(readme, 'js'));
  writeFileSync(join(dir, 'index.html'), codeBlock(readme, 'html'));

  // one image of a size unet_32 alone cannot take: 100 × 68
  const [width, height] = [100, 68];
  const pixels = drawShapes(1, width, 77);
  const rgb = Uint8Array.from({ length: width * height * 3 }, (_, i) => Math.round((pixels[i] + 1) * 127.5));
  const rgba = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) rgba.set([rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2], 255], i * 4);
  const pageOut = await pageTranslation(page, rgba, width, height);

  // Node: `npm install` would give TF.js; this project's is the same package
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  writeFileSync(join(dir, 'photo.ppm'), Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), rgb]));
  const log = execFileSync('node', ['translate.mjs', 'photo.ppm', 'translated.ppm'], { cwd: dir, encoding: 'utf8' });
  expect(log).toContain('translated photo.ppm (100×68) to translated.ppm');
  const ppm = readFileSync(join(dir, 'translated.ppm'));
  const header = `P6\n${width} ${height}\n255\n`;
  expect(ppm.toString('latin1', 0, header.length)).toBe(header);
  const nodeWorst = largestDifference(ppm.subarray(header.length), pageOut);
  console.log(`README's Node script vs the page's worker at 100×68: largest difference ${nodeWorst} of 255`);
  expect(nodeWorst).toBeLessThanOrEqual(2); // WebGPU vs CPU float rounding, then 8-bit quantisation

  // browser: the README's page, served from the unpacked folder; its TF.js module comes from the installed package
  const tfUrl = /import \* as tf from '([^']+)'/.exec(codeBlock(readme, 'html'))![1];
  const installed = JSON.parse(readFileSync('node_modules/@tensorflow/tfjs/package.json', 'utf8')).version;
  expect(tfUrl).toBe(`https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@${installed}/dist/tf.fesm.min.js`);
  const site = await page.context().newPage();
  await site.route(tfUrl, (route) => route.fulfill({ path: 'node_modules/@tensorflow/tfjs/dist/tf.fesm.min.js', contentType: 'text/javascript' }));
  const types: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.json': 'application/json' };
  await site.route('http://export.test/**', (route) => {
    const path = join(dir, new URL(route.request().url()).pathname);
    return route.fulfill({ path, contentType: types[extname(path)] ?? 'application/octet-stream' });
  });
  await site.goto('http://export.test/index.html');
  await expect(site.locator('#status')).toHaveText('Choose an image.', { timeout: 60_000 });
  await site.locator('#file').setInputFiles({ name: 'photo.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(pixels, 0, width, height)) });
  await expect(site.locator('#status')).toHaveText('Translated 100×68.', { timeout: 60_000 });
  const shown = await site.evaluate(() =>
    ['input', 'output'].map((id) => {
      const c = document.getElementById(id) as HTMLCanvasElement;
      return { width: c.width, height: c.height, rgb: Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 !== 3) };
    }),
  );
  expect(shown.map((c) => `${c.width}×${c.height}`)).toEqual(['100×68', '100×68']);
  expect(largestDifference(shown[0].rgb, rgb)).toBe(0);
  const browserWorst = largestDifference(shown[1].rgb, pageOut);
  console.log(`README's browser page vs the page's worker at 100×68: largest difference ${browserWorst} of 255`);
  expect(browserWorst).toBeLessThanOrEqual(2);
  await site.screenshot({ path: info.outputPath('readme-page.png') });
  await site.close();

  // translate an image of another size in the page: input and output side by side
  const file = bmp(drawShapes(1, 48, 3), 0, 48, 48);
  await page.getByLabel('Translate an image').setInputFiles({ name: 'photo.bmp', mimeType: 'image/bmp', buffer: Buffer.from(file) });
  await expect(page.getByTestId('translated')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('translation')).toContainText('Input: photo.bmp, 48×48');
  await expect(page.getByTestId('translation')).toContainText('Output (A → B), 48×48');
  await page.screenshot({ path: info.outputPath('exported.png'), fullPage: true });

  // a fresh page, no run: import the exported generator and translate with it
  await page.goto('/?test&preset=tiny&backend=webgpu');
  await expect(page.getByTestId('backend')).toHaveText('webgpu');
  await page.getByLabel('Import a model').setInputFiles([join(dir, 'netG_A/netG_A.json'), join(dir, 'netG_A/netG_A.weights.bin')]);
  await expect(page.getByTestId('imported')).toContainText('netG_A');
  await page.getByLabel('Translate an image').setInputFiles({ name: 'photo.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(drawShapes(1, 60, 4), 0, 60, 36)) });
  await expect(page.getByTestId('translated')).toBeVisible({ timeout: 60_000 });
  await expect(page.getByTestId('translation')).toContainText('Output (the imported netG_A), 60×36');

  // the user's data never left the page's origin
  const origin = new URL(page.url()).origin;
  const foreign = requests.filter((u) => !u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:'));
  expect(foreign).toEqual([]);
});
