/**
 * The GPU memory of a run's compiled step, from its options alone: a dry build of the step over stand-ins of its
 * trainer (standInTrainer.ts) counts the plans' buffers after sharing (memory.ts), and the stand-ins' shapes give the
 * variables and Adam's moments. No model is built and no GPU is needed, so the page can show it as options change.
 */
import type { TrainConfig } from '../options';
import { compileCycleGanStep } from './cycleGanStep';
import type { StepMemory } from './compiledStep';
import { assignMemory, recordBuild } from './memory';
import { compilePix2pixStep } from './pix2pixStep';
import { standInTrainer } from './standInTrainer';

/** What the compiled step of a config holds on the GPU, in bytes. */
export interface CompiledStepMemory {
  /** The step's own buffers (activations, gradients, scratch, losses), after sharing. */
  plan: StepMemory;
  /** The networks' weights and batch norm's running statistics. */
  weights: number;
  /** Adam's two moments of every trainable weight. */
  adam: number;
  /** plan + weights + adam. */
  total: number;
  /** The largest single GPU buffer (a plan's, a weight, a chunk of moments), what it holds, and whose size it follows. */
  largest: { bytes: number; what: string; of: 'netG' | 'netD' | 'images' };
  /** Trainable parameters of the generators and of the discriminators. */
  params: { G: number; D: number };
}

/**
 * Counts the compiled step of `config` for batches of `batch` images of height × width, on a device with `limits`
 * (null: WebGPU's defaults, which the count depends on only through how many buffers a dispatch may bind). Throws
 * UnsupportedStep where the config has no compiled step (TF.js's step runs then).
 */
export function compiledStepMemory(config: TrainConfig, batch: number, height: number, width: number, limits: Partial<GPUSupportedLimits> | null = null): CompiledStepMemory {
  const stand = standInTrainer(config);
  const record = recordBuild(limits, () => (stand.model === 'pix2pix' ? compilePix2pixStep(stand.trainer, batch, height, width) : compileCycleGanStep(stand.trainer, batch, height, width)).dispose());
  const layout = assignMemory(record);
  const models = Object.entries(stand.trainer.models) as unknown as [string, { weights: { size: number; name: string }[] }][];
  const weights = 4 * models.reduce((n, [, m]) => n + m.weights.reduce((a, w) => a + w.size, 0), 0);
  const { G, D } = stand.trainer.optimizers;
  const params = { G: G.variables.reduce((n, v) => n + v.size, 0), D: D.variables.reduce((n, v) => n + v.size, 0) };
  const moments = (['G', 'D'] as const).flatMap((g) => stand.trainer.optimizers[g].state.map((c) => ({ size: c.m.size, of: `net${g}` as const })));
  const adam = 4 * 2 * moments.reduce((a, c) => a + c.size, 0);
  // Adam's flat gradient buffers (optimizerPlan.ts) hold every weight of their networks: the ones that follow ngf, ndf
  const flat = new Map([[`netG gradients|${4 * params.G}`, 'netG' as const], [`netD gradients|${4 * params.D}`, 'netD' as const]]);
  // the largest GPU buffer: a plan buffer (a shared block is as large as its largest), a weight, or a chunk's moments
  const candidates: CompiledStepMemory['largest'][] = [
    ...record.buffers.map((r) => {
      const of = flat.get(`${r.label}|${r.bytes}`);
      return { bytes: r.bytes, what: of ? `the gradients of every ${of} weight, in one buffer for Adam` : `the step's ${r.label}`, of: of ?? ('images' as const) };
    }),
    ...models.flatMap(([net, m]) => m.weights.map((w) => ({ bytes: 4 * w.size, what: `the weights ${w.name}`, of: net.startsWith('netG') ? ('netG' as const) : ('netD' as const) }))),
    ...moments.map((c) => ({ bytes: 4 * c.size, what: `Adam's moments of ${c.of} weights`, of: c.of })),
  ];
  const largest = candidates.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  const plan: StepMemory = { unshared: layout.unshared, own: layout.own, shared: layout.shared, total: layout.total, buffers: layout.buffers, gpuBuffers: layout.gpuBuffers };
  return { plan, weights, adam, total: plan.total + weights + adam, largest, params };
}
