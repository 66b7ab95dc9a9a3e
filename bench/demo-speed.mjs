// Steps per second of the demo datasets on each backend, measured in Chromium through the studio's own worker.
// Usage: npx vite build && node bench/demo-speed.mjs [seconds per measurement]
import { writeFileSync } from 'node:fs';
import { launch, serve } from './browser.mjs';

const seconds = Number(process.argv[2] ?? 20);
const port = 4191;
const server = await serve(port);
const browser = await launch();
const rows = [];
try {
  for (const preset of ['tiny', 'quick']) {
    for (const demo of [/Try demo: Shapes/, /Try demo: Warm/]) {
      for (const backend of ['webgpu', 'webgl', 'cpu']) {
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${port}/?test&preset=${preset}&backend=${backend}`);
        await page.waitForFunction(() => window.__studio?.store.getState().backend);
        const got = await page.evaluate(() => window.__studio.store.getState().backend);
        await page.getByRole('button', { name: demo }).click();
        await page.waitForFunction(() => window.__studio.store.getState().runState === 'ready', null, { timeout: 60_000 });
        const model = await page.evaluate(() => window.__studio.store.getState().dataset.mode);
        await page.getByRole('button', { name: 'Start' }).click();
        const step = () => page.evaluate(() => window.__studio.store.getState().progress?.step ?? 0);
        // warm-up: the first steps compile shaders
        await page.waitForFunction(() => (window.__studio.store.getState().progress?.step ?? 0) >= 2, null, { timeout: 300_000 });
        const s0 = await step();
        const t0 = Date.now();
        await page.waitForTimeout(seconds * 1000);
        await page.waitForFunction((s) => (window.__studio.store.getState().progress?.step ?? 0) > s, s0, { timeout: 300_000 });
        const s1 = await step();
        const t1 = Date.now();
        const row = { preset, model, backend: got.backend, adapter: got.adapter?.description ?? '', steps: s1 - s0, seconds: (t1 - t0) / 1000, stepsPerSecond: (s1 - s0) / ((t1 - t0) / 1000) };
        console.log(JSON.stringify(row));
        rows.push(row);
        await page.close();
      }
    }
  }
} finally {
  await browser.close();
  server.kill();
}
writeFileSync(new URL('./demo-speed.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
console.log('\n| preset | model | backend | steps/s |\n|---|---|---|---|');
for (const r of rows) console.log(`| ${r.preset} | ${r.model} | ${r.backend}${r.adapter ? ` (${r.adapter})` : ''} | ${r.stepsPerSecond.toFixed(3)} |`);
