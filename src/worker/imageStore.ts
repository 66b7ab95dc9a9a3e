/**
 * Cuts a step's images: crop and flip per the reference's plan, scaled to [-1, 1]. A training batch is cut from
 * decoded images in memory (`cutRgb`); the fixed preview images sit on the device (`ImageStore`).
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/demos';
import { planPreprocess } from '../data/preprocess';
import type { DataOptions, Plan } from '../data/preprocess';

/** Which part of an image: whole, or the left/right half of an A|B image. */
export type Part = 'whole' | 'left' | 'right';

/** Size of one part of an image. */
export function partSize(im: RgbImage, part: Part): { width: number; height: number } {
  return { width: part === 'whole' ? im.width : Math.floor(im.width / 2), height: im.height };
}

/** A plan for an image (already resized at decode, so only crop and flip remain). */
export function planFor(im: RgbImage, part: Part, data: DataOptions, random: () => number): Plan {
  const { width, height } = partSize(im, part);
  return { ...planPreprocess(width, height, data, random), resize: null };
}

/** One image part with a plan applied, uploaded as float32 [H, W, 3] in [-1, 1]. */
export function cutRgb(im: RgbImage, part: Part, plan: Plan): tf.Tensor3D {
  const { width, height } = partSize(im, part);
  const x0 = part === 'right' ? Math.floor(im.width / 2) : 0;
  const box = plan.crop ?? { x: 0, y: 0, width, height };
  const rows = new Int32Array(box.width * box.height * 3);
  const flip = plan.flip;
  for (let y = 0; y < box.height; y++) {
    const src = ((box.y + y) * im.width + x0 + box.x) * 3;
    const dst = y * box.width * 3;
    if (!flip) {
      for (let k = 0; k < box.width * 3; k++) rows[dst + k] = im.data[src + k];
      continue;
    }
    for (let x = 0; x < box.width; x++) {
      const from = src + (box.width - 1 - x) * 3;
      rows[dst + x * 3] = im.data[from];
      rows[dst + x * 3 + 1] = im.data[from + 1];
      rows[dst + x * 3 + 2] = im.data[from + 2];
    }
  }
  return tf.tidy(() => bytesToUnit(tf.tensor3d(rows, [box.height, box.width, 3], 'int32')));
}

/** A few decoded images (the fixed previews), cut as a batch's are. */
export class ImageStore {
  constructor(readonly images: RgbImage[]) {}

  get length(): number {
    return this.images.length;
  }

  partSize(i: number, part: Part): { width: number; height: number } {
    return partSize(this.images[i], part);
  }

  plan(i: number, part: Part, data: DataOptions, random: () => number): Plan {
    return planFor(this.images[i], part, data, random);
  }

  cut(i: number, part: Part, plan: Plan): tf.Tensor3D {
    return cutRgb(this.images[i], part, plan);
  }
}

/** 8-bit channel values (any integer tensor) to float32 in [-1, 1], the engine's input range. */
export function bytesToUnit<T extends tf.Tensor>(t: T): T {
  return tf.tidy(() => tf.sub(tf.div(tf.cast(t, 'float32'), 127.5), 1)) as T;
}

/** A centred crop without flip, for the fixed preview images. */
export function centredPlan(width: number, height: number, crop: number | null): Plan {
  if (!crop || (width <= crop && height <= crop)) return { resize: null, crop: null, flip: false };
  const w = Math.min(crop, width);
  const h = Math.min(crop, height);
  return { resize: null, crop: { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h }, flip: false };
}
