/**
 * The reference's checkpoints in the page: .pth generators imported, translating as Node does with the same weights,
 * a run continued from the full set; a run exported for PyTorch as the reference's checkpoints/<name>/ folder.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { unzipSync } from 'fflate';
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';
import { bmp } from './fixtures';
import { trainDemoThenPause, waitForStep } from './studioPage';
import { drawShapes } from '../src/data/demoShapes';
import { readPth } from '../src/interop/pth';
import { importNetwork } from '../src/interop/inferNetwork';
import { generatorMultiple, runAtAnySize } from '../src/model';
import { pictures, pictureTensor } from '../src/worker/pictures';

const RUN = new URL('../src/interop/fixtures/nets/tiny_cyclegan/', import.meta.url);
const runFile = (name: string) => ({ name, mimeType: 'application/octet-stream', buffer: readFileSync(new URL(name, RUN)) });

/** The translated canvas's RGBA pixels. */
const translated = (page: Page) =>
  page.getByTestId('translated').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));

test('the reference’s .pth generators translate in the page as in Node, and a full set continues its run', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?test&preset=tiny');
  await page.getByLabel('Import a model').setInputFiles(['3_net_G_A.pth', '3_net_G_B.pth', 'train_opt.txt'].map(runFile));
  const summary = page.getByTestId('reference-summary');
  await expect(summary).toContainText('PyTorch cycle_gan checkpoint “tiny_cyclegan”, epoch 3: G_A, G_B');
  await expect(summary).toContainText('3_net_G_A.pth: resnet_6blocks generator, ngf 4, instance norm, 3 → 3 channels');
  await expect(summary).toContainText('D_A, D_B not among the files: to fine-tune, the discriminators start fresh');
  await expect(summary.getByRole('button', { name: 'Fine-tune on the loaded data' })).toBeDisabled();

  // translate a 40×28 image A → B, and the same in Node with the same weights (CPU backend)
  const image = drawShapes(3, 40, 2);
  await page.getByLabel('Translate an image').setInputFiles({ name: 'shapes.bmp', mimeType: 'image/bmp', buffer: Buffer.from(bmp(image, 0, 40, 28)) });
  await expect(page.getByTestId('translation')).toContainText('Output (the imported PyTorch G_A), 40×28');
  const inPage = await translated(page);
  await tf.setBackend('cpu');
  const net = importNetwork(readPth(new Uint8Array(readFileSync(new URL('3_net_G_A.pth', RUN))), 'G_A'), 'G_A');
  const input = await page.getByTestId('translate-input').evaluate((c: HTMLCanvasElement) => Array.from(c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data));
  const x = pictureTensor({ width: 40, height: 28, data: new Uint8ClampedArray(input) });
  const [inNode] = await pictures([runAtAnySize(net.model, x, generatorMultiple(net.model), true)]);
  const worst = inPage.reduce((m, v, i) => Math.max(m, Math.abs(v - inNode.data[i])), 0);
  test.info().annotations.push({ type: 'page vs Node, worst 8-bit level', description: String(worst) });
  expect(worst).toBeLessThanOrEqual(1); // one 8-bit level: WebGPU and the CPU round float sums apart

  // a text file renamed .pth: named, and the import before it stays
  await page.getByLabel('Import a model').setInputFiles([{ name: 'notes.pth', mimeType: 'application/octet-stream', buffer: Buffer.from('not a checkpoint') }]);
  await expect(page.getByRole('alert')).toContainText('notes.pth is not a PyTorch checkpoint (it is neither a zip archive nor a legacy torch.save file)');
  await expect(summary).toContainText('epoch 3: G_A, G_B');
  await page.getByRole('alert').getByRole('button', { name: 'Dismiss' }).click();

  // the folder: the full set with its options file; continue the run at the epoch after the files'
  await page.getByLabel('Import a checkpoints folder').setInputFiles(fileURLToPath(RUN));
  await expect(summary).toContainText('epoch 3: G_A, G_B, D_A, D_B');
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('A and');
  await summary.getByRole('button', { name: 'Continue training at epoch 4' }).click();
  await waitForStep(page, 2);
  const progress = await page.evaluate(() => window.__studio!.store.getState().progress!);
  expect(progress.epoch).toBe(4);
  expect(progress.step).toBeGreaterThan(3 * 200); // the step count goes on from three epochs of the 200-image demo
  expect(progress.epochs).toBe(10); // n_epochs 5 + n_epochs_decay 5, from train_opt.txt
  await expect(page.getByLabel('ngf', { exact: true })).toHaveValue('4');
});

test('a run exports for PyTorch as the reference’s checkpoints folder, and ONNX beside it', async ({ page }) => {
  test.setTimeout(240_000);
  await trainDemoThenPause(page, { backend: 'cpu', demo: /Try demo: Warm/, dataset: '200 A and 200 B images', steps: 2, pauseWithinMs: 60_000 });
  await expect(page.getByTestId('run-state')).toHaveText(/paused/);

  const download = async (button: string): Promise<[string, Uint8Array]> => {
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: button }).click()]);
    return [d.suggestedFilename(), new Uint8Array(readFileSync((await d.path())!))];
  };
  const [zipName, zipBytes] = await download('Export for PyTorch');
  const name = zipName.replace(/-pytorch\.zip$/, '');
  const files = unzipSync(zipBytes);
  expect(Object.keys(files).sort()).toEqual(
    ['README.md', 'latest_net_D_A.pth', 'latest_net_D_B.pth', 'latest_net_G_A.pth', 'latest_net_G_B.pth', 'train_opt.txt'].map((f) => `checkpoints/${name}/${f}`),
  );
  const readme = new TextDecoder().decode(files[`checkpoints/${name}/README.md`]);
  expect(readme).toMatch(new RegExp(`python train\\.py --dataroot \\./datasets/\\S+ --name ${name} --model cycle_gan --continue_train --epoch_count 1 `));
  expect(readme).toContain(`python test.py --dataroot`);
  // the .pth files read back as the reference's networks
  const g = importNetwork(readPth(files[`checkpoints/${name}/latest_net_G_A.pth`], 'latest_net_G_A.pth'), 'latest_net_G_A.pth');
  expect(g.summary).toMatch(/^unet_32 generator, ngf 4, instance norm/);

  const [onnxName, onnx] = await download('Export ONNX');
  expect(onnxName).toBe('gan-studio-onnx.zip');
  expect(Object.keys(unzipSync(onnx)).sort()).toEqual(['netG_A.onnx', 'netG_B.onnx']);

  const [, all] = await download('Export model (.zip)');
  const entries = Object.keys(unzipSync(all));
  expect(entries).toContain(`pytorch/checkpoints/${name}/latest_net_G_A.pth`);
  expect(entries).toContain('onnx/netG_B.onnx');
  expect(entries).toContain('netG_A/netG_A.json');
});
