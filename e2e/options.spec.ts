/**
 * The options card as a user meets it: invalid numbers block Start, sizes that cannot fit are refused with the
 * reason, each network's size is shown, links and pasted lines say what they set, and a software GPU starts on Tiny.
 */
import { expect, test } from '@playwright/test';
import type { Page } from '@playwright/test';

const start = (page: Page) => page.getByRole('button', { name: 'Start', exact: true });
const pressed = (page: Page) => page.getByRole('group', { name: 'Presets' }).locator('button[aria-pressed="true"]');

test('Start waits while a field holds an invalid number, and says which field', async ({ page }) => {
  await page.goto('/?test&preset=tiny');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await expect(start(page)).toBeEnabled();
  const ngf = page.getByLabel('ngf', { exact: true });
  for (const bad of ['abc', '0', '-4', '3.5']) {
    await ngf.fill(bad);
    await expect(start(page)).toBeDisabled();
    await expect(page.getByTestId('start-blockers')).toHaveText(`Fix the options first: --ngf needs a whole number ≥ 1, got "${bad}"`);
    await expect(ngf).toHaveAttribute('aria-invalid', 'true');
  }
  // leaving the field keeps the text and the block: what is shown is what would train
  await ngf.blur();
  await expect(ngf).toHaveValue('3.5');
  await expect(start(page)).toBeDisabled();
  await ngf.fill('8');
  await expect(start(page)).toBeEnabled();
  await expect(page.getByTestId('start-blockers')).toHaveCount(0);
  expect(await page.evaluate(() => window.__studio!.store.getState().config.train.ngf)).toBe(8);
});

test('ngf 100000 is refused with the memory it would need, by the page and by the worker', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto('/?test&preset=tiny');
  await page.getByRole('button', { name: /Try demo: Warm/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 A and 200 B images');
  await page.getByLabel('ngf', { exact: true }).fill('100000');
  await expect(start(page)).toBeDisabled();
  const blocker = page.getByTestId('start-blockers');
  // the compiled step has no plan for these widths (instance norm's groups outnumber a dispatch's workgroups): TF.js's step's estimate
  await expect(page.getByTestId('step-memory')).toHaveAttribute('data-step', 'tfjs');
  await expect(page.getByTestId('step-memory')).toContainText("on TF.js's step (no compiled step: instance norm over");
  await expect(blocker).toHaveText(/^Fix the options first: ngf: TF.js's training step needs about [\d.]+ [TP]iB .* more than the 4 GiB a browser tab can count on: lower ngf/);
  // SwiftShader's WebGPU limits one buffer too, as the worker reported them
  await expect(blocker).toContainText("ngf: its largest tensor, the weights of netG_A level 4 down conv, 4×4 800000→800000 (37 TiB), is larger than this GPU's limit for one buffer");
  await expect(page.locator('.option.invalid', { has: page.getByLabel('ngf', { exact: true }) })).toContainText('lower ngf');

  // a start command that skips the page is refused by the worker, with the same reason and before anything is built
  await page.evaluate(() => {
    const s = window.__studio!;
    s.client.send({ type: 'start', config: s.store.getState().config });
  });
  await expect(page.getByRole('alert')).toContainText("--ngf: TF.js's training step needs about");
  await expect(page.getByRole('alert')).not.toContainText('Invalid typed array length');
  await expect(page.getByTestId('run-state')).toHaveText(/ready/);
  expect(errors).toEqual([]);
});

test("each network's parameters and the compiled step's memory are shown, the reference's counts at paper size", async ({ page }) => {
  await page.goto('/?test&preset=tiny');
  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await page.getByRole('button', { name: 'Paper' }).click();
  await expect(page.getByTestId('params-netG')).toHaveText('54,413,955 parameters');
  await expect(page.getByTestId('params-netD')).toHaveText('2,768,705 parameters');
  // counted by the worker from the compiled step's buffers (stepMemory.test.ts pins 459.7 MiB of them, 645.6 unshared)
  await expect(page.getByTestId('step-memory')).toHaveText(
    /^1\.1 GiB at 256 px, batch 1 on the compiled WebGPU step: its buffers 4\d\d MiB \(6\d\d MiB unshared\), weights 218 MiB, Adam 436 MiB$/,
  );
  await page.getByRole('button', { name: 'Tiny' }).click();
  await expect(page.getByTestId('params-netG')).toHaveText(/^[\d,]+ parameters$/);
  await expect(page.getByTestId('step-memory')).toHaveText(/^[\d.]+ MiB at 32 px, batch 1 on the compiled WebGPU step: /);
  await expect(page.getByTestId('step-memory')).toHaveAttribute('data-step', 'compiled');
});

test('a link whose options match no preset shows Custom, and keeps them on a software GPU', async ({ page }) => {
  await page.goto('/?test&model=cycle_gan&netG=unet_32&ngf=8&ndf=4&n_epochs=5&n_epochs_decay=5&load_size=36&crop_size=32&preview_every=5');
  await expect(page.getByTestId('backend')).toBeVisible();
  await expect(page.getByTestId('preset-description')).toHaveText(/^Custom/);
  await expect(pressed(page)).toHaveCount(0);
  await expect(page.getByLabel('ngf', { exact: true })).toHaveValue('8');
  // the same link with Tiny's own ngf is Tiny
  await page.getByLabel('ngf', { exact: true }).fill('4');
  await expect(pressed(page)).toHaveText('Tiny');
});

test('on a software GPU a fresh page starts on Tiny and says why', async ({ page }) => {
  test.skip(!!process.env.E2E_REAL_GPU, 'the adapter is a real GPU');
  await page.goto('/?test');
  await expect(page.getByTestId('software-warning')).toBeVisible();
  await expect(pressed(page)).toHaveText('Tiny');
  await expect(page.getByTestId('preset-reason')).toHaveText(/^Tiny, because the GPU is a software one \(.+\)\.$/);
  // picking a preset is the user's choice: the reason goes
  await page.getByRole('button', { name: 'Quick' }).click();
  await expect(pressed(page)).toHaveText('Quick');
  await expect(page.getByTestId('preset-reason')).toHaveCount(0);
});

test("a pasted line says what it applied, and data of the other mode keeps it and says what it changed", async ({ page }, info) => {
  await page.goto('/?test&preset=tiny');
  await page.getByText('Reference command line').click();
  await page.getByLabel(/Paste a train.py command line/).fill('python train.py --dataroot ./datasets/mine --netG unet_32 --ngf 8 --ndf 8 --load_size 36 --crop_size 32');
  await page.getByRole('button', { name: 'Apply command line' }).click();
  const note = page.getByTestId('command-line-note');
  await expect(note).toContainText('Applied: ngf 4 → 8, ndf 4 → 8');
  await expect(note).toContainText("the reference's defaults for what the line leaves out: n_epochs 5 → 100, n_epochs_decay 5 → 100, preview_every 5 → 100");
  await expect(note).toContainText('kept the model cycle_gan (the line names no --model; the loaded data decides it)');
  await expect(note).toContainText('ignored (not used here): --dataroot');
  await expect(page.getByTestId('preset-description')).toHaveText(/^Custom/);

  await page.getByRole('button', { name: /Try demo: Shapes/ }).click();
  await expect(page.getByTestId('dataset')).toContainText('200 pairs');
  await expect(page.getByTestId('mode-note')).toHaveText(
    'Switched to pix2pix for this data: norm instance → batch, no_dropout true → false, gan_mode lsgan → vanilla, pool_size 50 → 0; kept what you set: netG unet_32, ngf 8, ndf 8, load_size 36, crop_size 32.',
  );
  await expect(page.getByLabel('ngf', { exact: true })).toHaveValue('8');
  await expect(page.getByLabel('model', { exact: true })).toHaveValue('pix2pix');
  await page.screenshot({ path: info.outputPath('options-card.png'), fullPage: true });
});
