/**
 * A compiled step's memory, planned (issue 21). A dry build makes every buffer of the step's plans and binds every
 * dispatch against a stand-in device that hands out tokens: no GPU memory, no shader. From that record each buffer's
 * lifetime is the span of dispatches that bind it, and buffers whose lifetimes do not overlap share one GPU buffer
 * (greedy by size, best fit: the object assignment of TFLite's GPU delegate, XLA's and TVM's liveness planners). The
 * real build then takes its buffers from that assignment, one by one in the same order, which it checks.
 * Shared memory holds garbage when a buffer's life begins, so a buffer has memory of its own when its values must
 * outlive a step or come from before it: its first use reads it (a gradient left at its zeros, a sum added to), the
 * step touches it outside its dispatches (`keep`: batches copied in, losses read back, pools), or no dispatch binds it.
 * Whole buffers are shared, never ranges of one: WebGPU refuses a dispatch that binds one buffer as read-only storage
 * and as writable storage, whatever the ranges.
 */
import type { Access } from './kernel';

/** Bytes of the f32 buffers plans make: at least 4 (WebGPU refuses empty bindings). */
export const bufferBytes = (floats: number): number => Math.max(4, floats * 4);

/** A plan buffer in a dry build: its index in the record (the real build takes the buffer of the same index). */
class Token {
  constructor(
    readonly index: number,
    readonly size: number,
    readonly label: string,
  ) {}
}

/** A buffer of something else (a TF.js tensor) in a dry build: bound, never counted. */
class Foreign {
  constructor(readonly size: number) {}
}

/** What the dry build learned of one plan buffer. */
export interface RecordedBuffer {
  bytes: number;
  label: string;
  /** First and last dispatch binding it (−1: none). */
  first: number;
  last: number;
  /** Whether its first dispatch may read what it held before (any binding there other than `write`). */
  readsFirst: boolean;
  /** Touched by the step outside its dispatches. */
  kept: boolean;
}

/** WebGPU's default limits, for a dry build with no device to copy them from (the compiled step needs no more). */
const DEFAULT_LIMITS: Partial<GPUSupportedLimits> = {
  maxStorageBuffersPerShaderStage: 8,
  maxStorageBufferBindingSize: 128 * 1024 ** 2,
  maxBufferSize: 256 * 1024 ** 2,
  maxComputeWorkgroupStorageSize: 16384,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupsPerDimension: 65535,
};

/** The record of one dry build: its buffers in the order they were made, and how many dispatches it added. */
export class BuildRecord {
  readonly buffers: RecordedBuffer[] = [];
  /** What each dispatch binds, binding by binding: a plan buffer's index, or −1 for another buffer (a tensor's). */
  readonly bound: number[][] = [];
  dispatches = 0;
  /** The stand-in device plans see during the build: it makes tokens, with the limits of a real device (or WebGPU's defaults). */
  readonly device: GPUDevice;
  private readonly foreign = new WeakMap<object, Foreign>();

  constructor(limits: Partial<GPUSupportedLimits> | null) {
    const record = this;
    this.device = {
      label: 'dry build',
      limits: { ...DEFAULT_LIMITS, ...copyLimits(limits) },
      createBuffer(d: GPUBufferDescriptor) {
        return record.buffer(d.size, d.label ?? '');
      },
    } as unknown as GPUDevice;
  }

  /** A token for a new plan buffer of `bytes`. */
  buffer(bytes: number, label: string): GPUBuffer {
    this.buffers.push({ bytes, label, first: -1, last: -1, readsFirst: false, kept: false });
    return new Token(this.buffers.length - 1, bytes, label) as unknown as GPUBuffer;
  }

  /** The token standing for a tensor's buffer (one per tensor, so a dispatch binds the same one twice where the real build would). */
  tensor(t: object, size: number): GPUBuffer {
    let f = this.foreign.get(t);
    if (!f) this.foreign.set(t, (f = new Foreign(size)));
    return f as unknown as GPUBuffer;
  }

  /** One dispatch binding `buffers` with these accesses. */
  bind(bindings: readonly Access[], buffers: readonly GPUBuffer[]): void {
    const t = this.dispatches++;
    const reads = new Set<number>();
    buffers.forEach((b, i) => {
      if (b instanceof Token && bindings[i] !== 'write') reads.add(b.index);
    });
    this.bound.push(buffers.map((b) => (b instanceof Token ? b.index : -1)));
    for (const b of buffers) {
      if (!(b instanceof Token)) continue;
      const r = this.buffers[b.index];
      if (r.first < 0) [r.first, r.readsFirst] = [t, reads.has(b.index)];
      r.last = t;
    }
  }

  /** Marks buffers the step reads or writes outside its dispatches: their values live across steps. */
  keep(buffers: readonly GPUBuffer[]): void {
    for (const b of buffers) if (b instanceof Token) this.buffers[b.index].kept = true;
  }
}

/** The limits a dry build copies (GPUSupportedLimits' members are getters, which a spread does not see). */
function copyLimits(limits: Partial<GPUSupportedLimits> | null): Partial<GPUSupportedLimits> {
  if (!limits) return {};
  const out: Record<string, number> = {};
  for (const k of Object.keys(DEFAULT_LIMITS)) {
    const v = (limits as Record<string, unknown>)[k];
    if (typeof v === 'number') out[k] = v;
  }
  return out as Partial<GPUSupportedLimits>;
}

/** Whether a recorded buffer needs memory of its own (see the file's doc). */
const ownsMemory = (r: RecordedBuffer): boolean => r.kept || r.first < 0 || r.readsFirst;

/** Where each buffer of a build goes, and what that costs. */
export interface MemoryLayout {
  /** Per recorded buffer: the shared block it lives in, or −1 for memory of its own. */
  block: number[];
  /** Bytes of each shared block (the largest buffer it holds). */
  blockBytes: number[];
  /** Bytes the recorded buffers would take each with memory of its own (the plan before sharing). */
  unshared: number;
  /** Bytes of the buffers with memory of their own. */
  own: number;
  /** Bytes of the shared blocks. */
  shared: number;
  /** own + shared: what the step's plans allocate. */
  total: number;
  /** Buffers recorded, and GPU buffers made for them. */
  buffers: number;
  gpuBuffers: number;
}

/**
 * Assigns a build's buffers to memory: the largest first, each into the smallest shared block none of whose buffers'
 * lifetimes overlap its own (a block whose buffer is bound in the dispatch where this one's life begins or ends is
 * busy), else into a new block of its size. Ties go by first use, so the result does not depend on the build's order.
 */
export function assignMemory(record: BuildRecord): MemoryLayout {
  const rs = record.buffers;
  const block = rs.map(() => -1);
  const blocks: { bytes: number; spans: [number, number][] }[] = [];
  const order = rs
    .map((_, i) => i)
    .filter((i) => !ownsMemory(rs[i]))
    .sort((a, b) => rs[b].bytes - rs[a].bytes || rs[a].first - rs[b].first || rs[a].last - rs[b].last || a - b);
  for (const i of order) {
    const { first, last, bytes } = rs[i];
    let best = -1;
    blocks.forEach((k, j) => {
      if (k.spans.some(([f, l]) => f <= last && first <= l)) return;
      if (best < 0 || k.bytes < blocks[best].bytes) best = j;
    });
    if (best < 0) blocks.push({ bytes, spans: [] }), (best = blocks.length - 1);
    blocks[best].spans.push([first, last]);
    block[i] = best;
  }
  // by construction no dispatch binds two buffers of one block (WebGPU would refuse it, or the values would clash)
  record.bound.forEach((d, t) => {
    const blocksHere = d.filter((i) => i >= 0 && block[i] >= 0);
    if (new Set(blocksHere.map((i) => block[i])).size !== new Set(blocksHere).size) throw new Error(`memory plan: dispatch ${t} binds two buffers of one block`);
  });
  const own = rs.reduce((n, r, i) => n + (block[i] < 0 ? r.bytes : 0), 0);
  const shared = blocks.reduce((n, k) => n + k.bytes, 0);
  return {
    block,
    blockBytes: blocks.map((k) => k.bytes),
    unshared: rs.reduce((n, r) => n + r.bytes, 0),
    own,
    shared,
    total: own + shared,
    buffers: rs.length,
    gpuBuffers: blocks.length + block.filter((b) => b < 0).length,
  };
}

/** Usage of every plan buffer: bound as storage, copied in and out. */
const USAGE = 0x80 | 0x04 | 0x08; // GPUBufferUsage.STORAGE | COPY_SRC | COPY_DST (numbers: a dry build may run where WebGPU is absent)

/**
 * The GPU buffers of a laid-out step: the real build takes its buffers here, in the order the dry build made them
 * (each shared block made when first taken, with the size of its largest buffer); destroyed with the step.
 */
export class StepBuffers {
  private next = 0;
  private dispatch = 0;
  private readonly blocks: (GPUBuffer | null)[];
  private readonly made: GPUBuffer[] = [];
  /** The GPU buffer each recorded buffer was given, by index. */
  private readonly given: GPUBuffer[] = [];
  private readonly mine = new Set<GPUBuffer>();

  constructor(
    private readonly device: GPUDevice,
    readonly record: BuildRecord,
    readonly layout: MemoryLayout,
    /** Called for each GPU buffer made (the plans' count of live buffers). */
    private readonly onMake: (n: number) => void = () => undefined,
  ) {
    this.blocks = layout.blockBytes.map(() => null);
  }

  /** The buffer for the next one the build makes, which must be the one the dry build made in its place. */
  take(bytes: number, label: string): GPUBuffer {
    const i = this.next++;
    const r = this.record.buffers[i];
    if (!r || r.bytes !== bytes || r.label !== label)
      throw new Error(`the step's build differs from its dry build at buffer ${i}: ${label} of ${bytes} bytes, recorded ${r ? `${r.label} of ${r.bytes}` : 'nothing'}`);
    const k = this.layout.block[i];
    const b = k < 0 ? this.make(bytes, label) : (this.blocks[k] ??= this.make(this.layout.blockBytes[k], `shared block ${k} (first: ${label})`));
    this.given.push(b);
    return b;
  }

  /**
   * Checks a dispatch of the build against the dry build's: the same buffers in every binding. Code that tells plan
   * buffers apart by identity would bind otherwise here, where buffers share GPU buffers, and compute something else.
   */
  bind(name: string, buffers: readonly GPUBuffer[]): void {
    const t = this.dispatch++;
    const want = this.record.bound[t];
    const same = want?.length === buffers.length && buffers.every((b, p) => (want[p] >= 0 ? b === this.given[want[p]] : !this.mine.has(b)));
    if (!same) throw new Error(`the step's build differs from its dry build at dispatch ${t} (${name}): it binds other buffers`);
  }

  /** Throws unless the build took every buffer and made every dispatch the dry build did. */
  finish(): void {
    if (this.next !== this.record.buffers.length) throw new Error(`the step's build made ${this.next} buffers, its dry build ${this.record.buffers.length}`);
    if (this.dispatch !== this.record.dispatches) throw new Error(`the step's build made ${this.dispatch} dispatches, its dry build ${this.record.dispatches}`);
  }

  /** Fills every shared block with NaN (tests: a value read before this step wrote it then shows, instead of a zero). */
  poison(): void {
    const chunk = new Float32Array(1 << 20).fill(NaN);
    for (const b of this.blocks) {
      if (!b) continue;
      for (let at = 0; at < b.size; at += chunk.byteLength) this.device.queue.writeBuffer(b, at, chunk, 0, Math.min(chunk.length, (b.size - at) / 4));
    }
  }

  private make(bytes: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({ label, size: bytes, usage: USAGE });
    this.made.push(b);
    this.mine.add(b);
    this.onMake(1);
    return b;
  }

  dispose(): void {
    for (const b of this.made) b.destroy();
    this.onMake(-this.made.length);
    this.made.length = 0;
    this.mine.clear();
    this.blocks.fill(null);
  }
}

/** The dry build in progress in this thread, if any. */
let recording: BuildRecord | null = null;
/** The laid-out build in progress, if any. */
let laying: StepBuffers | null = null;

/** The dry build in progress (plans record into it, gpu.ts hands out its device and tokens), or null. */
export const dryRecord = (): BuildRecord | null => recording;

/** The laid-out build in progress (plans take its buffers), or null. */
export const laidOut = (): StepBuffers | null => laying;

/** Runs `build` as a dry build on a stand-in device with `limits`; returns what it recorded (a build that throws throws). */
export function recordBuild(limits: Partial<GPUSupportedLimits> | null, build: () => void): BuildRecord {
  if (recording || laying) throw new Error('a step build is already in progress');
  const record = new BuildRecord(limits);
  recording = record;
  try {
    build();
  } finally {
    recording = null;
  }
  return record;
}

/** Runs `build` with its plan buffers taken from `buffers` (check `buffers.finish()` after). */
export function buildWith<T>(buffers: StepBuffers, build: () => T): T {
  if (recording || laying) throw new Error('a step build is already in progress');
  laying = buffers;
  try {
    return build();
  } finally {
    laying = null;
  }
}

/** Marks buffers the step touches outside its dispatches (see the file's doc); outside a dry build it does nothing. */
export function keepAcrossSteps(...buffers: (GPUBuffer | null | undefined)[]): void {
  recording?.keep(buffers.filter((b): b is GPUBuffer => !!b));
}

/** Tests: every laid-out step fills its shared blocks with NaN when made (see StepBuffers.poison). */
export const memoryTesting = { poison: false };
