/**
 * The reference's preprocessing (`--preprocess`, `--load_size`, `--crop_size`, `--no_flip`) as a plan of
 * resize → crop → flip, computed from an image's size. Pure: the worker applies a plan on the device.
 */

export const PREPROCESS = ['resize_and_crop', 'crop', 'scale_width', 'scale_width_and_crop', 'none'] as const;
export type Preprocess = (typeof PREPROCESS)[number];

/** The data options, by the reference's names. */
export interface DataOptions {
  preprocess: Preprocess;
  /** Scale images to this size (width for scale_width*) before cropping. */
  load_size: number;
  /** Then crop to this size. */
  crop_size: number;
  /** No random horizontal flip. */
  no_flip: boolean;
  /** pix2pix: AtoB trains A → B; BtoA swaps the halves. */
  direction: 'AtoB' | 'BtoA';
}

/** The reference's training defaults. */
export const DATA_DEFAULTS: DataOptions = {
  preprocess: 'resize_and_crop',
  load_size: 286,
  crop_size: 256,
  no_flip: false,
  direction: 'AtoB',
};

/** What to do to one image: resize to (width, height) if set, crop the box if set, flip if set. */
export interface Plan {
  resize: { width: number; height: number } | null;
  crop: { x: number; y: number; width: number; height: number } | null;
  flip: boolean;
}

/** Python's random.randint(0, n): an integer in [0, n]. */
const randint = (n: number, random: () => number) => Math.min(n, Math.floor(random() * (n + 1)));

/** Size after the resize step, as the reference's transforms compute it. */
export function resizedSize(width: number, height: number, o: DataOptions): { width: number; height: number } {
  switch (o.preprocess) {
    case 'resize_and_crop':
      return { width: o.load_size, height: o.load_size };
    case 'scale_width':
    case 'scale_width_and_crop':
      // __scale_width: keep it if already the right width and tall enough; else width load_size, height at least crop_size
      if (width === o.load_size && height >= o.crop_size) return { width, height };
      return { width: o.load_size, height: Math.floor(Math.max((o.load_size * height) / width, o.crop_size)) };
    case 'crop':
      return { width, height };
    case 'none': {
      // __make_power_2 with base 4: round each side to the nearest multiple of 4
      const round4 = (v: number) => Math.max(4, Math.round(v / 4) * 4);
      return { width: round4(width), height: round4(height) };
    }
  }
}

/** Smallest side an image needs for these options, or 0 when any size works. */
export function minimumSide(o: DataOptions): number {
  return o.preprocess === 'crop' ? o.crop_size : 0;
}

/**
 * Plans one image's preprocessing. For pix2pix pass the size of one half: the same plan then applies
 * to A and B, so they stay aligned (the reference's get_params on A's size).
 */
export function planPreprocess(width: number, height: number, o: DataOptions, random: () => number = Math.random): Plan {
  const size = resizedSize(width, height, o);
  const resize = size.width === width && size.height === height ? null : size;
  let crop: Plan['crop'] = null;
  if (o.preprocess.includes('crop')) {
    // get_params draws x, y from the resized size (for scale_width_and_crop it uses load_size·h // w)
    const h = o.preprocess === 'scale_width_and_crop' ? Math.floor((o.load_size * height) / width) : size.height;
    const x = randint(Math.max(0, size.width - o.crop_size), random);
    const y = randint(Math.max(0, h - o.crop_size), random);
    // __crop leaves an image no larger than the crop alone
    if (size.width > o.crop_size || size.height > o.crop_size) {
      crop = {
        x: Math.min(x, Math.max(0, size.width - o.crop_size)),
        y: Math.min(y, Math.max(0, size.height - o.crop_size)),
        width: Math.min(o.crop_size, size.width),
        height: Math.min(o.crop_size, size.height),
      };
    }
  }
  const flip = o.no_flip ? false : random() > 0.5;
  return { resize, crop, flip };
}

/** Output size of a plan applied to an image of the given size. */
export function plannedSize(width: number, height: number, plan: Plan): { width: number; height: number } {
  if (plan.crop) return { width: plan.crop.width, height: plan.crop.height };
  if (plan.resize) return plan.resize;
  return { width, height };
}

/** Splits a side-by-side A|B image's width: A is the left int(w/2) columns, B the rest from w/2 on. */
export function alignedHalves(width: number): { a: { x: number; width: number }; b: { x: number; width: number } } {
  const half = Math.floor(width / 2);
  return { a: { x: 0, width: half }, b: { x: half, width: half } };
}
