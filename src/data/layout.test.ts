import { describe, expect, it } from 'vitest';
import type { SourceFile } from './dataset';
import { detectLayout, LayoutError, looksSideBySide, pairByName } from './layout';

const files = (...paths: string[]): SourceFile[] => paths.map((path) => ({ path, blob: new Blob([]) }));
const names = (list: SourceFile[]) => list.map((f) => f.path);

describe('layout detection', () => {
  it('trainA/ trainB/ testA/ testB/ under one top folder is CycleGAN', () => {
    const l = detectLayout(files('horse2zebra/trainA/1.jpg', 'horse2zebra/trainA/2.jpg', 'horse2zebra/trainB/9.jpg', 'horse2zebra/testA/5.jpg'));
    expect(l.mode).toBe('cycle_gan');
    expect(l.arrangement).toBe('unaligned');
    expect(names(l.A)).toEqual(['horse2zebra/trainA/1.jpg', 'horse2zebra/trainA/2.jpg']);
    expect(names(l.B)).toEqual(['horse2zebra/trainB/9.jpg']);
    expect(names(l.test)).toEqual(['horse2zebra/testA/5.jpg']);
  });
  it('images come in name order, numbers as numbers', () => {
    const l = detectLayout(files('trainA/10.png', 'trainA/2.png', 'trainA/1.png', 'trainB/b.png'));
    expect(names(l.A)).toEqual(['trainA/1.png', 'trainA/2.png', 'trainA/10.png']);
    expect(names(detectLayout(files('p/10.png', 'p/9.png')).A)).toEqual(['p/9.png', 'p/10.png']);
  });
  it('the same without a top folder', () => {
    expect(detectLayout(files('trainA/1.png', 'trainB/1x.png')).mode).toBe('cycle_gan');
  });
  it('train/ val/ test/ of A|B images is pix2pix, aligned', () => {
    const l = detectLayout(files('facades/train/1.jpg', 'facades/train/2.jpg', 'facades/val/3.jpg', 'facades/test/4.jpg'));
    expect(l.mode).toBe('pix2pix');
    expect(l.arrangement).toBe('aligned');
    expect(l.A).toHaveLength(2);
    expect(l.test).toHaveLength(2);
  });
  it('one flat folder of images is aligned pix2pix', () => {
    const l = detectLayout(files('pairs/a.png', 'pairs/b.png'));
    expect(l).toMatchObject({ mode: 'pix2pix', arrangement: 'aligned' });
    expect(l.A).toHaveLength(2);
  });
  it('two folders whose files pair by name are pix2pix, paired in name order', () => {
    const l = detectLayout(files('maps/photos/b.jpg', 'maps/photos/a.jpg', 'maps/labels/a.png', 'maps/labels/b.png'));
    expect(l).toMatchObject({ mode: 'pix2pix', arrangement: 'paired' });
    // folders sorted: labels = A, photos = B
    expect(names(l.A)).toEqual(['maps/labels/a.png', 'maps/labels/b.png']);
    expect(names(l.B)).toEqual(['maps/photos/a.jpg', 'maps/photos/b.jpg']);
  });
  it('two folders with different names are CycleGAN', () => {
    expect(detectLayout(files('x/cats/1.jpg', 'x/dogs/2.jpg')).mode).toBe('cycle_gan');
  });
  it('files given as Domain A and Domain B keep their roles', () => {
    const l = detectLayout([
      { path: 'apple.png', blob: new Blob([]), role: 'A' },
      { path: 'orange.png', blob: new Blob([]), role: 'B' },
    ]);
    expect(l).toMatchObject({ mode: 'cycle_gan', arrangement: 'unaligned' });
    expect(names(l.A)).toEqual(['apple.png']);
  });
  it('two domain folders whose names pair stay two domains (CycleGAN), and say how many names pair', () => {
    const picked = [0, 1, 2].flatMap((i) => [
      { path: `horses/000${i}.png`, blob: new Blob([]), role: 'A' as const },
      { path: `zebras/000${i}.png`, blob: new Blob([]), role: 'B' as const },
    ]);
    const l = detectLayout(picked);
    expect(l).toMatchObject({ mode: 'cycle_gan', arrangement: 'unaligned', pairsByName: 3 });
    // one click later, the same files as pairs
    const p = detectLayout(picked, 'pix2pix');
    expect(p).toMatchObject({ mode: 'pix2pix', arrangement: 'paired', pairsByName: 3 });
    expect(names(p.B)).toEqual(['zebras/0000.png', 'zebras/0001.png', 'zebras/0002.png']);
  });
  it('two folders that pair by name default to pairs and still offer two domains', () => {
    const l = detectLayout(files('maps/photos/a.jpg', 'maps/labels/a.png'));
    expect(l).toMatchObject({ mode: 'pix2pix', pairsByName: 1 });
    expect(detectLayout(files('maps/photos/a.jpg', 'maps/labels/a.png'), 'cycle_gan')).toMatchObject({ arrangement: 'unaligned', pairsByName: 1 });
  });
  it('trainA/ trainB/ with the same names offers pairs; too few shared names offer nothing', () => {
    expect(detectLayout(files('trainA/1.png', 'trainA/2.png', 'trainB/1.png', 'trainB/2.png'))).toMatchObject({ mode: 'cycle_gan', pairsByName: 2 });
    // one name of four in common: not a paired dataset
    expect(detectLayout(files('trainA/1.png', 'trainA/2.png', 'trainA/3.png', 'trainA/4.png', 'trainB/1.png', 'trainB/x.png', 'trainB/y.png', 'trainB/z.png')).pairsByName).toBe(0);
    expect(detectLayout(files('x/cats/1.jpg', 'x/dogs/2.jpg')).pairsByName).toBe(0);
    expect(detectLayout(files('pairs/a.png', 'pairs/b.png')).pairsByName).toBe(0);
  });
  it('the user can override the mode', () => {
    expect(detectLayout(files('trainA/1.png', 'trainB/1.png', 'trainA/2.png', 'trainB/3.png'), 'pix2pix').arrangement).toBe('paired');
    expect(detectLayout(files('photos/a.jpg', 'labels/a.png'), 'cycle_gan').arrangement).toBe('unaligned');
    expect(() => detectLayout(files('cats/1.jpg', 'dogs/2.jpg'), 'pix2pix')).toThrow(/same name/);
  });
});

describe('side-by-side A|B images or ordinary photos', () => {
  it('images about twice as wide as tall are A|B pairs', () => {
    expect(looksSideBySide([{ width: 512, height: 256 }, { width: 1200, height: 600 }, { width: 600, height: 290 }])).toBe(true);
  });
  it('square, 4:3, 3:2 and 16:9 photos are not', () => {
    expect(looksSideBySide([{ width: 64, height: 64 }])).toBe(false);
    expect(looksSideBySide([{ width: 640, height: 480 }, { width: 600, height: 400 }, { width: 1920, height: 1080 }])).toBe(false);
  });
  it('most of them decide; unknown sizes alone leave it to decoding', () => {
    expect(looksSideBySide([{ width: 512, height: 256 }, { width: 512, height: 256 }, { width: 300, height: 300 }])).toBe(true);
    expect(looksSideBySide([{ width: 512, height: 256 }, { width: 300, height: 300 }, { width: 300, height: 300 }, null])).toBe(false);
    expect(looksSideBySide([null, null])).toBe(true);
  });
});

describe('bad input', () => {
  it('hidden files and __MACOSX are skipped silently and counted', () => {
    const l = detectLayout(files('d/trainA/1.jpg', 'd/trainB/2.jpg', 'd/.DS_Store', '__MACOSX/d/trainA/._1.jpg', 'd/trainA/.hidden.png'));
    expect(l.problems).toEqual([]);
    expect(l.ignored).toBe(3);
    expect(l.A).toHaveLength(1);
  });
  it('non-image files are listed with their name and the reason', () => {
    const l = detectLayout(files('trainA/1.jpg', 'trainB/2.jpg', 'trainA/notes.txt', 'trainB/README'));
    expect(l.problems).toEqual([
      { path: 'trainA/notes.txt', reason: 'not an image (.txt); use jpg, png, webp, bmp or gif' },
      { path: 'trainB/README', reason: 'not an image (no file extension)' },
    ]);
  });
  it('files outside the known folders are listed, not silently dropped', () => {
    const l = detectLayout(files('ds/trainA/1.jpg', 'ds/trainB/2.jpg', 'ds/extra/3.jpg'));
    expect(l.problems[0].path).toBe('ds/extra/3.jpg');
    expect(l.problems[0].reason).toMatch(/outside the dataset's folders/);
  });
  it('a one-sided dataset gets one clear message, and still lists the files it could not use', () => {
    expect(() => detectLayout(files('trainA/1.jpg', 'trainA/2.jpg'))).toThrow(/domain B has no images/);
    try {
      detectLayout(files('trainA/1.jpg', 'trainA/notes.txt'));
    } catch (e) {
      expect(e).toBeInstanceOf(LayoutError);
      expect((e as LayoutError).problems.map((p) => p.path)).toEqual(['trainA/notes.txt']);
    }
    expect.assertions(3);
  });
  it('an empty dataset gets one clear message', () => {
    expect(() => detectLayout(files('notes.txt'))).toThrow(/no images to train on/);
    expect(() => detectLayout([])).toThrow(/no images to train on/);
  });
  it('too many folders says which layouts work', () => {
    expect(() => detectLayout(files('a/1.jpg', 'b/1.jpg', 'c/1.jpg'))).toThrow(/trainA\/ and trainB\//);
  });
  it('unmatched and duplicate names in pairs are listed', () => {
    const p = pairByName(files('A/x.png', 'A/y.png', 'A/sub/y.jpg'), files('B/x.jpg', 'B/z.jpg'));
    expect(names(p.A)).toEqual(['A/x.png']);
    expect(p.problems.map((q) => `${q.path}: ${q.reason.split(':')[0]}`)).toEqual([
      'A/sub/y.jpg: duplicate name in A',
      'A/y.png: unmatched pair name',
      'B/z.jpg: unmatched pair name',
    ]);
  });
});
