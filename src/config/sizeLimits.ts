/**
 * What a run's networks cost and whether the device can hold them: the page shows it in the options card and
 * refuses Start, the worker refuses the start command, both through `validateRunConfig`.
 */
import { runSize } from '../model/networkSize';
import type { RunSize } from '../model/networkSize';
import type { RunConfig } from './runConfig';

/** What the training backend lets a run use. */
export interface DeviceLimits {
  /** True where tensors live in a hardware GPU's own memory (WebGPU on a real adapter). */
  gpuMemory: boolean;
  /** WebGPU's largest storage buffer binding, in bytes: no tensor may be larger. */
  maxStorageBufferBindingSize?: number;
  /** WebGPU's largest buffer, in bytes. */
  maxBufferSize?: number;
}

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

/** Why this config cannot train on this device (empty when it can), each tied to the option to lower. */
export function sizeRefusals(c: RunConfig, device: DeviceLimits | null = null): { option: string; message: string }[] {
  const size = stepSize(c);
  const out: { option: string; message: string }[] = [];
  const { weights, gradients, adam, activations, total } = size.bytes;
  const budget = device?.gpuMemory ? MEMORY_BUDGET.gpu : MEMORY_BUDGET.machine;
  if (total > budget) {
    const option = culprit(c, size, weights + gradients + adam >= activations);
    const where = device?.gpuMemory ? 'a GPU can be expected to hold' : 'a browser tab can count on';
    out.push({
      option,
      message: `a training step needs about ${formatBytes(total)} (weights, gradients and Adam ${formatBytes(weights + gradients + adam)}; activations ${formatBytes(activations)}), more than the ${formatBytes(budget)} ${where}: lower ${option}`,
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

/** The limits of a backend as the worker reports it: WebGPU's buffer limits, and whose memory holds the tensors. */
export function limitsOf(
  report: { backend: string; adapter: { software: boolean; limits?: { maxStorageBufferBindingSize: number; maxBufferSize: number } | null } | null } | null,
): DeviceLimits | null {
  if (!report) return null;
  if (report.backend !== 'webgpu' || !report.adapter) return { gpuMemory: false };
  return { gpuMemory: !report.adapter.software, ...(report.adapter.limits ?? {}) };
}
