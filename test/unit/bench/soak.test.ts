/**
 * The soak's independent count and its comparison with a store snapshot (bench/soak.ts): what counts as
 * lost, doubled or unexpected; last-writer-wins for sets; the CLI's options; the RSS trend.
 */
import { ExpectedTotals, parseSoakArgs, rng, slope } from '../../../bench/soak';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';

const G = { job: 'soak', instance: 'p0' };
const B = [1, 5];

function model(): ExpectedTotals {
  const m = new ExpectedTotals();
  m.add(G, 'c_total', { k: 'a' }, 2);
  m.add(G, 'c_total', { k: 'a' }, 3);
  m.add(G, 'g', {}, -4);
  m.observe(G, 'h', { k: 'x' }, B, 0.5);
  m.observe(G, 'h', { k: 'x' }, B, 3);
  m.observe(G, 'h', { k: 'x' }, B, 9);
  m.set(G, 's', {}, 100, 7);
  m.set(G, 's', {}, 50, 99); // older: loses
  return m;
}

function snapshot(
  overrides: { c?: number; g?: number; hCount?: number; s?: number; extra?: boolean; drop?: boolean } = {},
): StoreSnapshot {
  const families: GroupState['families'][number][] = [
    {
      name: 'c_total',
      help: '',
      type: 'counter',
      series: overrides.drop ? [] : [{ labels: { k: 'a' }, value: overrides.c ?? 5 }],
    },
    { name: 'g', help: '', type: 'gauge', series: [{ labels: {}, value: overrides.g ?? -4 }] },
    {
      name: 'h',
      help: '',
      type: 'histogram',
      series: [
        {
          labels: { k: 'x' },
          buckets: [
            { le: 1, count: 1 },
            { le: 5, count: 2 },
          ],
          sum: 12.5,
          count: overrides.hCount ?? 3,
        },
      ],
    },
    {
      name: 's',
      help: '',
      type: 'gauge',
      series: [
        { labels: {}, value: overrides.s ?? 7 },
        ...(overrides.extra ? [{ labels: { k: 'new' }, value: 1 }] : []),
      ],
    },
  ];
  return {
    generation: '1',
    takenAtMs: 0,
    groups: [
      { key: G, lastUpdateMs: 1, families },
      // Other jobs (the pipeline's own metrics) are not compared.
      {
        key: { job: 'accrue', instance: 'soak' },
        lastUpdateMs: 1,
        families: [{ name: 'x', help: '', type: 'gauge', series: [{ labels: {}, value: 1 }] }],
      },
    ],
  };
}

describe('ExpectedTotals.compare', () => {
  it('passes when the store holds exactly the producer-side totals', () => {
    const r = model().compare(snapshot(), 'soak');
    expect(r.checks.filter((c) => !c.ok)).toEqual([]);
    expect(r.checks).toHaveLength(5); // 4 series + "no unexpected series"
    expect([r.lost, r.doubled]).toEqual([0, 0]);
  });

  it.each<[string, Parameters<typeof snapshot>[0], { lost: number; doubled: number; failed: RegExp }]>([
    ['a counter counted twice', { c: 10 }, { lost: 0, doubled: 5, failed: /c_total/ }],
    ['a counter short', { c: 3 }, { lost: 2, doubled: 0, failed: /c_total/ }],
    ['a gauge delta off', { g: -8 }, { lost: 0, doubled: 0, failed: /^g\{/ }],
    ['a histogram observation doubled', { hCount: 4 }, { lost: 0, doubled: 1, failed: /^h\{/ }],
    ['the older set winning', { s: 99 }, { lost: 0, doubled: 0, failed: /^s\{/ }],
    ['a series missing', { drop: true }, { lost: 2, doubled: 0, failed: /missing from the store/ }],
    [
      'an unexpected series',
      { extra: true },
      { lost: 0, doubled: 0, failed: /no series the producers did not send/ },
    ],
  ])('fails on %s', (_, over, want) => {
    const r = model().compare(snapshot(over), 'soak');
    const failed = r.checks.filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(`${failed[0]!.name} ${failed[0]!.detail}`).toMatch(want.failed);
    expect([r.lost, r.doubled]).toEqual([want.lost, want.doubled]);
  });

  it('breaks a set-time tie toward the larger value, as the store contract does', () => {
    const m = new ExpectedTotals();
    m.set(G, 's', {}, 10, 1);
    m.set(G, 's', {}, 10, 3);
    m.set(G, 's', {}, 10, 2);
    const snap: StoreSnapshot = {
      generation: '1',
      takenAtMs: 0,
      groups: [
        {
          key: G,
          lastUpdateMs: 1,
          families: [{ name: 's', help: '', type: 'gauge', series: [{ labels: {}, value: 3 }] }],
        },
      ],
    };
    expect(m.compare(snap, 'soak').checks.every((c) => c.ok)).toBe(true);
  });

  it('keeps label values with newlines, quotes and prototype names apart', () => {
    const m = new ExpectedTotals();
    for (const v of ['a\nb', 'a"b', '__proto__', 'constructor', 'a\\nb']) m.add(G, 'c_total', { k: v }, 1);
    expect(m.size).toBe(5);
  });

  it('refuses to mix kinds on one series', () => {
    const m = new ExpectedTotals();
    m.add(G, 'x', {}, 1);
    expect(() => m.set(G, 'x', {}, 1, 1)).toThrow(/not a set/);
    expect(() => m.observe(G, 'x', {}, [1], 1)).toThrow(/not a histogram/);
  });
});

describe('helpers', () => {
  it('slope is the least-squares fit', () => {
    expect(slope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(slope([0, 1, 2], [5, 5, 5])).toBe(0);
    expect(slope([1], [1])).toBe(0);
    expect(slope([2, 2], [1, 9])).toBe(0);
  });

  it('rng is deterministic per seed and within [0, 1)', () => {
    const a = rng(42);
    const b = rng(42);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b()));
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(rng(43)()).not.toBe(xs[0]);
  });
});

describe('soak CLI options', () => {
  it('defaults: 1M events, 20% faults, DynamoDB', () => {
    expect(parseSoakArgs([])).toMatchObject({
      events: 1_000_000,
      faultRate: 0.2,
      store: 'dynamodb',
      seed: 1,
    });
    expect(
      parseSoakArgs(['--events', '50_000', '--store', 'memory', '--faults', 'throttle,malformed']),
    ).toMatchObject({
      events: 50_000,
      store: 'memory',
      faultKinds: ['throttle', 'malformed'],
    });
  });

  it.each<[string[], RegExp]>([
    [['--events', '0'], /--events must be an integer in 1..1e9/],
    [['--events', '1.5'], /--events must be an integer/],
    [['--events', 'NaN'], /--events must be an integer/],
    [['--events', '1e12'], /--events must be an integer in 1..1e9/],
    [['--fault-rate', '1.5'], /--fault-rate must be a number in 0..1/],
    [['--fault-rate', 'Infinity'], /--fault-rate must be a number in 0..1/],
    [['--store', 'redis'], /--store must be "memory" or "dynamodb"/],
    [['--faults', '__proto__'], /--faults: unknown kind "__proto__"/],
    [['--concurrency', '0'], /--concurrency must be an integer in 1..100/],
  ])('%j is refused', (argv, message) => {
    expect(() => parseSoakArgs(argv)).toThrow(message);
  });

  it('reports every problem at once', () => {
    expect(() => parseSoakArgs(['--events', '-1', '--store', 'x'])).toThrow(/--events.*--store/);
  });
});
