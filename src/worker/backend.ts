/** Backend choice inside the worker: WebGPU, then WebGL, then CPU (never wasm: it cannot train). */
import * as tf from '@tensorflow/tfjs';
import { limitsOf } from '../config/sizeLimits';
import type { DeviceLimits } from '../config/sizeLimits';

/** Backends that can train. */
export const TRAINING_BACKENDS = ['webgpu', 'webgl', 'cpu'] as const;
export type TrainingBackend = (typeof TRAINING_BACKENDS)[number];

/** What we learned about the GPU adapter, in words a user can read. */
export interface AdapterInfo {
  vendor: string;
  architecture: string;
  description: string;
  /** True for software rasterisers (SwiftShader, llvmpipe, WARP...): tens of times slower than a real GPU. */
  software: boolean;
  /** The adapter's buffer limits, which TF.js requests for its device: no tensor may be larger. */
  limits: { maxStorageBufferBindingSize: number; maxBufferSize: number };
}

/** The backend we ended up on. */
export interface BackendReport {
  backend: TrainingBackend;
  /** Backends tried before it that failed, with why. */
  failed: { backend: TrainingBackend; reason: string }[];
  adapter: AdapterInfo | null;
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|software|basic render|warp/i;

/** Describes the WebGPU adapter, or null where WebGPU has none. */
export async function describeAdapter(): Promise<AdapterInfo | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) return null;
  const adapter = await gpu.requestAdapter();
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const text = [info.vendor, info.architecture, info.device, info.description].join(' ');
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    description: info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'unknown adapter',
    software: Boolean(info.isFallbackAdapter) || SOFTWARE.test(text),
    limits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  };
}

/** The adapter of the last backend picked (null until WebGPU is), for the limits of the backend in use. */
let pickedAdapter: AdapterInfo | null = null;

/** What the backend TF.js runs on now lets a run use: the worker checks a run against it before building anything. */
export function currentDeviceLimits(): DeviceLimits {
  return limitsOf({ backend: tf.getBackend(), adapter: pickedAdapter })!;
}

/** Switches TF.js to the first backend of `order` that initialises. */
export async function pickBackend(order: readonly TrainingBackend[] = TRAINING_BACKENDS): Promise<BackendReport> {
  const failed: BackendReport['failed'] = [];
  for (const backend of order) {
    try {
      if (await tf.setBackend(backend)) {
        await tf.ready();
        const adapter = backend === 'webgpu' ? await describeAdapter() : null;
        if (adapter) pickedAdapter = adapter;
        return { backend, failed, adapter };
      }
      failed.push({ backend, reason: 'not available in this browser' });
    } catch (e) {
      failed.push({ backend, reason: e instanceof Error ? e.message : String(e) });
    }
  }
  throw new Error(`no TF.js backend could start: ${failed.map((f) => `${f.backend}: ${f.reason}`).join('; ')}`);
}

/** Puts TF.js on a backend that trains, or says it is not available. */
export async function switchBackend(backend: TrainingBackend): Promise<void> {
  if (!(await tf.setBackend(backend))) throw new Error(`${backend} is not available in this browser`);
  await tf.ready();
}
