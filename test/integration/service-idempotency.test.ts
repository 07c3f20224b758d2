/**
 * Exactly-once HTTP writes over real HTTP, on the memory store and on DynamoDB Local: `Idempotency-Key`
 * on Pushgateway pushes, and the aggregating endpoint (docs/service.md "Idempotency-Key",
 * "Aggregating pushes"). /metrics output is checked by promtool.
 */
import { request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { ServiceConfig } from '../../shared/config';
import { metricFamiliesToProtobufDelimited } from '../../shared/expfmt/protobuf-create';
import { parseText } from '../../shared/expfmt/text-parse';
import { type ObservedNative, observeNative } from '../../shared/model/native';
import type { HistogramSeries, MetricFamily } from '../../shared/model/types';
import { MemoryStore } from '../../shared/store';
import type { Store } from '../../shared/store/types';
import { awsError, type DynamoFaults, openTestDynamoStore } from './dynamo-store-support';
import { http, promtool, type Res, type Running, startService } from './service-support';

interface Backend {
  readonly name: string;
  open(): Promise<{ store: Store; faults?: DynamoFaults; close(): Promise<void> }>;
}

const backends: Backend[] = [
  {
    name: 'memory store',
    async open() {
      const store = await MemoryStore.open({});
      return { store, close: () => store.close() };
    },
  },
  {
    name: 'DynamoDB Local',
    async open() {
      const t = await openTestDynamoStore();
      return {
        store: t.store,
        faults: t.faults,
        async close() {
          await t.store.close();
          await t.drop();
        },
      };
    },
  },
];

const TEXT = { 'content-type': 'text/plain; version=0.0.4' };
const PB = 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited';
const PRODUCERS = JSON.stringify([
  { name: 'alice', credential: 'bearer:alice-token', jobs: ['shared*'] },
  { name: 'bob', credential: 'bearer:bob-token', jobs: ['shared*'] },
]);

/** The value of the sample line `name` (exact text before the value) in a scrape, or undefined. */
function sample(scrape: string, series: string): number | undefined {
  for (const line of scrape.split('\n')) {
    const i = line.lastIndexOf(' ');
    if (i > 0 && line.slice(0, i) === series) return Number(line.slice(i + 1));
  }
  return undefined;
}

describe.each(backends)('exactly-once HTTP writes ($name)', (backend) => {
  let svc: Running;
  let close: () => Promise<void>;
  let faults: DynamoFaults | undefined;
  const start = async (config: Partial<ServiceConfig> = {}) => {
    const b = await backend.open();
    faults = b.faults;
    svc = await startService(config, b.store);
    close = async () => {
      await svc.stop();
      await b.close();
    };
  };
  afterEach(async () => close());

  const scrape = async () => (await http(svc.base, 'GET', '/metrics')).text;
  const push = (method: string, path: string, body: string | Buffer, headers: Record<string, string> = {}) =>
    http(svc.base, method, path, body, { ...TEXT, ...headers });

  describe('Idempotency-Key on pushes', () => {
    it('a retry with the same body is acknowledged with the first status, not applied again', async () => {
      await start();
      const key = { 'idempotency-key': 'run-42' };
      const first = await push('PUT', '/metrics/job/idem', '# HELP g A gauge.\n# TYPE g gauge\ng 1\n', key);
      expect(first.status).toBe(200);
      expect(first.headers['idempotent-replayed']).toBeUndefined();
      const t1 = sample(await scrape(), 'push_time_seconds{instance="",job="idem"}');
      // Another writer pushes in between; a late retry of the first push must not undo it.
      expect(
        (await push('PUT', '/metrics/job/idem', '# HELP g A gauge.\n# TYPE g gauge\ng 2\n')).status,
      ).toBe(200);
      await new Promise((r) => setTimeout(r, 5));
      // The same body gzipped is the same request.
      const retry = await push(
        'PUT',
        '/metrics/job/idem',
        gzipSync('# HELP g A gauge.\n# TYPE g gauge\ng 1\n'),
        {
          ...key,
          'content-encoding': 'gzip',
        },
      );
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      const out = await scrape();
      expect(sample(out, 'g{instance="",job="idem"}')).toBe(2);
      expect(sample(out, 'push_time_seconds{instance="",job="idem"}')).toBeGreaterThanOrEqual(t1!);
      expect(sample(out, 'accrue_idempotency_keys_total{route="push",outcome="first"}')).toBe(1);
      expect(sample(out, 'accrue_idempotency_keys_total{route="push",outcome="replayed"}')).toBe(1);
      expect(promtool(out).code).toBe(0);
    });

    it('DELETE with a key: the retry answers 202 again and does not delete a newer push', async () => {
      await start();
      await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 1\n');
      const key = { 'idempotency-key': 'del-1' };
      expect((await http(svc.base, 'DELETE', '/metrics/job/idem', undefined, key)).status).toBe(202);
      await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 3\n');
      const retry = await http(svc.base, 'DELETE', '/metrics/job/idem', undefined, key);
      expect(retry.status).toBe(202);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(sample(await scrape(), 'g{instance="",job="idem"}')).toBe(3);
    });

    it('the same key with another body, method or group is refused with 409 naming the key', async () => {
      await start();
      const key = { 'idempotency-key': 'run-7' };
      expect((await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 1\n', key)).status).toBe(200);
      const refusals: Res[] = [
        await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 5\n', key),
        await push('POST', '/metrics/job/idem', '# TYPE g gauge\ng 1\n', key),
        await push('PUT', '/metrics/job/idem/instance/x', '# TYPE g gauge\ng 1\n', key),
        await http(svc.base, 'POST', '/api/v1/accrue/aggregate/job/idem', '# TYPE g gauge\ng 1\n', {
          ...TEXT,
          ...key,
        }),
      ];
      for (const r of refusals) {
        expect(r.status).toBe(409);
        expect(r.text).toContain('Idempotency-Key "run-7" was already used for a different request');
      }
      const out = await scrape();
      expect(sample(out, 'g{instance="",job="idem"}')).toBe(1);
      expect(out).not.toContain('instance="x"');
      expect(sample(out, 'accrue_idempotency_keys_total{route="push",outcome="mismatch"}')).toBe(3);
      expect(sample(out, 'accrue_push_rejected_total{reason="redelivery_mismatch"}')).toBe(4);
      // A refused key records no push failure on the group.
      expect(sample(out, 'push_failure_time_seconds{instance="",job="idem"}')).toBe(0);
    });

    it('concurrent retries of one key end as one push', async () => {
      await start();
      const key = { 'idempotency-key': 'burst' };
      const body = '# TYPE c counter\nc_total{x="1"} 10\n';
      const all = await Promise.all(
        Array.from({ length: 12 }, () => push('POST', '/metrics/job/idem', body, key)),
      );
      expect(all.map((r) => r.status)).toEqual(Array(12).fill(200));
      const out = await scrape();
      expect(sample(out, 'c_total{instance="",job="idem",x="1"}')).toBe(10);
      const first = sample(out, 'accrue_idempotency_keys_total{route="push",outcome="first"}') ?? 0;
      const replayed = sample(out, 'accrue_idempotency_keys_total{route="push",outcome="replayed"}') ?? 0;
      expect(first + replayed).toBe(12);
      expect(first).toBeGreaterThanOrEqual(1);
    });

    it('a first attempt refused does not consume the key; the corrected retry is applied', async () => {
      await start();
      await push('PUT', '/metrics/job/other', '# TYPE m counter\nm 1\n');
      const key = { 'idempotency-key': 'fix-me' };
      const bad = await push('PUT', '/metrics/job/idem', '# TYPE m gauge\nm 1\n', key);
      expect(bad.status).toBe(400);
      const good = await push('PUT', '/metrics/job/idem', '# TYPE n gauge\nn 1\n', key);
      expect(good.status).toBe(200);
      expect(good.headers['idempotent-replayed']).toBeUndefined();
      expect(sample(await scrape(), 'n{instance="",job="idem"}')).toBe(1);
    });

    it('a first attempt that failed half-way is completed by its retry, at its own push time', async () => {
      await start();
      // The memory store writes a push and its ledger entry in one step; on DynamoDB a push is several
      // writes: here its content is written and its ledger entry is not settled (4 throttles = all retries).
      if (!faults) return;
      faults.add(
        (c, input) =>
          c === 'UpdateItemCommand' &&
          (input.Key as { id?: { S?: string } } | undefined)?.id?.S === 'i#http anonymous/half',
        4,
        () => awsError('ThrottlingException'),
      );
      const key = { 'idempotency-key': 'half' };
      const first = await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 4\n', key);
      expect(first.status).toBe(503);
      const t1 = sample(await scrape(), 'push_time_seconds{instance="",job="idem"}');
      expect(t1).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 20));
      const retry = await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 4\n', key);
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      const again = await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 4\n', key);
      expect(again.headers['idempotent-replayed']).toBe('true');
      const out = await scrape();
      expect(sample(out, 'g{instance="",job="idem"}')).toBe(4);
      // Completed at the first attempt's push time, not the retry's.
      expect(sample(out, 'push_time_seconds{instance="",job="idem"}')).toBe(t1);
    });

    it.each<[string, string, RegExp]>([
      ['too long', 'k'.repeat(129), /Idempotency-Key header: must be 1 to 128 characters \(got 129\)/],
      ['a space', 'a b', /must match \[A-Za-z0-9_.:\/@\+=-\]\+/],
      ['a hash', 'a#1', /'#'/],
      ['__proto__ with a quote', '__proto__"', /must match/],
      ['latin-1', 'cl\u00e9', /must match/],
    ])('a key with %s is refused with 400 naming the rule, nothing stored', async (_what, value, rule) => {
      await start();
      const r = await push('PUT', '/metrics/job/idem', '# TYPE g gauge\ng 1\n', { 'idempotency-key': value });
      expect(r.status).toBe(400);
      expect(r.text).toMatch(rule);
      const out = await scrape();
      expect(out).not.toContain('job="idem"');
      expect(sample(out, 'accrue_push_rejected_total{reason="invalid"}')).toBe(1);
    });

    it('two Idempotency-Key headers are refused', async () => {
      await start();
      const r = await new Promise<number>((resolve, reject) => {
        const u = new URL(svc.base);
        const req = httpRequest(
          { host: u.hostname, port: u.port, path: '/metrics/job/idem', method: 'PUT' },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.setHeader('idempotency-key', ['a', 'b']);
        req.end('g 1\n');
      });
      expect(r).toBe(400);
    });

    it('keys are scoped per credential: one producer cannot suppress another', async () => {
      await start({ producers: PRODUCERS });
      const body = '# TYPE g gauge\ng 1\n';
      const alice = { authorization: 'Bearer alice-token', 'idempotency-key': 'k' };
      const bob = { authorization: 'Bearer bob-token', 'idempotency-key': 'k' };
      expect(
        (await push('PUT', '/metrics/job/shared_a', body, alice)).headers['idempotent-replayed'],
      ).toBeUndefined();
      const b = await push('PUT', '/metrics/job/shared_a', body, bob);
      expect(b.status).toBe(200);
      expect(b.headers['idempotent-replayed']).toBeUndefined();
      // And bob's other body under the same key is not alice's mismatch.
      expect((await push('PUT', '/metrics/job/shared_b', '# TYPE g gauge\ng 9\n', bob)).status).toBe(409);
      expect(
        (
          await push('PUT', '/metrics/job/shared_b', '# TYPE g gauge\ng 9\n', {
            ...alice,
            'idempotency-key': 'k2',
          })
        ).status,
      ).toBe(200);
    });
  });

  describe('aggregating pushes', () => {
    const AGG = '/api/v1/accrue/aggregate/job/web';
    const body = (n: number, temp: number, ts = '') =>
      [
        '# HELP clicks_total Clicks.',
        '# TYPE clicks_total counter',
        `clicks_total{page="home"} ${n}`,
        '# HELP lat_seconds Latency.',
        '# TYPE lat_seconds histogram',
        'lat_seconds_bucket{le="0.1"} 1',
        'lat_seconds_bucket{le="1"} 2',
        'lat_seconds_bucket{le="+Inf"} 3',
        'lat_seconds_sum 2.5',
        'lat_seconds_count 3',
        '# HELP temp_celsius Temperature.',
        '# TYPE temp_celsius gauge',
        `temp_celsius ${temp}${ts}`,
        '',
      ].join('\n');
    const agg = (b: string | Buffer, headers: Record<string, string> = {}) =>
      http(svc.base, 'POST', AGG, b, { ...TEXT, ...headers });

    it('sums counters and histograms across pushes; a retry with the key adds nothing; promtool accepts the output', async () => {
      await start();
      expect((await agg(body(2, 20), { 'idempotency-key': 'p1' })).status).toBe(200);
      expect((await agg(body(5, 21), { 'idempotency-key': 'p2' })).status).toBe(200);
      // Retries of both (one gzipped): acknowledged, not counted again.
      const r1 = await agg(body(2, 20), { 'idempotency-key': 'p1' });
      const r2 = await agg(gzipSync(body(5, 21)), { 'idempotency-key': 'p2', 'content-encoding': 'gzip' });
      for (const r of [r1, r2]) {
        expect(r.status).toBe(200);
        expect(r.headers['idempotent-replayed']).toBe('true');
      }
      const out = await scrape();
      expect(sample(out, 'clicks_total{instance="",job="web",page="home"}')).toBe(7);
      expect(sample(out, 'lat_seconds_bucket{instance="",job="web",le="0.1"}')).toBe(2);
      expect(sample(out, 'lat_seconds_bucket{instance="",job="web",le="1"}')).toBe(4);
      expect(sample(out, 'lat_seconds_bucket{instance="",job="web",le="+Inf"}')).toBe(6);
      expect(sample(out, 'lat_seconds_sum{instance="",job="web"}')).toBe(5);
      expect(sample(out, 'lat_seconds_count{instance="",job="web"}')).toBe(6);
      expect(sample(out, 'temp_celsius{instance="",job="web"}')).toBe(21);
      expect(sample(out, 'accrue_idempotency_keys_total{route="aggregate",outcome="first"}')).toBe(2);
      expect(sample(out, 'accrue_idempotency_keys_total{route="aggregate",outcome="replayed"}')).toBe(2);
      expect(promtool(out)).toEqual({ code: 0, output: '' });
    });

    it('another body under a used key is a 409 and adds nothing', async () => {
      await start();
      await agg(body(2, 20), { 'idempotency-key': 'p1' });
      const r = await agg(body(3, 20), { 'idempotency-key': 'p1' });
      expect(r.status).toBe(409);
      expect(r.text).toContain('Idempotency-Key "p1" was already used for a different request');
      expect(sample(await scrape(), 'clicks_total{instance="",job="web",page="home"}')).toBe(2);
    });

    it('concurrent retries of one key count once', async () => {
      await start();
      const all = await Promise.all(
        Array.from({ length: 10 }, () => agg(body(1, 20), { 'idempotency-key': 'same' })),
      );
      expect(all.map((r) => r.status)).toEqual(Array(10).fill(200));
      expect(all.filter((r) => r.headers['idempotent-replayed'] === 'true')).toHaveLength(9);
      expect(sample(await scrape(), 'clicks_total{instance="",job="web",page="home"}')).toBe(1);
    });

    it('a first attempt that failed in the store (503) does not consume the key: the retry counts once', async () => {
      await start();
      const id = 'http anonymous/flaky';
      if (faults) faults.failTransactionsWithLedger(id, 4);
      else (svc.store as MemoryStore).injectApplyFault(id);
      const first = await agg(body(3, 20), { 'idempotency-key': 'flaky' });
      expect(first.status).toBe(503);
      expect(sample(await scrape(), 'clicks_total{instance="",job="web",page="home"}')).toBeUndefined();
      const retry = await agg(body(3, 20), { 'idempotency-key': 'flaky' });
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBeUndefined();
      expect((await agg(body(3, 20), { 'idempotency-key': 'flaky' })).headers['idempotent-replayed']).toBe(
        'true',
      );
      expect(sample(await scrape(), 'clicks_total{instance="",job="web",page="home"}')).toBe(3);
    });

    it('takes delimited protobuf bodies too; the same samples as text are the same request', async () => {
      await start();
      const families = parseText(body(2, 20));
      const pb = Buffer.from(metricFamiliesToProtobufDelimited(families));
      const r = await agg(pb, { 'content-type': PB, 'idempotency-key': 'pb' });
      expect(r.status).toBe(200);
      const again = await agg(body(2, 20), { 'idempotency-key': 'pb' });
      expect(again.headers['idempotent-replayed']).toBe('true');
      const out = await scrape();
      expect(sample(out, 'clicks_total{instance="",job="web",page="home"}')).toBe(2);
      expect(sample(out, 'lat_seconds_count{instance="",job="web"}')).toBe(3);
    });

    it('native histogram deltas (protobuf) are added by the spec, once per key; bad ones are refused naming the field', async () => {
      await start();
      const nativeOnly = (o: ObservedNative): MetricFamily => ({
        name: 'rpc_seconds',
        help: 'RPC latency.',
        type: 'histogram',
        series: [
          {
            labels: { path: '/a' },
            buckets: [],
            sum: o.sum,
            count: o.count,
            native: o.native,
          },
        ],
      });
      const a = [0.02, 0.3, 0.3, 4];
      const b = [0.5, 7, 0.001];
      const pb = (f: MetricFamily) => Buffer.from(metricFamiliesToProtobufDelimited([f]));
      const native = async () => {
        const g = (await svc.store.snapshot()).groups.find((x) => x.key.job === 'web');
        const f = g?.families.find((x) => x.name === 'rpc_seconds');
        return f?.series[0] as HistogramSeries | undefined;
      };
      const oa = observeNative(a, 3, 0);
      const ob = observeNative(b, 1, 0);
      expect((await agg(pb(nativeOnly(oa)), { 'content-type': PB, 'idempotency-key': 'na' })).status).toBe(
        200,
      );
      expect((await agg(pb(nativeOnly(ob)), { 'content-type': PB, 'idempotency-key': 'nb' })).status).toBe(
        200,
      );
      const replay = await agg(pb(nativeOnly(oa)), { 'content-type': PB, 'idempotency-key': 'na' });
      expect([replay.status, replay.headers['idempotent-replayed']]).toEqual([200, 'true']);
      const got = await native();
      expect(got?.native).toEqual(observeNative([...a, ...b], 1, 0).native);
      expect(got?.count).toBe(a.length + b.length);
      // Bad: a fractional population (not a whole observation): 400 naming the series and the field.
      const half = { ...oa, native: { ...oa.native, zeroCount: 0.5 }, count: 4.5 };
      const r1 = await agg(pb(nativeOnly(half)), { 'content-type': PB, 'idempotency-key': 'bad1' });
      expect(r1.status).toBe(400);
      expect(r1.text).toMatch(/rpc_seconds\{path="\/a"\}/);
      expect(r1.text).toMatch(/count|zero_count|whole/);
      expect((await native())?.count).toBe(a.length + b.length);
    });

    it('without a key every push counts (as on other aggregation gateways)', async () => {
      await start();
      await agg(body(1, 20));
      await agg(body(1, 20));
      expect(sample(await scrape(), 'clicks_total{instance="",job="web",page="home"}')).toBe(2);
    });

    it('gauges: last writer wins by event time (the sample timestamp), not arrival', async () => {
      await start();
      const now = Date.now();
      await agg('# TYPE t gauge\nt 5 ' + String(now - 1000) + '\n');
      await agg('# TYPE t gauge\nt 3 ' + String(now - 5000) + '\n'); // older event, later arrival
      expect(sample(await scrape(), 't{instance="",job="web"}')).toBe(5);
      await agg('# TYPE t gauge\nt 8\n'); // no timestamp: the arrival time, newest
      expect(sample(await scrape(), 't{instance="",job="web"}')).toBe(8);
    });

    it('series the store refuses are named; the others are applied once under the key', async () => {
      await start();
      await push('PUT', '/metrics/job/other', '# TYPE clicks_total gauge\nclicks_total 1\n');
      const first = await agg(body(4, 20), { 'idempotency-key': 'retry-me' });
      expect(first.status).toBe(400);
      expect(first.text).toMatch(/1 of 3 series refused .*the other series were applied/);
      const retry = await agg(body(4, 20), { 'idempotency-key': 'retry-me' });
      expect(retry.status).toBe(200);
      expect(retry.headers['idempotent-replayed']).toBe('true');
      expect(sample(await scrape(), 'lat_seconds_count{instance="",job="web"}')).toBe(3);
    });

    it.each<[string, string, RegExp]>([
      ['a summary', '# TYPE s summary\ns_sum 1\ns_count 1\n', /s: summaries are refused/],
      ['an untyped sample', 'u 1\n', /u: untyped samples are refused/],
      [
        'a negative counter',
        '# TYPE c_total counter\nc_total -1\n',
        /c_total\.value: counter increment must be a finite number >= 0/,
      ],
      ['a __proto__ label', '# TYPE c_total counter\nc_total{__proto__="x"} 1\n', /__proto__/],
      [
        'a timestamp beyond the Date range',
        '# TYPE t gauge\nt 1 9000000000000000\n',
        /timestamp: must be >= 0 and at most 8640000000000000/,
      ],
      [
        'a newline and quote in a label value with a bad value',
        '# TYPE c_total counter\nc_total{a="x\\n\\"y"} NaN\n',
        /c_total\{a="x\\n\\"y"\}\.value/,
      ],
    ])('refuses %s with a 400 naming it; nothing applied', async (_what, text, rule) => {
      await start();
      const r = await agg(`# TYPE ok_total counter\nok_total 1\n${text}`);
      expect(r.status).toBe(400);
      expect(r.text).toMatch(rule);
      expect(await scrape()).not.toContain('ok_total{');
    });

    it('only POST: PUT and DELETE on the aggregate path are 404', async () => {
      await start();
      expect((await http(svc.base, 'PUT', AGG, 'x 1\n')).status).toBe(404);
      expect((await http(svc.base, 'DELETE', AGG)).status).toBe(404);
    });
  });
});
