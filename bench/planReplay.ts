/**
 * `npm run bench:plan`: what one dispatch costs the CPU, TF.js's way and a plan's way, on this machine's WebGPU (Dawn:
 * SwiftShader here, a GPU's Vulkan driver elsewhere). TF.js: a chain of small ops, each issued through its engine
 * (a uniform buffer and a bind group per dispatch). Plan: the same number of pre-built dispatches replayed in one
 * compute pass and one submit. CPU microseconds per dispatch carry across machines; GPU time only on a real GPU.
 * Writes bench/plan-results.json. Env: PLAN_DISPATCHES (comma-separated counts), PLAN_SIZE (floats per dispatch).
 */
import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { enableNodeWebGPU } from '../src/model/nodeWebgpu';
import { activationForward } from '../src/model/webgpu/activation';
import { tensorBuffer, webgpuDevice } from '../src/model/webgpu/gpu';
import { Plan } from '../src/model/webgpu/plan';

const counts = (process.env.PLAN_DISPATCHES ?? '400,2000').split(',').map(Number);
const size = Number(process.env.PLAN_SIZE ?? 4096);
const REPEATS = 7;

const why = await enableNodeWebGPU();
if (why) throw new Error(`webgpu unavailable: ${why}`);
await tf.setBackend('webgpu');
await tf.ready();
const device = webgpuDevice();
const adapter = (tf.backend() as unknown as { adapterInfo?: { vendor?: string; architecture?: string; device?: string; description?: string } }).adapterInfo ?? {};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** TF.js: n ops in a chain (each reads the last), issued and then awaited. */
async function tfjsChain(n: number) {
  const x = tf.randomNormal([size]);
  const issue: number[] = [];
  const total: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    const y = tf.tidy(() => {
      let v = x;
      for (let i = 0; i < n; i++) v = tf.relu(v);
      return v;
    });
    const t1 = performance.now();
    await y.data();
    total.push(performance.now() - t0);
    issue.push(t1 - t0);
    y.dispose();
  }
  x.dispose();
  return { issueUsPerDispatch: (1000 * median(issue.slice(1))) / n, totalUsPerDispatch: (1000 * median(total.slice(1))) / n };
}

/** Plan: n pre-built relu dispatches ping-ponging between two buffers, encoded and submitted once per replay. */
async function planChain(n: number) {
  const x = tf.randomNormal([size]);
  const plan = new Plan(device);
  const a = plan.buffer(size, 'a');
  const b = plan.buffer(size, 'b');
  const kernel = activationForward('relu', size);
  plan.add(kernel, [tensorBuffer(x), a]);
  for (let i = 1; i < n; i++) plan.add(kernel, i % 2 ? [a, b] : [b, a]);
  const issue: number[] = [];
  const total: number[] = [];
  for (let r = 0; r < REPEATS; r++) {
    const t0 = performance.now();
    plan.run();
    const t1 = performance.now();
    await device.queue.onSubmittedWorkDone();
    total.push(performance.now() - t0);
    issue.push(t1 - t0);
  }
  plan.dispose();
  x.dispose();
  return { issueUsPerDispatch: (1000 * median(issue.slice(1))) / n, totalUsPerDispatch: (1000 * median(total.slice(1))) / n };
}

const rows = [];
for (const n of counts) {
  const tfjs = await tfjsChain(n);
  const plan = await planChain(n);
  rows.push({ dispatches: n, floats: size, tfjs, plan });
  console.log(
    `${n} dispatches of ${size} floats: TF.js ${tfjs.issueUsPerDispatch.toFixed(1)} µs to issue, ${tfjs.totalUsPerDispatch.toFixed(1)} µs in all; ` +
      `plan ${plan.issueUsPerDispatch.toFixed(2)} µs to encode and submit, ${plan.totalUsPerDispatch.toFixed(2)} µs in all (per dispatch)`,
  );
}
writeFileSync(new URL('../plan-results.json', import.meta.url), JSON.stringify({ date: new Date().toISOString(), adapter, rows }, null, 2));
