import { describe, expect, it } from 'vitest';
import { packCheckpoint, unpackCheckpoint } from './checkpointFile';
import type { Checkpoint } from './checkpointStore';
import { defaultRunConfig } from '../config/runConfig';

const checkpoint: Checkpoint = {
  runId: 'run-x',
  config: defaultRunConfig('cycle_gan'),
  datasetName: 'horse2zebra',
  step: 12,
  epoch: 2,
  epochStep: 3,
  savedAt: 1700000000000,
  weights: { netG_A: [{ name: 'k', shape: [2], data: new Float32Array([1.5, -2]).buffer }] },
  optimizers: { G: [{ name: 'iter', shape: [], dtype: 'int32', data: new Int32Array([12]).buffer }] },
  pools: { fake_A_pool: [] },
  history: { firstStep: 1, values: { D_A: [0.5, 0.4] } },
};

describe('checkpoint files', () => {
  it('a run and its dataset survive the round trip', async () => {
    const bytes = await packCheckpoint(checkpoint, { kind: 'files', mode: 'cycle_gan', files: [{ path: 'trainA/1.png', role: 'A', blob: new Blob([new Uint8Array([7, 8])]) }] });
    const { checkpoint: c, source } = unpackCheckpoint(bytes);
    expect(c.step).toBe(12);
    expect(c.history).toEqual(checkpoint.history);
    expect(Array.from(new Float32Array(c.weights.netG_A[0].data))).toEqual([1.5, -2]);
    expect(Array.from(new Int32Array(c.optimizers.G[0].data))).toEqual([12]);
    expect(c.optimizers.G[0].dtype).toBe('int32');
    expect(source.kind).toBe('files');
    if (source.kind === 'files') {
      expect(source.files[0].path).toBe('trainA/1.png');
      expect(Array.from(new Uint8Array(await source.files[0].blob.arrayBuffer()))).toEqual([7, 8]);
    }
  });
  it('other files are refused with a clear message', () => {
    expect(() => unpackCheckpoint(new Uint8Array([1, 2, 3]))).toThrow(/not a GAN Studio checkpoint file/);
  });
});
