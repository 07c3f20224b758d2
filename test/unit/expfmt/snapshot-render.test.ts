import fc from 'fast-check';
import { RenderCache, renderSnapshot, renderSnapshotWithStats } from '../../../shared/expfmt/snapshot-render';
import { parseText } from '../../../shared/expfmt/text-parse';
import type { MetricFamily } from '../../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';
import { promtoolCheckMetrics } from '../../support/promtool';
import { groupSpecs } from './arbitraries';
import { counter, gauge, histogram, summary, untyped } from './fixtures';
import { checkOpenMetricsStructure } from './openmetrics-check';

function group(
  key: Record<string, string>,
  families: MetricFamily[],
  extra: Partial<GroupState> = {},
): GroupState {
  return { key, lastUpdateMs: 1000, lastPushMs: 1_700_000_000_123, families, ...extra };
}
function snap(groups: GroupState[], generation = 'g1'): StoreSnapshot {
  return { generation, takenAtMs: 0, groups };
}

const orders = counter('aria_orders_total', [
  { labels: { symbol: 'BTC', action: 'buy' }, value: 3 },
  { labels: { symbol: 'ETH', action: 'sell' }, value: 1 },
]);

describe('renderSnapshot: scenarios (text output checked by promtool)', () => {
  it.each<[string, GroupState[], string]>([
    ['empty store', [], ''],
    [
      'one group without instance: grouping labels and instance="" added, push times',
      [group({ job: 'aria' }, [orders], { lastPushFailureMs: 1_700_000_001_000 })],
      '# HELP aria_orders_total Help of aria_orders_total.\n# TYPE aria_orders_total counter\n' +
        'aria_orders_total{action="buy",instance="",job="aria",symbol="BTC"} 3\n' +
        'aria_orders_total{action="sell",instance="",job="aria",symbol="ETH"} 1\n' +
        '# HELP push_failure_time_seconds Last Unix time when changing this group in the Pushgateway failed.\n' +
        '# TYPE push_failure_time_seconds gauge\npush_failure_time_seconds{instance="",job="aria"} 1.700000001e+09\n' +
        '# HELP push_time_seconds Last Unix time when changing this group in the Pushgateway succeeded.\n' +
        '# TYPE push_time_seconds gauge\npush_time_seconds{instance="",job="aria"} 1.700000000123e+09\n',
    ],
    [
      'group labels override series labels; a group with instance gets no instance=""',
      [
        group(
          { job: 'aria', instance: 'i-1' },
          [gauge('g', [{ labels: { job: 'mine', z: '1' }, value: 2 }])],
          { lastPushMs: undefined },
        ),
      ],
      '# HELP g Help of g.\n# TYPE g gauge\ng{instance="i-1",job="aria",z="1"} 2\n' +
        '# HELP push_failure_time_seconds Last Unix time when changing this group in the Pushgateway failed.\n' +
        '# TYPE push_failure_time_seconds gauge\npush_failure_time_seconds{instance="i-1",job="aria"} 0\n' +
        '# HELP push_time_seconds Last Unix time when changing this group in the Pushgateway succeeded.\n' +
        '# TYPE push_time_seconds gauge\npush_time_seconds{instance="i-1",job="aria"} 0\n',
    ],
    [
      'hostile group label values are escaped',
      [group({ job: 'a"b\\c\nd', constructor: 'x' }, [gauge('g', [{ labels: {}, value: 1 }])])],
      '# HELP g Help of g.\n# TYPE g gauge\ng{constructor="x",instance="",job="a\\"b\\\\c\\nd"} 1\n' +
        '# HELP push_failure_time_seconds Last Unix time when changing this group in the Pushgateway failed.\n' +
        '# TYPE push_failure_time_seconds gauge\npush_failure_time_seconds{constructor="x",instance="",job="a\\"b\\\\c\\nd"} 0\n' +
        '# HELP push_time_seconds Last Unix time when changing this group in the Pushgateway succeeded.\n' +
        '# TYPE push_time_seconds gauge\npush_time_seconds{constructor="x",instance="",job="a\\"b\\\\c\\nd"} 1.700000000123e+09\n',
    ],
  ])('%s', async (_name, groups, want) => {
    const body = renderSnapshot(snap(groups), 'text');
    expect(body).toBe(want);
    expect(await promtoolCheckMetrics(body)).toEqual({ code: 0, output: '' });
  });

  it('two groups with the same family: one HELP, one TYPE, one contiguous block', async () => {
    const body = renderSnapshot(
      snap([
        group({ job: 'b' }, [orders]),
        group({ job: 'a', instance: 'x' }, [orders, gauge('g', [{ labels: {}, value: 1 }])]),
      ]),
      'text',
    );
    expect(body.match(/^# TYPE aria_orders_total /gm)).toHaveLength(1);
    expect(body.match(/^# HELP aria_orders_total /gm)).toHaveLength(1);
    const fams = parseText(body); // refuses non-contiguous families and duplicate series
    expect(fams.map((f) => f.name)).toEqual([
      'aria_orders_total',
      'g',
      'push_failure_time_seconds',
      'push_time_seconds',
    ]);
    expect(fams[0]!.series).toHaveLength(4);
    expect(await promtoolCheckMetrics(body)).toEqual({ code: 0, output: '' });
  });

  it('a series pushed with its own instance in {job} and the same series in {job,instance}: newest group wins', () => {
    const a = group(
      { job: 'j' },
      [
        gauge('g', [
          { labels: { instance: 'x', s: '1' }, value: 1 },
          { labels: { s: '2' }, value: 2 },
        ]),
      ],
      { lastUpdateMs: 5 },
    );
    const b = group({ job: 'j', instance: 'x' }, [gauge('g', [{ labels: { s: '1' }, value: 10 }])], {
      lastUpdateMs: 9,
    });
    const r1 = renderSnapshotWithStats(snap([a, b]), 'text');
    expect(r1.stats.duplicateSeriesDropped).toBe(1);
    expect(r1.body).toContain('g{instance="x",job="j",s="1"} 10\n');
    expect(r1.body).not.toContain('g{instance="x",job="j",s="1"} 1\n');
    expect(r1.body).toContain('g{instance="",job="j",s="2"} 2\n');
    const r2 = renderSnapshotWithStats(snap([{ ...a, lastUpdateMs: 10 }, b]), 'text');
    expect(r2.stats.duplicateSeriesDropped).toBe(1);
    expect(r2.body).toContain('g{instance="x",job="j",s="1"} 1\n');
    expect(r2.body).not.toContain('g{instance="x",job="j",s="1"} 10\n');
  });

  it('series that coincide inside one group once group labels apply are written once', () => {
    const r = renderSnapshotWithStats(
      snap([
        group({ job: 'a' }, [
          gauge('g', [
            { labels: { job: 'own' }, value: 1 },
            { labels: {}, value: 2 },
          ]),
        ]),
      ]),
      'text',
    );
    expect(r.stats.duplicateSeriesDropped).toBe(1);
    expect(r.body).toContain('# TYPE g gauge\ng{instance="",job="a"} 1\n# HELP');
  });

  it('an empty-valued group label neither overrides nor counts as an instance', () => {
    const body = renderSnapshot(
      snap([
        group({ job: 'a', instance: '', zone: '' }, [
          gauge('g', [{ labels: { instance: 'i-9', zone: 'z' }, value: 1 }]),
        ]),
      ]),
      'text',
    );
    expect(body).toContain('g{instance="i-9",job="a",zone="z"} 1\n');
    expect(body).toContain('push_time_seconds{instance="",job="a"} ');
  });

  it('equal update times: the group whose labels sort first wins, whatever the snapshot order', () => {
    const a = group({ job: 'j' }, [gauge('g', [{ labels: { instance: 'x' }, value: 1 }])]);
    const b = group({ job: 'j', instance: 'x' }, [gauge('g', [{ labels: {}, value: 2 }])]);
    const one = renderSnapshot(snap([a, b]), 'text');
    expect(renderSnapshot(snap([b, a]), 'text')).toBe(one);
    expect(one).toContain('g{instance="x",job="j"} 2\n'); // `instance="x",job="j"` sorts before `job="j"`
  });

  it('a family whose type differs between groups keeps the newest type and counts the rest', () => {
    const r = renderSnapshotWithStats(
      snap([
        group({ job: 'a' }, [gauge('m', [{ labels: {}, value: 1 }])], { lastUpdateMs: 1 }),
        group(
          { job: 'b' },
          [
            counter('m', [
              { labels: {}, value: 2 },
              { labels: { x: '1' }, value: 3 },
            ]),
          ],
          { lastUpdateMs: 2 },
        ),
      ]),
      'text',
    );
    expect(r.stats.conflictingSeriesDropped).toBe(1);
    expect(r.body).toContain('# TYPE m counter\nm{instance="",job="b"} 2\nm{instance="",job="b",x="1"} 3\n');
    expect(r.body).not.toContain('m{instance="",job="a"}');
  });

  it('families whose sample names collide across groups: the first name wins, the scrape stays valid', async () => {
    const r = renderSnapshotWithStats(
      snap([
        group({ job: 'a' }, [
          histogram('x', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }]),
        ]),
        group({ job: 'b' }, [
          untyped('x_sum', [
            { labels: {}, value: 5 },
            { labels: { k: 'v' }, value: 6 },
          ]),
        ]),
      ]),
      'text',
    );
    expect(r.stats.conflictingSeriesDropped).toBe(2);
    expect(r.body).not.toContain('# TYPE x_sum');
    expect(parseText(r.body).map((f) => f.name)).toEqual([
      'push_failure_time_seconds',
      'push_time_seconds',
      'x',
    ]);
    expect(await promtoolCheckMetrics(r.body)).toEqual({ code: 0, output: '' });
  });

  // A histogram writes no sample under its own name, so comparing sample names alone let a histogram
  // `h_count` through beside a summary `h` (whose `h_count` it names): Accrue's own parser refused the body.
  // The rule (shared/model/exposed-names.ts `exposedNames`): a family occupies its name and its samples'.
  it.each<[string, MetricFamily, MetricFamily]>([
    [
      'summary h, histogram h_count',
      summary('h', [{ labels: {}, quantiles: [{ quantile: 0.5, value: 1 }], sum: 1, count: 1 }]),
      histogram('h_count', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }]),
    ],
    [
      'histogram h, histogram h_bucket',
      histogram('h', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }]),
      histogram('h_bucket', [{ labels: {}, buckets: [{ le: 2, count: 1 }], sum: 2, count: 1 }]),
    ],
    [
      'histogram h, histogram h_sum',
      histogram('h', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }]),
      histogram('h_sum', [{ labels: { k: 'v' }, buckets: [{ le: 2, count: 1 }], sum: 2, count: 1 }]),
    ],
  ])('%s: the second family is dropped in every format, and the output parses', (_, first, second) => {
    const groups = [group({ job: 'a' }, [first]), group({ job: 'b' }, [second])];
    for (const format of ['text', 'openmetrics'] as const) {
      const r = renderSnapshotWithStats(snap(groups), format);
      expect(r.stats.conflictingSeriesDropped).toBe(1);
      expect(r.body).not.toContain(`# TYPE ${second.name} `);
      if (format === 'openmetrics') checkOpenMetricsStructure(r.body);
      else expect(parseText(r.body).map((f) => f.name)).toContain(first.name);
    }
  });

  it('OpenMetrics: counter x_total and gauge x would both be family x; only one is written', () => {
    const groups = [
      group({ job: 'a' }, [counter('x_total', [{ labels: {}, value: 1 }])]),
      group({ job: 'b' }, [gauge('x', [{ labels: {}, value: 2 }])]),
    ];
    const om = renderSnapshotWithStats(snap(groups), 'openmetrics');
    checkOpenMetricsStructure(om.body);
    expect(om.stats.conflictingSeriesDropped).toBe(1);
    expect(om.body).toContain('# TYPE x gauge\n');
    const text = renderSnapshotWithStats(snap(groups), 'text');
    expect(text.stats.conflictingSeriesDropped).toBe(0); // distinct sample names in text
    expect(text.body).toContain('x_total{instance="",job="a"} 1\n');
  });

  it('extra families are written as given and win over store families of the same name', async () => {
    const r = renderSnapshotWithStats(
      snap([
        group({ job: 'a' }, [
          gauge('accrue_up', [{ labels: {}, value: 0 }]),
          gauge('push_time_seconds', [{ labels: {}, value: 5 }]),
        ]),
      ]),
      'text',
      { extraFamilies: [gauge('accrue_up', [{ labels: {}, value: 1 }])] },
    );
    expect(r.body).toContain('# TYPE accrue_up gauge\naccrue_up 1\n');
    expect(r.body).not.toContain('accrue_up{');
    expect(r.body).toContain('push_time_seconds{instance="",job="a"} 1.700000000123e+09\n');
    expect(r.body).not.toContain('push_time_seconds{instance="",job="a"} 5');
    expect(r.stats.conflictingSeriesDropped).toBe(2);
    expect(await promtoolCheckMetrics(r.body)).toEqual({ code: 0, output: '' });
  });

  it('OpenMetrics: counters with _total samples, histograms, push times, # EOF', () => {
    const body = renderSnapshot(
      snap([
        group({ job: 'a' }, [
          orders,
          histogram('lat', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 0.5, count: 2 }]),
        ]),
      ]),
      'openmetrics',
    );
    checkOpenMetricsStructure(body);
    expect(body).toContain(
      '# TYPE aria_orders counter\naria_orders_total{action="buy",instance="",job="a",symbol="BTC"} 3\n',
    );
    expect(body).toContain(
      'lat_bucket{instance="",job="a",le="1"} 1\nlat_bucket{instance="",job="a",le="+Inf"} 2\n',
    );
    expect(renderSnapshot(snap([]), 'openmetrics')).toBe('# EOF\n');
  });

  it('series within a group are sorted, so insertion order does not matter', () => {
    const g1 = gauge('g', [
      { labels: { s: 'b' }, value: 1 },
      { labels: { s: 'a' }, value: 2 },
    ]);
    const g2 = gauge('g', [
      { labels: { s: 'a' }, value: 2 },
      { labels: { s: 'b' }, value: 1 },
    ]);
    expect(renderSnapshot(snap([group({ job: 'x' }, [g1])]), 'text')).toBe(
      renderSnapshot(snap([group({ job: 'x' }, [g2])]), 'text'),
    );
  });
});

describe('renderSnapshot: caching', () => {
  function bigGroup(job: string, n: number): GroupState {
    return group({ job }, [
      counter(
        'c_total',
        Array.from({ length: n }, (_, i) => ({ labels: { i: String(i) }, value: i })),
      ),
      gauge('g', [{ labels: {}, value: 1 }]),
      histogram('h', [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 }]),
    ]);
  }

  it('re-renders only the family that changed, and the output equals an uncached render', () => {
    const cache = new RenderCache();
    const a = bigGroup('a', 50);
    const b = bigGroup('b', 50);
    const first = renderSnapshotWithStats(snap([a, b]), 'text', { cache });
    expect(first.stats.chunksRendered).toBe(6);

    const again = renderSnapshotWithStats(snap([a, b], 'g1'), 'text', { cache });
    expect(again.stats.chunksRendered).toBe(0);
    expect(again.stats.blocksRebuilt).toBe(0);
    expect(again.body).toBe(first.body);

    // New generation: group b's gauge changed (new object), everything else shared.
    const b2: GroupState = {
      ...b,
      lastUpdateMs: 2000,
      families: [b.families[0]!, gauge('g', [{ labels: {}, value: 42 }]), b.families[2]!],
    };
    const next = renderSnapshotWithStats(snap([a, b2], 'g2'), 'text', { cache });
    expect(next.stats.chunksRendered).toBe(1);
    expect(next.stats.blocksRebuilt).toBe(1);
    expect(next.body).toBe(renderSnapshot(snap([a, b2], 'g2'), 'text'));
    expect(next.body).toContain('g{instance="",job="b"} 42\n');
    expect(cache.chunksRendered).toBe(7);
  });

  it('text and OpenMetrics share the chunk layout but not the bytes', () => {
    const cache = new RenderCache();
    const a = bigGroup('a', 3);
    const t = renderSnapshot(snap([a]), 'text', { cache });
    const om = renderSnapshotWithStats(snap([a]), 'openmetrics', { cache });
    expect(om.stats.chunksRendered).toBe(0); // label layout reused
    expect(om.body).not.toBe(t);
    expect(om.body).toBe(renderSnapshot(snap([a]), 'openmetrics'));
  });

  it('a dropped group disappears and a re-added family object is reused', () => {
    const cache = new RenderCache();
    const a = bigGroup('a', 3);
    const b = bigGroup('b', 3);
    renderSnapshot(snap([a, b]), 'text', { cache });
    const onlyA = renderSnapshotWithStats(snap([a]), 'text', { cache });
    expect(onlyA.body).not.toContain('job="b"');
    expect(onlyA.stats.chunksRendered).toBe(0);
    expect(onlyA.body).toBe(renderSnapshot(snap([a]), 'text'));
  });

  it('precedence changes invalidate a deduplicated block', () => {
    const cache = new RenderCache();
    const a = group({ job: 'j' }, [gauge('g', [{ labels: { instance: 'x' }, value: 1 }])], {
      lastUpdateMs: 1,
    });
    const b = group({ job: 'j', instance: 'x' }, [gauge('g', [{ labels: {}, value: 2 }])], {
      lastUpdateMs: 2,
    });
    expect(renderSnapshot(snap([a, b]), 'text', { cache })).toContain('g{instance="x",job="j"} 2\n');
    const a2 = { ...a, lastUpdateMs: 3 };
    expect(renderSnapshot(snap([a2, b]), 'text', { cache })).toContain('g{instance="x",job="j"} 1\n');
  });
});

describe('renderSnapshot: property', () => {
  const groupsArb = groupSpecs;

  it('always yields a body the strict parser accepts (contiguous, no duplicate series), same as uncached', () => {
    const cache = new RenderCache();
    fc.assert(
      fc.property(groupsArb, (gs) => {
        const groups = gs.map((g) =>
          group(
            g.instance === undefined ? { job: g.job } : { job: g.job, instance: g.instance },
            g.families,
            { lastUpdateMs: g.lastUpdateMs },
          ),
        );
        const r = renderSnapshotWithStats(snap(groups), 'text', { cache });
        const parsed = parseText(r.body);
        const names = parsed.map((f) => f.name);
        expect([...names].sort()).toEqual(names);
        expect(r.body).toBe(renderSnapshot(snap(groups), 'text'));
        checkOpenMetricsStructure(renderSnapshot(snap(groups), 'openmetrics', { cache }));
        for (const f of parsed) for (const s of f.series) expect(Object.hasOwn(s.labels, 'job')).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});
