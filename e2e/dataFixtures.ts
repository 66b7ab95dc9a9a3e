/** Test data for the data panel: two domain folders that happen to pair by name, loose photos, A|B images. */
import { bmp } from './fixtures';
import { drawShapes, mapColours, rotateChannels, WARM } from '../src/data/demoShapes';

/** `count` shapes as BMP files named by `name(i)`; `green` recolours them (the other domain). */
export function shapeFiles(count: number, name: (i: number) => string, o: { side?: number; seed?: number; green?: boolean } = {}): Record<string, Uint8Array> {
  const side = o.side ?? 40;
  const drawn = drawShapes(count, side, o.seed ?? 11, WARM);
  const pixels = o.green ? mapColours(drawn, rotateChannels) : drawn;
  return Object.fromEntries(Array.from({ length: count }, (_, i) => [name(i), bmp(pixels, i * side * side * 3, side, side)]));
}

/** Files named 0000.bmp, 0001.bmp… as two unrelated image folders often are. */
export const numbered = (i: number) => `${String(i).padStart(4, '0')}.bmp`;

/** Side-by-side A|B images (twice as wide as tall): shapes on the left, the same shapes recoloured on the right. */
export function sideBySideFiles(count: number, name: (i: number) => string, side = 40): Record<string, Uint8Array> {
  const a = drawShapes(count, side, 5, WARM);
  const b = mapColours(a, rotateChannels);
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    const both = new Float32Array(side * 2 * side * 3);
    for (let y = 0; y < side; y++) {
      const row = (i * side + y) * side * 3;
      both.set(a.subarray(row, row + side * 3), y * side * 2 * 3);
      both.set(b.subarray(row, row + side * 3), (y * side * 2 + side) * 3);
    }
    files[name(i)] = bmp(both, 0, side * 2, side);
  }
  return files;
}
