/**
 * The service against hostile and careless clients, over real HTTP on 127.0.0.1 with short timeouts:
 * slow heads, stalled bodies and idle connections are closed; cross-site pushes are refused and store
 * nothing; oversize names are refused with a small answer; undecodable URLs are refused and counted;
 * the status page's CSP allows no inline code but its own; every push is audited.
 */
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import pino from 'pino';
import { buildServer } from '../../service/server';
import type { ServiceLimits } from '../../shared/config';
import { metricFamiliesToProtobufDelimited } from '../../shared/expfmt';
import { MemoryStore } from '../../shared/store';
import { http, type Running, startService, testServiceConfig } from './service-support';

const SHORT: Partial<ServiceLimits> = {
  headersTimeoutMs: 400,
  requestTimeoutMs: 800,
  keepAliveTimeoutMs: 400,
  idleTimeoutMs: 1500,
};

/** Opens a raw TCP connection, writes `data`, and resolves with the ms until the server closes it. */
function closedAfter(
  base: string,
  data: string | Buffer,
  limitMs = 10_000,
): Promise<{ ms: number; got: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    let got = '';
    const s: Socket = connect(Number(u.port), u.hostname, () => {
      if (data.length > 0) s.write(data);
    });
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`still open after ${limitMs} ms`));
    }, limitMs);
    s.on('data', (b) => {
      got += b.toString('latin1');
    });
    s.on('error', () => undefined);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ ms: Date.now() - t0, got });
    });
  });
}

function rejected(scrape: string, reason: string): number {
  const m = new RegExp(`^accrue_push_rejected_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(scrape);
  return m ? Number(m[1]) : 0;
}

describe('connection limits', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({ limits: SHORT });
  });
  afterAll(async () => {
    await svc.stop();
  });

  it('closes a connection whose request head never completes (slowloris)', async () => {
    const r = await closedAfter(svc.base, 'PUT /metrics/job/x HTTP/1.1\r\nHost: a\r\nX-Slow: ');
    expect(r.ms).toBeLessThan(SHORT.headersTimeoutMs! + 2000);
  });

  it('closes a connection that sends nothing at all', async () => {
    const r = await closedAfter(svc.base, '');
    expect(r.ms).toBeLessThan(SHORT.idleTimeoutMs! + 2000);
  });

  it('closes a stalled upload (body never completes) and keeps nothing', async () => {
    const head = 'PUT /metrics/job/stall HTTP/1.1\r\nHost: a\r\nContent-Length: 100000\r\n\r\n';
    const r = await closedAfter(svc.base, `${head}m 1\n`);
    expect(r.ms).toBeLessThan(SHORT.requestTimeoutMs! + 2000);
    const s = await http(svc.base, 'GET', '/metrics');
    expect(s.text).not.toMatch(/job="stall"/);
  });

  it('closes an idle keep-alive connection after a complete request', async () => {
    const r = await closedAfter(
      svc.base,
      'GET /-/healthy HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\n\r\n',
    );
    expect(r.got).toMatch(/^HTTP\/1\.1 200/);
    expect(r.ms).toBeLessThan(SHORT.keepAliveTimeoutMs! + 2000);
  });
});

describe('hostile pushes', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({ maxBodyBytes: 4 * 1024 * 1024 });
  });
  afterAll(async () => {
    await svc.stop();
  });

  it.each<[string, Record<string, string>]>([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site', { 'sec-fetch-site': 'same-site' }],
    ['a foreign Origin', { origin: 'https://evil.example' }],
    ['Origin: null', { origin: 'null' }],
  ])('refuses a push with %s (403 cross_site), stores nothing, counts it', async (_n, headers) => {
    const before = rejected((await http(svc.base, 'GET', '/metrics')).text, 'cross_site');
    for (const method of ['POST', 'PUT', 'DELETE']) {
      const r = await http(
        svc.base,
        method,
        '/metrics/job/xsite',
        method === 'DELETE' ? undefined : 'xsite_m 1\n',
        {
          'content-type': 'text/plain',
          ...headers,
        },
      );
      expect([r.status, r.text]).toEqual([403, expect.stringMatching(/^cross-site request refused/)]);
    }
    const s = (await http(svc.base, 'GET', '/metrics')).text;
    expect(s).not.toMatch(/xsite/);
    expect(rejected(s, 'cross_site')).toBe(before + 3);
    const w = await http(svc.base, 'PUT', '/api/v1/admin/wipe', undefined, headers);
    expect(w.status).toBe(403);
  });

  it('accepts same-origin browser pushes (the status page) and plain clients', async () => {
    const origin = svc.base; // http://127.0.0.1:<port>, as a browser on the page would send it
    const a = await http(svc.base, 'PUT', '/metrics/job/same', 'same_m 1\n', {
      origin,
      'sec-fetch-site': 'same-origin',
    });
    const b = await http(svc.base, 'PUT', '/metrics/job/plain', 'plain_m 1\n');
    expect([a.status, b.status]).toEqual([200, 200]);
  });

  it.each([
    ['metric name', (big: string) => `${big} 1\n`],
    ['label name', (big: string) => `m{${big}="v"} 1\n`],
  ])('refuses a 2 MB %s with an answer under 4 KiB', async (_n, body) => {
    const big = `n${'x'.repeat(2 * 1024 * 1024)}`;
    const r = await http(svc.base, 'PUT', '/metrics/job/bigname', body(big));
    expect(r.status).toBe(400);
    expect(r.body.length).toBeLessThan(4096);
    expect(r.text).toMatch(/must be at most 256 characters/);
    const s = (await http(svc.base, 'GET', '/metrics')).text;
    expect(rejected(s, 'invalid_name')).toBeGreaterThan(0);
    expect(s.length).toBeLessThan(1024 * 1024);
  });

  it.each([
    ['%zz', '/metrics/job/a%zz'],
    ['an encoded lone surrogate', '/metrics/job/a%ED%A0%80'],
    ['a truncated escape', '/metrics/job/a%E'],
  ])('refuses an undecodable URL (%s) as invalid, in text, counted', async (_n, path) => {
    const before = rejected((await http(svc.base, 'GET', '/metrics')).text, 'invalid');
    const r = await http(svc.base, 'PUT', path, 'm 1\n');
    expect(r.status).toBe(400);
    expect(r.headers['content-type']).toMatch(/^text\/plain/);
    expect(r.text).toMatch(/^path: invalid percent-encoding/);
    expect(rejected((await http(svc.base, 'GET', '/metrics')).text, 'invalid')).toBe(before + 1);
  });

  it('refuses a grouping path longer than the cap, naming the limit', async () => {
    const r = await http(svc.base, 'PUT', `/metrics/job@base64/${'='.repeat(9000)}x`, 'm 1\n');
    expect(r.status).toBe(400);
    expect(r.text).toMatch(/more than the limit of 8192/);
    expect(r.body.length).toBeLessThan(4096);
  });

  it("serves the status page with a CSP that allows only the page's own code, and no framing", async () => {
    const r = await http(svc.base, 'GET', '/');
    const csp = String(r.headers['content-security-policy']);
    expect(csp).toMatch(/script-src 'self'/);
    expect(csp).toMatch(/style-src 'self'/);
    expect(csp).toMatch(/frame-ancestors 'none'/);
    expect(csp).not.toMatch(/unsafe-inline/);
    expect(r.headers['x-frame-options']).toBe('DENY');
  });
});

describe('audit log', () => {
  it('writes one audit line per push, delete and admin action, with group, outcome, series and caller', async () => {
    const lines: Record<string, unknown>[] = [];
    const sink = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n')) if (l) lines.push(JSON.parse(l));
        cb();
      },
    });
    const store = await MemoryStore.open({});
    const app = await buildServer({
      store,
      config: { ...testServiceConfig, pushAuth: 'basic:alice:pw' },
      logger: pino({ level: 'info' }, sink),
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    const auth = { authorization: `Basic ${Buffer.from('alice:pw').toString('base64')}` };
    try {
      await http(base, 'PUT', '/metrics/job/a/instance/i1', 'm{x="1"} 1\nm{x="2"} 2\n', {
        ...auth,
        'x-forwarded-for': '203.0.113.7',
      });
      await http(base, 'PUT', '/metrics/job/a', 'bad line\n', auth);
      await http(base, 'DELETE', '/metrics/job/a/instance/i1', undefined, auth);
      await http(base, 'PUT', '/metrics/job/a', 'm 1\n');
      await http(base, 'PUT', '/api/v1/admin/wipe', undefined, auth);
      await http(base, 'PUT', '/metrics/job/a%zz', 'm 1\n', auth);
      await http(base, 'DELETE', '/metrics/job/b%ED%A0%80');
    } finally {
      await app.close();
      await store.close();
    }
    const audits = lines.filter((l) => l['msg'] === 'audit').map((l) => l['audit']);
    expect(audits).toEqual([
      expect.objectContaining({
        action: 'PUT',
        group: { job: 'a', instance: 'i1' },
        status: 200,
        outcome: 'applied',
        series: 2,
        caller: expect.objectContaining({ credential: 'alice', forwardedFor: '203.0.113.7' }),
      }),
      expect.objectContaining({ action: 'PUT', status: 400, outcome: 'refused', reason: 'decode' }),
      expect.objectContaining({ action: 'DELETE', status: 202, group: { job: 'a', instance: 'i1' } }),
      expect.objectContaining({
        action: 'PUT',
        status: 401,
        reason: 'unauthorized',
        caller: expect.objectContaining({ credential: 'unauthenticated' }),
      }),
      expect.objectContaining({ action: 'admin /api/v1/admin/wipe', status: 202 }),
      // Undecodable URLs never reach a route; they are audited all the same, with the path as sent.
      expect.objectContaining({
        action: 'PUT',
        path: '/metrics/job/a%zz',
        status: 400,
        outcome: 'refused',
        reason: 'invalid',
        caller: expect.objectContaining({ credential: 'alice' }),
      }),
      expect.objectContaining({
        action: 'DELETE',
        path: '/metrics/job/b%ED%A0%80',
        status: 400,
        reason: 'invalid',
        caller: expect.objectContaining({ credential: 'unauthenticated' }),
      }),
    ]);
  });
});

/** Sends a chunked upload: `first` bytes at once, then stalls (no end) until the socket closes. */
function stalledChunked(base: string, path: string, bytes: number): Promise<{ ms: number; got: string }> {
  const head = `PUT ${path} HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n`;
  const chunk = Buffer.concat([
    Buffer.from(`${bytes.toString(16)}\r\n`),
    Buffer.alloc(bytes, 0x61),
    Buffer.from('\r\n'),
  ]);
  return closedAfter(base, Buffer.concat([Buffer.from(head), chunk]), 15_000);
}

describe('memory bounds', () => {
  let svc: Running;
  beforeAll(async () => {
    svc = await startService({
      maxBodyBytes: 2 * 1024 * 1024,
      limits: { ...SHORT, requestTimeoutMs: 3000, maxSeriesPerPush: 1000, maxInflightBodyBytes: 1024 * 1024 },
    });
  });
  afterAll(async () => {
    await svc.stop();
  });

  const lines = (n: number) => Array.from({ length: n }, (_, i) => `cap_m{i="${i}"} 1\n`).join('');

  it.each([
    ['text', () => lines(1001), {}],
    ['gzipped text', () => gzipSync(lines(5000)), { 'content-encoding': 'gzip' }],
  ])(
    'refuses a %s push with more series than maxSeriesPerPush (limit), stores nothing',
    async (_n, body, headers) => {
      const r = await http(svc.base, 'PUT', '/metrics/job/cap', body(), headers);
      expect([r.status, r.text]).toEqual([
        400,
        expect.stringMatching(/more than 1000 series \(maxSeriesPerPush/),
      ]);
      expect((await http(svc.base, 'GET', '/metrics')).text).not.toMatch(/cap_m/);
    },
  );

  it('refuses a protobuf push with more series than maxSeriesPerPush', async () => {
    const series = Array.from({ length: 1001 }, (_, i) => ({ labels: { i: String(i) }, value: 1 }));
    const body = metricFamiliesToProtobufDelimited([{ name: 'pb_m', help: '', type: 'gauge', series }]);
    const r = await http(svc.base, 'PUT', '/metrics/job/cap', Buffer.from(body), {
      'content-type':
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited',
    });
    expect([r.status, r.text]).toEqual([400, expect.stringMatching(/more than 1000 series/)]);
  });

  it('accepts a push at the series cap', async () => {
    const r = await http(svc.base, 'PUT', '/metrics/job/atcap', lines(1000));
    expect(r.status).toBe(200);
  });

  it('refuses pushes beyond the in-flight body budget with 503 overloaded, and small pushes still pass', async () => {
    // Two stalled 700 KiB uploads: the first fits the 1 MiB budget, the second is refused as it arrives.
    const a = stalledChunked(svc.base, '/metrics/job/big1', 700 * 1024);
    await new Promise((r) => setTimeout(r, 200));
    const declared = await http(svc.base, 'PUT', '/metrics/job/big2', Buffer.alloc(700 * 1024, 0x61));
    expect([declared.status, declared.headers['retry-after']]).toEqual([503, '1']);
    expect(declared.text).toMatch(/ACCRUE_MAX_INFLIGHT_BODY_BYTES/);
    const b = await stalledChunked(svc.base, '/metrics/job/big3', 700 * 1024);
    expect(b.got).toMatch(/^HTTP\/1\.1 503/);
    const small = await http(svc.base, 'PUT', '/metrics/job/small', 'small_m 1\n');
    expect(small.status).toBe(200);
    const first = await a;
    expect(first.ms).toBeLessThan(3000 + 2000);
    const s = (await http(svc.base, 'GET', '/metrics')).text;
    expect(rejected(s, 'overloaded')).toBe(2);
    expect(s).not.toMatch(/big\d/);
  });

  it('counts text-body name and duplicate refusals under their documented reasons', async () => {
    const before = (await http(svc.base, 'GET', '/metrics')).text;
    await http(svc.base, 'PUT', '/metrics/job/r', 'm{0bad="1"} 1\n');
    await http(svc.base, 'PUT', '/metrics/job/r', 'm{a="1"} 1\nm{a="1"} 2\n');
    const after = (await http(svc.base, 'GET', '/metrics')).text;
    expect(rejected(after, 'invalid_name') - rejected(before, 'invalid_name')).toBe(1);
    expect(rejected(after, 'duplicate_series') - rejected(before, 'duplicate_series')).toBe(1);
    expect(rejected(after, 'decode')).toBe(rejected(before, 'decode'));
  });
});

describe('stale pushes and cached read APIs', () => {
  it('answers a push older than what the group holds with 409, changes nothing, counts it as stale', async () => {
    let t = 2_000_000;
    const store = await MemoryStore.open({});
    const app = await buildServer({ store, config: testServiceConfig, now: () => t });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      expect((await http(base, 'PUT', '/metrics/job/st', 'st_m 1\n')).status).toBe(200);
      t -= 60_000; // another instance with a slow clock
      const r = await http(base, 'PUT', '/metrics/job/st', 'st_m 2\n');
      expect([r.status, r.text]).toEqual([409, expect.stringMatching(/^stale: /)]);
      const s = (await http(base, 'GET', '/metrics')).text;
      expect(s).toMatch(/^st_m\{instance="",job="st"\} 1$/m);
      expect(rejected(s, 'stale')).toBe(1);
    } finally {
      await app.close();
      await store.close();
    }
  });

  it('serves /api/v1/metrics from one rendering per store generation', async () => {
    const svc = await startService();
    try {
      await http(svc.base, 'PUT', '/metrics/job/j1', 'a 1\n');
      const a = await http(svc.base, 'GET', '/api/v1/metrics');
      const b = await http(svc.base, 'GET', '/api/v1/metrics');
      expect(a.status).toBe(200);
      expect(b.text).toBe(a.text);
      await http(svc.base, 'PUT', '/metrics/job/j2', 'a 2\n');
      const c = await http(svc.base, 'GET', '/api/v1/metrics');
      expect(c.text).not.toBe(a.text);
      expect(c.text).toContain('"j2"');
    } finally {
      await svc.stop();
    }
  });
});

describe('producer trust model over HTTP', () => {
  const producers = JSON.stringify([{ name: 'aria-eu', credential: 'bearer:eu-token', jobs: ['aria_eu_*'] }]);
  const eu = { authorization: 'Bearer eu-token' };
  const admin = { authorization: 'Bearer admin-token' };

  it('a producer writes only its jobs (403 forbidden, counted, nothing stored); the admin credential writes any', async () => {
    const svc = await startService({ pushAuth: 'bearer:admin-token', producers });
    try {
      expect((await http(svc.base, 'PUT', '/metrics/job/aria_eu_fx', 'eu_m 1\n', eu)).status).toBe(200);
      const other = await http(svc.base, 'PUT', '/metrics/job/nightly', 'squat_m 1\n', eu);
      expect([other.status, other.text]).toEqual([
        403,
        expect.stringMatching(/producer aria-eu may not write job "nightly"/),
      ]);
      const del = await http(svc.base, 'DELETE', '/metrics/job/nightly', undefined, eu);
      expect(del.status).toBe(403);
      expect((await http(svc.base, 'PUT', '/api/v1/admin/wipe', undefined, eu)).status).toBe(403);
      expect((await http(svc.base, 'PUT', '/metrics/job/nightly', 'n_m 1\n', admin)).status).toBe(200);
      expect(
        (await http(svc.base, 'PUT', '/metrics/job/x', 'x 1\n', { authorization: 'Bearer nope' })).status,
      ).toBe(401);
      const s = (await http(svc.base, 'GET', '/metrics', undefined, admin)).text;
      expect(s).not.toMatch(/squat_m/);
      expect(rejected(s, 'forbidden')).toBe(2); // the PUT and the DELETE (admin refusals are not pushes)
    } finally {
      await svc.stop();
    }
  });
});
