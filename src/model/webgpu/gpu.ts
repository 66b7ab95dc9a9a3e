/**
 * The TF.js webgpu backend as our kernels see it: its device, a tensor's GPU buffer, and its queue flushed so that
 * what we submit runs after what TF.js has recorded. These are the backend's own (untyped) members, named here once.
 */
import * as tf from '@tensorflow/tfjs';

/** The parts of TF.js's WebGPUBackend that plans use. */
interface BackendInternals {
  device: GPUDevice;
  tensorMap: { get(dataId: object): { resource: GPUBuffer | GPUTexture | null } | undefined };
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

/** The device TF.js's webgpu backend runs on. */
export const webgpuDevice = (): GPUDevice => webgpuBackend().device;

/** The GPU buffer holding a tensor's values (uploaded first if they still live on the CPU). */
export function tensorBuffer(t: tf.Tensor): GPUBuffer {
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
