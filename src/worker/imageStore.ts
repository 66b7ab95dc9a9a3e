/**
 * Holds decoded images once, on the device while they fit a budget (else in memory, uploaded per batch),
 * and cuts each step's batch: crop and flip per the reference's plan, scaled to [-1, 1].
 */
import * as tf from '@tensorflow/tfjs';
import type { RgbImage } from '../data/demos';
import { planPreprocess } from '../data/preprocess';
import type { DataOptions, Plan } from '../data/preprocess';

/** Device memory we allow for the decoded images (int32 on the GPU: 4 bytes per channel). */
export const DEVICE_BUDGET_BYTES = 512 * 1024 * 1024;

/** Which part of an image: whole, or the left/right half of an A|B image. */
export type Part = 'whole' | 'left' | 'right';

export class ImageStore {
  private readonly device: tf.Tensor3D[] | null;

  constructor(readonly images: RgbImage[]) {
    const bytes = images.reduce((n, im) => n + im.width * im.height * 3 * 4, 0);
    this.device = bytes <= DEVICE_BUDGET_BYTES ? images.map((im) => tf.tensor3d(im.data, [im.height, im.width, 3], 'int32')) : null;
  }

  get length(): number {
    return this.images.length;
  }

  /** True when the images live on the device. */
  get onDevice(): boolean {
    return this.device !== null;
  }

  /** Size of one part of image i. */
  partSize(i: number, part: Part): { width: number; height: number } {
    const im = this.images[i];
    return { width: part === 'whole' ? im.width : Math.floor(im.width / 2), height: im.height };
  }

  /** A plan for image i (size already resized at decode, so only crop and flip remain). */
  plan(i: number, part: Part, data: DataOptions, random: () => number): Plan {
    const { width, height } = this.partSize(i, part);
    const plan = planPreprocess(width, height, { ...data, preprocess: data.preprocess }, random);
    return { ...plan, resize: null };
  }

  /** One image part with a plan applied, as float32 [H, W, 3] in [-1, 1]. */
  cut(i: number, part: Part, plan: Plan): tf.Tensor3D {
    return tf.tidy(() => {
      const im = this.images[i];
      const { width, height } = this.partSize(i, part);
      const x0 = part === 'right' ? Math.floor(im.width / 2) : 0;
      const box = plan.crop ?? { x: 0, y: 0, width, height };
      const source = this.device ? this.device[i] : null;
      let t: tf.Tensor3D;
      if (source) {
        t = tf.slice(source, [box.y, x0 + box.x, 0], [box.height, box.width, 3]);
      } else {
        const rows = new Uint8Array(box.width * box.height * 3);
        for (let y = 0; y < box.height; y++) {
          const start = ((box.y + y) * im.width + x0 + box.x) * 3;
          rows.set(im.data.subarray(start, start + box.width * 3), y * box.width * 3);
        }
        t = tf.tensor3d(rows, [box.height, box.width, 3], 'int32');
      }
      if (plan.flip) t = tf.reverse(t, 1);
      return bytesToUnit(t);
    });
  }

  dispose(): void {
    if (this.device) tf.dispose(this.device);
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
