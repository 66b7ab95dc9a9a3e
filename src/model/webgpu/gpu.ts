/**
 * The TF.js webgpu backend as our kernels see it: its device, a tensor's GPU buffer, and its queue flushed so that
 * what we submit runs after what TF.js has recorded. These are the backend's own (untyped) members, named here once.
 */
import * as tf from '@tensorflow/tfjs';
import { dryRecord } from './memory';

/** The parts of TF.js's WebGPUBackend that plans use. */
interface BackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: GPUBuffer | GPUTexture | null; values: unknown } | undefined };
  uploadToGPU(dataId: object): void;
  ensureCommandEncoderReady(): void;
  endComputePassEncoder(): void;
  submitQueue(): void;
}

/** The current backend's internals; throws unless TF.js runs on webgpu. */
export function webgpuBackend(): BackendInternals {
  if (tf.getBackend() !== 'webgpu') throw new Error(`compiled kernels need the webgpu backend, not ${tf.getBackend()}`);
  return tf.backend() as unknown as BackendInternals;
}

/** What the backend's adapter says it is (vendor, architecture, device, description), for keys and reports. */
export const webgpuAdapterInfo = (): Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> =>
  (tf.backend() as unknown as { adapterInfo?: Partial<Record<'vendor' | 'architecture' | 'device' | 'description', string>> }).adapterInfo ?? {};

/** The limits of TF.js's webgpu device once it has one, whichever backend is current (the engine's registry: no init). */
export const webgpuLimits = (): GPUSupportedLimits | null =>
  (tf.engine() as unknown as { registry: Record<string, { device?: GPUDevice } | undefined> }).registry.webgpu?.device?.limits ?? null;

/** The device TF.js's webgpu backend runs on; in a dry build, its stand-in (memory.ts). */
export const webgpuDevice = (): GPUDevice => dryRecord()?.device ?? webgpuBackend().device;

/** The GPU buffer holding a tensor's values (uploaded first if they still live on the CPU); in a dry build, a token for it. */
export function tensorBuffer(t: tf.Tensor): GPUBuffer {
  const record = dryRecord();
  if (record) return record.tensor(t, t.size * 4);
  const b = webgpuBackend();
  b.uploadToGPU(t.dataId);
  const resource = b.tensorMap.get(t.dataId)?.resource;
  if (!(resource instanceof GPUBuffer)) throw new Error(`tensor ${t.id} (${t.shape}) has no GPU buffer`);
  return resource;
}

/** Submits what TF.js has recorded, so work we submit next sees its results. */
export function flushTfjs(): void {
  const b = webgpuBackend();
  b.ensureCommandEncoderReady();
  b.endComputePassEncoder();
  b.submitQueue();
}

/** Copies `count` float32 values of a buffer back to the CPU (tests and loss reads; never per dispatch). */
export async function readFloats(device: GPUDevice, buffer: GPUBuffer, count: number, offset = 0): Promise<Float32Array> {
  const staging = device.createBuffer({ size: count * 4, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.MAP_READ });
  const encoder = device.createCommandEncoder();
  encoder.copyBufferToBuffer(buffer, offset * 4, staging, 0, count * 4);
  device.queue.submit([encoder.finish()]);
  await staging.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(staging.getMappedRange().slice(0));
  staging.unmap();
  staging.destroy();
  return out;
}

/**
 * Tensors a plan writes in place (weights, Adam moments, running statistics), bound by buffer when it was built.
 * TF.js reallocates a variable on `assign` (its own Adam, a restored checkpoint), which leaves the plan's bind groups on
 * the old buffer: `stale` says so, and the plan is rebuilt. And TF.js keeps a tensor's values on the CPU once read, so
 * after a step writes the buffers `forgetCpuCopies` drops those copies, or the next read (a checkpoint) would be stale.
 */
export class BoundTensors {
  private readonly buffers: GPUBuffer[];

  constructor(readonly tensors: readonly tf.Tensor[]) {
    this.buffers = tensors.map(tensorBuffer);
  }

  /** Whether any tensor now lives in another buffer than the one bound (or was disposed). */
  stale(): boolean {
    const map = webgpuBackend().tensorMap;
    return this.tensors.some((t, i) => t.isDisposed || map.get(t.dataId)?.resource !== this.buffers[i]);
  }

  /** Drops TF.js's CPU copies of the tensors' values, after a step has written their buffers. */
  forgetCpuCopies(): void {
    const map = webgpuBackend().tensorMap;
    for (const t of this.tensors) {
      const d = map.get(t.dataId);
      if (d && d.values != null) d.values = null;
    }
  }
}
