/**
 * The memory store's compact representation (docs/memory.md): label objects copied into fast-mode frozen
 * objects without inherited properties, scalar series held as their frozen snapshot objects (a change
 * replaces the object), gauge-set times kept beside them, label values shared within one push.
 * Given / when / then: what is stored must read back exactly, including hostile names and values.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Labels, MetricFamily } from '../../../shared/model/types';
import { MemoryStore } from '../../../shared/store/memory';
import {
  counterFamily,
  findFamily,
  gaugeFamily,
  inc,
  plain,
  req,
  seriesValue,
  set,
} from '../../contract/helpers';
import { validApplies, validPush } from '../../support/edge';

const G = { job: 'compact', instance: 'i1' };

const dirs: string[] = [];
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const push = (s: MemoryStore, families: MetricFamily[], t = 1000, method: 'PUT' | 'POST' = 'PUT') =>
  s.push(validPush({ method, group: G, families, pushTimeMs: t }));

/** Within the default maxLabelValueLength (1024). */
const long = 'v'.repeat(1024);
/** A big pushed "body" whose slices become label values, as the text parser produces them. */
const body = `prefix ${long} middle "quoted" and\nnewline \\ backslash suffix`;

describe('labels read back exactly', () => {
  it.each<[string, Labels]>([
    ['plain', { a: '1', b: '2' }],
    [
      'names like Object.prototype members',
      { constructor: 'c', toString: 't', hasOwnProperty: 'h', valueOf: 'v' },
    ],
    ['newline, quote and backslash in values', { a: 'x\ny', b: 'say "hi"', c: 'back\\slash' }],
    ['unicode and a lone surrogate', { a: 'zürich 東京 🚀', b: '\ud800x' }],
    ['a value at maxLabelValueLength', { big: long }],
    ['values sliced out of a larger string', { a: body.slice(7, 7 + 1024), b: body.slice(-40) }],
    [
      'many labels (beyond in-object slots)',
      Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`l${i}`, `v${i}`])),
    ],
    ['no labels', {}],
  ])('%s', async (_name, labels) => {
    const s = await MemoryStore.open();
    await push(s, [counterFamily('c_total', [[labels, 1]])]);
    const got = findFamily(await s.snapshot(), G, 'c_total')!.series[0]!.labels;
    expect(plain(got)).toEqual(plain(labels));
    expect(Object.keys(got)).toEqual(Object.keys(labels));
    expect(Object.isFrozen(got)).toBe(true);
    // Nothing inherited: names that exist on Object.prototype resolve only when they are labels.
    for (const n of ['toString', 'constructor', 'hasOwnProperty', '__proto__', 'valueOf'])
      expect(n in got).toBe(Object.hasOwn(labels, n));
    expect(Object.getPrototypeOf(Object.getPrototypeOf(got))).toBeNull();
  });

  it.each<[string, Labels]>([
    ['a value one over maxLabelValueLength', { a: 'v'.repeat(1025) }],
    ['a 1 MiB value', { a: 'v'.repeat(1 << 20) }],
  ])('refuses %s and stores nothing', async (_name, labels) => {
    const s = await MemoryStore.open();
    await expect(
      push(s, [
        counterFamily('c_total', [
          [{ a: 'ok' }, 1],
          [labels, 1],
        ]),
      ]),
    ).rejects.toThrow(/maxLabelValueLength/);
    expect(s.stats().series).toBe(0);
  });

  it('keeps labels exact when one push repeats values across series and families', async () => {
    const s = await MemoryStore.open();
    const fams = ['a_total', 'b_total'].map((n) =>
      counterFamily(
        n,
        Array.from({ length: 50 }, (_, i): [Labels, number] => [{ series: `s${i % 10}`, shard: `x${i}` }, i]),
      ),
    );
    await push(s, fams);
    const snap = await s.snapshot();
    for (const n of ['a_total', 'b_total']) {
      const f = findFamily(snap, G, n)!;
      expect(f.series).toHaveLength(50);
      for (let i = 0; i < 50; i++)
        expect(seriesValue(snap, G, n, { series: `s${i % 10}`, shard: `x${i}` })).toBe(i);
    }
  });

  it.each([
    ['NaN', Number.NaN],
    ['+Inf', Number.POSITIVE_INFINITY],
    ['-Inf', Number.NEGATIVE_INFINITY],
    ['-0', -0],
    ['huge', 1.7976931348623157e308],
    ['tiny', 5e-324],
  ])('keeps the pushed value %s', async (_n, v) => {
    const s = await MemoryStore.open();
    await push(s, [gaugeFamily('g', [[{ k: '1' }, v]])]);
    expect(Object.is(seriesValue(await s.snapshot(), G, 'g', { k: '1' }), v)).toBe(true);
  });
});

describe('scalar series are their snapshot objects', () => {
  it('a change replaces the series object; earlier snapshots keep their values', async () => {
    const s = await MemoryStore.open();
    await s.apply(
      validApplies([req('1', G, [inc('x_total', { k: '1' }, 1), inc('x_total', { k: '2' }, 5)])]),
    );
    const a = await s.snapshot();
    const fa = findFamily(a, G, 'x_total')!;
    await s.apply(validApplies([req('2', G, [inc('x_total', { k: '1' }, 2)])]));
    const b = await s.snapshot();
    const fb = findFamily(b, G, 'x_total')!;
    expect(seriesValue(a, G, 'x_total', { k: '1' })).toBe(1);
    expect(seriesValue(b, G, 'x_total', { k: '1' })).toBe(3);
    expect(fb.series[0]).not.toBe(fa.series[0]);
    expect(fb.series[0]!.labels).toBe(fa.series[0]!.labels); // labels object reused
    expect(fb.series[1]).toBe(fa.series[1]); // untouched series: same object
    expect(Object.isFrozen(fb.series[0])).toBe(true);
    // Nothing but the sample and, for a counter the store accumulates, its start.
    expect(Object.keys(fb.series[0]!).sort()).toEqual(['createdMs', 'labels', 'value']);
    expect(fb.series[0]!.createdMs).toBe(fa.series[0]!.createdMs);
  });

  it.each([
    [
      'newer set wins',
      [
        [10, 1],
        [20, 2],
      ],
      2,
    ],
    [
      'older set after newer is ignored',
      [
        [20, 2],
        [10, 1],
      ],
      2,
    ],
    [
      'same time: larger value wins',
      [
        [10, 1],
        [10, 5],
        [10, 3],
      ],
      5,
    ],
    ['set after an add keeps the set value', [[10, 7]], 7],
  ])('gauge set, last writer by event time: %s', async (_n, sets, want) => {
    const s = await MemoryStore.open();
    await s.apply(
      validApplies([req('0', G, [{ kind: 'gauge_add', name: 'g', labels: { k: '1' }, value: 100 }])]),
    );
    let i = 0;
    for (const [t, v] of sets as number[][])
      await s.apply(validApplies([req(`s${i++}`, G, [set('g', { k: '1' }, v!, t!)])]));
    expect(seriesValue(await s.snapshot(), G, 'g', { k: '1' })).toBe(want);
  });

  it('a pushed gauge has no set time: any later set applies, and a re-push clears the set time', async () => {
    const s = await MemoryStore.open();
    await push(s, [gaugeFamily('g', [[{ k: '1' }, 1]])]);
    await s.apply(validApplies([req('a', G, [set('g', { k: '1' }, 2, 0)])]));
    expect(seriesValue(await s.snapshot(), G, 'g', { k: '1' })).toBe(2);
    await s.apply(validApplies([req('b', G, [set('g', { k: '1' }, 3, 50)])]));
    await push(s, [gaugeFamily('g', [[{ k: '1' }, 4]])], 2000);
    await s.apply(validApplies([req('c', G, [set('g', { k: '1' }, 5, 10)])])); // older than 50, but the push reset it
    expect(seriesValue(await s.snapshot(), G, 'g', { k: '1' })).toBe(5);
  });

  it('gauge set times survive compaction and reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'accrue-mem-compact-'));
    dirs.push(dir);
    const s1 = await MemoryStore.open({ dir, fsync: false });
    await s1.apply(validApplies([req('1', G, [set('g', { k: '1' }, 10, 100), set('g', { k: '2' }, 1, 5)])]));
    await s1.close(); // compacts into state.json
    const s2 = await MemoryStore.open({ dir, fsync: false });
    await s2.apply(validApplies([req('2', G, [set('g', { k: '1' }, 99, 50), set('g', { k: '2' }, 2, 6)])]));
    const snap = await s2.snapshot();
    expect(seriesValue(snap, G, 'g', { k: '1' })).toBe(10); // older than the stored set time: ignored
    expect(seriesValue(snap, G, 'g', { k: '2' })).toBe(2);
    await s2.abandon(); // journal only: replay path
    const s3 = await MemoryStore.open({ dir, fsync: false });
    await s3.apply(validApplies([req('3', G, [set('g', { k: '2' }, 3, 5)])]));
    expect(seriesValue(await s3.snapshot(), G, 'g', { k: '2' })).toBe(2);
    expect(plain(findFamily(await s3.snapshot(), G, 'g')!.series[0]!.labels)).toEqual({ k: '1' });
    await s3.close();
  });
});
