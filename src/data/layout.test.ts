import { describe, expect, it } from 'vitest';
import type { SourceFile } from './dataset';
import { detectLayout, pairByName } from './layout';

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
  it('the user can override the mode', () => {
    expect(detectLayout(files('trainA/1.png', 'trainB/1.png', 'trainA/2.png', 'trainB/3.png'), 'pix2pix').arrangement).toBe('paired');
    expect(detectLayout(files('photos/a.jpg', 'labels/a.png'), 'cycle_gan').arrangement).toBe('unaligned');
    expect(() => detectLayout(files('cats/1.jpg', 'dogs/2.jpg'), 'pix2pix')).toThrow(/same name/);
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
  it('a one-sided dataset gets one clear message', () => {
    expect(() => detectLayout(files('trainA/1.jpg', 'trainA/2.jpg'))).toThrow(/domain B has no images/);
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
