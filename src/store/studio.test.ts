import { beforeEach, describe, expect, it } from 'vitest';
import { backendMenuEntry, initialOptions, startBlockers, trainingTarget, useStudio } from './studio';
import { defaultRunConfig, setOption, toQuery, validateRunConfig } from '../config/runConfig';
import { matchingPreset, presetConfig } from '../config/presets';
import type { DatasetSummary } from '../data/dataset';
import type { BackendReport } from '../worker/backend';
import { countCompiledMemory } from '../worker/compiledMemory';

const initial = useStudio.getState();
beforeEach(() => useStudio.setState(initial, true));

const summary = (mode: 'pix2pix' | 'cycle_gan'): DatasetSummary => ({ name: 'd', mode, arrangement: mode === 'pix2pix' ? 'aligned' : 'unaligned', countA: 3, countB: 3, testCount: 0, problems: [], ignored: 0, unchecked: 0 });
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
  it("the Backend menu's WebGPU entries set the step a WebGPU run takes; the other entries keep it", () => {
    const s = useStudio.getState();
    expect(trainingTarget(useStudio.getState())).toEqual({ backend: 'auto', engine: 'compiled' });
    s.setBackendChoice('webgpu', 'tfjs');
    expect(backendMenuEntry(useStudio.getState())).toBe('webgpu-tfjs');
    s.setBackendChoice('cpu');
    expect(trainingTarget(useStudio.getState())).toEqual({ backend: 'cpu', engine: 'tfjs' });
    s.setBackendChoice('webgpu', 'compiled');
    expect(backendMenuEntry(useStudio.getState())).toBe('webgpu');
  });
  it('the step a run takes comes with its first step and is forgotten when a new backend is chosen', () => {
    const s = useStudio.getState();
    s.apply({ type: 'engine', report: { engine: 'tfjs', reason: 'the compiled CycleGAN step is not built yet' } });
    expect(useStudio.getState().engine).toEqual({ engine: 'tfjs', reason: 'the compiled CycleGAN step is not built yet' });
    const report: BackendReport = { backend: 'webgpu', failed: [], adapter: null };
    s.apply({ type: 'backendChosen', report, measurement: { chosen: 'webgpu', msPerStep: {}, reason: 'chosen in the Backend menu' } });
    expect(useStudio.getState().engine).toBeNull();
  });
  it('errors are kept until dismissed', () => {
    useStudio.getState().apply({ type: 'error', message: 'boom', recoverable: true });
    expect(useStudio.getState().error).toBe('boom');
    useStudio.getState().clearError();
    expect(useStudio.getState().error).toBeNull();
  });
});

const limits = { maxStorageBufferBindingSize: 128 * 1024 ** 2, maxBufferSize: 256 * 1024 ** 2 };
const webgpu = (software: boolean): BackendReport => ({
  backend: 'webgpu',
  failed: [],
  adapter: { vendor: 'google', architecture: software ? 'swiftshader' : 'ampere', description: software ? 'google swiftshader' : 'nvidia ampere', software, limits },
});
const cpu: BackendReport = { backend: 'cpu', failed: [], adapter: null };
const state = () => useStudio.getState();
/** Asks for the current options' count and answers it as the worker would (the count itself runs here). */
const answerCount = () => {
  const { requestId, config } = state().countMemoryCommand();
  state().apply({ type: 'stepMemory', requestId, ...countCompiledMemory(config) });
};

describe('Start waits for valid options', () => {
  for (const bad of ['abc', '0', '-4', '3.5']) {
    it(`"${bad}" in ngf blocks Start with a message naming ngf, and keeps the last valid value out of the run`, () => {
      state().setOptionText('ngf', bad);
      expect(startBlockers(state())).toEqual([`--ngf needs a whole number ≥ 1, got "${bad}"`]);
      expect(state().fieldErrors.ngf.draft).toBe(bad);
      expect(state().config.train.ngf).toBe(presetConfig('quick', 'cycle_gan').train.ngf);
    });
  }
  it('a valid value clears the block and applies', () => {
    state().setOptionText('ngf', 'abc');
    state().setOptionText('ngf', '32');
    expect(startBlockers(state())).toEqual([]);
    expect(state().config.train.ngf).toBe(32);
    expect(state().userSet).toEqual(['ngf']);
  });
  it('picking a preset drops the invalid text', () => {
    state().setOptionText('ndf', 'x');
    state().setPreset('tiny');
    expect(state().fieldErrors).toEqual({});
    expect(startBlockers(state())).toEqual([]);
  });
  it('ngf 100000 is refused with the size it would need', () => {
    state().setOptionText('ngf', '100000');
    const [blocker] = startBlockers(state());
    expect(blocker).toMatch(/^ngf: TF.js's training step needs about [\d.]+ [TP]iB .* more than the 4 GiB a browser tab can count on: lower ngf$/);
  });
  it("on WebGPU, the compiled step's memory as the worker counts it: its largest buffer against the GPU's limit, nothing while counting", () => {
    state().apply({ type: 'ready', report: webgpu(false) });
    state().setPreset('quick');
    state().setOptionText('model', 'pix2pix');
    state().setOptionText('ngf', '256');
    // until the worker has answered for these options, only the worker's own check at Start weighs the memory
    expect(startBlockers(state())).toEqual([]);
    answerCount();
    expect(startBlockers(state())).toEqual([
      "ngf: its largest buffer, the gradients of every netG weight, in one buffer for Adam (1.7 GiB), is larger than this GPU's limit for one buffer (128 MiB): lower ngf",
    ]);
    // an answer for options since changed is not these options'
    state().setOptionText('ngf', '255');
    expect(startBlockers(state())).toEqual([]);
  });
  it("a backend chosen other than WebGPU weighs TF.js's step, even on a page whose worker runs WebGPU", () => {
    state().apply({ type: 'ready', report: webgpu(true) });
    state().setPreset('paper');
    state().setOptionText('model', 'cycle_gan');
    answerCount();
    expect(startBlockers(state())).toEqual([]);
    state().setBackendChoice('cpu');
    expect(startBlockers(state())).toEqual([expect.stringMatching(/^crop_size: TF.js's training step needs about 11 GiB .* more than the 4 GiB a browser tab can count on: lower crop_size$/)]);
  });
  it("?budget= lowers what a step may take: paper CycleGAN's compiled step (1.9 GiB) refused under 1 GiB, blaming crop_size", () => {
    useStudio.setState({ memoryBudget: 1024 ** 3 });
    state().apply({ type: 'ready', report: webgpu(true) });
    state().setPreset('paper');
    state().setOptionText('model', 'cycle_gan');
    answerCount();
    expect(startBlockers(state())).toEqual([
      'crop_size: the compiled WebGPU step needs 1.9 GiB (its buffers 1.6 GiB; weights and Adam 324 MiB), more than the 1 GiB this page was given (?budget=): lower crop_size',
    ]);
    expect(trainingTarget(state())).toEqual({ backend: 'auto', engine: 'compiled', budget: 1024 ** 3 });
  });
});

describe('the preset a page opens with', () => {
  it('a link of options that match no preset opens them exactly, with no preset pressed', () => {
    const c = setOption(presetConfig('tiny', 'cycle_gan'), 'ngf', 8);
    const o = initialOptions(`?${toQuery(c)}&test`);
    expect(o.config).toEqual(c);
    expect(matchingPreset(o.config)).toBeNull();
    expect(o.presetSource).toBe('link');
  });
  it("a link of the reference's defaults opens Paper, not the Quick default", () => {
    const o = initialOptions(`?${toQuery(defaultRunConfig('pix2pix'))}`);
    expect(o.config).toEqual(defaultRunConfig('pix2pix'));
    expect(o.preset).toBe('paper');
  });
  it('a hand-written link: a preset and options on top, which count as set by the user', () => {
    const o = initialOptions('?preset=tiny&ngf=8');
    expect(o.config).toEqual(setOption(presetConfig('tiny', 'cycle_gan'), 'ngf', 8));
    expect(o.userSet).toEqual(['ngf']);
  });
  it('no link: Quick, from no one', () => {
    expect(initialOptions('?test&backend=webgpu')).toMatchObject({ preset: 'quick', presetSource: 'default', userSet: [] });
  });
});

describe('on a software GPU the first run is Tiny', () => {
  it('a software adapter switches a fresh page to Tiny and says why', () => {
    state().apply({ type: 'ready', report: webgpu(true) });
    expect(matchingPreset(state().config)).toBe('tiny');
    expect(state().presetReason).toBe('Tiny, because the GPU is a software one (google swiftshader)');
  });
  it('so does the CPU backend', () => {
    state().apply({ type: 'ready', report: cpu });
    expect(state().preset).toBe('tiny');
    expect(state().presetReason).toMatch(/^Tiny, because there is no GPU/);
  });
  it('a real GPU keeps Quick', () => {
    state().apply({ type: 'ready', report: webgpu(false) });
    expect(matchingPreset(state().config)).toBe('quick');
    expect(state().presetReason).toBeNull();
  });
  it('options the user already changed, or a link, stay', () => {
    state().setOptionText('ngf', '8');
    state().apply({ type: 'ready', report: webgpu(true) });
    expect(state().config.train.ngf).toBe(8);
    expect(state().config.train.netG).toBe('resnet_6blocks');
    useStudio.setState({ ...initial, ...initialOptions('?preset=paper') }, true);
    state().apply({ type: 'ready', report: webgpu(true) });
    expect(matchingPreset(state().config)).toBe('paper');
  });
  it('a later ready (a forced backend at Start) changes nothing', () => {
    state().apply({ type: 'ready', report: webgpu(false) });
    state().apply({ type: 'ready', report: cpu });
    expect(state().preset).toBe('quick');
  });
});

describe('pasted lines and mode switches', () => {
  it('pasting applies the line on the reference defaults and returns what changed', () => {
    state().setPreset('tiny');
    const note = state().pasteCommandLine('python train.py --dataroot ./d --ngf 8 --lambda_identity 0');
    expect(note).toMatch(/^Applied: ngf 4 → 8, lambda_identity 0.5 → 0; the reference's defaults for what the line leaves out: netG unet_32 → resnet_9blocks/);
    expect(state().config).toEqual(setOption(setOption(defaultRunConfig('cycle_gan'), 'ngf', 8), 'lambda_identity', 0));
    expect(matchingPreset(state().config)).toBeNull();
  });
  it('data of the other mode keeps the pasted values, takes the rest from that mode, and says what changed', () => {
    state().setPreset('quick');
    state().apply({ type: 'dataset', summary: summary('pix2pix') });
    state().pasteCommandLine('--ngf 32 --netG unet_64 --load_size 72 --crop_size 64');
    state().apply({ type: 'dataset', summary: summary('cycle_gan') });
    const c = state().config;
    expect(c.train).toMatchObject({ model: 'cycle_gan', ngf: 32, netG: 'unet_64', gan_mode: 'lsgan', norm: 'instance', lambda_identity: 0.5 });
    expect(c.data.crop_size).toBe(64);
    expect(state().modeNote).toBe(
      'Switched to CycleGAN for this data: norm batch → instance, no_dropout false → true, gan_mode vanilla → lsgan, pool_size 0 → 50; kept what you set: ngf 32, netG unet_64, load_size 72, crop_size 64.',
    );
  });
  it("a mode switch from a preset says which of the preset's values changed", () => {
    state().setPreset('quick');
    state().apply({ type: 'dataset', summary: summary('pix2pix') });
    expect(state().modeNote).toBe('Switched to pix2pix for this data: netG resnet_6blocks → unet_64, norm instance → batch, no_dropout true → false, gan_mode lsgan → vanilla, pool_size 50 → 0.');
    expect(matchingPreset(state().config)).toBe('quick');
  });
  it('a typed value survives the switch too', () => {
    state().setPreset('tiny');
    state().setOptionText('ndf', '8');
    state().apply({ type: 'dataset', summary: summary('pix2pix') });
    expect(state().config.train).toMatchObject({ model: 'pix2pix', netG: 'unet_32', ndf: 8, ngf: 4 });
  });
});
