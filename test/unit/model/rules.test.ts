/** The small data-model rules with one home in shared/model: gauge ties, bucket layouts, the name memo. */
import { boundsKey, sameBounds } from '../../../shared/model/buckets';
import { gaugeSetWins, newerSet } from '../../../shared/model/gauge';
import { labelNameProblemMemo, metricNameProblemMemo, NAME_MEMO_MAX } from '../../../shared/model/name-memo';
import { labelNameProblem } from '../../../shared/model/names';

describe('gauge last writer wins', () => {
  it.each([
    [{ timeMs: 2, value: 1 }, { timeMs: 1, value: 9 }, true],
    [{ timeMs: 1, value: 9 }, { timeMs: 2, value: 1 }, false],
    [{ timeMs: 1, value: 2 }, { timeMs: 1, value: 1 }, true],
    [{ timeMs: 1, value: 1 }, { timeMs: 1, value: 2 }, false],
    [{ timeMs: 1, value: 1 }, { timeMs: 1, value: 1 }, false],
    [{ timeMs: 1, value: Number.NaN }, { timeMs: 1, value: 1 }, false],
    [{ timeMs: 0, value: 0 }, { timeMs: Number.NEGATIVE_INFINITY, value: 0 }, true],
  ])('%j over %j: %s', (a, b, wins) => {
    expect(newerSet(a, b)).toBe(wins);
    expect(gaugeSetWins(a.timeMs, a.value, b.timeMs, b.value)).toBe(wins);
  });

  it('the winner of a set of sets does not depend on their order', () => {
    const sets = [
      { timeMs: 5, value: 1 },
      { timeMs: 5, value: 3 },
      { timeMs: 4, value: 9 },
      { timeMs: 5, value: 2 },
    ];
    const winner = (xs: typeof sets) => xs.reduce((w, s) => (newerSet(s, w) ? s : w));
    expect(winner(sets)).toEqual({ timeMs: 5, value: 3 });
    expect(winner([...sets].reverse())).toEqual({ timeMs: 5, value: 3 });
  });
});

describe('bucket layouts', () => {
  it.each([
    [[1, 2], [1, 2], true],
    [[1, 2], [1, 3], false],
    [[1], [1, 2], false],
    [undefined, undefined, true],
    [undefined, [], false],
    [[0], [-0], true],
  ])('sameBounds(%j, %j) = %s', (a, b, same) => {
    expect(sameBounds(a, b)).toBe(same);
    if (a && b) expect(boundsKey(a) === boundsKey(b)).toBe(same);
  });
});

describe('name memo', () => {
  it.each(['le', 'x', '__proto__', '', 'a-b', 'constructor', 'a'.repeat(257)])(
    '%s: the memo answers as the rule does, twice',
    (name) => {
      expect(labelNameProblemMemo(name)).toBe(labelNameProblem(name));
      expect(labelNameProblemMemo(name)).toBe(labelNameProblem(name));
    },
  );

  it('stays correct past its bound (hostile input cannot grow it or poison it)', () => {
    for (let i = 0; i < NAME_MEMO_MAX + 10; i++) expect(metricNameProblemMemo(`m${i}`)).toBeUndefined();
    expect(metricNameProblemMemo('1bad')).toMatch(/must match/);
    expect(metricNameProblemMemo(42)).toBe('must be a string');
  });
});
