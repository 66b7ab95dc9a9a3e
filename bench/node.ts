/**
 * `npm run bench:node`: the engine's training step in plain Node, on the `webgpu` package (Dawn; SwiftShader here,
 * a real GPU's Vulkan driver where one is set up) and on TF.js's CPU backend. No page, no worker: for profiling
 * kernels and dispatches, and for GPU machines without a browser. On webgpu each case runs both engines: the compiled
 * step (src/model/webgpu/compile.ts) and the TF.js step. Prints a table and writes bench/node-results.json; the
 * compiled rows give the GPU memory of the plan (after sharing, and each buffer alone) beside the variables'.
 * Env: BENCH_BACKENDS (webgpu,cpu), BENCH_ENGINES (compiled,tfjs; compiled runs on webgpu only), BENCH_STEPS (5),
 * BENCH_CASES (comma-separated case keys), BENCH_ALL=1 (adds 128/256 px), BENCH_CROP (every case's crop).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { createTrainer, sizeMultiple } from '../src/model';
import { enableNodeWebGPU } from '../src/model/nodeWebgpu';
import type { ModelName, Trainer, TrainConfig } from '../src/model';
import { compileStep } from '../src/model/webgpu/compile';
import { UnsupportedStep } from '../src/model/webgpu/compiledStep';
import { webgpuAdapterInfo, webgpuDevice } from '../src/model/webgpu/gpu';
import { adapterKey, tuneFor } from '../src/model/webgpu/tuning';
import type { TuningReport } from '../src/model/webgpu/tuning';
import { countTraffic, peakThroughput, profileStep, quantile, stepStats } from '../src/worker/benchmark';
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
const ENGINES = ['compiled', 'tfjs'] as const;
/** The two ways to run a step: the compiled WebGPU plan (webgpu only) or TF.js's ops. */
type Engine = (typeof ENGINES)[number];

/** A comma-separated env list, each entry checked against `known`; exits with the fix when one is not. */
function listEnv<T extends string>(name: string, fallback: string, known: readonly T[]): T[] {
  const values = (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
  const bad = values.filter((v) => !known.includes(v as T));
  if (bad.length) {
    console.error(`${name}: unknown ${bad.join(', ')}; use a comma-separated list of ${known.join(', ')}`);
    process.exit(2);
  }
  return values as T[];
}
const wanted = listEnv('BENCH_CASES', cases.slice(0, process.env.BENCH_ALL ? cases.length : 4).map((c) => c.key).join(','), cases.map((c) => c.key));
const backends = (process.env.BENCH_BACKENDS ?? 'webgpu,cpu').split(',');
const engines = listEnv('BENCH_ENGINES', ENGINES.join(','), ENGINES);
const steps = Number(process.env.BENCH_STEPS ?? 5);
/** Overrides every case's crop: kernel and dispatch counts do not depend on it, so counting can run small. */
const cropOverride = process.env.BENCH_CROP ? Number(process.env.BENCH_CROP) : null;

/** One engine's step on one trainer. */
interface Runner {
  /** Records and submits one step; returns what packs its losses into one tensor (called once the encode timer stops). */
  submit(): () => tf.Tensor;
  /** Dispatches the engine issues outside TF.js per step (the compiled plan's), counted on top of TF.js's own. */
  planDispatches: number;
  /** Bytes of the compiled plan's own buffers, after sharing and each alone (null: TF.js's step). */
  planBytes: number | null;
  planUnsharedBytes: number | null;
  dispose(): void;
}

/** Milliseconds the conv kernels' tuning may take before a compiled step is built (BENCH_TUNING_MS; default: all). */
const tuningBudget = Number(process.env.BENCH_TUNING_MS ?? Infinity);
/** What the last compiled step's tuning did, for its row. */
let lastTuning: TuningReport | null = null;

/** The step of `engine` for trainer t on batches a and b; throws UnsupportedStep where the compiled step has none. */
async function runner(engine: Engine, t: Trainer, a: tf.Tensor4D, b: tf.Tensor4D): Promise<Runner> {
  if (engine === 'tfjs')
    return {
      planDispatches: 0,
      planBytes: null,
      planUnsharedBytes: null,
      submit() {
        const losses = t.trainStep(a, b);
        return () => {
          const packed = tf.stack(t.lossNames.map((name) => losses[name]));
          tf.dispose(Object.values(losses));
          return packed;
        };
      },
      dispose() {},
    };
  const [n, h, w] = a.shape;
  // tuned as the worker tunes before a build (no store: each run times its candidates, and says how long that took)
  lastTuning = await tuneFor(webgpuDevice(), adapterKey(webgpuAdapterInfo()), () => compileStep(t, n, h, w), null, tuningBudget);
  const step = compileStep(t, n, h, w);
  return {
    planDispatches: step.dispatches,
    planBytes: step.memory.total,
    planUnsharedBytes: step.memory.unshared,
    submit() {
      const losses = step.run(a, b);
      return () => losses;
    },
    dispose: () => step.dispose(),
  };
}

/** Runs one step to completion; returns the milliseconds until it was submitted (JavaScript's encode + submit). */
async function timedStep(r: Runner): Promise<number> {
  const t0 = performance.now();
  const pack = r.submit();
  const encodeMs = performance.now() - t0;
  const losses = pack();
  await losses.data(); // a step is finished once its losses are read
  losses.dispose();
  return encodeMs;
}

/** What `run` returns, and the queue submits it made (webgpu; null on other backends). */
async function countSubmits<T>(run: () => Promise<T>): Promise<{ result: T; submits: number | null }> {
  const queue = tf.getBackend() === 'webgpu' ? webgpuDevice().queue : null;
  if (!queue) return { result: await run(), submits: null };
  const submit = queue.submit;
  let submits = 0;
  queue.submit = function (this: GPUQueue, buffers: Iterable<GPUCommandBuffer>) {
    submits++;
    return submit.call(this, buffers);
  };
  try {
    return { result: await run(), submits };
  } finally {
    queue.submit = submit;
  }
}

/** A row of node-results.json: one case on one backend with one engine. */
type Row = Record<string, unknown> & { case: string; key: string; backend: string; engine: Engine };

const why = await enableNodeWebGPU();
if (why) console.log(`webgpu unavailable: ${why}`);
const rows: Row[] = [];
const date = new Date().toISOString();
/** Writes the rows so far, after every row: a run cut short by a timeout keeps the cases it finished. */
const save = () => writeFileSync(new URL('../node-results.json', import.meta.url), JSON.stringify({ date, rows }, null, 2));
const fmt = (x: unknown, digits = 0) => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '–');
const MiB = 1024 ** 2;
/** Bytes of a trainer's weights (running statistics too) and Adam's two moments. */
const variableBytes = (t: Trainer) =>
  4 * (Object.values(t.models).reduce((n, m) => n + m.weights.reduce((a, w) => a + w.read().size, 0), 0) + 2 * [t.optimizers.G, t.optimizers.D].reduce((n, o) => n + o.variables.reduce((a, v) => a + v.size, 0), 0));
for (const backend of backends) {
  if (!(await tf.setBackend(backend).catch(() => false))) {
    console.log(`${backend}: not available`);
    continue;
  }
  const adapter = backend === 'webgpu' ? ((tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string } }).adapterInfo ?? null) : null;
  const limits = await peakThroughput();
  const backendEngines = engines.filter((e) => e === 'tfjs' || backend === 'webgpu');
  for (const c of cases.filter((x) => wanted.includes(x.key))) {
    const config = presetConfig(c.preset, c.model);
    const crop = cropOverride ? Math.max(cropOverride, sizeMultiple(c.train?.netG ?? config.train.netG)) : (c.crop ?? config.data.crop_size);
    for (const engine of backendEngines) {
      const head = { case: c.name, key: c.key, crop, backend, engine, adapter };
      const t = createTrainer({ ...config.train, ...c.train }, { sharePasses: c.sixPasses ? false : undefined });
      const a = tf.randomUniform([config.batch_size, crop, crop, 3], -1, 1) as tf.Tensor4D;
      const b = tf.randomUniform([config.batch_size, crop, crop, 3], -1, 1) as tf.Tensor4D;
      let r: Runner | null = null;
      try {
        lastTuning = null;
        r = await runner(engine, t, a, b);
        const tuning = lastTuning as TuningReport | null;
        const run = r;
        const step = async () => void (await timedStep(run));
        // the two counted steps come first and compile the shaders (a warm-up of their own would be a third slow step
        // per engine on SwiftShader's paper-size cases)
        const profile = await profileStep(step);
        const { result: traffic, submits } = await countSubmits(() => countTraffic(step));
        const ms: number[] = [];
        const encode: number[] = [];
        for (let i = 0; i < steps; i++) {
          const t0 = performance.now();
          encode.push(await timedStep(run));
          ms.push(performance.now() - t0);
        }
        const { median, p10, p90 } = stepStats(ms);
        // The compiled step's own dispatches and kernels (one per dispatch) plus whatever TF.js still issues for it
        const dispatches = run.planDispatches + (traffic.dispatches ?? 0);
        const encodeMs = quantile(encode, 0.5);
        const gflop = engine === 'tfjs' ? (2 * profile.macs) / 1e9 : null;
        const row: Row = {
          ...head, medianMs: median, p10Ms: p10, p90Ms: p90,
          kernelsPerStep: run.planDispatches + profile.kernels,
          dispatchesPerStep: traffic.dispatches === null ? null : dispatches,
          encodeMs,
          encodeUsPerDispatch: traffic.dispatches === null ? null : (encodeMs * 1000) / dispatches,
          // the fastest step's: on a busy machine the median includes time the encoding thread waited for a core
          encodeMinMs: Math.min(...encode),
          planDispatches: run.planDispatches, tfjsKernels: profile.kernels, tfjsDispatches: traffic.dispatches, submitsPerStep: submits,
          uploadBytes: traffic.uploadBytes, uniformBytes: traffic.uniformBytes, readBytes: traffic.readBytes,
          gflopPerStep: gflop, achievedGflops: gflop === null ? null : gflop / (median / 1000), limits, topKernels: profile.kinds,
          tensors: tf.memory().numTensors,
          tuningMs: tuning?.ms ?? null, tunedPasses: tuning?.passes ?? null, tuningCandidates: tuning?.timed ?? null,
          planBytes: run.planBytes, planUnsharedBytes: run.planUnsharedBytes, variableBytes: variableBytes(t),
        };
        rows.push(row);
        save();
        console.log(
          `${c.name} @${crop} px | ${backend} ${engine} | ${median.toFixed(0)} ms (p10 ${p10.toFixed(0)}, p90 ${p90.toFixed(0)}) | kernels ${row.kernelsPerStep} | dispatches ${fmt(row.dispatchesPerStep)} (plan ${run.planDispatches} + TF.js ${fmt(traffic.dispatches)}), submits ${fmt(submits)} | encode+submit ${encodeMs.toFixed(2)} ms, ${fmt(row.encodeUsPerDispatch, 1)} µs/dispatch | up ${traffic.uploadBytes} B + uniforms ${traffic.uniformBytes} B, read ${traffic.readBytes} B${run.planBytes === null ? '' : ` | plan ${fmt(run.planBytes / MiB, 1)} MiB (unshared ${fmt(run.planUnsharedBytes! / MiB, 1)}) + variables ${fmt(variableBytes(t) / MiB, 1)} MiB`}${tuning ? ` | tuned ${tuning.passes} conv passes (${tuning.timed} candidates) in ${tuning.ms.toFixed(0)} ms` : ''}${gflop === null ? '' : ` | ${gflop.toFixed(3)} GFLOP, ${(row.achievedGflops as number).toFixed(2)} GFLOP/s of matmul ${limits.matmulGflops.toFixed(1)} / conv ${limits.conv2dGflops.toFixed(1)}`}`,
        );
        if (profile.kinds.length) console.log('   top TF.js kernels: ' + profile.kinds.map((k) => `${k.name} ${k.count}`).join(', '));
      } catch (e) {
        if (!(e instanceof UnsupportedStep)) {
          console.error(e);
          process.exitCode = 1;
        }
        const reason = e instanceof Error ? e.message : String(e);
        rows.push({ ...head, [e instanceof UnsupportedStep ? 'unsupported' : 'error']: reason });
        save();
        console.log(`${c.name} @${crop} px | ${backend} ${engine} | ${e instanceof UnsupportedStep ? 'unsupported' : 'FAILED'}: ${reason}`);
      } finally {
        r?.dispose();
        tf.dispose([a, b]);
        t.dispose();
      }
    }
  }
}

// The compiled step does the same arithmetic as the TF.js step: its GFLOP/s come from the TF.js row's count.
for (const row of rows)
  if (row.engine === 'compiled' && typeof row.medianMs === 'number') {
    const gflop = rows.find((x) => x.engine === 'tfjs' && x.key === row.key && x.backend === row.backend)?.gflopPerStep;
    if (typeof gflop === 'number') Object.assign(row, { gflopPerStep: gflop, achievedGflops: gflop / (row.medianMs / 1000) });
  }
save();

console.log('\n| case | backend | engine | ms/step | dispatches/step | kernels/step | encode+submit ms | µs/dispatch | compiled ÷ TF.js ms | plan MiB | variables MiB |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const row of rows) {
  const tfjs = rows.find((x) => x.engine === 'tfjs' && x.key === row.key && x.backend === row.backend);
  const ratio = row.engine === 'compiled' && typeof row.medianMs === 'number' && typeof tfjs?.medianMs === 'number' ? (row.medianMs / tfjs.medianMs).toFixed(2) : '';
  const cells = (row.unsupported ?? row.error)
    ? [`${row.unsupported ? 'unsupported' : 'failed'}: ${row.unsupported ?? row.error}`, '', '', '', '', '', '', '']
    : [fmt(row.medianMs), fmt(row.dispatchesPerStep), fmt(row.kernelsPerStep), fmt(row.encodeMs, 2), fmt(row.encodeUsPerDispatch, 1), ratio,
        typeof row.planBytes === 'number' ? fmt(row.planBytes / MiB, 1) : '', fmt((row.variableBytes as number) / MiB, 1)];
  console.log(`| ${row.case} @${row.crop} px | ${row.backend} | ${row.engine} | ${cells.join(' | ')} |`);
}
