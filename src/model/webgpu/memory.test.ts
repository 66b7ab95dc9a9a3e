import { describe, expect, it } from 'vitest';
import { assignMemory, BuildRecord, StepBuffers } from './memory';
import type { Access } from './kernel';

/** A record of dispatches over buffers made by name and size, e.g. ['a', 'b'] with accesses ['read', 'write']. */
function record(sizes: Record<string, number>, dispatches: [Access[], string[]][]): { r: BuildRecord; buffers: Record<string, GPUBuffer> } {
  const r = new BuildRecord(null);
  const buffers = Object.fromEntries(Object.entries(sizes).map(([name, bytes]) => [name, r.buffer(bytes, name)]));
  for (const [access, names] of dispatches) r.bind(access, names.map((n) => buffers[n]));
  return { r, buffers };
}

/** The names of the buffers in each shared block, and those with memory of their own. */
function blocks(r: BuildRecord): { shared: string[][]; own: string[] } {
  const l = assignMemory(r);
  const shared = l.blockBytes.map((_, k) => r.buffers.filter((_, i) => l.block[i] === k).map((b) => b.label));
  return { shared, own: r.buffers.filter((_, i) => l.block[i] < 0).map((b) => b.label) };
}

describe("a step's memory plan", () => {
  it('gives buffers whose lifetimes do not overlap one block, and none to two bound in one dispatch', () => {
    // a → b → c → d, each written by one dispatch from the one before: a and c, b and d can share
    const { r } = record({ x: 64, a: 64, b: 64, c: 64, d: 64 }, [
      [['read', 'write'], ['x', 'a']],
      [['read', 'write'], ['a', 'b']],
      [['read', 'write'], ['b', 'c']],
      [['read', 'write'], ['c', 'd']],
    ]);
    const l = assignMemory(r);
    expect(blocks(r)).toEqual({ shared: [['a', 'c'], ['b', 'd']], own: ['x'] });
    expect([l.unshared, l.own, l.shared, l.total, l.gpuBuffers]).toEqual([320, 64, 128, 192, 3]);
  });

  it('gives memory of its own to a buffer read before written (a zero gradient, a sum added to), one kept across steps, one never bound', () => {
    const { r, buffers } = record({ zeros: 64, sum: 64, loss: 64, unused: 64, t: 64 }, [
      [['read', 'write'], ['zeros', 't']],
      [['read', 'read_write'], ['t', 'sum']],
      [['read', 'write'], ['sum', 'loss']],
    ]);
    r.keep([buffers.loss]);
    expect(blocks(r)).toEqual({ shared: [['t']], own: ['zeros', 'sum', 'loss', 'unused'] });
  });

  it('takes the largest first, each into the smallest block free for its whole life', () => {
    // big lives 0–1, small 2–3, mid 2–3: mid takes big's block (the only free one), small a new one of its size
    const { r } = record({ x: 4, big: 1000, mid: 600, small: 100 }, [
      [['read', 'write'], ['x', 'big']],
      [['read', 'read'], ['big', 'x']],
      [['read', 'write', 'write'], ['x', 'mid', 'small']],
      [['read', 'read'], ['mid', 'small']],
    ]);
    const l = assignMemory(r);
    expect(blocks(r).shared).toEqual([['big', 'mid'], ['small']]);
    expect(l.blockBytes).toEqual([1000, 100]);
  });

  it('lays a build out as recorded, and refuses one that binds other buffers (plan code telling buffers apart by identity)', () => {
    const { r } = record({ a: 64, b: 64, c: 64 }, [
      [['write'], ['a']],
      [['read', 'write'], ['a', 'b']],
      [['read', 'write'], ['b', 'c']],
    ]);
    const made: { size: number; destroyed: boolean }[] = [];
    const device = {
      createBuffer: (d: GPUBufferDescriptor) => {
        const b = { size: d.size, destroyed: false, destroy: () => (b.destroyed = true) };
        made.push(b);
        return b;
      },
    } as unknown as GPUDevice;
    let live = 0;
    const buffers = new StepBuffers(device, r, assignMemory(r), (n) => (live += n));
    const [a, b, c] = ['a', 'b', 'c'].map((n) => buffers.take(64, n));
    expect(a).toBe(c); // a and c share their block
    expect(made.length).toBe(2);
    buffers.bind('first', [a]);
    buffers.bind('second', [a, b]);
    // the third dispatch was recorded as (b, c): binding (b, a) is the same GPU buffers, but (a, b) is not
    expect(() => buffers.bind('third', [a, b])).toThrow(/differs from its dry build at dispatch 2 \(third\)/);
    expect(() => buffers.take(64, 'd')).toThrow(/differs from its dry build at buffer 3/);
    expect(() => buffers.finish()).toThrow(/made 4 buffers, its dry build 3/);
    expect(live).toBe(2);
    buffers.dispose();
    expect(live).toBe(0);
    expect(made.every((m) => m.destroyed)).toBe(true);
  });
});
