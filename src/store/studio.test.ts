import { beforeEach, describe, expect, it } from 'vitest';
import { useStudio } from './studio';
import { validateRunConfig } from '../config/runConfig';
import type { DatasetSummary } from '../data/dataset';

const initial = useStudio.getState();
beforeEach(() => useStudio.setState(initial, true));

const summary = (mode: 'pix2pix' | 'cycle_gan'): DatasetSummary => ({ name: 'd', mode, arrangement: mode === 'pix2pix' ? 'aligned' : 'unaligned', countA: 3, countB: 3, testCount: 0, problems: [], ignored: 0 });
const progress = (firstStep: number, values: Record<string, number[]>) =>
  ({ type: 'progress', step: firstStep + Object.values(values)[0].length - 1, epoch: 1, epochs: 2, totalSteps: 100, lr: 2e-4, stepsPerSecond: 3, losses: { firstStep, values } }) as const;

describe('the studio store', () => {
  it('appends every step of each progress event to the loss history', () => {
    const s = useStudio.getState();
    s.apply({ type: 'state', state: 'running', runId: 'r1' });
    s.apply(progress(1, { G_GAN: [1, 2], G_L1: [10, 9], D_real: [0.5, 0.4], D_fake: [0.6, 0.5] }));
    s.apply(progress(3, { G_GAN: [3], G_L1: [8], D_real: [0.3], D_fake: [0.4] }));
    const h = useStudio.getState().history!;
    expect(h.firstStep).toBe(1);
    expect(h.values.G_L1).toEqual([10, 9, 8]);
    expect(useStudio.getState().runModel).toBe('pix2pix');
    expect(useStudio.getState().progress?.step).toBe(3);
  });
  it('a new run starts a new history; a resumed checkpoint brings its own', () => {
    const s = useStudio.getState();
    s.apply({ type: 'state', state: 'running', runId: 'r1' });
    s.apply(progress(1, { D_A: [1], G_A: [1], cycle_A: [1], idt_A: [1], D_B: [1], G_B: [1], cycle_B: [1], idt_B: [1] }));
    s.apply({ type: 'state', state: 'running', runId: 'r2' });
    expect(useStudio.getState().history).toBeNull();
    s.apply({ type: 'checkpoint', runId: 'r3', step: 2, savedAt: 0, history: { firstStep: 1, values: { D_A: [5, 6] } } });
    expect(useStudio.getState().history!.values.D_A).toEqual([5, 6]);
  });
  it('a loaded dataset switches the options to the mode its layout says, keeping the preset valid', () => {
    const s = useStudio.getState();
    s.setPreset('tiny');
    expect(useStudio.getState().config.train.model).toBe('cycle_gan');
    useStudio.getState().apply({ type: 'dataset', summary: summary('pix2pix') });
    const c = useStudio.getState().config;
    expect(c.train).toMatchObject({ model: 'pix2pix', gan_mode: 'vanilla', norm: 'batch', netG: 'unet_32' });
    expect(validateRunConfig(c)).toEqual([]);
  });
  it('errors are kept until dismissed', () => {
    useStudio.getState().apply({ type: 'error', message: 'boom', recoverable: true });
    expect(useStudio.getState().error).toBe('boom');
    useStudio.getState().clearError();
    expect(useStudio.getState().error).toBeNull();
  });
});
