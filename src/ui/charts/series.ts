/** Turning a loss history into what a chart draws: smoothing, downsampling, log-safe values, groups. */

/** Loss groups shown together, by model: generator, discriminator, reconstruction. */
export const LOSS_GROUPS: Record<'pix2pix' | 'cycle_gan', { title: string; names: string[] }[]> = {
  pix2pix: [
    { title: 'Generator', names: ['G_GAN'] },
    { title: 'Discriminator', names: ['D_real', 'D_fake'] },
    { title: 'Reconstruction (L1 × lambda_L1)', names: ['G_L1'] },
  ],
  cycle_gan: [
    { title: 'Generators', names: ['G_A', 'G_B'] },
    { title: 'Discriminators', names: ['D_A', 'D_B'] },
    { title: 'Cycle and identity', names: ['cycle_A', 'cycle_B', 'idt_A', 'idt_B'] },
  ],
};

/** Exponential moving average with TensorBoard's debiasing; `weight` 0 leaves the values as they are. */
export function smooth(values: number[], weight: number): number[] {
  if (weight <= 0) return values.slice();
  const out: number[] = new Array(values.length);
  let last = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    last = last * weight + (1 - weight) * v;
    count++;
    out[i] = last / (1 - weight ** count);
  }
  return out;
}

/**
 * At most `max` points: the mean of each bucket of consecutive steps, at the bucket's middle step.
 * Charts stay smooth after 100,000 steps; every step still counts towards the drawn value.
 */
export function downsample(firstStep: number, values: number[], max: number): { step: number; value: number }[] {
  const n = values.length;
  if (n <= max) return values.map((value, i) => ({ step: firstStep + i, value }));
  const size = n / max;
  const out: { step: number; value: number }[] = [];
  for (let b = 0; b < max; b++) {
    const from = Math.floor(b * size);
    const to = Math.floor((b + 1) * size);
    let sum = 0;
    let count = 0;
    for (let i = from; i < to; i++) {
      if (Number.isFinite(values[i])) {
        sum += values[i];
        count++;
      }
    }
    out.push({ step: firstStep + Math.floor((from + to - 1) / 2), value: count ? sum / count : NaN });
  }
  return out;
}

/** Rows for one chart: one object per drawn step with a key per loss. */
export function chartRows(
  firstStep: number,
  values: Record<string, number[]>,
  names: string[],
  options: { smoothing: number; max: number; log: boolean },
): Record<string, number>[] {
  const present = names.filter((n) => values[n]?.length);
  if (!present.length) return [];
  const series = present.map((n) => downsample(firstStep, smooth(values[n], options.smoothing), options.max));
  return series[0].map((p, i) => {
    const row: Record<string, number> = { step: p.step };
    present.forEach((n, j) => {
      const v = series[j][i]?.value;
      // a log axis cannot show 0 or negatives: leave a gap there
      row[n] = options.log && !(v > 0) ? NaN : v;
    });
    return row;
  });
}
