import { describe, expect, it } from 'vitest';
import { groupProblems } from './problems';

describe('problem groups', () => {
  it('forty files with the same reason are one group with a count', () => {
    const reason = 'outside the dataset\'s folders (traina, trainb, testa, testb): "testA_truth" is not one of them';
    const problems = Array.from({ length: 40 }, (_, i) => ({ path: `d/testA_truth/${(i * 7) % 40}.png`, reason }));
    const groups = groupProblems([...problems, { path: 'd/trainA/notes.txt', reason: 'not an image (.txt); use jpg, png, webp, bmp or gif' }]);
    expect(groups).toHaveLength(2);
    expect(groups[0]).toMatchObject({ reason, same: true });
    // in name order, whatever order the browser listed them in
    expect(groups[0].problems.map((p) => p.path)).toEqual(Array.from({ length: 40 }, (_, i) => `d/testA_truth/${i}.png`));
    expect(groups[1]).toMatchObject({ reason: 'not an image (.txt); use jpg, png, webp, bmp or gif', same: true });
  });
  it('reasons that differ only in their details group by their kind, each keeping its own', () => {
    const groups = groupProblems([
      { path: 'a.png', reason: 'too small (8×8): needs at least 16 px per side' },
      { path: 'b.png', reason: 'corrupt png image: it could not be decoded' },
      { path: 'c.png', reason: 'too small (10×12): needs at least 16 px per side' },
    ]);
    expect(groups.map((g) => [g.reason, g.same, g.problems.map((p) => p.path)])).toEqual([
      ['too small', false, ['a.png', 'c.png']],
      ['corrupt png image: it could not be decoded', true, ['b.png']],
    ]);
    expect(groups[0].problems[1].reason).toMatch(/10×12/);
  });
  it('no problems, no groups', () => {
    expect(groupProblems([])).toEqual([]);
  });
});
