import { beforeEach, describe, expect, it } from 'vitest';
import { useStudio } from './studio';

const initial = useStudio.getState();
beforeEach(() => useStudio.setState(initial, true));

describe('a failed load in the store', () => {
  it('drops the loaded dataset and its thumbnails, and keeps the failure for the data panel', () => {
    const s = useStudio.getState();
    const picture = { width: 1, height: 1, data: new Uint8ClampedArray(4) };
    s.apply({ type: 'dataset', summary: { name: 'cats2dogs', mode: 'cycle_gan', arrangement: 'unaligned', countA: 4, countB: 4, testCount: 0, problems: [], ignored: 0, unchecked: 0 }, thumbnails: { A: [picture], B: [picture] } });
    s.apply({ type: 'state', state: 'loading', runId: null });
    const problems = [{ path: 'onesided/trainA/notes.txt', reason: 'not an image (.txt)' }];
    s.apply({ type: 'loadFailed', name: 'onesided', message: 'domain B has no images', problems, oneDomain: null });
    const after = useStudio.getState();
    expect(after.dataset).toBeNull();
    expect(after.thumbnails).toBeNull();
    expect(after.loading).toBeNull();
    expect(after.loadFailure).toEqual({ name: 'onesided', message: 'domain B has no images', problems, oneDomain: null });
    // not the page-wide error: the data panel shows it
    expect(after.error).toBeNull();
  });
});
