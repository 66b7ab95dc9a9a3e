import { describe, expect, it } from 'vitest';
import { alignedHalves, DATA_DEFAULTS, planPreprocess, plannedSize, resizedSize } from './preprocess';
import type { DataOptions } from './preprocess';

const o = (p: Partial<DataOptions>): DataOptions => ({ ...DATA_DEFAULTS, ...p });
const fixed = (...values: number[]) => () => values.shift() ?? 0;

describe('preprocessing geometry, as the reference computes it', () => {
  it('resize_and_crop: resize to load_size², crop crop_size at a random position in [0, load − crop]', () => {
    const plan = planPreprocess(600, 400, o({}), fixed(0.999, 0, 0.9));
    expect(plan.resize).toEqual({ width: 286, height: 286 });
    expect(plan.crop).toEqual({ x: 30, y: 0, width: 256, height: 256 });
    expect(plan.flip).toBe(true);
    expect(plannedSize(600, 400, plan)).toEqual({ width: 256, height: 256 });
  });
  it('crop: crops the original without resizing', () => {
    const plan = planPreprocess(300, 260, o({ preprocess: 'crop' }), fixed(0.5, 0.5, 0.1));
    expect(plan.resize).toBeNull();
    expect(plan.crop).toEqual({ x: 22, y: 2, width: 256, height: 256 });
    expect(plan.flip).toBe(false);
  });
  it('scale_width: width load_size, height in proportion but at least crop_size', () => {
    expect(resizedSize(1000, 500, o({ preprocess: 'scale_width' }))).toEqual({ width: 286, height: 256 });
    expect(resizedSize(500, 1000, o({ preprocess: 'scale_width' }))).toEqual({ width: 286, height: 572 });
    expect(planPreprocess(500, 1000, o({ preprocess: 'scale_width' }), fixed(0)).crop).toBeNull();
  });
  it('scale_width_and_crop: scales the width, then crops', () => {
    const plan = planPreprocess(500, 1000, o({ preprocess: 'scale_width_and_crop' }), fixed(0, 0.999, 0));
    expect(plan.resize).toEqual({ width: 286, height: 572 });
    expect(plan.crop).toEqual({ x: 0, y: 316, width: 256, height: 256 });
  });
  it('none: rounds each side to a multiple of 4', () => {
    expect(resizedSize(301, 258, o({ preprocess: 'none' }))).toEqual({ width: 300, height: 260 });
    expect(planPreprocess(300, 260, o({ preprocess: 'none' }), fixed(0)).resize).toBeNull();
  });
  it('no_flip never flips', () => {
    for (let i = 0; i < 20; i++) expect(planPreprocess(300, 300, o({ no_flip: true })).flip).toBe(false);
  });
  it('flips about half the time', () => {
    let flips = 0;
    for (let i = 0; i < 2000; i++) if (planPreprocess(300, 300, o({})).flip) flips++;
    expect(flips).toBeGreaterThan(850);
    expect(flips).toBeLessThan(1150);
  });
  it('aligned A|B: halves split at int(w/2), and one plan from the half size serves both halves', () => {
    expect(alignedHalves(512)).toEqual({ a: { x: 0, width: 256 }, b: { x: 256, width: 256 } });
    // the worker plans once on the half (256×256) and applies it to A and to B: same crop box, same flip
    const plan = planPreprocess(256, 256, o({ load_size: 286 }), fixed(0.25, 0.75, 0.7));
    expect(plan.crop).toEqual({ x: 7, y: 23, width: 256, height: 256 });
  });
  it('crop positions cover the whole range [0, load − crop]', () => {
    const xs = new Set<number>();
    for (let i = 0; i < 3000; i++) xs.add(planPreprocess(100, 100, o({ load_size: 36, crop_size: 32 })).crop!.x);
    expect([...xs].sort()).toEqual([0, 1, 2, 3, 4]);
  });
});
