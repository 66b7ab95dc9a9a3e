/**
 * A plan: buffers, pipelines and bind groups built once, then a flat list of dispatches that a step replays in one
 * compute pass and one submit. Pipelines are shared by source across a device's plans; bind groups are made when a
 * dispatch is added.
 */
import type { Kernel } from './kernel';
import { flushTfjs } from './gpu';

interface Dispatch {
  name: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/**
 * Pipelines by WGSL source, per device: a step rebuilt because TF.js moved a variable (a preview's batch norm, a
 * restored checkpoint) compiles no shader again (seconds on a software GPU; milliseconds for buffers and bind groups).
 */
const pipelineCache = new WeakMap<GPUDevice, Map<string, GPUComputePipeline>>();

export class Plan {
  /** Buffers made by plans and not yet destroyed, in this thread: tests check that disposed steps leave none. */
  static liveBuffers = 0;
  private readonly pipelines: Map<string, GPUComputePipeline>;
  private readonly owned: GPUBuffer[] = [];
  private readonly list: Dispatch[] = [];

  constructor(readonly device: GPUDevice) {
    let pipelines = pipelineCache.get(device);
    if (!pipelines) pipelineCache.set(device, (pipelines = new Map()));
    this.pipelines = pipelines;
  }

  /** A zeroed float32 buffer of `count` values that the plan owns (destroyed with it). */
  buffer(count: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({ label, size: Math.max(4, count * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.push(b);
    Plan.liveBuffers++;
    return b;
  }

  /** Appends a dispatch of `kernel` over these buffers, in its bindings' order. */
  add(kernel: Kernel, buffers: GPUBuffer[]): void {
    if (buffers.length !== kernel.bindings.length) throw new Error(`${kernel.name}: ${kernel.bindings.length} bindings, ${buffers.length} buffers given`);
    let pipeline = this.pipelines.get(kernel.source);
    if (!pipeline) {
      const module = this.device.createShaderModule({ label: kernel.name, code: kernel.source });
      pipeline = this.device.createComputePipeline({ label: kernel.name, layout: 'auto', compute: { module, entryPoint: 'main' } });
      this.pipelines.set(kernel.source, pipeline);
    }
    const bindGroup = this.device.createBindGroup({
      label: kernel.name,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    this.list.push({ name: kernel.name, pipeline, bindGroup, workgroups: kernel.workgroups });
  }

  /** Dispatches per replay. */
  get dispatches(): number {
    return this.list.length;
  }

  /** Records every dispatch into one compute pass. */
  encode(encoder: GPUCommandEncoder): void {
    const pass = encoder.beginComputePass();
    for (const d of this.list) {
      pass.setPipeline(d.pipeline);
      pass.setBindGroup(0, d.bindGroup);
      pass.dispatchWorkgroups(...d.workgroups);
    }
    pass.end();
  }

  /** Replays the plan once, after whatever TF.js has recorded: one command buffer, one submit. */
  run(): void {
    flushTfjs();
    const encoder = this.device.createCommandEncoder();
    this.encode(encoder);
    this.device.queue.submit([encoder.finish()]);
  }

  dispose(): void {
    for (const b of this.owned) b.destroy();
    Plan.liveBuffers -= this.owned.length;
    this.owned.length = 0;
    this.list.length = 0;
  }
}
