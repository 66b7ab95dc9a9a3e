/**
 * `npm run bench:kernels`: GFLOP/s of our tiled implicit-GEMM convolution kernels (forward, input gradient, filter
 * gradient), tuned on this adapter as a step tunes them (every tile candidate timed, the fastest kept), beside TF.js's
 * own webgpu kernels on the same shapes, and the adapter's FP32 peak (a register-bound FMA kernel), in one run. The
 * shapes are the paper-size networks' layers: resnet_9blocks, the basic PatchGAN and unet_256 at 256 px, ngf = ndf =
 * 64, batch 1, their transposed convs, and the pixel discriminator's 1×1 convs.
 * Writes bench/kernels-results.json: { adapter, peakGflops, tuningMs, rows: [{ shape, pass, oursGflops, tfjsGflops,
 * peakGflops, tile, defaultGflops, candidates }] }.
 * Env: KERNELS_SCALE (divides every side, e.g. 8 on a software GPU), KERNELS_REPEAT (dispatches timed per kernel),
 * KERNELS_ONLY (a substring of the shapes to run).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { enableNodeWebGPU } from '../src/model/nodeWebgpu';
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputSize } from '../src/model/webgpu/conv2d';
import type { Conv2dSpec } from '../src/model/webgpu/conv2d';
import type { GemmConfig } from '../src/model/webgpu/convGemm';
import { convTransposeBackwardFilter, convTransposeBackwardInput, convTransposeForward } from '../src/model/webgpu/convTranspose';
import type { ConvTransposeSpec } from '../src/model/webgpu/convTranspose';
import { tensorBuffer, webgpuAdapterInfo, webgpuDevice } from '../src/model/webgpu/gpu';
import { declareBindings, groupsFor, MAIN_1D } from '../src/model/webgpu/kernel';
import type { Kernel, Op } from '../src/model/webgpu/kernel';
import { Plan } from '../src/model/webgpu/plan';
import { adapterKey, tuneFor } from '../src/model/webgpu/tuning';

const scale = Number(process.env.KERNELS_SCALE ?? 1);
const repeat = Number(process.env.KERNELS_REPEAT ?? 10);
const only = process.env.KERNELS_ONLY ?? '';

type ConvShape = Omit<Conv2dSpec, 'batch' | 'bias' | 'activation'> & { name: string; kind: 'conv' };
type TconvShape = Omit<ConvTransposeSpec, 'batch' | 'bias' | 'activation'> & { name: string; kind: 'tconv' };

/** The layers of the paper-size networks (each distinct shape once). */
const shapes: (ConvShape | TconvShape)[] = [
  { kind: 'conv', name: 'resnet first 7×7 3→64 @256 (reflect 3)', height: 256, width: 256, inChannels: 3, outChannels: 64, kernel: 7, stride: 1, pad: 3, padMode: 'reflect' },
  { kind: 'conv', name: 'resnet down 3×3/2 64→128 @256', height: 256, width: 256, inChannels: 64, outChannels: 128, kernel: 3, stride: 2, pad: 1, padMode: 'zero' },
  { kind: 'conv', name: 'resnet down 3×3/2 128→256 @128', height: 128, width: 128, inChannels: 128, outChannels: 256, kernel: 3, stride: 2, pad: 1, padMode: 'zero' },
  { kind: 'conv', name: 'resnet block 3×3 256→256 @64 (reflect 1)', height: 64, width: 64, inChannels: 256, outChannels: 256, kernel: 3, stride: 1, pad: 1, padMode: 'reflect' },
  { kind: 'tconv', name: 'resnet up 3×3/2 256→128 @64', height: 64, width: 64, inChannels: 256, outChannels: 128, kernel: 3 },
  { kind: 'tconv', name: 'resnet up 3×3/2 128→64 @128', height: 128, width: 128, inChannels: 128, outChannels: 64, kernel: 3 },
  { kind: 'conv', name: 'resnet last 7×7 64→3 @256 (reflect 3)', height: 256, width: 256, inChannels: 64, outChannels: 3, kernel: 7, stride: 1, pad: 3, padMode: 'reflect' },
  { kind: 'conv', name: 'PatchGAN 4×4/2 3→64 @256', height: 256, width: 256, inChannels: 3, outChannels: 64, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
  { kind: 'conv', name: 'PatchGAN 4×4/2 128→256 @64', height: 64, width: 64, inChannels: 128, outChannels: 256, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
  { kind: 'conv', name: 'PatchGAN 4×4 256→512 @32', height: 32, width: 32, inChannels: 256, outChannels: 512, kernel: 4, stride: 1, pad: 1, padMode: 'zero' },
  { kind: 'conv', name: 'unet down 4×4/2 512→512 @16', height: 16, width: 16, inChannels: 512, outChannels: 512, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
  { kind: 'tconv', name: 'unet up 4×4/2 1024→256 @32', height: 32, width: 32, inChannels: 1024, outChannels: 256, kernel: 4 },
  { kind: 'tconv', name: 'unet up 4×4/2 128→3 @128', height: 128, width: 128, inChannels: 128, outChannels: 3, kernel: 4 },
  { kind: 'conv', name: 'pixel D 1×1 64→128 @256', height: 256, width: 256, inChannels: 64, outChannels: 128, kernel: 1, stride: 1, pad: 0, padMode: 'zero' },
];

const why = await enableNodeWebGPU();
if (why) throw new Error(`webgpu unavailable: ${why}`);
await tf.setBackend('webgpu');
await tf.ready();
const device = webgpuDevice();
const adapter = webgpuAdapterInfo();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** Milliseconds per dispatch of one kernel, replayed `repeat` times in one plan after a warm-up replay. */
async function timeOurs(kernel: Op, buffers: GPUBuffer[]): Promise<number> {
  const plan = new Plan(device);
  for (let i = 0; i < repeat; i++) plan.add(kernel, buffers);
  plan.run();
  await device.queue.onSubmittedWorkDone();
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    plan.run();
    await device.queue.onSubmittedWorkDone();
    times.push((performance.now() - t0) / repeat);
  }
  plan.dispose();
  return median(times);
}

/** Milliseconds per call of a TF.js kernel, `repeat` calls then one read, after a warm-up. */
async function timeTfjs(run: () => tf.Tensor): Promise<number> {
  const warm = run();
  await warm.data();
  warm.dispose();
  const times: number[] = [];
  for (let r = 0; r < 3; r++) {
    const t0 = performance.now();
    const outs = Array.from({ length: repeat }, run);
    await outs[outs.length - 1].data();
    times.push((performance.now() - t0) / repeat);
    tf.dispose(outs);
  }
  return median(times);
}

/**
 * GFLOP/s of a kernel that only multiplies and adds in registers (4 independent vec4 FMA chains a thread, no memory
 * traffic but one store): the ceiling our conv kernels aim at, on this adapter.
 */
async function peakGflops(): Promise<number> {
  const threads = Math.max(1 << 14, (1 << 20) / scale);
  const iterations = 1024;
  const kernel: Kernel = {
    name: 'fp32 fma peak',
    key: 'fp32-fma-peak',
    bindings: ['read_write'],
    workgroups: groupsFor(threads),
    source: `${declareBindings(['read_write'])}
${MAIN_1D}
  var a = vec4<f32>(f32(i), 1.0, 2.0, 3.0) * 1e-7;
  var b = a + 0.5;
  var c = a + 0.25;
  var d = a + 0.125;
  let m = vec4<f32>(0.9999);
  let k = vec4<f32>(1e-6);
  for (var j = 0u; j < ${iterations}u; j++) {
    a = fma(a, m, k);
    b = fma(b, m, k);
    c = fma(c, m, k);
    d = fma(d, m, k);
  }
  // one store keeps the chains alive
  if (i < ${threads}u) { b0[i] = dot(a + b + c + d, vec4<f32>(1.0)); }
}`,
  };
  const out = device.createBuffer({ size: threads * 4, usage: GPUBufferUsage.STORAGE });
  const ms = await timeOurs(kernel, [out]);
  out.destroy();
  return (threads * iterations * 4 * 4 * 2) / 1e9 / (ms / 1000);
}

const peak = await peakGflops();
console.log(`FP32 peak (register-bound FMA kernel): ${peak.toFixed(1)} GFLOP/s`);
console.log('| shape | pass | ours tuned GFLOP/s (tile) | ours default | TF.js GFLOP/s | ours / TF.js | % of peak |');
const rows: { oursGflops: number; tfjsGflops: number; oursMs: number; tfjsMs: number }[] = [];
let tuningMs = 0;
/** Writes what has been measured so far (after every row: a run cut short keeps its rows). */
const save = (summary: object | null): void =>
  writeFileSync(new URL('../kernels-results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), adapter, scale, repeat, peakGflops: peak, tuningMs, summary, rows }, null, 2));
const side = (v: number, k: number) => Math.max(k, Math.round(v / scale));
for (const base of shapes.filter((b) => b.name.includes(only))) {
  const conv = base.kind === 'conv';
  const h = side(base.height, base.kernel);
  const w = side(base.width, base.kernel);
  const common = { batch: 1, bias: false, activation: 'none' as const, height: h, width: w, inChannels: base.inChannels, outChannels: base.outChannels };
  const cs: Conv2dSpec | null = conv ? { ...common, kernel: base.kernel, stride: base.stride, pad: base.pad, padMode: base.padMode } : null;
  const ts: ConvTransposeSpec | null = conv ? null : { ...common, kernel: base.kernel as 3 | 4 };
  const [oh, ow] = cs ? [conv2dOutputSize(cs).outHeight, conv2dOutputSize(cs).outWidth] : [2 * h, 2 * w];
  // multiply-adds: a conv's per output value, a transposed conv's per input value (the same GEMM either way)
  const macs = cs ? oh * ow * cs.outChannels * cs.kernel * cs.kernel * cs.inChannels : h * w * base.inChannels * base.kernel * base.kernel * base.outChannels;
  const x = tf.randomNormal([1, h, w, base.inChannels]) as tf.Tensor4D;
  const filter = (cs ? tf.randomNormal([base.kernel, base.kernel, base.inChannels, base.outChannels], 0, 0.02) : tf.randomNormal([base.kernel, base.kernel, base.outChannels, base.inChannels], 0, 0.02)) as tf.Tensor4D;
  const dy = tf.randomNormal([1, oh, ow, base.outChannels]) as tf.Tensor4D;
  const out = (n: number) => device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE });
  const y = out(dy.size);
  const dx = out(x.size);
  const dw = out(filter.size);
  const pad = [[0, 0], [cs?.pad ?? 0, cs?.pad ?? 0], [cs?.pad ?? 0, cs?.pad ?? 0], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
  const attrs = { strides: [cs?.stride ?? 2, cs?.stride ?? 2], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: [1, 1] };
  const run = (name: string, inputs: tf.Tensor, attrs2: object) => tf.engine().runKernel(name, inputs as unknown as tf.NamedTensorMap, attrs2 as tf.NamedAttrMap) as tf.Tensor;
  // TF.js's ops for the same passes: a transposed conv's forward is conv2d's input gradient, its input gradient a conv
  const tconvPad = base.kernel === 4 ? 'same' : 'valid';
  const passes: [string, (c?: GemmConfig) => Op, GPUBuffer[], () => tf.Tensor][] = cs
    ? [
        ['forward', (c) => conv2dForward(cs, c), [tensorBuffer(x), tensorBuffer(filter), y], () => tf.conv2d(x, filter, cs.stride, pad)],
        ['input gradient', (c) => conv2dBackwardInput(cs, c), [tensorBuffer(dy), tensorBuffer(filter), dx], () => run('Conv2DBackpropInput', { dy, filter } as unknown as tf.Tensor, { ...attrs, inputShape: x.shape })],
        ['filter gradient', (c) => conv2dBackwardFilter(cs, c), [tensorBuffer(x), tensorBuffer(dy), dw], () => run('Conv2DBackpropFilter', { x, dy } as unknown as tf.Tensor, { ...attrs, filterShape: filter.shape })],
      ]
    : [
        ['forward', (c) => convTransposeForward(ts!, c), [tensorBuffer(x), tensorBuffer(filter), y], () => tf.conv2dTranspose(x, filter, [1, base.kernel === 4 ? oh : oh + 1, base.kernel === 4 ? ow : ow + 1, base.outChannels], 2, tconvPad)],
        ['input gradient', (c) => convTransposeBackwardInput(ts!, c), [tensorBuffer(dy), tensorBuffer(filter), dx], () => tf.conv2d(dy, filter, 2, 'same')],
        ['filter gradient', (c) => convTransposeBackwardFilter(ts!, c), [tensorBuffer(x), tensorBuffer(dy), dw], () => run('Conv2DBackpropFilter', { x: dy, dy: x } as unknown as tf.Tensor, { ...attrs, pad: 'same', filterShape: filter.shape })],
      ];
  for (const [pass, make, buffers, theirs] of passes) {
    const untuned = make();
    // the tuner as a step runs it: every candidate timed on these shapes, the fastest kept
    const report = await tuneFor(device, adapterKey(adapter), () => {
      const p = new Plan(device);
      p.add(make(), buffers);
      return p;
    }, null, Infinity);
    tuningMs += report.ms;
    const best = report.timings.reduce((a, b) => (b.ms < a.ms ? b : a));
    const oursMs = await timeOurs(make(best.config), buffers);
    const defaultMs = await timeOurs(untuned, buffers);
    const tfjsMs = await timeTfjs(theirs);
    const gflop = (2 * macs) / 1e9;
    const row = {
      shape: `${base.name}${scale > 1 ? ` ÷${scale}` : ''}`,
      pass,
      tile: `${best.config.tile}${best.config.splits && best.config.splits > 1 ? ` k${best.config.splits}` : ''}`,
      oursMs,
      tfjsMs,
      oursGflops: gflop / (oursMs / 1000),
      defaultGflops: gflop / (defaultMs / 1000),
      tfjsGflops: gflop / (tfjsMs / 1000),
      peakGflops: peak,
      candidates: report.timings.map((t) => ({ config: t.config, gflops: gflop / (t.ms / 1000) })),
    };
    rows.push(row);
    save(null);
    console.log(`| ${row.shape} | ${pass} | ${row.oursGflops.toFixed(1)} (${row.tile}) | ${row.defaultGflops.toFixed(1)} | ${row.tfjsGflops.toFixed(1)} | ${(row.oursGflops / row.tfjsGflops).toFixed(2)}× | ${((100 * row.oursGflops) / peak).toFixed(1)}% |`);
  }
  tf.dispose([x, filter, dy]);
  for (const b of [y, dx, dw]) b.destroy();
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const summary = {
  meanOursGflops: mean(rows.map((r) => r.oursGflops)),
  meanTfjsGflops: mean(rows.map((r) => r.tfjsGflops)),
  // the work-weighted rate: total GFLOP over total time
  totalOursGflops: rows.reduce((a, r) => a + r.oursGflops * r.oursMs, 0) / rows.reduce((a, r) => a + r.oursMs, 0),
  totalTfjsGflops: rows.reduce((a, r) => a + r.tfjsGflops * r.tfjsMs, 0) / rows.reduce((a, r) => a + r.tfjsMs, 0),
};
console.log(`mean ours ${summary.meanOursGflops.toFixed(1)} GFLOP/s (${((100 * summary.meanOursGflops) / peak).toFixed(1)}% of peak), TF.js ${summary.meanTfjsGflops.toFixed(1)}; over all the work: ours ${summary.totalOursGflops.toFixed(1)}, TF.js ${summary.totalTfjsGflops.toFixed(1)}; tuning ${tuningMs.toFixed(0)} ms`);
save(summary);
