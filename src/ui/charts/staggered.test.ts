import { describe, expect, it } from 'vitest';
import { chartRows, LOSS_GROUPS } from './series';
import { nextDrawn } from './staggered';

type Snapshot = Record<string, number>[][];

/** What the charts get at `steps` steps of a CycleGAN run, every loss logged at every step: rows per group. */
const snapshot = (steps: number): Snapshot => {
  const values = Object.fromEntries(
    LOSS_GROUPS.cycle_gan.flatMap((g) => g.names).map((n, j) => [n, Array.from({ length: steps }, (_, i) => 1 + Math.sin(i * (j + 1)))]),
  );
  return LOSS_GROUPS.cycle_gan.map((g) => chartRows(1, values, g.names, { smoothing: 0.6, max: 300, log: false }));
};

/** The last step each chart draws: chart i draws its group of the snapshot it holds. */
const lastSteps = (drawn: (Snapshot | null)[]) => drawn.map((s, i) => s?.[i].at(-1)?.step ?? null);

describe('the data the loss charts draw', () => {
  it('every group ends at the same step, downsampled or not', () => {
    for (const steps of [1, 299, 300, 301, 382, 410, 1000, 20_011]) {
      const ends = snapshot(steps).map((rows) => rows.at(-1)!.step);
      expect(new Set(ends).size, `${steps} steps`).toBe(1);
    }
  });

  it('a redraw reaches the last chart even when snapshots arrive faster than charts draw', () => {
    let drawn: (Snapshot | null)[] = [null, null, null];
    const history: (number | null)[][] = [];
    // a new snapshot at every redraw step: timers reset on every change would never let the third chart draw
    for (let steps = 380; steps <= 410; steps++) {
      const next = nextDrawn(drawn, snapshot(steps));
      if (next) drawn = next;
      history.push(lastSteps(drawn));
    }
    for (const [a, b, c] of history) {
      // a chart never shows newer data than the one before it
      if (b !== null) expect(a!).toBeGreaterThanOrEqual(b);
      if (c !== null) expect(b!).toBeGreaterThanOrEqual(c);
    }
    expect(history.filter(([, , c]) => c !== null).length).toBeGreaterThan(5);
  });

  it('once snapshots stop, every chart shows the latest within one step per chart', () => {
    let drawn: (Snapshot | null)[] = [null, null, null];
    for (let steps = 380; steps < 410; steps++) drawn = nextDrawn(drawn, snapshot(steps)) ?? drawn;
    const latest = snapshot(410);
    let moves = 0;
    for (let next = nextDrawn(drawn, latest); next; next = nextDrawn(drawn, latest)) {
      drawn = next;
      moves++;
    }
    expect(moves).toBeLessThanOrEqual(2 * drawn.length);
    const end = latest[0].at(-1)!.step;
    expect(end).toBeGreaterThanOrEqual(409); // the last of 300 buckets, drawn at its middle step
    expect(lastSteps(drawn)).toEqual([end, end, end]);
  });
});
