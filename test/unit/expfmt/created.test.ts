/**
 * Series starts in the output (docs/exposition.md "Series starts"): OpenMetrics `<family>_created` lines
 * (seconds, after the series' other samples) for counters, histograms and summaries whose start is known;
 * protobuf `created_timestamp`; text 0.0.4 unchanged; the OpenMetrics lines can be turned off; a family
 * whose name a `_created` sample takes is dropped from the OpenMetrics output like any other collision.
 */
import protobuf from 'protobufjs';
import { formatFloat } from '../../../shared/expfmt/float';
import { metricFamiliesToOpenMetrics } from '../../../shared/expfmt/openmetrics-create';
import { metricFamiliesToProtobufDelimited } from '../../../shared/expfmt/protobuf-create';
import {
  RenderCache,
  renderSnapshotProtobuf,
  renderSnapshotWithStats,
} from '../../../shared/expfmt/snapshot-render';
import { metricFamiliesToText } from '../../../shared/expfmt/text-create';
import type { MetricFamily } from '../../../shared/model/types';
import { MemoryStore } from '../../../shared/store/memory';
import type { StoreSnapshot } from '../../../shared/store/types';
import { FakeClock, gaugeFamily, inc, observe, req } from '../../contract/helpers';
import { clientModelRoot } from '../../support/client-model';
import { validApplies } from '../../support/edge';
import { checkOpenMetricsStructure } from './openmetrics-check';

const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');
const START = 1_700_000_000_123;

const families = (): MetricFamily[] => [
  {
    name: 'orders_total',
    help: 'Orders.',
    type: 'counter',
    series: [
      { labels: { a: 'x"y' }, value: 3, createdMs: START },
      { labels: { a: 'z' }, value: 4 },
    ],
  },
  {
    name: 'lat_seconds',
    help: '',
    type: 'histogram',
    series: [{ labels: {}, buckets: [{ le: 1, count: 1 }], sum: 0.5, count: 2, createdMs: START + 1 }],
  },
  {
    name: 'fill',
    help: '',
    type: 'summary',
    series: [
      {
        labels: { b: '1' },
        quantiles: [{ quantile: 0.5, value: 1 }],
        sum: 2,
        count: 3,
        createdMs: START + 2,
      },
    ],
  },
  // Gauges and untyped series never have a start, whatever the object carries.
  { name: 'up', help: '', type: 'gauge', series: [{ labels: {}, value: 1, createdMs: START }] },
  { name: 'raw', help: '', type: 'untyped', series: [{ labels: {}, value: 1, createdMs: START }] },
];

const seconds = (ms: number) => formatFloat(ms / 1000);
/** A decoded google.protobuf.Timestamp (protobufjs leaves out a zero `nanos`, the field's default). */
const timestamp = (ms: number) =>
  ms % 1000 === 0
    ? { seconds: Math.floor(ms / 1000) }
    : { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 };

describe('OpenMetrics _created', () => {
  it('writes <family>_created after the series samples, in seconds, only where a start is known', () => {
    const om = metricFamiliesToOpenMetrics(families());
    checkOpenMetricsStructure(om);
    const lines = om.split('\n');
    const at = (l: string) => lines.indexOf(l);
    expect(at(`orders_created{a="x\\"y"} ${seconds(START)}`)).toBe(at('orders_total{a="x\\"y"} 3') + 1);
    expect(at(`lat_seconds_created ${seconds(START + 1)}`)).toBe(at('lat_seconds_count 2') + 1);
    expect(at(`fill_created{b="1"} ${seconds(START + 2)}`)).toBe(at('fill_count{b="1"} 3') + 1);
    expect(lines.filter((l) => l.includes('_created'))).toHaveLength(3);
    // The value reads back as the start.
    expect(Number(seconds(START)) * 1000).toBeCloseTo(START, 3);
  });

  it('created: false writes no _created line, and text 0.0.4 never does', () => {
    const off = metricFamiliesToOpenMetrics(families(), { created: false });
    expect(off).not.toContain('_created');
    const noStarts = families().map(
      (f) => ({ ...f, series: f.series.map(({ createdMs: _, ...s }) => s) }) as MetricFamily,
    );
    expect(off).toBe(metricFamiliesToOpenMetrics(noStarts));
    expect(metricFamiliesToText(families())).toBe(metricFamiliesToText(noStarts));
  });
});

describe('protobuf created_timestamp', () => {
  it('carries the start of counters, histograms and summaries as seconds + nanos', () => {
    const buf = metricFamiliesToProtobufDelimited(families());
    const reader = protobuf.Reader.create(buf);
    const got: Record<string, unknown[]> = {};
    while (reader.pos < reader.len) {
      const m = MF.toObject(MF.decodeDelimited(reader), { longs: Number }) as {
        name: string;
        metric: Record<string, { createdTimestamp?: unknown } | undefined>[];
      };
      got[m.name] = m.metric.map(
        (x) => (x.counter ?? x.histogram ?? x.summary ?? x.gauge ?? x.untyped)?.createdTimestamp,
      );
    }
    const ts = timestamp;
    expect(got).toEqual({
      orders_total: [ts(START), undefined],
      lat_seconds: [ts(START + 1)],
      fill: [ts(START + 2)],
      up: [undefined],
      raw: [undefined],
    });
  });
});

describe('the scrape render with store starts', () => {
  async function storeSnapshot(): Promise<{ snap: StoreSnapshot; t0: number }> {
    const clock = new FakeClock();
    const s = await MemoryStore.open({ now: clock.now });
    const t0 = clock.t;
    await s.apply(
      validApplies([
        req('1', { job: 'j' }, [inc('orders_total', { a: '1' }, 2), observe('lat', {}, [1], [0.5])]),
      ]),
    );
    clock.advance(1_500);
    await s.apply(validApplies([req('2', { job: 'j' }, [inc('orders_total', { a: '1' }, 1)])]));
    return { snap: await s.snapshot(), t0 };
  }

  it('OpenMetrics shows the first apply time; protobuf the same; text nothing', async () => {
    const { snap, t0 } = await storeSnapshot();
    const om = renderSnapshotWithStats(snap, 'openmetrics').body;
    checkOpenMetricsStructure(om);
    expect(om).toContain(
      `orders_total{a="1",instance="",job="j"} 3\norders_created{a="1",instance="",job="j"} ${seconds(t0)}\n`,
    );
    expect(om).toContain(
      `lat_count{instance="",job="j"} 1\nlat_created{instance="",job="j"} ${seconds(t0)}\n`,
    );
    expect(renderSnapshotWithStats(snap, 'text').body).not.toContain('_created');
    const pb = Buffer.concat(renderSnapshotProtobuf(snap).parts);
    const reader = protobuf.Reader.create(pb);
    const starts: unknown[] = [];
    while (reader.pos < reader.len) {
      const m = MF.toObject(MF.decodeDelimited(reader), { longs: Number }) as {
        metric: { counter?: { createdTimestamp?: unknown }; histogram?: { createdTimestamp?: unknown } }[];
      };
      for (const x of m.metric) starts.push((x.counter ?? x.histogram)?.createdTimestamp);
    }
    const ts = timestamp(t0);
    expect(starts.filter((x) => x !== undefined)).toEqual([ts, ts]);
  });

  it('RenderCache({ openMetricsCreated: false }) turns the OpenMetrics lines off (protobuf keeps them)', async () => {
    const { snap } = await storeSnapshot();
    const cache = new RenderCache({ openMetricsCreated: false });
    expect(renderSnapshotWithStats(snap, 'openmetrics', { cache }).body).not.toContain('_created');
    const again = renderSnapshotWithStats(snap, 'openmetrics', { cache }).body;
    expect(again).not.toContain('_created');
  });

  it('a family named like a _created sample is dropped from OpenMetrics only, and counted', async () => {
    const { snap } = await storeSnapshot();
    const withClash: StoreSnapshot = {
      ...snap,
      groups: [
        ...snap.groups,
        { key: { job: 'k' }, lastUpdateMs: 1, families: [gaugeFamily('orders_created', [[{}, 5]])] },
      ],
    };
    const om = renderSnapshotWithStats(withClash, 'openmetrics');
    expect(om.body).not.toContain('# TYPE orders_created gauge');
    expect(om.body).toContain('orders_created{a="1",instance="",job="j"}');
    expect(om.stats.conflictingSeriesDropped).toBe(1);
    const text = renderSnapshotWithStats(withClash, 'text');
    expect(text.body).toContain('orders_created{instance="",job="k"} 5');
    expect(text.stats.conflictingSeriesDropped).toBe(0);
    // Without _created lines nothing collides.
    const off = renderSnapshotWithStats(withClash, 'openmetrics', {
      cache: new RenderCache({ openMetricsCreated: false }),
    });
    expect(off.body).toContain('# TYPE orders_created gauge');
    expect(off.stats.conflictingSeriesDropped).toBe(0);
  });
});
