/**
 * The built-in demo datasets, drawn in code: a newcomer trains within seconds, offline.
 * `shapes-recolour` (pix2pix): A|B pairs where B is A with its colour channels rotated and soft shading added.
 * `warm-to-green` (CycleGAN): unpaired warm-coloured shapes (A) and green-blue shapes (B).
 */
import type { DemoName } from './dataset';
import { drawShapes, mapColours, rotateChannels, WARM } from './demoShapes';

/** An RGB image, 8 bits per channel, row-major. */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Demo sizes: enough images to learn from, small enough to generate instantly. */
export const DEMO_SIDE = 64;
export const DEMO_COUNT = 200;

const toBytes = (floats: Float32Array, offset: number, side: number): Uint8Array => {
  const n = side * side * 3;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round((Math.max(-1, Math.min(1, floats[offset + i])) + 1) * 127.5);
  return out;
};

/** Adds a vertical light falloff, so B is not a pure per-pixel function of A's colours. */
function shade(pixels: Float32Array, side: number): Float32Array {
  const out = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) {
    const y = Math.floor(i / 3 / side) % side;
    out[i] = pixels[i] * (1 - 0.25 * (y / side)) + 0.1;
  }
  return out;
}

/** Generates a demo: for pix2pix, A|B side-by-side images; for CycleGAN, separate A and B images. */
export function generateDemo(name: DemoName, count = DEMO_COUNT, side = DEMO_SIDE): { A: RgbImage[]; B: RgbImage[] } {
  const n = side * side * 3;
  if (name === 'shapes-recolour') {
    const a = drawShapes(count, side, 1);
    const b = shade(mapColours(a, rotateChannels), side);
    const A: RgbImage[] = [];
    for (let k = 0; k < count; k++) {
      const left = toBytes(a, k * n, side);
      const right = toBytes(b, k * n, side);
      const data = new Uint8Array(n * 2);
      for (let y = 0; y < side; y++) {
        data.set(left.subarray(y * side * 3, (y + 1) * side * 3), y * side * 6);
        data.set(right.subarray(y * side * 3, (y + 1) * side * 3), y * side * 6 + side * 3);
      }
      A.push({ width: side * 2, height: side, data });
    }
    return { A, B: [] };
  }
  const a = drawShapes(count, side, 1, WARM);
  const b = mapColours(drawShapes(count, side, 2, WARM), rotateChannels);
  const images = (f: Float32Array) => Array.from({ length: count }, (_, k) => ({ width: side, height: side, data: toBytes(f, k * n, side) }));
  return { A: images(a), B: images(b) };
}
