import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { conv2dBackwardFilter, conv2dBackwardInput, conv2dForward, conv2dOutputCount } from './conv2d';
import type { Conv2dSpec } from './conv2d';
import type { GemmConfig } from './convGemm';
import { tileFits } from './convGemm';
import { sharedBytesOf, threadsOf, TILES } from './gemm';
import { webgpuDevice } from './gpu';
import { kernelsOf } from './kernel';
import { Plan } from './plan';
import { runKernel, useNodeWebGPU, worstRelative } from './testing';
import { candidates, forgetTuning, tuneFor, tunedChoice } from './tuning';
import type { TuningStore } from './tuning';
import { fileTuningStore } from './tuningStoreFile';

const skip = useNodeWebGPU('the kernel tuner');

/** A store in memory that counts its loads and saves. */
function memoryStore(initial: Record<string, GemmConfig> = {}) {
  const data = new Map(Object.entries(initial));
  const store: TuningStore & { data: Map<string, GemmConfig>; saves: number } = {
    data,
    saves: 0,
    async load(keys) {
      return new Map(keys.filter((k) => data.has(k)).map((k) => [k, data.get(k)!]));
    },
    async save(entries) {
      store.saves++;
      for (const [k, v] of entries) data.set(k, v);
    },
  };
  return store;
}

const SPEC: Conv2dSpec = { batch: 1, height: 12, width: 10, inChannels: 6, outChannels: 5, kernel: 3, stride: 1, pad: 1, padMode: 'reflect', bias: true, activation: 'relu' };

/** A "step" that uses the spec's three passes, built in one plan as the compiled steps build theirs. */
function build(): Plan {
  const plan = new Plan(webgpuDevice());
  const buffer = (n: number) => plan.buffer(n, 'b');
  const x = buffer(120 * 6);
  const w = buffer(9 * 30);
  const y = buffer(conv2dOutputCount(SPEC));
  plan.add(conv2dForward(SPEC), [x, w, buffer(5), y]);
  plan.add(conv2dBackwardInput(SPEC), [y, y, w, buffer(120 * 6)]);
  plan.add(conv2dBackwardFilter(SPEC), [x, y, y, buffer(9 * 30)]);
  return plan;
}

describe('kernel tuning', () => {
  afterEach(() => forgetTuning());

  it('times every candidate of the passes a build uses, keeps the fastest and saves it; a second run times nothing', async () => {
    if (skip()) return;
    const device = webgpuDevice();
    const store = memoryStore();
    const first = await tuneFor(device, 'test-adapter', build, store, Infinity);
    expect(first.passes).toBe(3);
    expect(first.fromStore).toBe(0);
    const perPass = (family: 'gather' | 'parity' | 'filter', rows: number, cols: number, len: number) => candidates(family, rows, cols, len).length;
    expect(first.timed).toBe(perPass('gather', 120, 5, 54) + perPass('parity', 120, 6, 45) + perPass('filter', 54, 5, 120));
    expect(store.saves).toBe(1);
    expect([...store.data.keys()].every((k) => k.startsWith('test-adapter|conv2d-'))).toBe(true);
    // the choice is the fastest candidate timed, and the build now makes that kernel
    const fwdKey = [...store.data.keys()].find((k) => k.includes('conv2d-fwd'))!.split('|')[1];
    const fastest = first.timings.filter((t) => t.key === fwdKey).reduce((a, b) => (b.ms < a.ms ? b : a));
    expect(tunedChoice(fwdKey)).toEqual(fastest.config);
    const { tile, splits = 1 } = fastest.config;
    expect(kernelsOf(conv2dForward(SPEC))[0].name).toContain(`[${tile}${splits > 1 ? `-k${splits}` : ''}]`);

    // a new worker (nothing in memory) on the same adapter: all three from the store, nothing timed
    forgetTuning();
    const second = await tuneFor(device, 'test-adapter', build, store, Infinity);
    expect(second).toMatchObject({ passes: 3, fromStore: 3, timed: 0 });
    expect(store.saves).toBe(1);
    // another adapter times again
    forgetTuning();
    const other = await tuneFor(device, 'other-adapter', build, store, Infinity);
    expect(other.fromStore).toBe(0);
    expect(other.timed).toBe(first.timed);
  }, 120_000);

  it('ignores a stored choice that names no tile of ours, or that this device cannot run', async () => {
    if (skip()) return;
    const device = webgpuDevice();
    const tiny = { ...TILES['32x32'] };
    expect(tileFits(tiny, device.limits)).toBe(true);
    const first = await tuneFor(device, 'a', build, memoryStore(), Infinity);
    const keys = [...new Set(first.timings.map((t) => t.key))];
    forgetTuning();
    const store = memoryStore({ [`a|${keys[0]}`]: { tile: 'huge' as never }, [`a|${keys[1]}`]: { tile: '64x64', splits: -3 } });
    const again = await tuneFor(device, 'a', build, store, Infinity);
    expect(again.fromStore).toBe(0);
    expect(again.passes).toBe(3);
  }, 120_000);

  it('stops timing when its budget is spent: the rest keep their defaults, and say so', async () => {
    if (skip()) return;
    const report = await tuneFor(webgpuDevice(), 'b', build, null, 0);
    expect(report.passes + report.leftDefault).toBe(3);
    expect(report.leftDefault).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('the tuned kernels compute what the defaults do', async () => {
    if (skip()) return;
    const x = tf.randomNormal([1, 12, 10, 6], 0, 1, 'float32', 1);
    const w = tf.randomNormal([3, 3, 6, 5], 0, 0.3, 'float32', 2);
    const b = tf.randomNormal([5], 0, 0.3, 'float32', 3);
    const [before] = await runKernel(conv2dForward(SPEC), [x, w, b], [conv2dOutputCount(SPEC)]);
    await tuneFor(webgpuDevice(), 'c', build, null, Infinity);
    const [after] = await runKernel(conv2dForward(SPEC), [x, w, b], [conv2dOutputCount(SPEC)]);
    expect(worstRelative(after, before)).toBeLessThan(1e-5);
    tf.dispose([x, w, b]);
  }, 120_000);
});

describe('what a device can run', () => {
  it('a tile over the workgroup memory or invocation limits is never a candidate the device gets', () => {
    const limits = { maxComputeInvocationsPerWorkgroup: 256, maxComputeWorkgroupSizeX: 256, maxComputeWorkgroupStorageSize: 8192 };
    const fit = Object.entries(TILES).filter(([, t]) => tileFits(t, limits)).map(([n]) => n);
    // 128x128: (132 + 132) × 8 × 4 = 8,448 bytes; 64x64: (68 + 68) × 16 × 4 = 8,704; 16x64: (20 + 68) × 16 × 4 = 5,632
    expect(fit).toEqual(['128x64', '32x32', '128x4', '16x64']);
    expect(sharedBytesOf(TILES['128x128'])).toBeGreaterThan(8192);
    expect(tileFits(TILES['64x64'], { ...limits, maxComputeInvocationsPerWorkgroup: 128 })).toBe(threadsOf(TILES['64x64']) <= 128);
  });
});

describe('the tuning file (Node)', () => {
  it('keeps choices across stores, survives a corrupt file, and writes whole files', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'tuning-')), 'sub', 'kernel-tuning.json');
    await fileTuningStore(path).save(new Map([['gpu|k1', { tile: '64x64' }]]));
    await fileTuningStore(path).save(new Map([['gpu|k2', { tile: '32x32', splits: 4 }]]));
    const loaded = await fileTuningStore(path).load(['gpu|k1', 'gpu|k2', 'gpu|k3']);
    expect(Object.fromEntries(loaded)).toEqual({ 'gpu|k1': { tile: '64x64' }, 'gpu|k2': { tile: '32x32', splits: 4 } });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveProperty('gpu|k2');
    writeFileSync(path, '{ not json');
    expect((await fileTuningStore(path).load(['gpu|k1'])).size).toBe(0);
  });
});
