import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { detectLayout } from '../data/layout';
import { LoadFailed, loadDataset, readArchives, resizeRgb, targetSize } from './datasetLoader';
import { DATA_DEFAULTS } from '../data/preprocess';
import { DecodedCache } from './decodedCache';

const hooks = () => ({ cache: new DecodedCache(), onProblem: () => {}, onProgress: () => {} });

const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47]);

describe('zip archives', () => {
  it('a zip laid out like horse2zebra.zip (one top folder) is read into CycleGAN domains', async () => {
    const zip = zipSync({ 'horse2zebra/trainA/1.png': png, 'horse2zebra/trainB/2.png': png, 'horse2zebra/testA/3.png': png, '__MACOSX/horse2zebra/._1.png': png });
    const { files, problems } = await readArchives([{ path: 'horse2zebra.zip', blob: new Blob([zip]) }]);
    expect(problems).toEqual([]);
    const layout = detectLayout(files);
    expect(layout.mode).toBe('cycle_gan');
    expect(layout.A.map((f) => f.path)).toEqual(['horse2zebra/trainA/1.png']);
    expect(layout.ignored).toBe(1);
  });
  it('a zip laid out like facades (train/ val/ without a top folder) is pix2pix', async () => {
    const zip = zipSync({ 'train/1.jpg': png, 'train/2.jpg': png, 'val/3.jpg': png });
    const { files } = await readArchives([{ path: 'facades.zip', blob: new Blob([zip]) }]);
    expect(detectLayout(files)).toMatchObject({ mode: 'pix2pix', arrangement: 'aligned' });
  });
  it('a file named .zip that is not one is listed, not fatal', async () => {
    const { files, problems } = await readArchives([
      { path: 'broken.zip', blob: new Blob([new Uint8Array([1, 2, 3])]) },
      { path: 'x.png', blob: new Blob([png]) },
    ]);
    expect(files.map((f) => f.path)).toEqual(['x.png']);
    expect(problems[0].path).toBe('broken.zip');
    expect(problems[0].reason).toMatch(/not a readable zip/);
  });
});

describe('decode sizes', () => {
  it('images are decoded at the resized size; A|B images per half', () => {
    expect(targetSize(600, 400, DATA_DEFAULTS, false)).toEqual({ width: 286, height: 286 });
    expect(targetSize(512, 256, DATA_DEFAULTS, true)).toEqual({ width: 572, height: 286 });
    expect(targetSize(20000, 15000, { ...DATA_DEFAULTS, preprocess: 'scale_width' }, false)).toEqual({ width: 286, height: 256 });
  });
  it('nearest-neighbour resize keeps colours', () => {
    const im = { width: 2, height: 1, data: new Uint8Array([255, 0, 0, 0, 0, 255]) };
    expect(Array.from(resizeRgb(im, { width: 4, height: 1 }).data)).toEqual([255, 0, 0, 255, 0, 0, 0, 0, 255, 0, 0, 255]);
  });
});

/** The first bytes of a PNG of this size: enough for the layout's size check, not for decoding. */
const pngHeader = (width: number, height: number) => {
  const b = new Uint8Array(24);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, width);
  new DataView(b.buffer).setUint32(20, height);
  return new Blob([b]);
};
const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e as LoadFailed);

describe('ordinary photos or side-by-side A|B images', () => {
  it('eight loose square photos are one domain, not A|B pairs to cut in half', async () => {
    const files = Array.from({ length: 8 }, (_, i) => ({ path: `photo_000${i}.png`, blob: pngHeader(64, 64) }));
    const e = await failure(loadDataset({ kind: 'files', files }, DATA_DEFAULTS, hooks()));
    expect(e).toBeInstanceOf(LoadFailed);
    expect(e!.message).toBe('these 8 images look like one domain of ordinary photos, not side-by-side A|B pairs (twice as wide as tall): pick the other domain');
    expect(e!.oneDomain).toEqual({ images: 8 });
  });
  it('a train/ folder of 2:1 images goes on to be split (and here fails only at decoding)', async () => {
    const files = [0, 1].map((i) => ({ path: `facades/train/${i}.png`, blob: pngHeader(512, 256) }));
    const e = await failure(loadDataset({ kind: 'files', files }, DATA_DEFAULTS, hooks()));
    expect(e!.oneDomain).toBeNull();
    expect(e!.message).toMatch(/none of the images of the dataset could be used/);
  });
  it('asking for pix2pix splits even square images (the user said so)', async () => {
    const files = [{ path: 'a.png', blob: pngHeader(64, 64) }];
    const e = await failure(loadDataset({ kind: 'files', files, mode: 'pix2pix' }, DATA_DEFAULTS, hooks()));
    expect(e!.oneDomain).toBeNull();
  });
  it('a layout that cannot train is a LoadFailed with the archive problems', async () => {
    const e = await failure(loadDataset({ kind: 'files', files: [{ path: 'd/trainA/1.png', blob: pngHeader(64, 64) }, { path: 'd/x.zip', blob: new Blob([png]) }] }, DATA_DEFAULTS, hooks()));
    expect(e).toBeInstanceOf(LoadFailed);
    expect(e!.message).toMatch(/domain B has no images/);
    expect(e!.problems.map((p) => p.path)).toEqual(['d/x.zip']);
  });
});
