/**
 * The service over the real store and the real exposition code, through real HTTP: hostile pushes,
 * the Pushgateway's 500-forever case, promtool on every scrape, and real clients (prom-client's
 * Pushgateway, Debian's Python prometheus_client, a Go-client protobuf body encoded with protobufjs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync, gzipSync } from 'node:zlib';
import { Counter, Gauge, Histogram, Pushgateway, Registry } from 'prom-client';
import protobuf from 'protobufjs';
import { clientModelRoot } from '../support/client-model';
import { http, promtool, type Running, startService } from './service-support';

const execFileP = promisify(execFile);

let svc: Running;
beforeEach(async () => {
  svc = await startService();
});
afterEach(async () => {
  await svc.stop();
});

async function scrape(headers: Record<string, string> = {}) {
  const r = await http(svc.base, 'GET', '/metrics', undefined, headers);
  expect(r.status).toBe(200);
  return r;
}

async function storedSeries(): Promise<number> {
  const snap = await svc.store.snapshot();
  let n = 0;
  for (const g of snap.groups) for (const f of g.families) n += f.series.length;
  return n;
}

const HELP = (n: string, t = 'gauge') => `# HELP ${n} ${n} help.\n# TYPE ${n} ${t}\n`;

describe('pushes over HTTP', () => {
  it('PUT, POST and DELETE with Pushgateway semantics; the scrape passes promtool', async () => {
    const path = '/metrics/job/batch/instance/host-1';
    expect((await http(svc.base, 'PUT', path, `${HELP('a')}a 1\n${HELP('b')}b 2\n`)).status).toBe(200);
    expect((await http(svc.base, 'POST', path, `${HELP('a')}a{x="y"} 3\n`)).status).toBe(200);
    let text = (await scrape()).text;
    expect(text).toMatch(/^a\{instance="host-1",job="batch",x="y"\} 3$/m);
    expect(text).not.toMatch(/^a\{instance="host-1",job="batch"\} 1$/m);
    expect(text).toMatch(/^b\{instance="host-1",job="batch"\} 2$/m);
    expect(promtool(text)).toEqual({ code: 0, output: '' });
    expect((await http(svc.base, 'DELETE', path)).status).toBe(202);
    text = (await scrape()).text;
    expect(text).not.toMatch(/job="batch"/);
    expect(promtool(text).code).toBe(0);
  });

  it('a group without instance is exposed with instance=""', async () => {
    await http(svc.base, 'PUT', '/metrics/job/solo', `${HELP('s')}s 1\n`);
    expect((await scrape()).text).toMatch(/^s\{instance="",job="solo"\} 1$/m);
  });

  it('label values with newlines, quotes and backslashes survive push and scrape', async () => {
    const v = 'line1\nline2 "quoted" back\\slash';
    const b64 = Buffer.from(v).toString('base64url');
    const body = `${HELP('h')}h{v="a\\nb\\"c\\\\d"} 1\n`;
    expect((await http(svc.base, 'PUT', `/metrics/job/esc/note@base64/${b64}`, body)).status).toBe(200);
    const text = (await scrape()).text;
    expect(text).toContain(
      'h{instance="",job="esc",note="line1\\nline2 \\"quoted\\" back\\\\slash",v="a\\nb\\"c\\\\d"} 1',
    );
    expect(promtool(text).code).toBe(0);
  });

  it.each<[string, string, RegExp]>([
    ['NaN', 'v NaN\n', /^v\{instance="",job="vals"\} NaN$/m],
    ['+Inf', 'v +Inf\n', /^v\{instance="",job="vals"\} \+Inf$/m],
    ['-Inf', 'v -Inf\n', /^v\{instance="",job="vals"\} -Inf$/m],
    ['huge', 'v 1.7976931348623157e308\n', /^v\{instance="",job="vals"\} 1\.7976931348623157e\+308$/m],
    ['tiny', 'v 5e-324\n', /^v\{instance="",job="vals"\} 5e-324$/m],
    [
      'label value of 1000 characters',
      `v{x="${'q'.repeat(1000)}"} 1\n`,
      /^v\{instance="",job="vals",x="q{1000}"\} 1$/m,
    ],
    ['label named constructor', 'v{constructor="c"} 1\n', /^v\{constructor="c",instance="",job="vals"\} 1$/m],
  ])('accepts and exposes %s', async (_name, body, expected) => {
    expect((await http(svc.base, 'PUT', '/metrics/job/vals', `${HELP('v')}${body}`)).status).toBe(200);
    const text = (await scrape()).text;
    expect(text).toMatch(expected);
    expect(promtool(text).code).toBe(0);
  });

  const bomb = gzipSync(Buffer.alloc(20 * 1024 * 1024, 0x61));
  it.each<[string, string, string, Buffer | string, Record<string, string>, number, RegExp]>([
    ['unparsable body', 'PUT', '/metrics/job/x', 'm{a="1} 1\n', {}, 400, /parsing error/],
    ['timestamped sample', 'PUT', '/metrics/job/x', 'm 1 1700000000000\n', {}, 400, /timestamps/],
    ['duplicate series', 'POST', '/metrics/job/x', 'm{a="1"} 1\nm{a="1"} 2\n', {}, 400, /duplicate series/],
    ['CR line endings', 'PUT', '/metrics/job/x', 'm 1\r\nn 2\r\n', {}, 400, /./],
    ['reserved prefix', 'PUT', '/metrics/job/x', 'accrue_push_requests_total 1\n', {}, 400, /reserved/],
    ['__ label in body', 'PUT', '/metrics/job/x', 'm{__proto__="x"} 1\n', {}, 400, /__/],
    ['huge number that overflows', 'PUT', '/metrics/job/x', 'm 1e400\n', {}, 400, /./],
    ['value that is not a number', 'PUT', '/metrics/job/x', 'm one\n', {}, 400, /./],
    ['gzip bomb', 'PUT', '/metrics/job/x', bomb, { 'content-encoding': 'gzip' }, 413, /exceeds the limit/],
    ['oversize body', 'PUT', '/metrics/job/x', Buffer.alloc(2 * 1024 * 1024, 0x20), {}, 413, /./],
    [
      'truncated gzip',
      'PUT',
      '/metrics/job/x',
      gzipSync('m 1\n').subarray(0, 10),
      { 'content-encoding': 'gzip' },
      400,
      /gzip/,
    ],
    [
      'bad protobuf',
      'PUT',
      '/metrics/job/x',
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 1, 2]),
      {
        'content-type':
          'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
      },
      400,
      /./,
    ],
    ['bad base64 in path', 'PUT', '/metrics/job/x/a@base64/%25%25', 'm 1\n', {}, 400, /base64/],
    ['__proto__ in path', 'PUT', '/metrics/job/x/__proto__/1', 'm 1\n', {}, 400, /__/],
    [
      'constructor=__proto__ body label',
      'PUT',
      '/metrics/job/x',
      'm{constructor="1",constructor="2"} 1\n',
      {},
      400,
      /./,
    ],
    ['odd segments', 'DELETE', '/metrics/job/x/a', undefined as unknown as string, {}, 400, /odd number/],
    ['no job', 'POST', '/metrics/instance/a', 'm 1\n', {}, 400, /job/],
  ])(
    'refuses %s, stores nothing, /metrics keeps working',
    async (_name, method, path, body, headers, status, message) => {
      await http(svc.base, 'PUT', '/metrics/job/keep', `${HELP('keep')}keep 1\n`);
      const before = await storedSeries();
      const r = await http(svc.base, method, path, body, headers);
      expect(r.status).toBe(status);
      expect(r.text).toMatch(message);
      expect(await storedSeries()).toBe(before);
      const s = await scrape();
      expect(s.text).toMatch(/^keep\{instance="",job="keep"\} 1$/m);
      expect(promtool(s.text).code).toBe(0);
    },
  );

  it('type conflicts with another group are refused, other label names accepted (issue 14); a valid push after them works', async () => {
    expect(
      (await http(svc.base, 'PUT', '/metrics/job/a', `${HELP('m_total', 'counter')}m_total{k="1"} 1\n`))
        .status,
    ).toBe(200);
    const t = await http(svc.base, 'PUT', '/metrics/job/b', `${HELP('m', 'gauge')}m_total{k="1"} 2\n`);
    expect(t.status).toBe(400);
    expect(t.text).toMatch(/family m_total/);
    const shape = await http(
      svc.base,
      'PUT',
      '/metrics/job/b',
      `${HELP('m_total', 'counter')}m_total{other="1"} 2\n`,
    );
    expect(shape.status).toBe(200);
    expect(
      (await http(svc.base, 'PUT', '/metrics/job/b', `${HELP('m_total', 'counter')}m_total{k="2"} 5\n`))
        .status,
    ).toBe(200);
    const text = (await scrape()).text;
    expect(text).toMatch(/^m_total\{instance="",job="a",k="1"\} 1$/m);
    expect(text).toMatch(/^m_total\{instance="",job="b",k="2"\} 5$/m);
    expect(text).toMatch(/^push_failure_time_seconds\{instance="",job="b"\} [1-9]/m);
    expect(text).toMatch(/^accrue_push_rejected_total\{reason="family_conflict"\} 1$/m);
    expect(promtool(text)).toEqual({ code: 0, output: '' });
  });

  it("the Pushgateway's 500-forever case: instance@base64/= next to the same job is one group", async () => {
    expect((await http(svc.base, 'PUT', '/metrics/job/X', `${HELP('m')}m 1\n`)).status).toBe(200);
    expect(
      (await http(svc.base, 'PUT', '/metrics/job/X/instance@base64/=', `${HELP('m')}m 2\n`)).status,
    ).toBe(200);
    for (let i = 0; i < 3; i++) {
      const s = await scrape();
      expect(s.text.match(/^m\{/gm)).toHaveLength(1);
      expect(s.text).toMatch(/^m\{instance="",job="X"\} 2$/m);
    }
  });

  it('gzip and OpenMetrics scrapes pass promtool and agree with the plain one', async () => {
    await http(svc.base, 'PUT', '/metrics/job/g', `${HELP('c_total', 'counter')}c_total 4\n`);
    const gz = await scrape({ 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const text = gunzipSync(gz.body).toString('utf8');
    expect(promtool(text).code).toBe(0);
    expect(text).toMatch(/^c_total\{instance="",job="g"\} 4$/m);
    const om = await scrape({
      accept: 'application/openmetrics-text; version=1.0.0',
      'accept-encoding': 'gzip',
    });
    const omText = gunzipSync(om.body).toString('utf8');
    expect(om.headers['content-type']).toMatch(/^application\/openmetrics-text; version=1.0.0/);
    expect(omText).toMatch(/^# TYPE c counter$/m);
    expect(omText).toMatch(/^c_total\{instance="",job="g"\} 4$/m);
    expect(omText.endsWith('# EOF\n')).toBe(true);
    expect(omText.match(/# EOF/g)).toHaveLength(1);
  });

  it('JSON API and admin wipe', async () => {
    await http(svc.base, 'PUT', '/metrics/job/j/instance/i', `${HELP('a')}a{x="0"} 1\na{x="1"} 2\n`);
    const pg = JSON.parse((await http(svc.base, 'GET', '/api/v1/metrics')).text);
    expect(pg.data[0].a.metrics).toEqual([
      { labels: { instance: 'i', job: 'j', x: '0' }, value: '1' },
      { labels: { instance: 'i', job: 'j', x: '1' }, value: '2' },
    ]);
    const j = JSON.parse((await http(svc.base, 'GET', '/api/v1/accrue/metrics')).text);
    expect(j.data).toHaveLength(1);
    expect(j.data[0].labels).toEqual({ job: 'j', instance: 'i' });
    expect(j.data[0].last_push_successful).toBe(true);
    expect(j.data[0].families).toEqual([{ name: 'a', type: 'gauge', help: 'a help.', series: 2 }]);
    expect((await http(svc.base, 'PUT', '/api/v1/admin/wipe')).status).toBe(202);
    expect(JSON.parse((await http(svc.base, 'GET', '/api/v1/metrics')).text).data).toEqual([]);
    expect(JSON.parse((await http(svc.base, 'GET', '/api/v1/accrue/metrics')).text).data).toEqual([]);
    expect((await http(svc.base, 'GET', '/-/ready')).status).toBe(200);
  });
});

describe('real clients', () => {
  it("prom-client's Pushgateway: push (PUT), pushAdd (POST), delete; groupings with '/' and quotes", async () => {
    const reg = new Registry();
    const c = new Counter({
      name: 'pc_jobs_total',
      help: 'Jobs done.',
      labelNames: ['kind'],
      registers: [reg],
    });
    const g = new Gauge({ name: 'pc_last_success', help: 'Last success.', registers: [reg] });
    const h = new Histogram({
      name: 'pc_duration_seconds',
      help: 'Duration.',
      buckets: [0.1, 1],
      registers: [reg],
    });
    c.inc({ kind: 'a"b\nc' }, 3);
    g.set(1700000000);
    h.observe(0.5);
    const gw = new Pushgateway(svc.base, {}, reg);
    const groupings = { instance: 'i/1', region: 'eu "west"' };
    await gw.push({ jobName: 'pc/job', groupings });
    let text = (await scrape()).text;
    expect(text).toContain(
      'pc_jobs_total{instance="i/1",job="pc/job",kind="a\\"b\\nc",region="eu \\"west\\""} 3',
    );
    expect(text).toMatch(/^pc_duration_seconds_bucket\{(?=.*le="1")(?=.*job="pc\/job").*\} 1$/m);
    expect(promtool(text).code).toBe(0);
    const reg2 = new Registry();
    new Gauge({ name: 'pc_extra', help: 'Extra.', registers: [reg2] }).set(7);
    await new Pushgateway(svc.base, {}, reg2).pushAdd({ jobName: 'pc/job', groupings });
    text = (await scrape()).text;
    expect(text).toMatch(/^pc_extra\{.*\} 7$/m);
    expect(text).toMatch(/^pc_last_success\{.*\} 1\.7e\+09$/m);
    await gw.delete({ jobName: 'pc/job', groupings });
    text = (await scrape()).text;
    expect(text).not.toMatch(/pc_/);
  });

  it('prom-client surfaces a refused push as an error', async () => {
    const reg = new Registry();
    new Gauge({ name: 'accrue_mine', help: 'Reserved.', registers: [reg] }).set(1);
    await expect(new Pushgateway(svc.base, {}, reg).push({ jobName: 'x' })).rejects.toThrow(/400/);
  });

  it('Python prometheus_client (Debian): push_to_gateway, pushadd_to_gateway, delete_from_gateway with @base64', async () => {
    const addr = svc.base.replace(/^http:\/\//, '');
    const script = `
import sys
from prometheus_client import CollectorRegistry, Gauge, Counter, push_to_gateway, pushadd_to_gateway, delete_from_gateway
addr, step = sys.argv[1], sys.argv[2]
key = {'path': '/var/lib/x', 'instance': 'py-1'}
reg = CollectorRegistry()
if step == 'push':
    Gauge('py_last_success', 'Last success.', registry=reg).set(42)
    Counter('py_runs', 'Runs.', registry=reg).inc(2)
    push_to_gateway(addr, job='py/batch', registry=reg, grouping_key=key)
elif step == 'pushadd':
    Gauge('py_more', 'More.', registry=reg).set(5)
    pushadd_to_gateway(addr, job='py/batch', registry=reg, grouping_key=key)
else:
    delete_from_gateway(addr, job='py/batch', grouping_key=key)
`;
    const py = (step: string) => execFileP('/usr/bin/python3', ['-c', script, addr, step]);
    await py('push');
    let text = (await scrape()).text;
    expect(text).toMatch(/^py_last_success\{instance="py-1",job="py\/batch",path="\/var\/lib\/x"\} 42$/m);
    expect(text).toMatch(/^py_runs_total\{instance="py-1",job="py\/batch",path="\/var\/lib\/x"\} 2$/m);
    expect(promtool(text).code).toBe(0);
    await py('pushadd');
    text = (await scrape()).text;
    expect(text).toMatch(/^py_more\{.*\} 5$/m);
    expect(text).toMatch(/^py_last_success\{.*\} 42$/m);
    await py('delete');
    text = (await scrape()).text;
    expect(text).not.toMatch(/py_/);
  });

  it('protobuf exposition, negotiated as Prometheus asks, decodes with the client model to the text series', async () => {
    const body = [
      '# HELP pl Latency.',
      '# TYPE pl histogram',
      'pl_bucket{le="0.5"} 1',
      'pl_bucket{le="+Inf"} 3',
      'pl_sum 4.5',
      'pl_count 3',
      '# TYPE pc_total counter',
      'pc_total{k="a\\"b"} 7',
      '# TYPE ps summary',
      'ps{quantile="0.9"} 2',
      'ps_sum 5',
      'ps_count 4',
      '',
    ].join('\n');
    expect((await http(svc.base, 'PUT', '/metrics/job/pbx/instance/i1', body)).status).toBe(200);
    expect((await http(svc.base, 'PUT', '/metrics/job/noinst', '# TYPE pn gauge\npn 1\n')).status).toBe(200);
    const accept =
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2';
    const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');
    const decode = (bytes: Buffer) => {
      const r = protobuf.Reader.create(bytes);
      const out: Record<string, unknown>[] = [];
      while (r.pos < r.len)
        out.push(MF.toObject(MF.decodeDelimited(r), { enums: String, longs: Number, defaults: true }));
      return out;
    };
    for (const gz of [false, true]) {
      const r = await scrape({ accept, ...(gz ? { 'accept-encoding': 'gzip' } : {}) });
      expect(r.headers['content-type']).toBe(
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
      );
      const fams = decode(gz ? gunzipSync(r.body) : r.body);
      // biome-ignore lint/suspicious/noExplicitAny: decoded protobuf objects, checked field by field below
      const by = (n: string) => fams.find((f) => f['name'] === n) as Record<string, any>;
      const labels = { instance: 'i1', job: 'pbx' };
      const ls = (m: { label: { name: string; value: string }[] }) =>
        Object.fromEntries(m.label.map((l) => [l.name, l.value]));
      expect(by('pl')['type']).toBe('HISTOGRAM');
      expect(by('pl')['help']).toBe('Latency.');
      expect(ls(by('pl')['metric'][0])).toEqual(labels);
      expect(by('pl')['metric'][0].histogram).toMatchObject({
        sampleCount: 3,
        sampleSum: 4.5,
        bucket: [
          { cumulativeCount: 1, upperBound: 0.5 },
          { cumulativeCount: 3, upperBound: Number.POSITIVE_INFINITY },
        ],
      });
      expect(by('pc_total')['type']).toBe('COUNTER');
      expect(ls(by('pc_total')['metric'][0])).toEqual({ ...labels, k: 'a"b' });
      expect(by('pc_total')['metric'][0].counter.value).toBe(7);
      expect(by('ps')['metric'][0].summary).toMatchObject({
        sampleCount: 4,
        sampleSum: 5,
        quantile: [{ quantile: 0.9, value: 2 }],
      });
      expect(by('push_time_seconds')['metric'][0].gauge.value).toBeGreaterThan(1e9);
      // instance="" is written out (as in text), so Prometheus with honor_labels attaches no address.
      expect(ls(by('pn')['metric'][0])).toEqual({ instance: '', job: 'noinst' });
      // Accrue's own metrics follow as further messages.
      expect(by('accrue_scrapes_total')['type']).toBe('COUNTER');
      // The same series as the text exposition, name by name.
      const text = (await scrape()).text;
      const textNames = new Set([...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
      expect(new Set(fams.map((f) => f['name']))).toEqual(textNames);
    }
  });

  it('snappy bodies compressed by libsnappy (framed as snzip writes, raw block as remote-write clients send)', async () => {
    const dir = join(__dirname, '../fixtures/snappy');
    for (const [job, file] of [
      ['sn_framed', 'small.framed.sz'],
      ['sn_block', 'small.block.sz'],
    ] as const) {
      const r = await http(svc.base, 'PUT', `/metrics/job/${job}`, readFileSync(join(dir, file)), {
        'content-encoding': 'snappy',
      });
      expect(r.status).toBe(200);
    }
    const text = (await scrape()).text;
    for (const job of ['sn_framed', 'sn_block'])
      expect(text).toContain(`aria_orders_total{instance="",job="${job}",side="buy",venue="v1"} 13`);
    expect(promtool(text).code).toBe(0);
    // The decompressed-size limit (1 MiB in these tests) holds as for gzip: 413, nothing stored.
    const big = await http(svc.base, 'PUT', '/metrics/job/sn_big', Buffer.from([0x80, 0x80, 0x80, 0x01, 0]), {
      'content-encoding': 'snappy',
    });
    expect([big.status, big.text]).toEqual([413, expect.stringMatching(/exceeds the limit of 1048576/)]);
    const bad = await http(svc.base, 'PUT', '/metrics/job/sn_bad', Buffer.from('not snappy'), {
      'content-encoding': 'snappy',
    });
    expect([bad.status, bad.text]).toEqual([400, expect.stringMatching(/invalid snappy data/)]);
    const groups = JSON.parse((await http(svc.base, 'GET', '/api/v1/metrics')).text).data;
    expect(groups.map((g: { labels: { job: string } }) => g.labels.job).sort()).toEqual([
      'sn_block',
      'sn_framed',
    ]);
  });

  it('Go client protobuf-delimited body (encoded with protobufjs), plain and gzip', async () => {
    const root = clientModelRoot();
    const MF = root.lookupType('io.prometheus.client.MetricFamily');
    const enc = (o: object) => Buffer.from(MF.encodeDelimited(MF.fromObject(o)).finish());
    const body = Buffer.concat([
      enc({
        name: 'go_jobs_total',
        help: 'Jobs.',
        type: 'COUNTER',
        metric: [{ label: [{ name: 'kind', value: 'x' }], counter: { value: 3 } }],
      }),
      enc({
        name: 'go_latency_seconds',
        help: 'Latency.',
        type: 'HISTOGRAM',
        metric: [
          {
            histogram: {
              sampleCount: 3,
              sampleSum: 1.2,
              bucket: [
                { cumulativeCount: 1, upperBound: 0.1 },
                { cumulativeCount: 2, upperBound: 1 },
              ],
            },
          },
        ],
      }),
    ]);
    const ct = {
      'content-type':
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    };
    expect((await http(svc.base, 'PUT', '/metrics/job/go', body, ct)).status).toBe(200);
    let text = (await scrape()).text;
    expect(text).toMatch(/^go_jobs_total\{instance="",job="go",kind="x"\} 3$/m);
    expect(text).toMatch(/^go_latency_seconds_bucket\{instance="",job="go",le="\+Inf"\} 3$/m);
    expect(promtool(text).code).toBe(0);
    const gz = await http(svc.base, 'PUT', '/metrics/job/go2', gzipSync(body), {
      ...ct,
      'content-encoding': 'gzip',
    });
    expect(gz.status).toBe(200);
    text = (await scrape()).text;
    expect(text).toMatch(/^go_jobs_total\{instance="",job="go2",kind="x"\} 3$/m);
    // A timestamped protobuf sample is refused like a text one.
    const ts = enc({
      name: 'go_ts',
      help: 'T.',
      type: 'GAUGE',
      metric: [{ gauge: { value: 1 }, timestampMs: 1700000000000 }],
    });
    const bad = await http(svc.base, 'PUT', '/metrics/job/go3', ts, ct);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/timestamps/);
  });

  it('a protobuf push with created_timestamp: kept for counters, histograms, summaries and served as _created / created_timestamp', async () => {
    const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');
    const enc = (o: object) => Buffer.from(MF.encodeDelimited(MF.fromObject(o)).finish());
    const at = (seconds: number, nanos = 0) => ({ seconds, nanos });
    const body = Buffer.concat([
      enc({
        name: 'ct_jobs_total',
        help: 'Jobs.',
        type: 'COUNTER',
        metric: [
          {
            label: [{ name: 'k', value: 'a' }],
            counter: { value: 3, createdTimestamp: at(1_700_000_000, 250_000_000) },
          },
          { label: [{ name: 'k', value: 'b' }], counter: { value: 4 } },
        ],
      }),
      enc({
        name: 'ct_seconds',
        help: 'Latency.',
        type: 'HISTOGRAM',
        metric: [
          {
            histogram: {
              sampleCount: 1,
              sampleSum: 0.5,
              bucket: [{ cumulativeCount: 1, upperBound: 1 }],
              createdTimestamp: at(1_700_000_001),
            },
          },
        ],
      }),
      enc({
        name: 'ct_q',
        help: 'Q.',
        type: 'SUMMARY',
        metric: [
          { summary: { sampleCount: 2, sampleSum: 3, quantile: [], createdTimestamp: at(1_700_000_002) } },
        ],
      }),
      enc({ name: 'ct_up', help: 'Up.', type: 'GAUGE', metric: [{ gauge: { value: 1 } }] }),
    ]);
    const ct = {
      'content-type':
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    };
    expect((await http(svc.base, 'PUT', '/metrics/job/ct', body, ct)).status).toBe(200);
    const om = (await scrape({ accept: 'application/openmetrics-text; version=1.0.0' })).text;
    const created = om.split('\n').filter((l) => l.includes('_created'));
    expect(created).toEqual([
      'ct_jobs_created{instance="",job="ct",k="a"} 1.70000000025e+09',
      'ct_q_created{instance="",job="ct"} 1.700000002e+09',
      'ct_seconds_created{instance="",job="ct"} 1.700000001e+09',
    ]);
    const text = (await scrape()).text;
    expect(text).not.toContain('_created');
    expect(promtool(text).code).toBe(0);
    // The protobuf exposition passes the timestamps through as they came.
    const pb = await scrape({
      accept: 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited',
    });
    const reader = protobuf.Reader.create(pb.body);
    const starts: Record<string, unknown> = {};
    while (reader.pos < reader.len) {
      const m = MF.toObject(MF.decodeDelimited(reader), { longs: Number }) as {
        name: string;
        metric: Record<string, { createdTimestamp?: unknown } | undefined>[];
      };
      if (m.name.startsWith('ct_'))
        starts[m.name] = m.metric.map(
          (x) => (x.counter ?? x.histogram ?? x.summary ?? x.gauge)?.createdTimestamp ?? null,
        );
    }
    expect(starts).toEqual({
      ct_jobs_total: [at(1_700_000_000, 250_000_000), null],
      ct_q: [{ seconds: 1_700_000_002 }],
      ct_seconds: [{ seconds: 1_700_000_001 }],
      ct_up: [null],
    });
    // A timestamp outside its type's range is refused, naming the field.
    const bad = enc({
      name: 'ct_bad_total',
      help: 'B.',
      type: 'COUNTER',
      metric: [{ counter: { value: 1, createdTimestamp: { seconds: 1, nanos: -1 } } }],
    });
    const r = await http(svc.base, 'PUT', '/metrics/job/ct2', bad, ct);
    expect([r.status, r.text]).toEqual([400, expect.stringMatching(/created_timestamp\.nanos/)]);
  });
});
