import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../config/presets';
import { compileStep, createTrainer } from '../model';
import type { CompiledStep, TrainConfig, Trainer } from '../model';
import { webgpuDevice } from '../model/webgpu/gpu';
import { Plan } from '../model/webgpu/plan';
import { trainerPair } from '../model/webgpu/stepTesting';
import { useNodeWebGPU, worstRelative } from '../model/webgpu/testing';
import type { EngineChoice, EngineReport } from './protocol';
import { checkpointOf, restoreInto } from './runCheckpoint';
import { StepEngine, StepOutOfMemory } from './stepEngine';

const skip = useNodeWebGPU('the step engine on WebGPU');

/** pix2pix's Tiny networks (unet_32, ngf 4, batch norm) at 32 px, with the pixel discriminator (a quicker test). */
const TINY: Partial<TrainConfig> = { model: 'pix2pix', netG: 'unet_32', ngf: 4, ndf: 4, netD: 'pixel' };

/** Step s's batches: the same for every trainer that takes step s. */
const batchOf = (s: number, n = 1, side = 32) => {
  const shape: [number, number, number, number] = [n, side, side, 3];
  return { a: tf.randomUniform(shape, -1, 1, 'float32', 100 + s) as tf.Tensor4D, b: tf.randomUniform(shape, -1, 1, 'float32', 200 + s) as tf.Tensor4D };
};

/** One step of an engine on step s's batches; the losses on the CPU. */
async function stepOn(engine: StepEngine, s: number, n = 1, side = 32): Promise<Float32Array> {
  const { a, b } = batchOf(s, n, side);
  const losses = await engine.step(a, b);
  tf.dispose([a, b]);
  const values = Float32Array.from(await losses.data());
  losses.dispose();
  return values;
}

/** The run as the studio checkpoints it (the project's own checkpoint code), restored into a fresh trainer. */
async function resumed(t: Trainer, config: Partial<TrainConfig>): Promise<Trainer> {
  const run = presetConfig('tiny', 'pix2pix');
  const c = await checkpointOf(t, { runId: 'r', config: { ...run, train: { ...run.train, ...config } }, datasetName: 'd', epochStep: 0, history: { firstStep: 1, values: {} } });
  const fresh = createTrainer(config);
  await restoreInto(fresh, c);
  return fresh;
}

describe('the step engine on WebGPU', () => {
  /** 3 steps on `first`, a checkpoint resumed on `then` for 2 steps, beside the first engine going on. */
  async function acrossEngines(first: EngineChoice, then: EngineChoice) {
    const t = createTrainer(TINY);
    const engine = new StepEngine(t, first);
    for (let s = 1; s <= 3; s++) await stepOn(engine, s);
    const r = await resumed(t, TINY);
    const other = new StepEngine(r, then);
    let worst = 0;
    for (let s = 4; s <= 5; s++) {
      const goingOn = await stepOn(engine, s);
      const after = await stepOn(other, s);
      worst = Math.max(worst, worstRelative(after, goingOn));
    }
    expect([engine.report.engine, other.report.engine]).toEqual([first, then]);
    expect([t.step, r.step]).toEqual([5, 5]);
    engine.dispose();
    other.dispose();
    t.dispose();
    r.dispose();
    return worst;
  }

  it("resumes a compiled run's checkpoint on TF.js's step with the losses the compiled run goes on with, and the other way round", async () => {
    if (skip()) return;
    const toTfjs = await acrossEngines('compiled', 'tfjs');
    const toCompiled = await acrossEngines('tfjs', 'compiled');
    console.log(`resumed across engines: worst loss ${toTfjs.toExponential(2)} (compiled → TF.js), ${toCompiled.toExponential(2)} (TF.js → compiled)`);
    expect(toTfjs).toBeLessThan(1e-4);
    expect(toCompiled).toBeLessThan(1e-4);
  }, 120_000);

  it('builds a step for a smaller last batch in place of the old one, with the losses of TF.js’s step', async () => {
    if (skip()) return;
    const config: Partial<TrainConfig> = { ...TINY, norm: 'none' };
    const { oracle, compiled } = trainerPair(config);
    const ours = new StepEngine(compiled, 'compiled');
    const theirs = new StepEngine(oracle, 'tfjs');
    const live = Plan.liveBuffers;
    const worst = [];
    worst.push(worstRelative(await stepOn(ours, 1, 2), await stepOn(theirs, 1, 2)));
    const oneStep = Plan.liveBuffers - live;
    worst.push(worstRelative(await stepOn(ours, 2, 1), await stepOn(theirs, 2, 1)));
    expect(ours.report).toMatchObject({ engine: 'compiled', reason: null });
    // the conv kernels were tuned for this GPU before the first build (the batch-2 shape, then the smaller last one)
    expect(ours.report.tuning?.passes).toBeGreaterThan(0);
    expect(Plan.liveBuffers - live).toBe(oneStep); // the batch-2 step's buffers are gone
    expect(Math.max(...worst)).toBeLessThan(1e-4);
    ours.dispose();
    expect(Plan.liveBuffers).toBe(live);
    oracle.dispose();
    compiled.dispose();
  }, 120_000);

  it("trains a config the compiled step refuses on TF.js's step and says why", async () => {
    if (skip()) return;
    const t = createTrainer({ model: 'pix2pix', netG: 'resnet_6blocks', ngf: 4, ndf: 4, netD: 'pixel', no_dropout: false });
    const reports: EngineReport[] = [];
    const engine = new StepEngine(t, 'compiled', (r) => reports.push(r));
    const live = Plan.liveBuffers;
    expect((await stepOn(engine, 1, 1, 8)).every(Number.isFinite)).toBe(true);
    expect(t.step).toBe(1);
    expect(reports).toEqual([{ engine: 'tfjs', reason: 'the compiled resnet_6blocks has no dropout (CycleGAN\'s default --no_dropout)' }]);
    expect(Plan.liveBuffers).toBe(live);
    t.dispose();
  }, 120_000);

  it("takes back a first compiled step the GPU refuses and trains that batch on TF.js's step", async () => {
    if (skip()) return;
    const config: Partial<TrainConfig> = { ...TINY, norm: 'none' };
    const { oracle, compiled } = trainerPair(config);
    let builds = 0;
    // a step that counts itself, as the compiled step does before its submit, and then has its commands refused
    const refused = (t: Trainer): CompiledStep => ({
      dispatches: 1,
      shape: [1, 32, 32],
      memory: { unshared: 4, own: 4, shared: 0, total: 4, buffers: 1, gpuBuffers: 1 },
      run: () => {
        t.optimizers.G.advance();
        t.optimizers.D.advance();
        t.step++;
        webgpuDevice().createBuffer({ size: 4, usage: 0 }); // a validation error, as a refused submit raises
        return tf.zeros([t.lossNames.length]) as tf.Tensor1D;
      },
      stale: () => false,
      dispose: () => undefined,
    });
    const reports: EngineReport[] = [];
    const engine = new StepEngine(compiled, 'compiled', (r) => reports.push(r), (t) => (Plan.dry || builds++, refused(t)));
    const theirs = new StepEngine(oracle, 'tfjs');
    for (let s = 1; s <= 2; s++) expect(worstRelative(await stepOn(engine, s), await stepOn(theirs, s))).toBe(0);
    expect(builds).toBe(1);
    expect([compiled.step, compiled.optimizers.G.iterations, compiled.optimizers.D.iterations]).toEqual([2, 2, 2]);
    expect(reports).toHaveLength(1);
    expect(reports[0].engine).toBe('tfjs');
    expect(reports[0].reason).toMatch(/^the compiled step failed: the GPU refused it \(.+\)$/);
    oracle.dispose();
    compiled.dispose();
  }, 120_000);

  it("a build the GPU has no memory for stops with what it needed and the option to lower: nothing counted, no buffer left, no fall back to TF.js's step", async () => {
    if (skip()) return;
    const t = createTrainer(TINY);
    const device = webgpuDevice();
    const pop = device.popErrorScope;
    let builds = 0;
    // the compile runs inside the build's error scopes: the first popped (out-of-memory) answers as a full GPU does
    const full = (tr: Trainer, n: number, h: number, w: number): CompiledStep => {
      if (!Plan.dry) {
        builds++;
        device.popErrorScope = () => {
          device.popErrorScope = pop;
          return pop.call(device).then(() => ({ message: 'Out of memory while making a buffer' }) as GPUError);
        };
      }
      return compileStep(tr, n, h, w);
    };
    const live = Plan.liveBuffers;
    const reports: EngineReport[] = [];
    const engine = new StepEngine(t, 'compiled', (r) => reports.push(r), full, null, 0);
    const message = /^the GPU could not make the compiled step's buffers: [\d.]+ KiB for its plan at 1×32×32, on top of [\d.]+ KiB of weights and Adam's moments \(Out of memory while making a buffer\): lower ngf$/;
    await expect(engine.prepare(1, 32, 32)).rejects.toThrow(message);
    expect(Plan.liveBuffers).toBe(live);
    // a step meets the same wall, and takes back nothing it had not counted
    const { a, b } = batchOf(1);
    await expect(engine.step(a, b)).rejects.toBeInstanceOf(StepOutOfMemory);
    tf.dispose([a, b]);
    expect([t.step, t.optimizers.G.iterations, t.optimizers.D.iterations]).toEqual([0, 0, 0]);
    expect([builds, Plan.liveBuffers - live]).toEqual([2, 0]);
    expect(engine.report.engine).toBe('compiled');
    expect(reports).toEqual([]);
    expect(device.popErrorScope).toBe(pop);
    t.dispose();
  }, 120_000);

  it('takes TF.js’s step when asked, and says so', () => {
    if (skip()) return;
    const t = createTrainer(TINY);
    expect(new StepEngine(t, 'tfjs').report).toEqual({ engine: 'tfjs', reason: 'asked for' });
    expect(new StepEngine(t, 'compiled').report).toEqual({ engine: 'compiled', reason: null, tuning: null });
    t.dispose();
  });
});
