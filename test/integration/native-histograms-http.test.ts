/**
 * Native histograms pushed over HTTP (protobuf, as client_golang sends them) end to end: stored, served
 * in the protobuf exposition (decoded here with the Prometheus client model), in text as their classic
 * part, in `/api/v1/metrics` in the Pushgateway's native form, and scraped by a real Prometheus 2.42 with
 * `--enable-feature=native-histograms`, which answers `histogram_quantile(0.95, rate(<metric>[1m]))` from
 * the native series.
 */
import protobuf from 'protobufjs';
import {
  bucketIndex,
  bucketLowerBound,
  bucketUpperBound,
  countsToDeltas,
  type ObservedNative,
  observeNative,
} from '../../shared/model/native';
import { clientModelRoot } from '../support/client-model';
import { type RunningPrometheus, startPrometheus } from '../support/prometheus';
import { http, promtool, type Running, startService } from './service-support';

const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');

/** A client_golang-style body: one native histogram family (integer variant, deltas), one series. */
function body(name: string, o: ObservedNative, labels: Record<string, string>): Buffer {
  const n = o.native;
  const spans = (b: typeof n.positive) => b.spans.map((s) => ({ offset: s.offset, length: s.length }));
  return Buffer.from(
    MF.encodeDelimited(
      MF.fromObject({
        name,
        help: 'RPC latency.',
        type: 'HISTOGRAM',
        metric: [
          {
            label: Object.entries(labels).map(([k, v]) => ({ name: k, value: v })),
            histogram: {
              sampleCount: o.count,
              sampleSum: o.sum,
              schema: n.schema,
              zeroThreshold: n.zeroThreshold,
              zeroCount: n.zeroCount,
              positiveSpan: spans(n.positive),
              positiveDelta: countsToDeltas(n.positive.counts),
              negativeSpan: spans(n.negative),
              negativeDelta: countsToDeltas(n.negative.counts),
            },
          },
        ],
      }),
    ).finish(),
  );
}

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf objects, checked field by field
function decode(bytes: Buffer): any[] {
  const r = protobuf.Reader.create(bytes);
  const out: unknown[] = [];
  while (r.pos < r.len) out.push(MF.toObject(MF.decodeDelimited(r), { enums: String, longs: Number }));
  return out;
}

async function rejectedIn(base: string): Promise<number> {
  const text = (await http(base, 'GET', '/metrics')).text;
  const m = /^accrue_push_rejected_total\{reason="invalid"\} (\S+)$/m.exec(text);
  return m ? Number(m[1]) : 0;
}

/** 100 observations: 90 of 0.02 s, 10 of 0.3 s (the 95th percentile lies in the bucket of 0.3). */
const batch = (): number[] => [...new Array(90).fill(0.02), ...new Array(10).fill(0.3)];

describe('native histograms pushed over HTTP', () => {
  let svc: Running;
  let prom: RunningPrometheus | undefined;

  beforeAll(async () => {
    svc = await startService({ snapshotRefreshMs: 0 });
  });
  const rejected = () => rejectedIn(svc.base);
  afterAll(async () => {
    await prom?.stop();
    await svc?.stop();
  });

  it('are stored and served in protobuf, text (classic part) and /api/v1/metrics', async () => {
    const o = observeNative([...batch(), -0.5, 0], 3, 2 ** -128);
    const put = await http(
      svc.base,
      'PUT',
      '/metrics/job/nh/instance/i1',
      body('rpc_seconds', o, { path: '/x' }),
      {
        'content-type': PB,
      },
    );
    expect([put.status, put.text]).toEqual([200, '']);

    const pb = await http(svc.base, 'GET', '/metrics', undefined, { accept: PB });
    expect(pb.headers['content-type']).toBe(PB);
    const fam = decode(pb.body).find((f) => f.name === 'rpc_seconds');
    expect(fam.type).toBe('HISTOGRAM');
    const h = fam.metric[0].histogram;
    expect(h).toMatchObject({ sampleCount: 102, schema: 3, zeroThreshold: 2 ** -128, zeroCount: 1 });
    expect(h.bucket).toBeUndefined();
    expect(h.positiveDelta).toEqual(countsToDeltas(o.native.positive.counts));
    expect(h.positiveSpan).toEqual(o.native.positive.spans);
    expect(h.negativeDelta).toEqual([1]);

    const text = (await http(svc.base, 'GET', '/metrics')).text;
    expect(text).toContain('rpc_seconds_bucket{instance="i1",job="nh",path="/x",le="+Inf"} 102\n');
    expect(text).toContain('rpc_seconds_count{instance="i1",job="nh",path="/x"} 102\n');
    expect(promtool(text).code).toBe(0);

    const api = JSON.parse((await http(svc.base, 'GET', '/api/v1/metrics')).text);
    const group = api.data.find((g: { labels: { job: string } }) => g.labels.job === 'nh');
    const m = group.rpc_seconds.metrics[0];
    expect(m.count).toBe('102');
    // [boundaries, lower, upper, count]: the negative bucket [-0.5…), the zero bucket [], positive (…].
    expect(m.buckets[0]).toEqual([1, '-0.5', expect.any(String), '1']);
    expect(m.buckets[1]).toEqual([3, '-2.938735877055719e-39', '2.938735877055719e-39', '1']);
    expect(m.buckets.slice(2).map((b: unknown[]) => b[0])).toEqual([0, 0]);
    expect(m.buckets.slice(2).map((b: unknown[]) => b[3])).toEqual(['90', '10']);

    // A new push of the same series: the protobuf exposition (cached per family block) follows it.
    const o2 = observeNative([5, 6], 1, 2 ** -128);
    const put2 = await http(
      svc.base,
      'PUT',
      '/metrics/job/nh/instance/i1',
      body('rpc_seconds', o2, { path: '/x' }),
      {
        'content-type': PB,
      },
    );
    expect(put2.status).toBe(200);
    const pb2 = await http(svc.base, 'GET', '/metrics', undefined, { accept: PB });
    const h2 = decode(pb2.body).find((f) => f.name === 'rpc_seconds').metric[0].histogram;
    expect(h2).toMatchObject({ sampleCount: 2, schema: 1 });
    expect(h2.positiveDelta).toEqual(countsToDeltas(o2.native.positive.counts));
  });

  it.each([
    ['a schema out of range', { schema: 9 }, /histogram\.schema: must be an integer in -4\.\.8/],
    [
      'spans that disagree with the deltas',
      { positiveSpan: [{ offset: 0, length: 5 }] },
      /spans cover 5 buckets but \d+ deltas/,
    ],
    ['a huge span offset', { positiveSpan: [{ offset: 2147483647, length: 2 }] }, /outside the valid range/],
    ['a negative bucket population', { positiveDelta: [1, -5] }, /makes the bucket population -4/],
  ])(
    '%s is refused with 400 naming the field, counted, and stores nothing',
    async (_name, change, message) => {
      const o = observeNative([1, 2], 0, 0);
      const msg = MF.decodeDelimited(body('bad_seconds', o, {})) as unknown as {
        metric: { histogram: object }[];
      };
      Object.assign(msg.metric[0]!.histogram, change);
      const bad = Buffer.from(MF.encodeDelimited(msg).finish());
      const before = await rejected();
      const r = await http(svc.base, 'PUT', '/metrics/job/nh_bad', bad, { 'content-type': PB });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(/metric family bad_seconds, metric 1: /);
      expect(r.text).toMatch(message);
      expect((await http(svc.base, 'GET', '/metrics')).text).not.toContain('bad_seconds');
      expect(await rejected()).toBe(before + 1);
    },
  );

  it('a real Prometheus answers histogram_quantile(0.95, rate(…[1m])) from the native series', async () => {
    prom = await startPrometheus(new URL(svc.base).host);
    const push = (values: number[]) =>
      http(
        svc.base,
        'PUT',
        '/metrics/job/nhp/instance/p1',
        body('order_latency_seconds', observeNative(values, 3, 2 ** -128), {}),
        {
          'content-type': PB,
        },
      );
    expect((await push(batch())).status).toBe(200);
    // Two scrapes of the first state, then the counter histogram grows by another 100 observations.
    await prom.waitFor('count_over_time(order_latency_seconds[1m])', (r) => Number(r[0]?.value[1] ?? 0) >= 2);
    expect((await push([...batch(), ...batch()])).status).toBe(200);
    await prom.waitFor('histogram_count(order_latency_seconds)', (r) => r[0]?.value[1] === '200');

    const p95 = await prom.waitFor(
      'histogram_quantile(0.95, rate(order_latency_seconds[1m]))',
      (r) => r.length === 1 && Number(r[0]!.value[1]) > 0,
    );
    const i = bucketIndex(0.3, 3);
    const v = Number(p95[0]!.value[1]);
    expect(v).toBeGreaterThan(bucketLowerBound(i, 3));
    expect(v).toBeLessThanOrEqual(bucketUpperBound(i, 3));
    expect(p95[0]!.metric).toEqual({ job: 'nhp', instance: 'p1' });
    // The native series is one series, no _bucket series beside it.
    expect(await prom.query('order_latency_seconds_bucket')).toEqual([]);
  });
});
