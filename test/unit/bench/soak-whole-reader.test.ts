/**
 * The soak's "push seen whole" check (bench/soak/whole-reader.ts): which snapshots count as a push seen
 * whole, and which as a mix, a cut push, a step back or a wrong final state.
 */
import { canonicalState, PushHistory } from '../../../bench/soak/whole-reader';
import type { MetricFamily, ScalarFamily } from '../../../shared/model/types';
import type { StoreSnapshot } from '../../../shared/store/types';

const G = { job: 'soak', instance: 'http-0' };
const gauge = (n: number, k: number): ScalarFamily => ({
  name: 'g',
  help: '',
  type: 'gauge',
  series: Array.from({ length: n }, (_, i) => ({ labels: { s: `s${i}` }, value: k * 1000 + i })),
});
const counter = (k: number): ScalarFamily => ({
  name: 'c_total',
  help: '',
  type: 'counter',
  series: [{ labels: {}, value: k }],
});
const snap = (families?: MetricFamily[]): StoreSnapshot => ({
  generation: '1',
  takenAtMs: 0,
  groups: families ? [{ key: { ...G }, lastUpdateMs: 0, families }] : [],
});

/** History: push 1 = PUT g(3)@1 + c@1; push 2 = PUT g(2)@2; push 3 = POST c@3 onto push 2. */
function history(): PushHistory {
  const h = new PushHistory();
  h.expect(G, [gauge(3, 1), counter(1)]);
  h.expect(G, [gauge(2, 2)]);
  h.expect(G, [gauge(2, 2), counter(3)]);
  return h;
}

describe('PushHistory', () => {
  it('accepts the states of complete pushes in order, and the group absent before the first', () => {
    const h = history();
    expect(h.check(snap())).toEqual([]);
    expect(h.check(snap([counter(1), gauge(3, 1)]))).toEqual([]);
    expect(h.check(snap([gauge(2, 2)]))).toEqual([]);
    expect(h.check(snap([gauge(2, 2), counter(3)]), true)).toEqual([]);
  });

  it.each([
    ['new gauge series beside the old counter (a PUT seen half applied)', [gauge(2, 2), counter(1)]],
    [
      'old and new gauge values mixed',
      [{ ...gauge(2, 2), series: [...gauge(3, 1).series.slice(0, 1), ...gauge(2, 2).series.slice(1)] }],
    ],
    ['a cut push: part of the series', [gauge(1, 2)]],
    [
      'an extra series',
      [{ ...gauge(2, 2), series: [...gauge(2, 2).series, { labels: { s: 'x' }, value: 0 }] }],
    ],
    [
      'a value changed',
      [
        {
          ...gauge(2, 2),
          series: [
            { labels: { s: 's0' }, value: 2000 },
            { labels: { s: 's1' }, value: 7 },
          ],
        },
      ],
    ],
  ] as [string, MetricFamily[]][])('refuses %s', (_t, families) => {
    const problems = history().check(snap(families));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/a state no push produced/);
  });

  it('refuses a step back, and a final state other than the last push', () => {
    const h = history();
    expect(h.check(snap([gauge(2, 2)]))).toEqual([]);
    expect(h.check(snap([gauge(3, 1), counter(1)]))).toEqual([
      expect.stringMatching(/went back from push 2 to push 1/),
    ]);
    expect(h.check(snap([gauge(2, 2)]), true)).toEqual([
      expect.stringMatching(/ends at push 2, not the last \(3\)/),
    ]);
  });

  it('canonical states ignore order and HELP, not types or values', () => {
    const a = canonicalState([gauge(2, 1), counter(1)]);
    expect(
      canonicalState([counter(1), { ...gauge(2, 1), help: 'x', series: [...gauge(2, 1).series].reverse() }]),
    ).toBe(a);
    expect(canonicalState([gauge(2, 1), { ...counter(1), type: 'gauge' }])).not.toBe(a);
    expect(canonicalState([gauge(2, 1), counter(2)])).not.toBe(a);
  });
});
