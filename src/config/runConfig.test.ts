import { describe, expect, it } from 'vitest';
import { applyCommandLine, commandLineNote, defaultRunConfig, fromQuery, setOption, toCommandLine, toQuery, validateRunConfig } from './runConfig';
import { presetConfig } from './presets';
import { countCompiledMemory } from '../worker/compiledMemory';

describe('the config in the URL', () => {
  it('round-trips every changed option, and only those', () => {
    let c = defaultRunConfig('cycle_gan');
    c = setOption(c, 'netG', 'resnet_6blocks');
    c = setOption(c, 'ngf', 32);
    c = setOption(c, 'lambda_identity', 0);
    c = setOption(c, 'no_flip', true);
    c = setOption(c, 'crop_size', 128);
    const q = toQuery(c);
    expect(q).toBe('model=cycle_gan&netG=resnet_6blocks&ngf=32&lambda_identity=0&crop_size=128&no_flip=true');
    expect(fromQuery(q)).toEqual({ config: c, errors: [] });
  });
  it('the defaults of a model make a short link', () => {
    expect(toQuery(defaultRunConfig('pix2pix'))).toBe('model=pix2pix');
  });
  it('bad values in a link are reported by name and the rest still applies', () => {
    const { config, errors } = fromQuery('?model=pix2pix&ngf=abc&netD=pixel&test=1');
    expect(errors).toEqual(['--ngf needs a whole number ≥ 1, got "abc"']);
    expect(config.train.netD).toBe('pixel');
    expect(config.train.netG).toBe('unet_256');
  });
});

describe('the reference command line', () => {
  it('a pasted train.py line sets the options, ignoring flags we do not use', () => {
    const r = applyCommandLine(defaultRunConfig('cycle_gan'), 'python train.py --dataroot ./datasets/maps --name maps_cyclegan --model cycle_gan --netG resnet_6blocks --ngf 32 --lambda_identity 0 --no_flip --gpu_ids 0');
    expect(r.errors).toEqual([]);
    expect(r.ignored).toEqual(['--dataroot', '--name', '--gpu_ids']);
    expect(r.config.train).toMatchObject({ netG: 'resnet_6blocks', ngf: 32, lambda_identity: 0 });
    expect(r.config.data.no_flip).toBe(true);
  });
  it('--model pix2pix brings pix2pix defaults before the other flags apply', () => {
    const r = applyCommandLine(defaultRunConfig('cycle_gan'), '--ngf 16 --model pix2pix --direction BtoA');
    expect(r.config.train).toMatchObject({ model: 'pix2pix', netG: 'unet_256', norm: 'batch', gan_mode: 'vanilla', ngf: 16 });
    expect(r.config.data.direction).toBe('BtoA');
  });
  it('copying gives a line that pasting reads back to the same options', () => {
    let c = defaultRunConfig('pix2pix');
    c = setOption(c, 'netG', 'unet_128');
    c = setOption(c, 'lambda_L1', 50);
    c = setOption(c, 'no_flip', true);
    const line = toCommandLine(c, './datasets/facades');
    expect(line).toBe('python train.py --dataroot ./datasets/facades --model pix2pix --netG unet_128 --lambda_L1 50 --no_flip');
    expect(applyCommandLine(defaultRunConfig('cycle_gan'), line).config).toEqual(c);
  });
  it("a pasted line means the reference's defaults for every option it leaves out, not the current preset's", () => {
    const r = applyCommandLine(presetConfig('tiny', 'cycle_gan'), '--ngf 32');
    expect(r.config).toEqual(setOption(defaultRunConfig('cycle_gan'), 'ngf', 32));
    expect(r.set).toEqual(['ngf']);
  });
  it('without --model the current model stays, and the note says so', () => {
    const before = presetConfig('tiny', 'pix2pix');
    const r = applyCommandLine(before, 'python train.py --dataroot ./x --netG unet_128 --ngf 32');
    expect(r.config.train).toMatchObject({ model: 'pix2pix', netG: 'unet_128', ngf: 32, ndf: 64, norm: 'batch' });
    expect(r.modelKept).toBe(true);
    expect(commandLineNote(before, r)).toBe(
      "Applied: netG unet_32 → unet_128, ngf 4 → 32; the reference's defaults for what the line leaves out: ndf 4 → 64, n_epochs 5 → 100, n_epochs_decay 5 → 100, load_size 36 → 286, crop_size 32 → 256, preview_every 5 → 100; kept the model pix2pix (the line names no --model; the loaded data decides it); ignored (not used here): --dataroot.",
    );
  });
  it('the note lists a bad value first and what still applied', () => {
    const before = defaultRunConfig('cycle_gan');
    const r = applyCommandLine(before, '--model cycle_gan --norm group --ngf 8');
    expect(commandLineNote(before, r)).toBe('--norm group is not one of instance, batch, none; Applied: ngf 64 → 8.');
  });
  it('a bad value is reported with its flag', () => {
    expect(applyCommandLine(defaultRunConfig('cycle_gan'), '--norm group').errors).toEqual(['--norm group is not one of instance, batch, none']);
  });
});

describe('invalid combinations are explained at the option to fix', () => {
  it('unet_256 needs crop_size 256 or more', () => {
    const c = setOption(setOption(defaultRunConfig('pix2pix'), 'crop_size', 128), 'load_size', 143);
    const p = validateRunConfig(c);
    expect(p.map((x) => x.option)).toContain('netG');
    expect(p.find((x) => x.option === 'netG')!.message).toMatch(/needs crop_size 256 or more/);
  });
  it('crop sizes that the generator cannot map size to size', () => {
    const c = setOption(defaultRunConfig('cycle_gan'), 'crop_size', 250);
    expect(validateRunConfig(c)).toContainEqual({ option: 'crop_size', message: 'resnet_9blocks needs image sides that are multiples of 4: use crop_size 252' });
  });
  it('identity loss needs equal channel counts', () => {
    const c = setOption(defaultRunConfig('cycle_gan'), 'input_nc', 1);
    expect(validateRunConfig(c, { gpuMemory: true }).map((x) => x.option)).toEqual(['lambda_identity']);
  });
  it('the defaults are valid (on a GPU with its own memory)', () => {
    expect(validateRunConfig(defaultRunConfig('cycle_gan'), { gpuMemory: true })).toEqual([]);
    expect(validateRunConfig(defaultRunConfig('pix2pix'))).toEqual([]);
  });
});

describe('what cannot fit is refused, with the option to lower', () => {
  const at = (model: 'pix2pix' | 'cycle_gan', preset: 'tiny' | 'quick' | 'paper', name?: string, value?: unknown) => {
    const c = presetConfig(preset, model);
    return name ? setOption(c, name, value) : c;
  };
  it('ngf 100000: a readable refusal at ngf, not an allocation error', () => {
    const problems = validateRunConfig(at('cycle_gan', 'tiny', 'ngf', 100_000));
    expect(problems.map((p) => p.option)).toEqual(['ngf']);
    expect(problems[0].message).toMatch(/^TF.js's training step needs about [\d.]+ PiB \(weights, gradients and Adam [\d.]+ PiB; activations [\d.]+ GiB\), more than the 4 GiB a browser tab can count on: lower ngf$/);
  });
  it('ngf 256 on Tiny, which took Chromium to 9 GB, is refused in a tab', () => {
    expect(validateRunConfig(at('cycle_gan', 'tiny', 'ngf', 256)).map((p) => p.option)).toEqual(['ngf']);
  });
  it('large images are blamed on crop_size (or batch_size)', () => {
    const large = setOption(at('cycle_gan', 'quick', 'load_size', 512), 'crop_size', 512);
    expect(validateRunConfig(large).map((p) => p.option)).toEqual(['crop_size']);
    const batch = setOption(at('cycle_gan', 'quick', 'batch_size', 64), 'preprocess', 'resize_and_crop');
    expect(validateRunConfig(batch).map((p) => p.option)).toEqual(['batch_size']);
  });
  it("a tensor larger than the GPU's buffer limit is refused on that GPU only", () => {
    const c = at('pix2pix', 'quick', 'ngf', 256);
    const gpu = { gpuMemory: true, maxStorageBufferBindingSize: 128 * 1024 ** 2, maxBufferSize: 256 * 1024 ** 2 };
    expect(validateRunConfig(c, gpu)).toEqual([
      { option: 'ngf', message: "its largest tensor, the weights of netG level 4 up conv, 4×4 4096→2048 (512 MiB), is larger than this GPU's limit for one buffer (128 MiB): lower ngf" },
    ]);
    expect(validateRunConfig(c, { gpuMemory: true })).toEqual([]);
  });
  it("every preset fits a tab, but the paper's CycleGAN at 256 px needs a real GPU's memory", () => {
    for (const p of ['tiny', 'quick', 'paper'] as const) expect(validateRunConfig(at('pix2pix', p))).toEqual([]);
    for (const p of ['tiny', 'quick'] as const) expect(validateRunConfig(at('cycle_gan', p))).toEqual([]);
    expect(validateRunConfig(at('cycle_gan', 'paper')).map((p) => p.option)).toEqual(['crop_size']);
    expect(validateRunConfig(at('cycle_gan', 'paper'), { gpuMemory: true })).toEqual([]);
  });
  it("the compiled step's counted memory, when it is the step that runs: paper CycleGAN fits a software GPU's 4 GiB", () => {
    const c = at('cycle_gan', 'paper');
    const compiled = { step: 'compiled' as const, memory: countCompiledMemory(c).memory! };
    expect(validateRunConfig(c, { gpuMemory: false }, compiled)).toEqual([]);
    expect(validateRunConfig(c, { gpuMemory: false, budget: 1024 ** 3 }, compiled)).toEqual([
      { option: 'crop_size', message: 'the compiled WebGPU step needs 1.9 GiB (its buffers 1.6 GiB; weights and Adam 324 MiB), more than the 1 GiB this page was given (?budget=): lower crop_size' },
    ]);
    // weights and moments dominate a pix2pix at ngf 256: ngf is to blame; while it is being counted nothing is refused
    const big = at('pix2pix', 'quick', 'ngf', 256);
    const counted = { step: 'compiled' as const, memory: countCompiledMemory(big).memory! };
    expect(validateRunConfig(big, { gpuMemory: true, budget: 4 * 1024 ** 3 }, counted).map((p) => p.option)).toEqual(['ngf']);
    expect(validateRunConfig(big, { gpuMemory: true, budget: 1 }, { step: 'counting' })).toEqual([]);
  });
});
