import { describe, expect, it } from 'vitest';
import { chartRows, downsample, smooth } from './series';

describe('chart series', () => {
  it('downsampling 100,000 steps draws at most the point budget, each the mean of its bucket', () => {
    const values = Array.from({ length: 100_000 }, (_, i) => i % 2);
    const points = downsample(1, values, 400);
    expect(points).toHaveLength(400);
    for (const p of points) expect(p.value).toBeCloseTo(0.5, 6);
    expect(points[0].step).toBeGreaterThanOrEqual(1);
    expect(points.at(-1)!.step).toBeLessThanOrEqual(100_000);
  });
  it('short series are drawn as they are', () => {
    expect(downsample(5, [1, 2], 400)).toEqual([{ step: 5, value: 1 }, { step: 6, value: 2 }]);
  });
  it('smoothing 0 keeps values; debiased smoothing starts at the first value', () => {
    expect(smooth([1, 2, 3], 0)).toEqual([1, 2, 3]);
    const s = smooth([4, 4, 4, 10], 0.9);
    expect(s[0]).toBeCloseTo(4, 10);
    expect(s[2]).toBeCloseTo(4, 10);
    expect(s[3]).toBeGreaterThan(4);
    expect(s[3]).toBeLessThan(10);
  });
  it('a log scale leaves gaps for values it cannot show', () => {
    const rows = chartRows(1, { G_A: [1, 0, -1], G_B: [1, 2, 3] }, ['G_A', 'G_B'], { smoothing: 0, max: 10, log: true });
    expect(rows.map((r) => r.G_A)).toEqual([1, NaN, NaN]);
    expect(rows.map((r) => r.step)).toEqual([1, 2, 3]);
  });
});
