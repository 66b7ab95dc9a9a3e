/** Measurements of training steps on the current backend: time per step, kernels, multiply-adds, memory, peak throughput. */
import * as tf from '@tensorflow/tfjs';

/** Memory in use after some steps of a benchmark. */
export interface MemoryPoint {
  steps: number;
  bytes: number;
  tensors: number;
}

/** One benchmark case's numbers. */
export interface BenchResult {
  backend: string;
  /** Milliseconds of each timed step (after one warm-up step), each awaited to completion. */
  msPerStep: number[];
  /** Their median and 10th / 90th percentiles. */
  stepMs: { median: number; p10: number; p90: number };
  /** Kernels one training step dispatches (from tf.profile). */
  kernelsPerStep: number;
  /** The most frequent kernel kinds of one step. */
  kernelKinds: { name: string; count: number }[];
  /** Multiply-adds of one step, summed over its conv and matmul kernels (forward and backward) from their shapes. */
  macsPerStep: number;
  /** GPU dispatches and bytes moved between CPU and GPU in one step. */
  traffic: Traffic;
  /** Device bytes and live tensors after 10 steps and after all steps taken (`steps` says how many). */
  memory: { after10: MemoryPoint | null; afterAll: MemoryPoint };
  peakBytes: number;
  /** Best GFLOP/s of a 1024² matmul and of a 128² × 64 → 64 3x3 conv on this backend, measured in the same run. */
  limits: { matmulGflops: number; conv2dGflops: number };
  /** True when the time budget ended the case before all steps ran. */
  cut: boolean;
}

/** The q-quantile (0 to 1) of some values, by nearest rank; NaN when there are none. */
export function quantile(xs: number[], q: number): number {
  if (!xs.length) return NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.round(q * (sorted.length - 1))))];
}

/** Median, 10th and 90th percentile of per-step times. */
export const stepStats = (ms: number[]) => ({ median: quantile(ms, 0.5), p10: quantile(ms, 0.1), p90: quantile(ms, 0.9) });

type KernelInfo = { name: string; inputShapes: number[][]; outputShapes: number[][] };

/** Multiply-adds of one kernel from its shapes (0 for kernels that are not convs or matmuls). */
export function kernelMacs(k: KernelInfo): number {
  const prod = (s: number[] | undefined) => tf.util.sizeFromShape(s ?? []);
  switch (k.name) {
    case 'Conv2D':
    case 'FusedConv2D': {
      const [kh, kw, ci] = k.inputShapes[1] ?? [];
      return prod(k.outputShapes[0]) * kh * kw * ci;
    }
    case 'Conv2DBackpropInput': {
      // inputs: dy [N, Ho, Wo, Co], filter [kh, kw, Ci, Co]
      const [kh, kw, ci] = k.inputShapes[1] ?? [];
      return prod(k.inputShapes[0]) * kh * kw * ci;
    }
    case 'Conv2DBackpropFilter': {
      // inputs: x, dy [N, Ho, Wo, Co]; output: filter [kh, kw, Ci, Co]
      const [kh, kw, ci] = k.outputShapes[0] ?? [];
      return prod(k.inputShapes[1]) * kh * kw * ci;
    }
    case 'BatchMatMul':
    case '_FusedMatMul': {
      const [a, b] = k.inputShapes;
      if (!a || !b) return 0;
      const m = a.at(-2)!;
      const kk = a.at(-1)!;
      const n = b.at(-1)!;
      return prod(a.slice(0, -2)) * m * kk * n;
    }
    default:
      return 0;
  }
}

/** Kernel count, kinds and multiply-adds of one profiled call. */
export async function profileStep(run: () => Promise<void>): Promise<{ kernels: number; kinds: { name: string; count: number }[]; macs: number; peakBytes: number }> {
  const info = await tf.profile(run);
  const counts = new Map<string, number>();
  let macs = 0;
  for (const k of info.kernels as unknown as KernelInfo[]) {
    counts.set(k.name, (counts.get(k.name) ?? 0) + 1);
    macs += kernelMacs(k);
  }
  const kinds = [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count).slice(0, 12);
  return { kernels: info.kernels.length, kinds, macs, peakBytes: info.peakBytes };
}

/** Best GFLOP/s of a large matmul and a large conv on the current backend. */
export async function peakThroughput(): Promise<{ matmulGflops: number; conv2dGflops: number }> {
  const best = async (f: () => tf.Tensor, flops: number) => {
    let bestMs = Infinity;
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const y = f();
      await y.data();
      y.dispose();
      if (i > 0) bestMs = Math.min(bestMs, performance.now() - t0); // the first run compiles
    }
    return flops / (bestMs / 1000) / 1e9;
  };
  const a = tf.randomNormal([1024, 1024]);
  const x = tf.randomNormal([1, 128, 128, 64]);
  const w = tf.randomNormal([3, 3, 64, 64]);
  try {
    return {
      matmulGflops: await best(() => tf.matMul(a, a), 2 * 1024 ** 3),
      conv2dGflops: await best(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'), 2 * 128 * 128 * 64 * 9 * 64),
    };
  } finally {
    tf.dispose([a, x, w]);
  }
}

/** What the backend really did during a call: GPU programs dispatched and bytes moved between CPU and GPU. */
export interface Traffic {
  /** GPU programs run (webgpu: compute dispatches; webgl: shader runs); null on the CPU backend. */
  dispatches: number | null;
  /** Tensor data uploaded to the GPU (bytes). */
  uploadBytes: number;
  /** Uniform (shader parameter) bytes written to the GPU, webgpu only. */
  uniformBytes: number;
  /** Bytes read back from the GPU. */
  readBytes: number;
}

type Patchable = Record<string, unknown>;

/** Counts dispatches and CPU↔GPU bytes of `run` by wrapping the current backend's own entry points. */
export async function countTraffic(run: () => Promise<void>): Promise<Traffic> {
  const backend = tf.backend() as unknown as Patchable;
  const name = tf.getBackend();
  const traffic: Traffic = { dispatches: name === 'cpu' ? null : 0, uploadBytes: 0, uniformBytes: 0, readBytes: 0 };
  const undo: (() => void)[] = [];
  const wrap = (target: Patchable, key: string, before: (...args: never[]) => void) => {
    const original = target[key] as (...args: unknown[]) => unknown;
    if (typeof original !== 'function') return;
    target[key] = function (this: unknown, ...args: unknown[]) {
      (before as (...a: unknown[]) => void)(...args);
      return original.apply(this, args);
    };
    undo.push(() => (target[key] = original));
  };
  type Data = { shape: number[]; dtype: string; values: unknown; resource?: unknown; texture?: unknown };
  const bytesOf = (d: Data) => (d.dtype === 'complex64' ? 8 : 4) * tf.util.sizeFromShape(d.shape);
  /** Counts an upload: data still on the CPU, not yet on the device (`resource` on webgpu, `texture` on webgl). */
  const countUploads = (map: { get(id: object): Data | undefined }, onDevice: 'resource' | 'texture') =>
    wrap(backend, 'uploadToGPU', (id: object) => {
      const d = map.get(id);
      if (d && d[onDevice] == null && d.values != null) traffic.uploadBytes += bytesOf(d);
    });
  if (name === 'webgpu') {
    const map = backend.tensorMap as { get(id: object): Data | undefined };
    wrap(backend, 'recordAndSubmit', () => traffic.dispatches!++);
    countUploads(map, 'resource');
    wrap(backend, 'getBufferData', (buffer: { size: number }) => (traffic.readBytes += buffer.size));
    const queue = backend.queue as Patchable;
    // size and dataOffset count elements of a typed array (bytes of an ArrayBuffer); size defaults to the rest of data
    wrap(queue, 'writeBuffer', (_b: unknown, _o: number, data: ArrayBufferView | ArrayBuffer, dataOffset?: number, size?: number) => {
      const element = ArrayBuffer.isView(data) ? ((data as { BYTES_PER_ELEMENT?: number }).BYTES_PER_ELEMENT ?? 1) : 1;
      traffic.uniformBytes += (size ?? data.byteLength / element - (dataOffset ?? 0)) * element;
    });
  } else if (name === 'webgl') {
    const map = backend.texData as { get(id: object): Data | undefined };
    wrap(backend, 'runWebGLProgram', () => traffic.dispatches!++);
    countUploads(map, 'texture');
    const read = (id: object) => {
      const d = map.get(id);
      if (d && d.values == null) traffic.readBytes += bytesOf(d);
    };
    wrap(backend, 'read', read);
    wrap(backend, 'readSync', read);
  }
  try {
    await run();
  } finally {
    for (const u of undo.reverse()) u();
  }
  return traffic;
}
