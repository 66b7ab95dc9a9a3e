/**
 * What a run's networks cost and whether the device can hold them: the page shows it in the options card and
 * refuses Start, the worker refuses the start command, both through `validateRunConfig`. The figure is the step's
 * that will run: on WebGPU the compiled step's, which the worker counts (CompiledMemory), else TF.js's estimate.
 */
import { runSize } from '../model/networkSize';
import type { RunSize } from '../model/networkSize';
import type { CompiledStepMemory } from '../model/webgpu/stepMemory';
import type { RunConfig } from './runConfig';

/** What the training backend lets a run use. */
export interface DeviceLimits {
  /** True where tensors live in a hardware GPU's own memory (WebGPU on a real adapter). */
  gpuMemory: boolean;
  /** WebGPU's largest storage buffer binding, in bytes: no tensor may be larger. */
  maxStorageBufferBindingSize?: number;
  /** WebGPU's largest buffer, in bytes. */
  maxBufferSize?: number;
  /** Bytes a step may take, when given (`?budget=` in MiB); else MEMORY_BUDGET's for the memory it lives in. */
  budget?: number;
}

/**
 * What the compiled WebGPU step of a config holds on the GPU, as the worker counts it before anything is built
 * (model/webgpu/stepMemory.ts): its plan's buffers after sharing, the weights, Adam's moments, its largest buffer.
 */
export type CompiledMemory = Omit<CompiledStepMemory, 'plan'> & {
  /** The plan's own buffers (activations, gradients, scratch) after buffers of disjoint lifetimes share memory. */
  plan: number;
  /** The same buffers each in memory of its own: what the plan would take without sharing. */
  unshared: number;
};

/**
 * Whose memory the size checks weigh: the compiled WebGPU step's as counted, TF.js's step's estimate, or none while
 * the compiled step that will run is being counted (the worker checks it again at Start).
 */
export type MemoryFigure = { step: 'compiled'; memory: CompiledMemory } | { step: 'tfjs' } | { step: 'counting' };

const GiB = 1024 ** 3;

/**
 * The most a step may need. In the machine's memory (CPU backend, a software GPU), or where WebGL hides where it
 * is, a tab shares it with the browser and everything else: 4 GiB. In a real GPU's own memory under WebGPU, whose
 * size pages cannot read, 16 GiB: enough for the reference's 256 px networks, refused only where few GPUs could hold the run.
 */
export const MEMORY_BUDGET = { machine: 4 * GiB, gpu: 16 * GiB } as const;

/** Bytes in words, in powers of 1024: 512 B, 3.2 MiB, 14.6 GiB. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? n : n < 10 ? Number(n.toFixed(1)) : Math.round(n)} ${units[i]}`;
}

/** The side of the images a step trains on: the crop, else the load size (the images' own size under `none`). */
export function trainingSide(c: RunConfig): number {
  return c.data.preprocess.includes('crop') ? c.data.crop_size : c.data.load_size;
}

/** The size of one training step of this config: parameters per network, memory, largest tensor. */
export function stepSize(c: RunConfig): RunSize {
  return runSize(c.train, trainingSide(c), c.batch_size);
}

/** The option most to blame for a size: the network with most weights, or the images when activations dominate. */
function culprit(c: RunConfig, size: RunSize, weightsDominate: boolean): string {
  if (!weightsDominate) return c.batch_size > 1 ? 'batch_size' : 'crop_size';
  const g = size.networks.filter((n) => n.name.startsWith('netG')).reduce((a, n) => a + n.params, 0);
  return g >= size.params - g ? 'ngf' : 'ndf';
}

/** The bytes a step may take on this device, and in words whose memory that is. */
export function memoryBudget(device: DeviceLimits | null): { bytes: number; where: string } {
  if (device?.budget !== undefined) return { bytes: device.budget, where: 'this page was given (?budget=)' };
  return device?.gpuMemory ? { bytes: MEMORY_BUDGET.gpu, where: 'a GPU can be expected to hold' } : { bytes: MEMORY_BUDGET.machine, where: 'a browser tab can count on' };
}

/** The option to lower for the compiled step's memory: ngf or ndf when weights dominate, else batch_size or crop_size. */
export function compiledCulprit(c: Pick<RunConfig, 'batch_size'>, m: CompiledMemory, of: CompiledMemory['largest']['of'] | 'total' = 'total'): string {
  const images = c.batch_size > 1 ? 'batch_size' : 'crop_size';
  if (of === 'images' || (of === 'total' && m.plan > m.weights + m.adam)) return images;
  if (of === 'total') return m.params.G >= m.params.D ? 'ngf' : 'ndf';
  return of === 'netG' ? 'ngf' : 'ndf';
}

/** Why the compiled step of this config cannot train on this device (empty when it can), each tied to the option to lower. */
function compiledRefusals(c: RunConfig, m: CompiledMemory, device: DeviceLimits | null): { option: string; message: string }[] {
  const out: { option: string; message: string }[] = [];
  const budget = memoryBudget(device);
  if (m.total > budget.bytes) {
    const option = compiledCulprit(c, m);
    out.push({
      option,
      message: `the compiled WebGPU step needs ${formatBytes(m.total)} (its buffers ${formatBytes(m.plan)}; weights and Adam ${formatBytes(m.weights + m.adam)}), more than the ${formatBytes(budget.bytes)} ${budget.where}: lower ${option}`,
    });
  }
  const limit = Math.min(device?.maxStorageBufferBindingSize ?? Infinity, device?.maxBufferSize ?? Infinity);
  if (m.largest.bytes > limit) {
    const option = compiledCulprit(c, m, m.largest.of);
    out.push({ option, message: `its largest buffer, ${m.largest.what} (${formatBytes(m.largest.bytes)}), is larger than this GPU's limit for one buffer (${formatBytes(limit)}): lower ${option}` });
  }
  return out;
}

/** Why this config cannot train on this device (empty when it can), each tied to the option to lower, by `figure`'s memory. */
export function sizeRefusals(c: RunConfig, device: DeviceLimits | null = null, figure: MemoryFigure = { step: 'tfjs' }): { option: string; message: string }[] {
  if (figure.step === 'compiled') return compiledRefusals(c, figure.memory, device);
  if (figure.step === 'counting') return [];
  const size = stepSize(c);
  const out: { option: string; message: string }[] = [];
  const { weights, gradients, adam, activations, total } = size.bytes;
  const budget = memoryBudget(device);
  if (total > budget.bytes) {
    const option = culprit(c, size, weights + gradients + adam >= activations);
    out.push({
      option,
      message: `TF.js's training step needs about ${formatBytes(total)} (weights, gradients and Adam ${formatBytes(weights + gradients + adam)}; activations ${formatBytes(activations)}), more than the ${formatBytes(budget.bytes)} ${budget.where}: lower ${option}`,
    });
  }
  const limit = Math.min(device?.maxStorageBufferBindingSize ?? Infinity, device?.maxBufferSize ?? Infinity);
  if (size.largest.bytes > limit) {
    const option = culprit(c, size, size.largest.what.startsWith('the weights'));
    out.push({
      option,
      message: `its largest tensor, ${size.largest.what} (${formatBytes(size.largest.bytes)}), is larger than this GPU's limit for one buffer (${formatBytes(limit)}): lower ${option}`,
    });
  }
  return out;
}

/** The limits of a backend as the worker reports it: WebGPU's buffer limits, whose memory holds the tensors, and a budget when given. */
export function limitsOf(
  report: { backend: string; adapter: { software: boolean; limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number } | null } | null } | null,
  budget: number | null = null,
): DeviceLimits | null {
  if (!report) return budget === null ? null : { gpuMemory: false, budget };
  const given = budget === null ? {} : { budget };
  if (report.backend !== 'webgpu' || !report.adapter) return { gpuMemory: false, ...given };
  return { gpuMemory: !report.adapter.software, ...(report.adapter.limits ?? {}), ...given };
}
