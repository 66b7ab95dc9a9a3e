import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../config/presets';
import { BackendChooser } from './backendChoice';
import type { TrainingBackend } from './backend';
import type { WorkerEvent } from './protocol';

/** A chooser that believes it runs on a software WebGPU adapter (Node has only the CPU backend to switch to). */
function softwareChooser() {
  const events: WorkerEvent[] = [];
  const chooser = new BackendChooser((e) => events.push(e));
  chooser.report = { backend: 'webgpu', failed: [], adapter: { vendor: 'google', architecture: 'swiftshader', description: 'google swiftshader', software: true, limits: { maxStorageBufferBindingSize: 134217728, maxBufferSize: 268435456 } } };
  return { chooser, events };
}

describe('the automatic backend choice on a software GPU', () => {
  const config = presetConfig('tiny', 'pix2pix');

  it('times the CPU first, skips WebGL when the CPU step is fast, gives WebGPU a bounded budget, keeps the fastest', async () => {
    await tf.setBackend('cpu');
    const { chooser, events } = softwareChooser();
    const asked: [TrainingBackend, number][] = [];
    const times: Record<TrainingBackend, number | null> = { cpu: 80, webgl: 50, webgpu: null };
    await chooser.use('auto', config, async (b, budget) => (asked.push([b, budget]), times[b]), () => false);
    expect(asked).toEqual([
      ['cpu', Infinity],
      ['webgpu', 2500],
    ]);
    const chosen = events.find((e) => e.type === 'backendChosen');
    expect(chosen?.type === 'backendChosen' && chosen.measurement.chosen).toBe('cpu');
    expect(chosen?.type === 'backendChosen' && chosen.measurement.reason).toMatch(/cpu 12.50 steps\/s, webgl not timed .*, webgpu not done within 2.5 s/);
    // each timing was announced with its place in the order
    expect(events.filter((e) => e.type === 'backendTiming').map((e) => e.type === 'backendTiming' && [e.backend, e.index, e.of])).toEqual([
      ['cpu', 0, 3],
      ['webgpu', 2, 3],
    ]);
    // the same model later: no timing at all
    const before = asked.length;
    await chooser.use('auto', config, async (b, budget) => (asked.push([b, budget]), times[b]), () => false);
    expect(asked.length).toBe(before);
    expect(events.at(-1)?.type === 'backendChosen' && events.at(-1)).toMatchObject({ measurement: { reason: expect.stringContaining('at an earlier Start') } });
  });

  it('times WebGL too when the CPU is slow, within three times the best step', async () => {
    await tf.setBackend('cpu');
    const { chooser } = softwareChooser();
    const asked: [TrainingBackend, number][] = [];
    const quick = presetConfig('quick', 'cycle_gan');
    await chooser.use('auto', quick, async (b, budget) => (asked.push([b, budget]), b === 'cpu' ? 1500 : null), () => false);
    expect(asked).toEqual([
      ['cpu', Infinity],
      ['webgl', 4500],
      ['webgpu', 4500],
    ]);
  });

  it('a Stop during the timing ends it without choosing', async () => {
    await tf.setBackend('cpu');
    const { chooser, events } = softwareChooser();
    let stopped = false;
    const asked: TrainingBackend[] = [];
    await chooser.use('auto', presetConfig('tiny', 'cycle_gan'), async (b) => {
      asked.push(b);
      stopped = true; // the user pressed Stop while the first backend was being timed
      return null;
    }, () => stopped);
    expect(asked).toEqual(['cpu']);
    expect(events.some((e) => e.type === 'backendChosen')).toBe(false);
  });

  it('a backend chosen in the menu is used without timing, and said', async () => {
    await tf.setBackend('cpu');
    const { chooser, events } = softwareChooser();
    await chooser.use('cpu', config, async () => {
      throw new Error('no timing expected');
    }, () => false);
    expect(events.at(-1)).toMatchObject({ type: 'backendChosen', measurement: { chosen: 'cpu', reason: 'chosen in the Backend menu' } });
  });
});
