// `npm run bench`: training-step benchmarks in headless Chromium, through the studio's own worker, on the
// generated demo data. Per case and backend: ms per step (median, p10, p90), kernels and multiply-adds per
// step, achieved GFLOP/s against the backend's own large-matmul throughput, memory. Writes bench/results.json
// and bench/results.md. BENCH_ALL=1 adds the 128 px and paper-size cases (minutes per step on a software GPU).
import { writeFileSync } from 'node:fs';
import { launch, realGpu, serve } from './browser.mjs';

const port = 4192;
const steps = Number(process.env.BENCH_STEPS ?? 12);
const maxSeconds = Number(process.env.BENCH_SECONDS ?? 60);
const cases = [
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
const backends = (process.env.BENCH_BACKENDS ?? 'webgpu,webgl,cpu').split(',');

const server = await serve(port);
const browser = await launch();
const real = realGpu;

const quantile = (xs, q) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.round(q * (s.length - 1))))];
};
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
          ({ c, backend, steps, maxSeconds }) =>
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
              s.client.send({ type: 'benchmark', config, backend, steps, maxSeconds });
            }),
          { c, backend, steps, maxSeconds },
        );
        const median = quantile(result.msPerStep, 0.5) ?? NaN;
        const gflopsPerStep = (2 * result.macsPerStep) / 1e9;
        const row = {
          case: c.name,
          backend,
          adapter: report.adapter?.description ?? '',
          stepsTimed: result.msPerStep.length,
          medianMs: median,
          p10Ms: quantile(result.msPerStep, 0.1) ?? NaN,
          p90Ms: quantile(result.msPerStep, 0.9) ?? NaN,
          stepsPerSecond: 1000 / median,
          kernelsPerStep: result.kernelsPerStep,
          gflopPerStep: gflopsPerStep,
          achievedGflops: gflopsPerStep / (median / 1000),
          matmulGflops: result.limits.matmulGflops,
          conv2dGflops: result.limits.conv2dGflops,
          utilisation: gflopsPerStep / (median / 1000) / result.limits.matmulGflops,
          bytesReadPerStep: result.bytesReadPerStep,
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
} finally {
  await browser.close();
  server.kill();
}

const mb = (b) => (b / 1048576).toFixed(1);
const md = [
  `Measured ${new Date().toISOString().slice(0, 10)} in headless Chromium; WebGPU adapter: ${machine ?? 'none'}${real ? '' : ' (software)'}.`,
  `Per step: ${steps} timed steps after one warm-up, each awaited to completion. GFLOP = 2 × multiply-adds of every conv and matmul kernel the step dispatched (forward and backward), from tf.profile's shapes. Utilisation = achieved / the same backend's best 1024² matmul in the same run.`,
  '',
  '| case | backend | median ms | p10 | p90 | steps/s | kernels/step | GFLOP/step | GFLOP/s | matmul GFLOP/s | util. | tensors after 10 → all | MB after 10 → all |',
  '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ...rows.map((r) =>
    `| ${r.case} | ${r.backend} | ${r.medianMs.toFixed(0)} | ${r.p10Ms.toFixed(0)} | ${r.p90Ms.toFixed(0)} | ${r.stepsPerSecond.toFixed(2)} | ${r.kernelsPerStep} | ${r.gflopPerStep.toFixed(3)} | ${r.achievedGflops.toFixed(2)} | ${r.matmulGflops.toFixed(2)} | ${(100 * r.utilisation).toFixed(0)}% | ${r.memory.after10?.tensors ?? '–'} → ${r.memory.afterAll.tensors} | ${r.memory.after10 ? mb(r.memory.after10.bytes) : '–'} → ${mb(r.memory.afterAll.bytes)} |`,
  ),
].join('\n');
writeFileSync(new URL('./results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), adapter: machine, steps, rows }, null, 2));
writeFileSync(new URL('./results.md', import.meta.url), md + '\n');
console.log('\n' + md);
