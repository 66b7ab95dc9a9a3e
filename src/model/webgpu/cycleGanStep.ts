/**
 * CycleGAN's training step compiled (see compiledStep.ts), in the reference's order. The G step, both Ds frozen: the
 * generator passes exactly as the TF.js trainer makes them (shared: G_A([A; B]), G_B([B; A; fake_B]), G_A(fake_A);
 * else its six passes), D_A(fake_B) and D_B(fake_A) for the GAN terms, the cycle and identity L1 terms, and one Adam
 * step over both generators. Then the trainer's own image pools trade this step's fakes (their decisions, our GPU
 * copies), and the D step: each D judges real and pooled fake in passes of their own, 0.5 · (real + fake), one Adam.
 * Every generator or discriminator call of the TF.js step is one network plan here, so batch norm's statistics, its
 * running statistics and the dropout masks see what they see there. One command encoder, two compute passes, one submit.
 */
import * as tf from '@tensorflow/tfjs';
import type { CycleGanTrainer } from '../cycleGanTrainer';
import { CYCLE_GAN_LOSSES } from '../cycleGanTrainer';
import type { PoolDraw } from '../imagePool';
import type { DiscriminatorOptions, GeneratorOptions } from '../options';
import { beginStep, checkBatches, dropoutSeed, lossTensor, ownedBuild, UnsupportedStep } from './compiledStep';
import type { CompiledStep } from './compiledStep';
import { discriminatorPlan } from './discriminatorPlan';
import type { DiscriminatorPlan } from './discriminatorPlan';
import { generatorPlan, generatorUnsupported } from './generatorPlan';
import type { GeneratorPlan } from './generatorPlan';
import { BoundTensors, tensorBuffer, webgpuDevice } from './gpu';
import { ganLossGradient, ganLossValue, l1LossGradient, l1LossValue } from './losses';
import { OptimizerPlan } from './optimizerPlan';
import { Plan } from './plan';
import { keepAcrossSteps } from './memory';
import { copyRange } from './wiring';

/** Slots of the losses buffer: CYCLE_GAN_LOSSES's order. */
const SLOT = Object.fromEntries(CYCLE_GAN_LOSSES.map((n, i) => [n, i])) as Record<(typeof CYCLE_GAN_LOSSES)[number], number>;

/** Which generator a pass runs: G_A (A → B) or G_B (B → A). */
type Net = 'A' | 'B';
/** What a segment of a pass's input is: a real batch, or a fake an earlier pass made. */
type Source = 'A' | 'B' | 'fake_A' | 'fake_B';
/** What a generator makes of a segment of its input. */
type Made = 'fake_A' | 'fake_B' | 'rec_A' | 'rec_B' | 'idt_A' | 'idt_B';

/** G_A makes fake_B of A, idt_A of B, rec_B of fake_A; G_B makes fake_A of B, idt_B of A, rec_A of fake_B. */
const MADE: Record<Net, Partial<Record<Source, Made>>> = {
  A: { A: 'fake_B', B: 'idt_A', fake_A: 'rec_B' },
  B: { B: 'fake_A', A: 'idt_B', fake_B: 'rec_A' },
};

/** One generator call of the TF.js step: the network and its input's segments, in batch order. */
interface PassSpec {
  net: Net;
  parts: Source[];
}

/** The generator calls of CycleGanTrainer.passes, in its order (batch norm's running statistics follow it). */
export function generatorPasses(share: boolean, identity: boolean): PassSpec[] {
  if (share) {
    return [
      { net: 'A', parts: identity ? ['A', 'B'] : ['A'] },
      { net: 'B', parts: identity ? ['B', 'A', 'fake_B'] : ['B', 'fake_B'] },
      { net: 'A', parts: ['fake_A'] },
    ];
  }
  const passes: PassSpec[] = [
    { net: 'A', parts: ['A'] },
    { net: 'B', parts: ['B'] },
    { net: 'B', parts: ['fake_B'] },
    { net: 'A', parts: ['fake_A'] },
  ];
  if (identity) passes.push({ net: 'A', parts: ['B'] }, { net: 'B', parts: ['A'] });
  return passes;
}

/** A compiled pass and where its segments lie. */
interface Pass extends PassSpec {
  plan: GeneratorPlan;
  /** Floats per image of its input and of its output. */
  inImage: number;
  outImage: number;
}

/** A GPU copy of the pools' part of a step: one image's bytes from one buffer to another (offsets in bytes). */
interface Move {
  from: GPUBuffer;
  fromOffset: number;
  to: GPUBuffer;
  toOffset: number;
  bytes: number;
}

/** Compiles `trainer`'s step for batches of `batch` images of height × width; throws UnsupportedStep with the reason. */
export function compileCycleGanStep(trainer: CycleGanTrainer, batch: number, height: number, width: number): CompiledStep {
  const c = trainer.config;
  const { netG_A, netG_B, netD_A, netD_B } = trainer.models;
  const gen = (input_nc: number, output_nc: number): GeneratorOptions => ({ input_nc, output_nc, ngf: c.ngf, netG: c.netG, norm: c.norm, use_dropout: !c.no_dropout });
  const gOptions: Record<Net, GeneratorOptions> = { A: gen(c.input_nc, c.output_nc), B: gen(c.output_nc, c.input_nc) };
  const dis = (input_nc: number): DiscriminatorOptions => ({ input_nc, ndf: c.ndf, netD: c.netD, n_layers_D: c.n_layers_D, norm: c.norm });
  const why = generatorUnsupported(gOptions.A);
  if (why) throw new UnsupportedStep(why);
  const identity = c.lambda_identity > 0;
  const device = webgpuDevice();
  const shapes = { batch, height, width };
  const pixels = height * width;
  const models: Record<Net, tf.LayersModel> = { A: netG_A, B: netG_B };
  return ownedBuild((own) => {
    const passes: Pass[] = generatorPasses(trainer.sharePasses, identity).map((spec) => ({
      ...spec,
      plan: own(generatorPlan({ model: models[spec.net], ...shapes, batch: batch * spec.parts.length, inputGradient: spec.parts.some((s) => s.startsWith('fake')), options: gOptions[spec.net] })),
      inImage: pixels * gOptions[spec.net].input_nc,
      outImage: pixels * gOptions[spec.net].output_nc,
    }));
    /** The pass and segment where `what` is made (outputs) or fed (inputs); offsets in floats. */
    const madeAt = (what: Made) => {
      for (const p of passes) {
        const k = p.parts.findIndex((s) => MADE[p.net][s] === what);
        if (k >= 0) return { pass: p, offset: k * batch * p.outImage };
      }
      throw new Error(`no pass makes ${what}`);
    };
    const fedAt = (what: Source) => {
      for (const p of passes) {
        const k = p.parts.indexOf(what);
        if (k >= 0) return { pass: p, offset: k * batch * p.inImage };
      }
      throw new Error(`no pass takes ${what}`);
    };
    const d = (model: tf.LayersModel, input_nc: number, inputGradient: boolean, weightGradients: boolean): DiscriminatorPlan =>
      own(discriminatorPlan({ model, ...shapes, inputGradient, weightGradients, options: dis(input_nc) }));
    // G step's Ds (input gradients only), then the D step's four calls in the TF.js order
    const dAForG = d(netD_A, c.output_nc, true, false);
    const dBForG = d(netD_B, c.input_nc, true, false);
    const dAReal = d(netD_A, c.output_nc, false, true);
    const dAFake = d(netD_A, c.output_nc, false, true);
    const dBReal = d(netD_B, c.input_nc, false, true);
    const dBFake = d(netD_B, c.input_nc, false, true);
    // The real batches as the D step's real passes take them, which the L1 terms read too.
    const real: Record<'A' | 'B', GPUBuffer> = { A: dBReal.input, B: dAReal.input };
    const store = own(new Plan(device));
    const losses = store.buffer(CYCLE_GAN_LOSSES.length, 'losses');
    const optG = new OptimizerPlan(store, trainer.optimizers.G, 'netG');
    const optD = new OptimizerPlan(store, trainer.optimizers.D, 'netD');
    const mode = c.gan_mode;
    const logitsA = dAForG.outputShape.reduce((a, b) => a * b);
    const logitsB = dBForG.outputShape.reduce((a, b) => a * b);
    const fake = { B: madeAt('fake_B'), A: madeAt('fake_A') };
    const fakeCount = { B: batch * pixels * c.output_nc, A: batch * pixels * c.input_nc };
    // what run() writes before the plans, moves between them (the pools) and reads after: memory of their own
    keepAcrossSteps(...passes.flatMap((p) => [p.plan.input, p.plan.seeds]), real.A, real.B, fake.A.pass.plan.output, fake.B.pass.plan.output);
    keepAcrossSteps(dAFake.input, dBFake.input, losses, optG.params, optD.params);

    const g = own(new Plan(device));
    // forward: each pass after copying in the fakes it takes (its real segments are copied in before the step)
    for (const p of passes) {
      p.parts.forEach((s, k) => {
        if (s === 'A' || s === 'B') return;
        const from = madeAt(s);
        g.add(copyRange({ count: batch * p.inImage, from: [from.offset], to: k * batch * p.inImage, accumulate: false }), [from.pass.plan.output, p.plan.input]);
      });
      p.plan.forward(g);
    }
    g.add(copyRange({ count: fakeCount.B, from: [fake.B.offset], to: 0, accumulate: false }), [fake.B.pass.plan.output, dAForG.input]);
    dAForG.forward(g);
    g.add(copyRange({ count: fakeCount.A, from: [fake.A.offset], to: 0, accumulate: false }), [fake.A.pass.plan.output, dBForG.input]);
    dBForG.forward(g);
    // the L1 terms: cycle_A = lambda_A·|rec_A − A|, cycle_B = lambda_B·|rec_B − B|, idt_A = lambda_B·lambda_identity·|idt_A − B|, idt_B likewise
    const l1: { made: Made; target: 'A' | 'B'; weight: number; slot: number }[] = [
      { made: 'rec_A', target: 'A', weight: c.lambda_A, slot: SLOT.cycle_A },
      { made: 'rec_B', target: 'B', weight: c.lambda_B, slot: SLOT.cycle_B },
      ...(identity
        ? [
            { made: 'idt_A' as const, target: 'B' as const, weight: c.lambda_B * c.lambda_identity, slot: SLOT.idt_A },
            { made: 'idt_B' as const, target: 'A' as const, weight: c.lambda_A * c.lambda_identity, slot: SLOT.idt_B },
          ]
        : []),
    ];
    for (const t of l1) {
      const at = madeAt(t.made);
      const n = batch * at.pass.outImage;
      g.add(l1LossValue(n, { weight: t.weight, slot: t.slot, accumulate: false }, { a: at.offset }), [at.pass.plan.output, real[t.target], losses]);
      g.add(l1LossGradient(n, { weight: t.weight, accumulate: false }, { a: at.offset, grad: at.offset }), [at.pass.plan.output, real[t.target], at.pass.plan.dOutput]);
    }
    // the GAN terms: G_A = D_A(fake_B) vs real, G_B = D_B(fake_A) vs real
    g.add(ganLossValue(mode, true, logitsA, { weight: 1, slot: SLOT.G_A, accumulate: false }), [dAForG.output, losses]);
    g.add(ganLossGradient(mode, true, logitsA, { weight: 1, accumulate: false }), [dAForG.output, dAForG.dOutput]);
    g.add(ganLossValue(mode, true, logitsB, { weight: 1, slot: SLOT.G_B, accumulate: false }), [dBForG.output, losses]);
    g.add(ganLossGradient(mode, true, logitsB, { weight: 1, accumulate: false }), [dBForG.output, dBForG.dOutput]);
    dAForG.backward(g);
    dBForG.backward(g);
    // backward in reverse: a fake's gradient is its D's plus that of the later pass that took it
    const dFake = { B: dAForG.dInput!, A: dBForG.dInput! };
    for (const p of [...passes].reverse()) {
      for (const which of ['A', 'B'] as const) {
        if (fake[which].pass !== p) continue;
        const consumer = fedAt(`fake_${which}`);
        g.add(
          copyRange({ count: fakeCount[which], from: [0, consumer.offset], to: fake[which].offset, accumulate: false }),
          [dFake[which], consumer.pass.plan.dInput!, p.plan.dOutput],
        );
      }
      p.plan.backward(g);
    }
    const ofNet = (net: Net) => passes.filter((p) => p.net === net).map((p) => p.plan.grads);
    optG.gather(g, 0, ofNet('A'));
    optG.gather(g, netG_A.trainableWeights.length, ofNet('B'));
    optG.update(g);

    // D step: D_A on real_B and pooled fake_B, D_B on real_A and pooled fake_A, each 0.5 · (real + fake)
    const dPlan = own(new Plan(device));
    const dStep = (onReal: DiscriminatorPlan, pooled: DiscriminatorPlan, slot: number, logits: number) => {
      onReal.forward(dPlan);
      pooled.forward(dPlan);
      dPlan.add(ganLossValue(mode, true, logits, { weight: 0.5, slot, accumulate: false }), [onReal.output, losses]);
      dPlan.add(ganLossValue(mode, false, logits, { weight: 0.5, slot, accumulate: true }), [pooled.output, losses]);
      dPlan.add(ganLossGradient(mode, true, logits, { weight: 0.5, accumulate: false }), [onReal.output, onReal.dOutput]);
      dPlan.add(ganLossGradient(mode, false, logits, { weight: 0.5, accumulate: false }), [pooled.output, pooled.dOutput]);
    };
    dStep(dAReal, dAFake, SLOT.D_A, logitsA);
    dStep(dBReal, dBFake, SLOT.D_B, logitsB);
    for (const p of [dAReal, dAFake, dBReal, dBFake]) p.backward(dPlan);
    optD.gather(dPlan, 0, [dAReal.grads, dAFake.grads]);
    optD.gather(dPlan, netD_A.trainableWeights.length, [dBReal.grads, dBFake.grads]);
    optD.update(dPlan);

    const bound = new BoundTensors([...Object.values(trainer.models).flatMap((m) => m.weights.map((w) => w.read())), ...optD.written, ...optG.written]);
    // dropout seeds: one buffer per pass, G_B's slots numbered after G_A's (seedDropout's order)
    const dropoutLayers = (m: tf.LayersModel) => m.layers.filter((l) => l.getClassName() === 'StepDropout').length;
    const firstSlot: Record<Net, number> = { A: 0, B: dropoutLayers(netG_A) };
    const seeded = passes.filter((p) => p.plan.seeds);
    const seeds = { A: new Uint32Array(dropoutLayers(netG_A)), B: new Uint32Array(dropoutLayers(netG_B)) };
    const imageBytes = { A: pixels * c.input_nc * 4, B: pixels * c.output_nc * 4 };

    /** The copies that make the pooled batch of one domain and store this step's fakes, in `draws`' order. */
    const poolMoves = (which: 'A' | 'B', draws: PoolDraw[], into: GPUBuffer): Move[] =>
      draws.flatMap((draw, i) => {
        const made = { from: fake[which].pass.plan.output, fromOffset: fake[which].offset * 4 + i * imageBytes[which], bytes: imageBytes[which] };
        const to = { to: into, toOffset: i * imageBytes[which] };
        const out: Move = draw.out ? { from: tensorBuffer(draw.out), fromOffset: 0, bytes: imageBytes[which], ...to } : { ...made, ...to };
        return draw.keep ? [out, { ...made, to: tensorBuffer(draw.keep), toOffset: 0 }] : [out];
      });

    return {
      dispatches: g.dispatches + dPlan.dispatches,
      shape: [batch, height, width],
      run(realA: tf.Tensor4D, realB: tf.Tensor4D): tf.Tensor1D {
        checkBatches([batch, height, width], realA, realB);
        // the pools draw as optimizeD's queries do (fake_B's pool first); their images' buffers found before the flush
        const drawsB = trainer.fake_B_pool.draw([batch, height, width, c.output_nc]);
        const drawsA = trainer.fake_A_pool.draw([batch, height, width, c.input_nc]);
        const moves = [...poolMoves('B', drawsB, dAFake.input), ...poolMoves('A', drawsA, dBFake.input)];
        const stored = new BoundTensors([...new Set([...drawsB, ...drawsA].flatMap((dr) => (dr.keep ? [dr.keep] : [])))]);
        const { encoder, copy } = beginStep(device, [realA, realB]);
        for (const p of passes) {
          p.parts.forEach((s, k) => {
            if (s === 'A' || s === 'B') copy(s === 'A' ? 0 : 1, p.plan.input, k * batch * p.inImage);
          });
        }
        copy(0, real.A);
        copy(1, real.B);
        if (seeded.length) {
          for (const net of ['A', 'B'] as const) seeds[net].forEach((_, k) => (seeds[net][k] = dropoutSeed(trainer.step + 1, firstSlot[net] + k)));
          for (const p of seeded) device.queue.writeBuffer(p.plan.seeds!, 0, seeds[p.net]);
        }
        optG.advance(device.queue);
        optD.advance(device.queue);
        g.encode(encoder);
        for (const m of moves) encoder.copyBufferToBuffer(m.from, m.fromOffset, m.to, m.toOffset, m.bytes);
        dPlan.encode(encoder);
        device.queue.submit([encoder.finish()]);
        bound.forgetCpuCopies();
        stored.forgetCpuCopies();
        trainer.step++;
        return lossTensor(losses, CYCLE_GAN_LOSSES.length);
      },
      stale: () => bound.stale(),
    };
  });
}
