/**
 * The renderer's memory-saving paths (docs/memory.md): the body handed out as `parts` (the cached chunk
 * strings, never joined unless `body` is read), and chunk label texts dropped after each block build and
 * recomputed when a later build needs them (cross-group dedupe, the other format, a changed neighbour).
 * Every case compares a cached render sequence with a fresh uncached render of the same snapshot.
 */
import { RenderCache, renderSnapshot, renderSnapshotWithStats } from '../../../shared/expfmt/snapshot-render';
import type { MetricFamily } from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';
import { counter, gauge, histogram, summary } from './fixtures';

function group(key: Record<string, string>, families: MetricFamily[], lastUpdateMs = 1000): GroupState {
  return { key, lastUpdateMs, lastPushMs: 1_700_000_000_000, families };
}
const snap = (groups: GroupState[], generation = 'g'): StoreSnapshot => ({
  generation,
  takenAtMs: 0,
  groups,
});

const hostile = counter('h_total', [
  { labels: { constructor: 'x', v: 'a"b\\c\nd' }, value: Number.NaN },
  { labels: { constructor: 'y', v: '🚀\ud800' }, value: Number.POSITIVE_INFINITY },
  { labels: { constructor: 'z', v: 'v'.repeat(5000) }, value: 1.7976931348623157e308 },
]);
const unsorted = gauge('g', [
  { labels: { k: 'b' }, value: 2 },
  { labels: { k: 'a' }, value: 1 },
  { labels: { k: 'c' }, value: -0 },
]);
/** Series that coincide once the group's `job` overrides theirs: one is dropped. */
const coinciding = gauge('dup', [
  { labels: { job: 'mine', k: '1' }, value: 1 },
  { labels: { job: 'other', k: '1' }, value: 2 },
  { labels: { k: '0' }, value: 3 },
]);
const hist = histogram('lat', [
  {
    labels: { k: '1' },
    buckets: [
      { le: 0.1, count: 1 },
      { le: 1, count: 2 },
    ],
    sum: 1.5,
    count: 3,
  },
]);
const summ = summary('s', [{ labels: {}, quantiles: [{ quantile: 0.5, value: 1 }], sum: 2, count: 2 }]);

const scenarios: [string, GroupState[]][] = [
  ['empty store', []],
  ['one group, hostile labels and values', [group({ job: 'a' }, [hostile])]],
  ['unsorted series and coinciding series', [group({ job: 'a', instance: 'i' }, [unsorted, coinciding])]],
  [
    'groups that collide: {job=a} and {job=a,instance=i} expose the same series',
    [
      group({ job: 'a' }, [gauge('g', [{ labels: { instance: 'i', k: '1' }, value: 1 }]), hist], 2000),
      group({ job: 'a', instance: 'i' }, [gauge('g', [{ labels: { k: '1' }, value: 2 }]), summ], 1000),
    ],
  ],
  [
    'type conflict across groups',
    [group({ job: 'a' }, [gauge('x', [{ labels: {}, value: 1 }])], 1), group({ job: 'b' }, [hist], 2)],
  ],
  ['an empty family', [group({ job: 'a' }, [gauge('empty', [])])]],
];

describe.each(['text', 'openmetrics'] as const)('%s', (format) => {
  it.each(scenarios)('parts join to the body: %s', (_n, groups) => {
    const r = renderSnapshotWithStats(snap(groups), format, { cache: new RenderCache() });
    expect(r.parts.join('')).toBe(renderSnapshot(snap(groups), format));
    expect(r.body).toBe(r.parts.join(''));
  });

  it.each(scenarios)('a cached sequence equals fresh renders: %s', (_n, groups) => {
    const cache = new RenderCache();
    const other = format === 'text' ? 'openmetrics' : 'text';
    // First render, then the other format from the same chunks (label texts were dropped: recomputed).
    renderSnapshotWithStats(snap(groups), format, { cache });
    expect(renderSnapshotWithStats(snap(groups), other, { cache }).parts.join('')).toBe(
      renderSnapshot(snap(groups), other),
    );
    // A neighbour changes (new family object, newer update): blocks are rebuilt from cached chunks,
    // dedupe decisions recomputed from recomputed label texts.
    const changed = groups.map((g, i) =>
      i === 0 ? { ...g, lastUpdateMs: 5000, families: g.families.map((f) => ({ ...f })) } : g,
    );
    const again = renderSnapshotWithStats(snap(changed, 'g2'), format, { cache });
    expect(again.parts.join('')).toBe(renderSnapshot(snap(changed, 'g2'), format));
    expect(again.body).toBe(renderSnapshot(snap(changed, 'g2'), format));
  });
});

it('parts reuse the cached chunk strings across renders (nothing re-rendered, no joined copy)', () => {
  const cache = new RenderCache();
  const big = group({ job: 'a' }, [
    counter(
      'c_total',
      Array.from({ length: 200 }, (_, i) => ({ labels: { i: String(i) }, value: i })),
    ),
  ]);
  const a = renderSnapshotWithStats(snap([big]), 'text', { cache });
  const b = renderSnapshotWithStats(snap([big], 'g2'), 'text', { cache });
  expect(b.stats.chunksRendered).toBe(0);
  const chunkA = a.parts.find((p) => p.startsWith('c_total{'));
  const chunkB = b.parts.find((p) => p.startsWith('c_total{'));
  expect(chunkA).toBeDefined();
  expect(chunkB).toBe(chunkA);
  expect(chunkA!.split('\n').length - 1).toBe(200);
});
