import { describe, expect, it } from 'vitest';
import type { SourceFile } from './dataset';
import { datasetName } from './datasetName';

const file = (path: string, role?: 'A' | 'B'): SourceFile => ({ path, blob: new Blob([]), role });

describe('dataset names', () => {
  it('two domain folders: both names', () => {
    expect(datasetName([file('horses/0000.png', 'A'), file('horses/0001.png', 'A'), file('zebras/0000.png', 'B')])).toBe('horses ↔ zebras');
  });
  it('a dropped or picked folder: its name', () => {
    expect(datasetName([file('cats2dogs/trainA/1.png'), file('cats2dogs/trainB/2.png')])).toBe('cats2dogs');
  });
  it('a zip: its name without .zip', () => {
    expect(datasetName([file('horse2zebra.zip')])).toBe('horse2zebra');
    expect(datasetName([file('downloads/My Facades.ZIP')])).toBe('My Facades');
  });
  it('loose files: how many', () => {
    expect(datasetName([file('photo_0000.png'), file('photo_0001.png')])).toBe('2 images');
    expect(datasetName([file('photo_0000.png'), file('notes.txt'), file('x.zip')])).toBe('3 files');
    expect(datasetName([file('a.png', 'A'), file('zebras.zip', 'B')])).toBe('1 image ↔ zebras');
  });
});
