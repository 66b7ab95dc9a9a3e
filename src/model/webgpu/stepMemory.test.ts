import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../config/presets';
import type { PresetName } from '../../config/presets';
import { createTrainer } from '../trainer';
import { resolveConfig } from '../options';
import type { ModelName, TrainConfig } from '../options';
import { compileStep } from './compile';
import { webgpuDevice } from './gpu';
import { assignMemory, recordBuild } from './memory';
import { Plan } from './plan';
import { compiledStepMemory } from './stepMemory';
import { useNodeWebGPU } from './testing';

const skip = useNodeWebGPU("the compiled step's buffers against its count");
const MiB = 1024 ** 2;

/** The dry count of a real trainer's step (its networks built on TF.js's CPU backend; no GPU). */
async function countReal(c: Partial<TrainConfig>, batch: number, side: number) {
  await tf.setBackend('cpu');
  const t = createTrainer(c);
  try {
    const r = recordBuild(null, () => compileStep(t, batch, side, side).dispose());
    return { layout: assignMemory(r), dispatches: r.dispatches };
  } finally {
    t.dispose();
    await tf.setBackend('webgpu').catch(() => undefined);
  }
}

describe("the compiled step's memory, counted from the options", () => {
  const cases: [Partial<TrainConfig>, number, number][] = [
    [{ model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 8, ndf: 8 }, 1, 32],
    [{ model: 'cycle_gan', netG: 'unet_32', norm: 'batch', ngf: 4, ndf: 4, netD: 'pixel' }, 2, 32],
    [{ model: 'cycle_gan', netG: 'unet_64', norm: 'none', ngf: 4, ndf: 4, lambda_identity: 0, no_dropout: false }, 1, 64],
    [{ model: 'pix2pix', netG: 'unet_64', ngf: 4, ndf: 4, netD: 'n_layers', n_layers_D: 2 }, 2, 64],
    [{ model: 'pix2pix', netG: 'resnet_6blocks', norm: 'instance', ngf: 4, ndf: 4, no_dropout: true }, 1, 32],
  ];
  for (const [c, batch, side] of cases) {
    it(`equals the count of the step built from real networks: ${JSON.stringify(c)}, batch ${batch}, ${side} px`, async () => {
      const real = await countReal(c, batch, side);
      const counted = compiledStepMemory(resolveConfig(c), batch, side, side).plan;
      const { unshared, own, shared, total, buffers, gpuBuffers } = real.layout;
      expect(counted).toEqual({ unshared, own, shared, total, buffers, gpuBuffers });
      expect(shared).toBeGreaterThan(0);
    });
  }

  // Bytes of every preset's plan. Each buffer alone would take `unshared`; sharing by lifetimes brings it to `total`
  // (before sharing, the plans made paper CycleGAN 2,551.0 MiB and paper pix2pix 636.9 MiB, whose per-plan scratch
  // buffers counted once each). A change in these numbers is a change in what the step allocates: say why.
  const presets: [ModelName, PresetName, number, number][] = [
    ['cycle_gan', 'tiny', 2716652, 1690688],
    ['cycle_gan', 'quick', 55781900, 27381360],
    ['cycle_gan', 'paper', 3647301388, 1712610160],
    ['pix2pix', 'tiny', 1024264, 651304],
    ['pix2pix', 'quick', 20784428, 16105916],
    ['pix2pix', 'paper', 676919988, 482052180],
  ];
  for (const [model, preset, unshared, total] of presets) {
    it(`${model} ${preset}: ${(total / MiB).toFixed(1)} MiB of plan buffers, ${(unshared / MiB).toFixed(1)} MiB unshared`, () => {
      const c = presetConfig(preset, model);
      const m = compiledStepMemory(c.train, c.batch_size, c.data.crop_size, c.data.crop_size);
      expect([m.plan.unshared, m.plan.total]).toEqual([unshared, total]);
      expect(m.plan.total).toBe(m.plan.own + m.plan.shared);
    });
  }

  it("paper CycleGAN and pix2pix: plan, weights and Adam's moments under PyTorch's peak for the same step (2,759 and 1,321 MiB)", () => {
    const cycle = compiledStepMemory(presetConfig('paper', 'cycle_gan').train, 1, 256, 256);
    const pix = compiledStepMemory(presetConfig('paper', 'pix2pix').train, 1, 256, 256);
    expect(cycle.weights + cycle.adam).toBe((11378179 * 2 + 2764737 * 2) * 12);
    expect(cycle.total).toBeLessThan(2760 * MiB);
    expect(pix.total).toBeLessThan(1320 * MiB);
    expect(pix.largest).toEqual({ bytes: 217655820, what: 'the gradients of every netG weight, in one buffer for Adam', of: 'netG' });
    expect(pix.params).toEqual({ G: 54413955, D: 2768705 });
  });

  it('is what a laid-out build allocates on the GPU, buffer for buffer', async () => {
    if (skip()) return;
    const c: Partial<TrainConfig> = { model: 'cycle_gan', netG: 'resnet_6blocks', ngf: 8, ndf: 8 };
    const counted = compiledStepMemory(resolveConfig(c), 1, 32, 32).plan;
    const t = createTrainer(c);
    const device = webgpuDevice();
    const create = device.createBuffer.bind(device);
    let bytes = 0;
    let made = 0;
    // counts what the step's build creates (TF.js's own uploads carry no label)
    device.createBuffer = (d: GPUBufferDescriptor) => {
      if (d.label) [bytes, made] = [bytes + d.size, made + 1];
      return create(d);
    };
    const live = Plan.liveBuffers;
    try {
      const step = compileStep(t, 1, 32, 32);
      expect(step.memory).toEqual(counted);
      expect(bytes).toBe(counted.total);
      expect(made).toBe(counted.gpuBuffers);
      expect(Plan.liveBuffers - live).toBe(counted.gpuBuffers);
      step.dispose();
      expect(Plan.liveBuffers).toBe(live);
    } finally {
      device.createBuffer = create;
      t.dispose();
    }
  });
});
