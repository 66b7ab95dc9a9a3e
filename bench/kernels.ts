/**
 * `npm run bench:kernels`: GFLOP/s of our convolution kernels (forward, input gradient, filter gradient) on the
 * shapes of the paper-size networks, beside TF.js's own webgpu conv kernels on the same shapes, in one run. Ours are
 * the compiled step's kernels: the forward pass register-blocked (4 channels × 4 columns a thread), the gradients
 * still one thread per value computed.
 * Also measures the adapter's FP32 peak as a register-bound FMA kernel sees it, in the same run.
 * Writes bench/kernels-results.json as { adapter, peakGflops, rows: [{ shape, pass, oursGflops, tfjsGflops, peakGflops }] }.
 * Env: KERNELS_SCALE (divides every side, e.g. 8 on a software GPU), KERNELS_REPEAT (dispatches timed per kernel).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { enableNodeWebGPU } from '../src/model/nodeWebgpu';
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputSize } from '../src/model/webgpu/conv2d';
import type { Conv2dSpec } from '../src/model/webgpu/conv2d';
import { tensorBuffer, webgpuDevice } from '../src/model/webgpu/gpu';
import { declareBindings, groupsFor, MAIN_1D } from '../src/model/webgpu/kernel';
import type { Kernel, Op } from "../src/model/webgpu/kernel";
import { Plan } from '../src/model/webgpu/plan';

const scale = Number(process.env.KERNELS_SCALE ?? 1);
const repeat = Number(process.env.KERNELS_REPEAT ?? 10);

/** The ordinary convs of resnet_9blocks, the basic PatchGAN and unet_256 at 256 px, ngf = ndf = 64, batch 1. */
const shapes: (Omit<Conv2dSpec, 'batch' | 'bias' | 'activation'> & { name: string })[] = [
  { name: 'resnet first 7×7 3→64 @256 (reflect 3)', height: 256, width: 256, inChannels: 3, outChannels: 64, kernel: 7, stride: 1, pad: 3, padMode: 'reflect' },
  { name: 'resnet down 3×3/2 64→128 @256', height: 256, width: 256, inChannels: 64, outChannels: 128, kernel: 3, stride: 2, pad: 1, padMode: 'zero' },
  { name: 'resnet down 3×3/2 128→256 @128', height: 128, width: 128, inChannels: 128, outChannels: 256, kernel: 3, stride: 2, pad: 1, padMode: 'zero' },
  { name: 'resnet block 3×3 256→256 @64 (reflect 1)', height: 64, width: 64, inChannels: 256, outChannels: 256, kernel: 3, stride: 1, pad: 1, padMode: 'reflect' },
  { name: 'resnet last 7×7 64→3 @256 (reflect 3)', height: 256, width: 256, inChannels: 64, outChannels: 3, kernel: 7, stride: 1, pad: 3, padMode: 'reflect' },
  { name: 'PatchGAN 4×4/2 3→64 @256', height: 256, width: 256, inChannels: 3, outChannels: 64, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
  { name: 'PatchGAN 4×4/2 128→256 @64', height: 64, width: 64, inChannels: 128, outChannels: 256, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
  { name: 'PatchGAN 4×4 256→512 @32', height: 32, width: 32, inChannels: 256, outChannels: 512, kernel: 4, stride: 1, pad: 1, padMode: 'zero' },
  { name: 'unet down 4×4/2 512→512 @16', height: 16, width: 16, inChannels: 512, outChannels: 512, kernel: 4, stride: 2, pad: 1, padMode: 'zero' },
];

const why = await enableNodeWebGPU();
if (why) throw new Error(`webgpu unavailable: ${why}`);
await tf.setBackend('webgpu');
await tf.ready();
const device = webgpuDevice();
const adapter = (tf.backend() as unknown as { adapterInfo?: object }).adapterInfo ?? {};
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
const rows = [];
for (const base of shapes) {
  const { name, ...rest } = base;
  const s: Conv2dSpec = { ...rest, batch: 1, bias: false, activation: 'none', height: Math.max(rest.kernel, base.height / scale), width: Math.max(rest.kernel, base.width / scale) };
  const { outHeight, outWidth } = conv2dOutputSize(s);
  const macs = outHeight * outWidth * s.outChannels * s.kernel * s.kernel * s.inChannels;
  const x = tf.randomNormal([1, s.height, s.width, s.inChannels]) as tf.Tensor4D;
  const w = tf.randomNormal([s.kernel, s.kernel, s.inChannels, s.outChannels], 0, 0.02) as tf.Tensor4D;
  const dy = tf.randomNormal([1, outHeight, outWidth, s.outChannels]) as tf.Tensor4D;
  const out = (n: number) => device.createBuffer({ size: n * 4, usage: GPUBufferUsage.STORAGE });
  const y = out(outHeight * outWidth * s.outChannels);
  const dx = out(x.size);
  const dw = out(w.size);
  const pad = [[0, 0], [s.pad, s.pad], [s.pad, s.pad], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]];
  const attrs = { strides: [s.stride, s.stride], pad, dataFormat: 'NHWC', dimRoundingMode: undefined, dilations: [1, 1] };
  const passes: [string, () => Promise<number>, () => Promise<number>][] = [
    ['forward', () => timeOurs(conv2dForward(s), [tensorBuffer(x), tensorBuffer(w), y]), () => timeTfjs(() => tf.conv2d(x, w, s.stride, pad))],
    [
      'input gradient',
      () => timeOurs(conv2dBackwardInput(s), [tensorBuffer(dy), tensorBuffer(w), dx]),
      () => timeTfjs(() => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor),
    ],
    [
      'filter gradient',
      () => timeOurs(conv2dBackwardFilter(s), [tensorBuffer(x), tensorBuffer(dy), dw]),
      () => timeTfjs(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor),
    ],
  ];
  for (const [pass, ours, theirs] of passes) {
    const oursMs = await ours();
    const tfjsMs = await theirs();
    const gflop = (2 * macs) / 1e9;
    const row = { shape: `${name}${scale > 1 ? ` ÷${scale}` : ''}`, pass, oursMs, tfjsMs, oursGflops: gflop / (oursMs / 1000), tfjsGflops: gflop / (tfjsMs / 1000), peakGflops: peak };
    rows.push(row);
    console.log(`| ${row.shape} | ${pass} | ${row.oursGflops.toFixed(1)} | ${row.tfjsGflops.toFixed(1)} | ${oursMs.toFixed(3)} | ${tfjsMs.toFixed(3)} |`);
  }
  tf.dispose([x, w, dy]);
  for (const b of [y, dx, dw]) b.destroy();
}
writeFileSync(new URL('../kernels-results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), adapter, scale, repeat, peakGflops: peak, rows }, null, 2));
