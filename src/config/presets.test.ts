import { describe, expect, it } from 'vitest';
import { matchingPreset, presetConfig, presetWith, setOnTopOf } from './presets';
import { defaultRunConfig, fromQuery, setOption, toQuery } from './runConfig';

describe('which preset the options are', () => {
  it('each preset, for each model, is recognised', () => {
    for (const model of ['pix2pix', 'cycle_gan'] as const) {
      for (const p of ['tiny', 'quick', 'paper'] as const) expect(matchingPreset(presetConfig(p, model))).toBe(p);
    }
  });
  it("the reference's defaults are the Paper preset", () => {
    expect(matchingPreset(defaultRunConfig('pix2pix'))).toBe('paper');
  });
  it('one changed option makes them custom, and a link of them reads back custom', () => {
    const c = setOption(presetConfig('tiny', 'cycle_gan'), 'ngf', 8);
    expect(matchingPreset(c)).toBeNull();
    expect(matchingPreset(fromQuery(toQuery(c)).config)).toBeNull();
    expect(matchingPreset(fromQuery(toQuery(presetConfig('quick', 'pix2pix'))).config)).toBe('quick');
  });
});

describe('a mode switch keeps what the user set', () => {
  it("the other model's preset, with the named options carried over", () => {
    const pasted = setOption(setOption(defaultRunConfig('cycle_gan'), 'ngf', 32), 'lambda_identity', 0);
    const c = presetWith('paper', 'pix2pix', pasted, ['ngf', 'lambda_identity']);
    expect(c.train).toMatchObject({ model: 'pix2pix', netG: 'unet_256', norm: 'batch', ngf: 32, lambda_identity: 0 });
  });
  it('the options set on top of a preset are the ones that differ from it', () => {
    const c = setOption(setOption(presetConfig('tiny', 'pix2pix'), 'ngf', 8), 'no_flip', true);
    expect(setOnTopOf('tiny', c)).toEqual(['ngf', 'no_flip']);
    expect(setOnTopOf('tiny', presetConfig('tiny', 'pix2pix'))).toEqual([]);
  });
});
