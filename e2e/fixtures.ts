/** Test data written by the tests themselves: shapes as BMP files, broken files, and zips of them. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { drawShapes, mapColours, rotateChannels, WARM } from '../src/data/demoShapes';

/** A 24-bit BMP of an RGB image given in [-1, 1]. */
export function bmp(pixels: Float32Array, offset: number, width: number, height: number): Uint8Array {
  const row = Math.ceil((width * 3) / 4) * 4;
  const size = 54 + row * height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, size, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  v.setUint32(34, row * height, true);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const s = offset + ((height - 1 - y) * width + x) * 3; // BMP rows go bottom-up
      const at = 54 + y * row + x * 3;
      const byte = (f: number) => Math.round((Math.max(-1, Math.min(1, f)) + 1) * 127.5);
      out[at] = byte(pixels[s + 2]);
      out[at + 1] = byte(pixels[s + 1]);
      out[at + 2] = byte(pixels[s]);
    }
  }
  return out;
}

/** A CycleGAN dataset's files: trainA/ and trainB/ of shapes, plus the bad inputs a user might include. */
export function cycleGanFiles(count = 12, side = 40): Record<string, Uint8Array> {
  const n = side * side * 3;
  const a = drawShapes(count, side, 5, WARM);
  const b = mapColours(drawShapes(count, side, 6, WARM), rotateChannels);
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) {
    files[`trainA/a${i}.bmp`] = bmp(a, i * n, side, side);
    files[`trainB/b${i}.bmp`] = bmp(b, i * n, side, side);
  }
  files['trainA/notes.txt'] = new TextEncoder().encode('not an image');
  files['trainB/broken.bmp'] = new Uint8Array([0x42, 0x4d, 1, 2, 3, 4, 5, 6, 7, 8]);
  files['trainA/tiny.bmp'] = bmp(a, 0, 8, 8);
  files['trainA/.DS_Store'] = new Uint8Array([0, 0, 0, 1]);
  return files;
}

/** Writes files under a folder; returns the folder. */
export function writeTree(root: string, files: Record<string, Uint8Array>): string {
  for (const [path, data] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), data);
  }
  return root;
}

/** A zip of the files under one top folder, as the reference's download scripts produce. */
export function zipOf(top: string, files: Record<string, Uint8Array>): Uint8Array {
  return zipSync(Object.fromEntries(Object.entries(files).map(([p, d]) => [`${top}/${p}`, d])));
}
