/**
 * `npm run bench:node`: the engine's training step in plain Node, on the `webgpu` package (Dawn; SwiftShader here,
 * a real GPU's Vulkan driver where one is set up) and on TF.js's CPU backend. No page, no worker: for profiling
 * kernels and dispatches, and for GPU machines without a browser. Prints a table and writes bench/node-results.json.
 * Env: BENCH_BACKENDS (webgpu,cpu), BENCH_STEPS (5), BENCH_CASES (comma-separated case keys), BENCH_ALL=1 (adds 128/256 px).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { createTrainer, sizeMultiple } from '../src/model';
import { enableNodeWebGPU } from '../src/model/nodeWebgpu';
import type { ModelName, TrainConfig } from '../src/model';
import { countTraffic, peakThroughput, profileStep, stepStats } from '../src/worker/benchmark';
import { presetConfig } from '../src/config/presets';
import type { PresetName } from '../src/config/presets';

interface Case {
  key: string;
  name: string;
  preset: PresetName;
  model: ModelName;
  train?: Partial<TrainConfig>;
  crop?: number;
  /** Runs CycleGAN's six generator passes separately (the op-by-op version we started from). */
  sixPasses?: boolean;
}

const cases: Case[] = [
  { key: 'tiny-p2p', name: 'tiny pix2pix (32 px, unet_32, ngf 4)', preset: 'tiny', model: 'pix2pix' },
  { key: 'tiny-cyc', name: 'tiny CycleGAN (32 px, unet_32, ngf 4)', preset: 'tiny', model: 'cycle_gan' },
  { key: 'quick-p2p', name: 'quick pix2pix (64 px, unet_64, ngf 16)', preset: 'quick', model: 'pix2pix' },
  { key: 'quick-cyc', name: 'quick CycleGAN (64 px, resnet_6blocks, ngf 16)', preset: 'quick', model: 'cycle_gan' },
  { key: 'quick-cyc-6', name: 'quick CycleGAN, six separate G passes', preset: 'quick', model: 'cycle_gan', sixPasses: true },
  { key: '128-cyc', name: 'CycleGAN 128 px (resnet_9blocks, ngf 64)', preset: 'paper', model: 'cycle_gan', crop: 128 },
  { key: '128-p2p', name: 'pix2pix 128 px (unet_128, ngf 64)', preset: 'paper', model: 'pix2pix', train: { netG: 'unet_128' }, crop: 128 },
  { key: 'paper-cyc', name: 'paper CycleGAN (256 px, resnet_9blocks, ngf 64)', preset: 'paper', model: 'cycle_gan' },
  { key: 'paper-p2p', name: 'paper pix2pix (256 px, unet_256, ngf 64)', preset: 'paper', model: 'pix2pix' },
];
const wanted = process.env.BENCH_CASES?.split(',') ?? cases.slice(0, process.env.BENCH_ALL ? cases.length : 4).map((c) => c.key);
const backends = (process.env.BENCH_BACKENDS ?? 'webgpu,cpu').split(',');
const steps = Number(process.env.BENCH_STEPS ?? 5);
/** Overrides every case's crop: kernel and dispatch counts do not depend on it, so counting can run small. */
const cropOverride = process.env.BENCH_CROP ? Number(process.env.BENCH_CROP) : null;


const why = await enableNodeWebGPU();
if (why) console.log(`webgpu unavailable: ${why}`);
const rows = [];
for (const backend of backends) {
  if (!(await tf.setBackend(backend).catch(() => false))) {
    console.log(`${backend}: not available`);
    continue;
  }
  const adapter = backend === 'webgpu' ? ((tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo ?? null) : null;
  const limits = await peakThroughput();
  for (const c of cases.filter((x) => wanted.includes(x.key))) {
    const config = presetConfig(c.preset, c.model);
    const crop = cropOverride ? Math.max(cropOverride, sizeMultiple(c.train?.netG ?? config.train.netG)) : (c.crop ?? config.data.crop_size);
    const t = createTrainer({ ...config.train, ...c.train }, { sharePasses: c.sixPasses ? false : undefined });
    const a = tf.randomUniform([config.batch_size, crop, crop, 3], -1, 1) as tf.Tensor4D;
    const b = tf.randomUniform([config.batch_size, crop, crop, 3], -1, 1) as tf.Tensor4D;
    const step = async () => {
      const losses = t.trainStep(a, b);
      const packed = tf.stack(t.lossNames.map((n) => losses[n]));
      await packed.data();
      tf.dispose([packed, ...Object.values(losses)]);
    };
    await step(); // compiles shaders
    const profile = await profileStep(step);
    const traffic = await countTraffic(step);
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const t0 = performance.now();
      await step();
      ms.push(performance.now() - t0);
    }
    const { median, p10, p90 } = stepStats(ms);
    const gflop = (2 * profile.macs) / 1e9;
    const row = {
      case: c.name, crop, backend, adapter, medianMs: median, p10Ms: p10, p90Ms: p90,
      kernelsPerStep: profile.kernels, dispatchesPerStep: traffic.dispatches, uploadBytes: traffic.uploadBytes,
      uniformBytes: traffic.uniformBytes, readBytes: traffic.readBytes, gflopPerStep: gflop,
      achievedGflops: gflop / (median / 1000), limits, topKernels: profile.kinds,
      tensors: tf.memory().numTensors,
    };
    rows.push(row);
    console.log(
      `${c.name} @${crop} px | ${backend} | ${median.toFixed(0)} ms (p10 ${row.p10Ms.toFixed(0)}, p90 ${row.p90Ms.toFixed(0)}) | kernels ${profile.kernels} | dispatches ${traffic.dispatches ?? '–'} | up ${traffic.uploadBytes} B + uniforms ${traffic.uniformBytes} B, read ${traffic.readBytes} B | ${gflop.toFixed(3)} GFLOP, ${row.achievedGflops.toFixed(2)} GFLOP/s of matmul ${limits.matmulGflops.toFixed(1)} / conv ${limits.conv2dGflops.toFixed(1)}`,
    );
    console.log('   top kernels: ' + profile.kinds.map((k) => `${k.name} ${k.count}`).join(', '));
    tf.dispose([a, b]);
    t.dispose();
  }
}
writeFileSync(new URL('../node-results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), rows }, null, 2));
