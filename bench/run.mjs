// `npm run bench`: training-step benchmarks in headless Chromium, through the studio's own worker, on the
// generated demo data. Per case and backend: ms per step (median, p10, p90), kernels, GPU dispatches, CPU↔GPU
// bytes and multiply-adds per step, achieved GFLOP/s against the backend's own best large matmul / conv, memory
// after 10 and up to BENCH_MEMORY_STEPS steps. Then the page as a user drives it (automatic backend): time to the
// data being ready and to the first translation, main-thread long tasks while training. Writes bench/results.json
// and bench/results.md. BENCH_ALL=1 adds the 128 px and paper-size cases (minutes per step on a software GPU).
import { writeFileSync } from 'node:fs';
import { launch, realGpu, serve } from './browser.mjs';

const port = 4192;
const steps = Number(process.env.BENCH_STEPS ?? 12);
const maxSeconds = Number(process.env.BENCH_SECONDS ?? 90);
const memorySteps = Number(process.env.BENCH_MEMORY_STEPS ?? 200);
const uiSeconds = Number(process.env.BENCH_UI_SECONDS ?? 30);
const allCases = [
  { name: 'tiny pix2pix (32 px, unet_32, ngf 4)', preset: 'tiny', model: 'pix2pix', demo: 'shapes-recolour' },
  { name: 'tiny CycleGAN (32 px, unet_32, ngf 4)', preset: 'tiny', model: 'cycle_gan', demo: 'warm-to-green' },
  { name: 'quick pix2pix (64 px, unet_64, ngf 16)', preset: 'quick', model: 'pix2pix', demo: 'shapes-recolour' },
  { name: 'quick CycleGAN (64 px, resnet_6blocks, ngf 16)', preset: 'quick', model: 'cycle_gan', demo: 'warm-to-green' },
  ...(process.env.BENCH_ALL
    ? [
        { name: 'CycleGAN 128 px (resnet_9blocks, ngf 64)', preset: 'paper', model: 'cycle_gan', demo: 'warm-to-green', data: { load_size: 143, crop_size: 128 } },
        { name: 'pix2pix 128 px (unet_128, ngf 64)', preset: 'paper', model: 'pix2pix', demo: 'shapes-recolour', train: { netG: 'unet_128' }, data: { load_size: 143, crop_size: 128 } },
        { name: 'paper CycleGAN (256 px, resnet_9blocks, ngf 64)', preset: 'paper', model: 'cycle_gan', demo: 'warm-to-green' },
        { name: 'paper pix2pix (256 px, unet_256, ngf 64)', preset: 'paper', model: 'pix2pix', demo: 'shapes-recolour' },
      ]
    : []),
];
// BENCH_CASES=tiny,quick keeps the cases whose names contain one of the words
const only = process.env.BENCH_CASES?.split(',');
const cases = allCases.filter((c) => !only || only.some((w) => c.name.includes(w)));
const backends = (process.env.BENCH_BACKENDS ?? 'webgpu,webgl,cpu').split(',');

const server = await serve(port);
const browser = await launch();
const real = realGpu;

const rows = [];
let machine = null;
try {
  for (const c of cases) {
    for (const backend of backends) {
      const page = await browser.newPage();
      try {
        await page.goto(`http://127.0.0.1:${port}/?test&backend=${backend}`);
        await page.waitForFunction(() => window.__studio?.store.getState().backend);
        const report = await page.evaluate(() => window.__studio.store.getState().backend);
        if (report.backend !== backend) {
          console.log(`${c.name} on ${backend}: not available (${report.failed.map((f) => f.reason).join('; ')})`);
          continue;
        }
        machine ??= report.adapter?.description ?? null;
        const result = await page.evaluate(
          ({ c, backend, steps, maxSeconds, memorySteps }) =>
            new Promise((resolve, reject) => {
              const s = window.__studio;
              const base = s.presetConfig(c.preset, c.model);
              const config = { ...base, train: { ...base.train, ...(c.train ?? {}) }, data: { ...base.data, ...(c.data ?? {}) } };
              const off = s.client.on((e) => {
                if (e.type === 'benchmarkResult') {
                  off();
                  resolve(e.result);
                } else if (e.type === 'error') {
                  off();
                  reject(new Error(e.message));
                }
              });
              s.client.send({ type: 'load', source: { kind: 'demo', name: c.demo }, data: config.data });
              s.client.send({ type: 'benchmark', config, backend, steps, maxSeconds, memorySteps });
            }),
          { c, backend, steps, maxSeconds, memorySteps },
        );
        const { median, p10, p90 } = result.stepMs;
        const gflopsPerStep = (2 * result.macsPerStep) / 1e9;
        const limit = Math.max(result.limits.matmulGflops, result.limits.conv2dGflops);
        const row = {
          case: c.name,
          backend,
          adapter: report.adapter?.description ?? '',
          stepsTimed: result.msPerStep.length,
          medianMs: median,
          p10Ms: p10,
          p90Ms: p90,
          stepsPerSecond: 1000 / median,
          kernelsPerStep: result.kernelsPerStep,
          gflopPerStep: gflopsPerStep,
          achievedGflops: gflopsPerStep / (median / 1000),
          matmulGflops: result.limits.matmulGflops,
          conv2dGflops: result.limits.conv2dGflops,
          utilisation: gflopsPerStep / (median / 1000) / limit,
          traffic: result.traffic,
          memory: result.memory,
          peakBytes: result.peakBytes,
          topKernels: result.kernelKinds.slice(0, 6),
          cut: result.cut,
        };
        console.log(JSON.stringify(row));
        rows.push(row);
      } catch (e) {
        console.log(`${c.name} on ${backend}: ${e.message}`);
      } finally {
        await page.close();
      }
    }
  }
} catch (e) {
  await browser.close();
  server.kill();
  throw e;
}

const mb = (b) => (b / 1048576).toFixed(1);
const kb = (b) => (b / 1024).toFixed(b < 10240 ? 1 : 0);
const ui = await uiCases();
const md = [
  `Measured ${new Date().toISOString().slice(0, 10)} in headless Chromium; WebGPU adapter: ${machine ?? 'none'}${real ? '' : ' (software)'}.`,
  `Per step: up to ${steps} timed steps after one warm-up, each awaited to completion. Kernels: what tf.profile records; dispatches: GPU programs the backend ran (Identity and Reshape are kernels but no GPU work). Upload: tensor data sent to the GPU per step (images, scalars), plus shader parameters. GFLOP = 2 × multiply-adds of every conv and matmul kernel the step ran (forward and backward), from tf.profile's shapes. Utilisation = achieved / the better of the same backend's 1024² matmul and 128²×64→64 3×3 conv in the same run. Memory after 10 steps and after the last step taken (up to ${memorySteps}, while ${maxSeconds} s last).`,
  '',
  '| case | backend | median ms | p10 | p90 | steps/s | kernels/step | dispatches/step | upload KB/step (+params) | read B/step | GFLOP/step | GFLOP/s | best matmul / conv GFLOP/s | util. | tensors after 10 → N | MB after 10 → N | peak MB |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    `| ${r.case} | ${r.backend} | ${r.medianMs.toFixed(0)} | ${r.p10Ms.toFixed(0)} | ${r.p90Ms.toFixed(0)} | ${r.stepsPerSecond.toFixed(2)} | ${r.kernelsPerStep} | ${r.traffic.dispatches ?? '–'} | ${r.traffic.dispatches === null ? '–' : `${kb(r.traffic.uploadBytes)} (+${kb(r.traffic.uniformBytes)})`} | ${r.traffic.dispatches === null ? '–' : r.traffic.readBytes} | ${r.gflopPerStep.toFixed(3)} | ${r.achievedGflops.toFixed(2)} | ${r.matmulGflops.toFixed(2)} / ${r.conv2dGflops.toFixed(2)} | ${(100 * r.utilisation).toFixed(0)}% | ${r.memory.after10?.tensors ?? '–'} → ${r.memory.afterAll.tensors} (${r.memory.afterAll.steps}) | ${r.memory.after10 ? mb(r.memory.after10.bytes) : '–'} → ${mb(r.memory.afterAll.bytes)} | ${mb(r.peakBytes)} |`,
  ),
  '',
  `The page as a user drives it (automatic backend, demo data; "defaults" opens the page with no preset in the link, as a new user does): "data ready" from the demo button to the dataset shown; "first chart point" and "first translation" from Start to the first loss in the store and the first preview drawn (both include the automatic backend choice, which times one step per backend within a few seconds on a software GPU); then ${uiSeconds} s of training while a PerformanceObserver records main-thread long tasks (over 50 ms).`,
  '',
  '| case | preset | chosen backend | data ready ms | first chart point ms | first translation ms | steps/s while watched | long tasks > 50 ms | longest task ms |',
  '|---|---|---|---|---|---|---|---|---|',
  ...ui.map((u) => `| ${u.case} | ${u.preset} | ${u.backend} | ${u.dataReadyMs.toFixed(0)} | ${u.firstPointMs.toFixed(0)} | ${u.firstPreviewMs.toFixed(0)} | ${u.stepsPerSecond.toFixed(2)} | ${u.longTasks} | ${u.longestMs.toFixed(0)} |`),
].join('\n');
writeFileSync(new URL(`./${process.env.BENCH_OUT ?? 'results'}.json`, import.meta.url), JSON.stringify({ date: new Date().toISOString(), adapter: machine, steps, rows, ui }, null, 2));
writeFileSync(new URL(`./${process.env.BENCH_OUT ?? 'results'}.md`, import.meta.url), md + '\n');
console.log('\n' + md);
await browser.close();
server.kill();

/** The page as a user drives it: demo, Start on the automatic backend, first translation, long tasks while training. */
async function uiCases() {
  const out = [];
  const uiCaseList = [
    // a new user's first run: the page's default settings (no preset in the link)
    { case: 'pix2pix demo, defaults', preset: null, demo: /Try demo: Shapes/ },
    { case: 'CycleGAN demo, defaults', preset: null, demo: /Try demo: Warm/ },
    { case: 'quick pix2pix', preset: 'quick', demo: /Try demo: Shapes/ },
  ];
  for (const u of process.env.BENCH_UI === '0' ? [] : uiCaseList.filter((c) => !only || only.some((w) => c.case.includes(w)))) {
    const page = await browser.newPage();
    try {
      await page.addInitScript(() => {
        window.__long = [];
        new PerformanceObserver((list) => list.getEntries().forEach((e) => window.__long.push({ at: e.startTime, ms: e.duration }))).observe({ type: 'longtask', buffered: true });
      });
      await page.goto(`http://127.0.0.1:${port}/?test${u.preset ? `&preset=${u.preset}` : ''}`);
      await page.waitForFunction(() => window.__studio?.store.getState().backend);
      // timestamps are taken in the page, from the store's own updates
      await page.evaluate(() => {
        const s = window.__studio.store;
        window.__marks = {};
        s.subscribe((st) => {
          const m = window.__marks;
          if (st.dataset && !m.ready) m.ready = performance.now();
          if (st.history && Object.values(st.history.values).some((v) => v.length) && !m.point) requestAnimationFrame(() => (m.point ??= performance.now()));
          if (st.previews && !m.preview) requestAnimationFrame(() => (m.preview ??= performance.now()));
        });
      });
      const clicked = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: u.demo }).click();
      await page.waitForFunction(() => window.__studio.store.getState().runState === 'ready', null, { timeout: 60_000 });
      const started = await page.evaluate(() => performance.now());
      await page.getByRole('button', { name: 'Start' }).click();
      await page.waitForFunction(() => window.__marks.preview && window.__marks.point, null, { timeout: 600_000 });
      const marks = await page.evaluate(() => window.__marks);
      const step0 = await page.evaluate(() => window.__studio.store.getState().progress?.step ?? 0);
      const t0 = Date.now();
      await page.waitForTimeout(uiSeconds * 1000);
      const step1 = await page.evaluate(() => window.__studio.store.getState().progress?.step ?? 0);
      const seconds = (Date.now() - t0) / 1000;
      const long = await page.evaluate((from) => window.__long.filter((l) => l.at >= from), started);
      const backend = await page.evaluate(() => window.__studio.store.getState().backend?.backend);
      const preset = await page.evaluate(() => window.__studio.store.getState().preset);
      const row = {
        case: u.case, preset, backend, dataReadyMs: marks.ready - clicked, firstPointMs: marks.point - started, firstPreviewMs: marks.preview - started,
        stepsPerSecond: (step1 - step0) / seconds, longTasks: long.length, longestMs: Math.max(0, ...long.map((l) => l.ms)),
      };
      console.log(JSON.stringify(row));
      out.push(row);
    } catch (e) {
      console.log(`${u.case} in the page: ${e.message}`);
    } finally {
      await page.close();
    }
  }
  return out;
}
