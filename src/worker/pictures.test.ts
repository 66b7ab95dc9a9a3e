import { describe, expect, it } from 'vitest';
import type { RgbImage } from '../data/demos';
import type { LoadedDataset } from './datasetLoader';
import { DecodedCache } from './decodedCache';
import { DomainImages } from './domainImages';
import { firstThumbnails, halves, MAX_THUMBNAILS, thumbnailPage } from './pictures';

/** An image of one colour. */
const plain = (width: number, height: number, rgb: [number, number, number]): RgbImage => ({
  width,
  height,
  data: Uint8Array.from({ length: width * height * 3 }, (_, i) => rgb[i % 3]),
});
/** A side-by-side image: red A on the left, blue B on the right. */
const sideBySide = (): RgbImage => {
  const im = plain(8, 4, [255, 0, 0]);
  for (let y = 0; y < 4; y++) for (let x = 4; x < 8; x++) im.data.set([0, 0, 255], (y * 8 + x) * 3);
  return im;
};
/** Images of one domain, decoded from memory. */
const domain = (images: RgbImage[], prefix: string) => new DomainImages(images.map((_, i) => `${prefix}${i}.png`), async (i) => images[i], new DecodedCache(), prefix);
const dataset = (arrangement: 'aligned' | 'paired' | 'unaligned', A: RgbImage[], B: RgbImage[]): LoadedDataset => ({
  summary: { name: 'd', mode: arrangement === 'unaligned' ? 'cycle_gan' : 'pix2pix', arrangement, countA: A.length, countB: B.length, testCount: 0, problems: [], ignored: 0, unchecked: 0 },
  A: domain(A, 'a'),
  B: arrangement === 'aligned' ? null : domain(B, 'b'),
  aligned: arrangement === 'aligned',
  previewA: [],
  previewB: [],
});
const colour = (p: { data: Uint8ClampedArray }) => Array.from(p.data.slice(0, 3));

describe('thumbnails', () => {
  it('a picture splits into its left and right halves', () => {
    const p = { width: 3, height: 1, data: new Uint8ClampedArray([1, 1, 1, 255, 2, 2, 2, 255, 3, 3, 3, 255]) };
    expect(halves(p).map((h) => [h.width, Array.from(h.data)])).toEqual([[1, [1, 1, 1, 255]], [1, [3, 3, 3, 255]]]);
  });
  it('an A|B image shows as its A beside its B', async () => {
    const page = await thumbnailPage(dataset('aligned', [sideBySide()], []), 'A', 0, 8);
    expect(page.items[0].pictures.map(colour)).toEqual([[255, 0, 0], [0, 0, 255]]);
    expect(page.items[0].pictures[0]).toMatchObject({ width: 48, height: 48 });
  });
  it('paired files show as pairs; the first thumbnails put A[i] beside B[i]', async () => {
    const d = dataset('paired', [plain(4, 4, [1, 2, 3])], [plain(4, 4, [9, 9, 9])]);
    await Promise.all([d.A.image(0), d.B!.image(0)]); // as the load decodes the first ones
    expect((await thumbnailPage(d, 'A', 0, 8)).items[0].pictures.map(colour)).toEqual([[1, 2, 3], [9, 9, 9]]);
    const first = await firstThumbnails(d, 8);
    expect([first.A.map(colour), first.B.map(colour)]).toEqual([[[1, 2, 3]], [[9, 9, 9]]]);
  });
  it('a page of one domain: from the offset, at most the count, with the files\' names', async () => {
    const d = dataset('unaligned', Array.from({ length: 100 }, () => plain(4, 4, [0, 0, 0])), [plain(4, 4, [5, 5, 5])]);
    const page = await thumbnailPage(d, 'A', 96, 48);
    expect(page.total).toBe(100);
    expect(page.items.map((t) => t.name)).toEqual(['a96.png', 'a97.png', 'a98.png', 'a99.png']);
    expect(await thumbnailPage(d, 'B', 0, 48)).toMatchObject({ total: 1, items: [{ name: 'b0.png' }] });
    // never the whole set at once
    expect((await thumbnailPage(d, 'A', 0, 10_000)).items).toHaveLength(MAX_THUMBNAILS);
  });
});
