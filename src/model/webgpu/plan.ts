/**
 * A plan: buffers, pipelines and bind groups built once, then a flat list of dispatches that a step replays in one
 * compute pass and one submit. Pipelines are shared by source across a device's plans; bind groups are made when a
 * dispatch is added.
 */
import type { Kernel, Op } from './kernel';
import { flushTfjs } from './gpu';
import { bufferBytes, dryRecord, laidOut } from './memory';

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

/**
 * Compiles kernels' pipelines ahead, all at once on the driver's threads (createComputePipelineAsync), into the cache
 * plans draw from: the tuner's candidates compile in parallel instead of one by one as they are first added.
 */
export async function precompile(device: GPUDevice, kernels: Kernel[]): Promise<void> {
  let pipelines = pipelineCache.get(device);
  if (!pipelines) pipelineCache.set(device, (pipelines = new Map()));
  const cache = pipelines;
  const todo = [...new Map(kernels.filter((k) => !cache.has(k.source)).map((k) => [k.source, k])).values()];
  await Promise.all(
    todo.map(async (k) => {
      const module = device.createShaderModule({ label: k.name, code: k.source });
      // a kernel the device refuses is left uncompiled here; adding it later reports the error where it is used
      const pipeline = await device.createComputePipelineAsync({ label: k.name, layout: 'auto', compute: { module, entryPoint: 'main' } }).catch(() => null);
      if (pipeline) cache.set(k.source, pipeline);
    }),
  );
}

export class Plan {
  /** Buffers made by plans and not yet destroyed, in this thread: tests check that disposed steps leave none. */
  static liveBuffers = 0;
  /** True during a dry build (the tuner's, a step's memory count): plans make tokens, compile nothing, record bindings. */
  static get dry(): boolean {
    return dryRecord() !== null;
  }
  private readonly pipelines: Map<string, GPUComputePipeline>;
  private readonly owned: GPUBuffer[] = [];
  private readonly list: Dispatch[] = [];
  /** Scratch buffers by size, shared by every op of the plan (dispatches in one pass run in order). */
  private scratchBuffers: { count: number; buffer: GPUBuffer }[] = [];

  constructor(readonly device: GPUDevice) {
    let pipelines = pipelineCache.get(device);
    if (!pipelines) pipelineCache.set(device, (pipelines = new Map()));
    this.pipelines = pipelines;
  }

  /**
   * A float32 buffer of `count` values: zeroed and owned by the plan (destroyed with it), except in a step's builds,
   * where the dry build records a token and the laid-out build takes the memory assigned to it (see memory.ts).
   */
  buffer(count: number, label: string): GPUBuffer {
    const bytes = bufferBytes(count);
    const record = dryRecord();
    if (record) return record.buffer(bytes, label);
    const layout = laidOut();
    if (layout) return layout.take(bytes, label);
    const b = this.device.createBuffer({ label, size: bytes, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.push(b);
    Plan.liveBuffers++;
    return b;
  }

  /** Appends the dispatches of `op` over these buffers, in its bindings' order (a sequence's stages pick theirs). */
  add(op: Op, buffers: GPUBuffer[]): void {
    this.ops++;
    if (!('stages' in op)) return this.addKernel(op, buffers);
    const scratch = op.scratch > 0 ? this.scratch(op.scratch) : null;
    const scratch2 = op.scratch2 ? this.scratch(op.scratch2, scratch) : null;
    for (const { kernel, buffers: picks } of op.stages)
      this.addKernel(
        kernel,
        picks.map((p) => {
          const b = p === 'scratch' ? scratch : p === 'scratch2' ? scratch2 : buffers[p];
          if (!b) throw new Error(`${op.name}: stage ${kernel.name} binds ${p}, which was not given`);
          return b;
        }),
      );
  }

  /**
   * A scratch buffer of at least `count` floats (other than `besides`), shared with the plan's other ops; in a step's
   * builds each op gets its own, which lives only as long as the op, so the step's memory plan shares it more widely.
   */
  private scratch(count: number, besides: GPUBuffer | null = null): GPUBuffer {
    if (dryRecord() || laidOut()) return this.buffer(count, 'scratch');
    const fit = this.scratchBuffers.find((s) => s.count >= count && s.buffer !== besides);
    if (fit) return fit.buffer;
    const buffer = this.buffer(count, 'scratch');
    this.scratchBuffers.push({ count, buffer });
    return buffer;
  }

  private addKernel(kernel: Kernel, buffers: GPUBuffer[]): void {
    if (buffers.length !== kernel.bindings.length) throw new Error(`${kernel.name}: ${kernel.bindings.length} bindings, ${buffers.length} buffers given`);
    const record = dryRecord();
    if (record) return record.bind(kernel.bindings, buffers);
    laidOut()?.bind(kernel.name, buffers);
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

  /** Ops added (a layer pass each, however many dispatches it takes): what the plans' structure tests count. */
  ops = 0;

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

  /** Destroys the buffers the plan owns (a laid-out step's belong to its StepBuffers). */
  dispose(): void {
    for (const b of this.owned) b.destroy();
    Plan.liveBuffers -= this.owned.length;
    this.owned.length = 0;
    this.scratchBuffers = [];
    this.list.length = 0;
  }
}
