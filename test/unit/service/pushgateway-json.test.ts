/**
 * `/api/v1/metrics` in the Pushgateway's shape, from a snapshot: number formatting as Go's fmt.Sprint,
 * labels as exposed, the per-group gauges, and names that collide with the group's own fields.
 * (test/integration/pushgateway-differential.test.ts compares it with the real Pushgateway.)
 */
import { goTime, pushgatewayMetricsData } from '../../../service/api/pushgateway-json';
import type { GroupState, StoreSnapshot } from '../../../shared/store/types';

function snap(...groups: GroupState[]): StoreSnapshot {
  return { generation: 'g', takenAtMs: 0, groups };
}

const T = Date.UTC(2026, 11, 3, 10, 15, 7, 200);

describe('Pushgateway-shaped /api/v1/metrics data', () => {
  it('writes every family type with string values as Go prints them', () => {
    const g: GroupState = {
      key: { job: 'j1', instance: 'i1' },
      lastPushMs: T,
      lastUpdateMs: T,
      families: [
        { name: 'c_total', help: '', type: 'counter', series: [{ labels: { a: 'x' }, value: 1e6 }] },
        { name: 'g', help: 'a gauge', type: 'gauge', series: [{ labels: {}, value: 0.1 }] },
        {
          name: 'h',
          help: 'hist help',
          type: 'histogram',
          series: [
            {
              labels: {},
              buckets: [
                { le: 0.5, count: 1 },
                { le: 1e6, count: 2 },
              ],
              sum: 1234567.5,
              count: 3,
            },
          ],
        },
        {
          name: 's',
          help: '',
          type: 'summary',
          series: [{ labels: {}, quantiles: [{ quantile: 0.5, value: 1e-5 }], sum: 3, count: 2 }],
        },
        { name: 'u', help: '', type: 'untyped', series: [{ labels: {}, value: Number.NEGATIVE_INFINITY }] },
      ],
    };
    const [d] = pushgatewayMetricsData(snap(g));
    const stamp = '2026-12-03T10:15:07.2Z';
    expect(JSON.parse(JSON.stringify(d))).toEqual({
      labels: { job: 'j1', instance: 'i1' },
      last_push_successful: true,
      c_total: {
        time_stamp: stamp,
        type: 'COUNTER',
        metrics: [{ labels: { a: 'x', instance: 'i1', job: 'j1' }, value: '1e+06' }],
      },
      g: {
        time_stamp: stamp,
        type: 'GAUGE',
        help: 'a gauge',
        metrics: [{ labels: { instance: 'i1', job: 'j1' }, value: '0.1' }],
      },
      h: {
        time_stamp: stamp,
        type: 'HISTOGRAM',
        help: 'hist help',
        metrics: [
          {
            labels: { instance: 'i1', job: 'j1' },
            buckets: { '0.5': '1', '1e+06': '2', '+Inf': '3' },
            count: '3',
            sum: '1.2345675e+06',
          },
        ],
      },
      s: {
        time_stamp: stamp,
        type: 'SUMMARY',
        metrics: [
          { labels: { instance: 'i1', job: 'j1' }, quantiles: { '0.5': '1e-05' }, count: '2', sum: '3' },
        ],
      },
      u: {
        time_stamp: stamp,
        type: 'UNTYPED',
        metrics: [{ labels: { instance: 'i1', job: 'j1' }, value: '-Inf' }],
      },
      push_time_seconds: {
        time_stamp: stamp,
        type: 'GAUGE',
        help: 'Last Unix time when changing this group in the Pushgateway succeeded.',
        metrics: [{ labels: { instance: 'i1', job: 'j1' }, value: '1.7962929072e+09' }],
      },
      push_failure_time_seconds: {
        time_stamp: stamp,
        type: 'GAUGE',
        help: 'Last Unix time when changing this group in the Pushgateway failed.',
        metrics: [{ labels: { instance: 'i1', job: 'j1' }, value: '0' }],
      },
    });
  });

  it('a group with only a failed push: push_time_seconds 0, last_push_successful false, instance=""', () => {
    const [d] = pushgatewayMetricsData(
      snap({ key: { job: 'j4' }, lastPushFailureMs: T, lastUpdateMs: T, families: [] }),
    );
    const j = JSON.parse(JSON.stringify(d));
    expect(Object.keys(j).sort()).toEqual([
      'labels',
      'last_push_successful',
      'push_failure_time_seconds',
      'push_time_seconds',
    ]);
    expect(j.labels).toEqual({ job: 'j4' });
    expect(j.last_push_successful).toBe(false);
    expect(j.push_time_seconds.metrics).toEqual([{ labels: { instance: '', job: 'j4' }, value: '0' }]);
    expect(j.push_failure_time_seconds.metrics[0].value).toBe('1.7962929072e+09');
  });

  it('time_stamp per family: the push that carried it; the group times for the push_* families', () => {
    const g = (f: string) => ({
      name: f,
      help: '',
      type: 'gauge' as const,
      series: [{ labels: {}, value: 1 }],
    });
    const [d] = pushgatewayMetricsData(
      snap({
        key: { job: 'j' },
        lastPushMs: T + 2000,
        lastPushFailureMs: T + 3000,
        lastUpdateMs: T + 4000,
        // a: PUT at T; b: POST at T + 2000; c: written by SQS events only (no push time).
        familyPushMs: new Map([
          ['a', T],
          ['b', T + 2000],
        ]),
        families: [g('a'), g('b'), g('c')],
      }),
    );
    const j = JSON.parse(JSON.stringify(d));
    expect(
      [j.a, j.b, j.c, j.push_time_seconds, j.push_failure_time_seconds].map((f) => f.time_stamp),
    ).toEqual([goTime(T), goTime(T + 2000), goTime(T + 2000), goTime(T + 2000), goTime(T + 3000)]);
  });

  it('group labels win over series labels; a series instance is kept when the group has none', () => {
    const [d] = pushgatewayMetricsData(
      snap({
        key: { job: 'j' },
        lastPushMs: T,
        lastUpdateMs: T,
        families: [
          { name: 'm', help: '', type: 'gauge', series: [{ labels: { instance: 'body' }, value: 1 }] },
        ],
      }),
    );
    expect(JSON.parse(JSON.stringify(d)).m.metrics[0].labels).toEqual({ instance: 'body', job: 'j' });
  });

  it('families named labels / last_push_successful do not overwrite the group fields; __proto__ stays data', () => {
    const [d] = pushgatewayMetricsData(
      snap({
        key: { job: 'j', constructor: 'c' },
        lastPushMs: T,
        lastUpdateMs: T,
        families: [
          { name: 'labels', help: '', type: 'gauge', series: [{ labels: {}, value: 1 }] },
          { name: 'last_push_successful', help: '', type: 'gauge', series: [{ labels: {}, value: 1 }] },
          { name: 'constructor', help: '', type: 'gauge', series: [{ labels: {}, value: 2 }] },
        ],
      }),
    );
    const j = JSON.parse(JSON.stringify(d));
    expect(j.labels).toEqual({ job: 'j', constructor: 'c' });
    expect(j.last_push_successful).toBe(true);
    expect(j.constructor.metrics[0]).toEqual({
      labels: { constructor: 'c', instance: '', job: 'j' },
      value: '2',
    });
  });

  it('counts as integers without exponent, huge sums and NaN as Go floats', () => {
    const [d] = pushgatewayMetricsData(
      snap({
        key: { job: 'j' },
        lastPushMs: T,
        lastUpdateMs: T,
        families: [
          {
            name: 'h',
            help: '',
            type: 'histogram',
            series: [{ labels: {}, buckets: [{ le: 1, count: 1e21 }], sum: Number.NaN, count: 1e21 }],
          },
        ],
      }),
    );
    const m = JSON.parse(JSON.stringify(d)).h.metrics[0];
    expect(m.count).toBe('1000000000000000000000');
    expect(m.buckets).toEqual({ '1': '1000000000000000000000', '+Inf': '1000000000000000000000' });
    expect(m.sum).toBe('NaN');
  });

  it.each([
    [Date.UTC(2026, 0, 1, 0, 0, 0, 0), '2026-01-01T00:00:00Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 0, 10), '2026-01-01T00:00:00.01Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 0, 123), '2026-01-01T00:00:00.123Z'],
    [Date.UTC(2026, 0, 1, 0, 0, 10, 0), '2026-01-01T00:00:10Z'],
  ])('time %d marshals as Go does: %s', (ms, want) => {
    expect(goTime(ms)).toBe(want);
  });
});
