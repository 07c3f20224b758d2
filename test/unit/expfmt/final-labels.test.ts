/**
 * The one rule for a series' final labels under its group (shared/expfmt/final-labels.ts), which both the
 * text and the protobuf snapshot renders write: group labels win, empty values are left out, `instance=""`
 * goes at its sorted place when neither side has an instance.
 */
import { finalLabels, type GroupLabels } from '../../../shared/expfmt/final-labels';
import type { Labels } from '../../../shared/model/types';

function group(key: Record<string, string>): GroupLabels {
  const values = Object.keys(key)
    .sort()
    .filter((n) => key[n] !== '')
    .map((n) => [n, key[n]!] as const);
  return {
    names: new Set(values.map((v) => v[0])),
    values,
    hasInstance: 'instance' in key && key.instance !== '',
  };
}

function listed(g: GroupLabels, labels: Labels): [string, string, number][] {
  const l = finalLabels(g, labels);
  return Array.from({ length: l.count }, (_, k) => [l.names[k]!, l.values[k]!, l.groupIndex[k]!]);
}

describe('finalLabels', () => {
  it.each<[string, Record<string, string>, Labels, [string, string, number][]]>([
    [
      'group wins over the same-named series label; instance="" at its sorted place',
      { job: 'j' },
      { job: 'mine', a: '1', z: '2' },
      [
        ['a', '1', -1],
        ['instance', '', -1],
        ['job', 'j', 0],
        ['z', '2', -1],
      ],
    ],
    [
      'series instance: no implied one',
      { job: 'j' },
      { instance: 'i' },
      [
        ['instance', 'i', -1],
        ['job', 'j', 0],
      ],
    ],
    [
      'group instance: no implied one',
      { instance: 'g', job: 'j' },
      { instance: 's' },
      [
        ['instance', 'g', 0],
        ['job', 'j', 1],
      ],
    ],
    [
      'empty series values are left out',
      { job: 'j' },
      { a: '', instance: '' },
      [
        ['instance', '', -1],
        ['job', 'j', 0],
      ],
    ],
    [
      'implied instance last when every name sorts before it',
      { a: 'x' },
      { b: 'y' },
      [
        ['a', 'x', 0],
        ['b', 'y', -1],
        ['instance', '', -1],
      ],
    ],
    [
      'hostile names and values are passed through as given',
      { job: 'j' },
      { __proto__x: 'v', 'ü.x': 'a"b\n' },
      [
        ['__proto__x', 'v', -1],
        ['instance', '', -1],
        ['job', 'j', 0],
        ['ü.x', 'a"b\n', -1],
      ],
    ],
  ])('%s', (_, key, labels, want) => {
    expect(listed(group(key), labels)).toEqual(want);
  });

  it('a __proto__ own key is a label like any other', () => {
    const labels = JSON.parse('{"__proto__":"p","b":"1"}') as Labels;
    expect(listed(group({ job: 'j' }), labels).map((x) => x[0])).toEqual([
      '__proto__',
      'b',
      'instance',
      'job',
    ]);
  });
});
