/**
 * The HTTP surface over a fake store (real HTTP on 127.0.0.1:0): routes, status codes, auth, limits,
 * failure recording, the scrape cache (single-flight, staleness, 503) and gzip.
 */
import { request as httpRequest } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../../../service/server';
import type { ServiceConfig } from '../../../shared/config';
import { FakeStore, fakeCodec } from './fakes';

const baseConfig: ServiceConfig = {
  host: '127.0.0.1',
  port: 0,
  adminApi: false,
  maxBodyBytes: 64 * 1024,
  snapshotRefreshMs: 0,
  snapshotMaxAgeMs: 60_000,
};

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

function req(
  base: string,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const u = new URL(path, base);
    const r = httpRequest({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: b, text: b.toString('utf8') });
      });
    });
    r.on('error', reject);
    if (body !== undefined) r.end(body);
    else r.end();
  });
}

async function start(config: Partial<ServiceConfig> = {}, now?: () => number) {
  const store = new FakeStore();
  const app = await buildServer({
    store,
    config: { ...baseConfig, ...config },
    codec: fakeCodec,
    ...(now ? { now } : {}),
  });
  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return { store, app, base: address };
}

describe('push API and scrape', () => {
  let app: FastifyInstance;
  let store: FakeStore;
  let base: string;
  beforeEach(async () => {
    let t = 1_700_000_000_000;
    ({ app, store, base } = await start({}, () => (t += 1000)));
  });
  afterEach(async () => {
    await app.close();
  });

  it('PUT answers 200 and the push is scraped with its grouping labels', async () => {
    const r = await req(base, 'PUT', '/metrics/job/batch/instance/h1', '# TYPE m gauge\nm{a="1"} 5\n');
    expect(r.status).toBe(200);
    const s = await req(base, 'GET', '/metrics');
    expect(s.status).toBe(200);
    expect(s.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(s.text).toMatch(/^m\{job="batch",instance="h1",a="1"\} 5$/m);
    expect(s.text).toMatch(/^accrue_push_requests_total\{method="PUT",code="200"\} 1$/m);
  });

  it('POST replaces only the pushed families; PUT replaces the group; DELETE answers 202', async () => {
    await req(base, 'PUT', '/metrics/job/j', 'a 1\nb 1\n');
    expect((await req(base, 'POST', '/metrics/job/j', 'a 2\n')).status).toBe(200);
    let s = (await req(base, 'GET', '/metrics')).text;
    expect(s).toMatch(/^a\{job="j"\} 2$/m);
    expect(s).toMatch(/^b\{job="j"\} 1$/m);
    await req(base, 'PUT', '/metrics/job/j', 'a 3\n');
    s = (await req(base, 'GET', '/metrics')).text;
    expect(s).toMatch(/^a\{job="j"\} 3$/m);
    expect(s).not.toMatch(/^b\{/m);
    const d = await req(base, 'DELETE', '/metrics/job/j');
    expect(d.status).toBe(202);
    expect((await req(base, 'GET', '/metrics')).text).not.toMatch(/job="j"/);
  });

  it('accepts a gzip body and a body without Content-Type', async () => {
    const r = await req(base, 'PUT', '/metrics/job/gz', gzipSync('m 7\n'), {
      'content-encoding': 'gzip',
      'content-type': 'text/plain',
    });
    expect(r.status).toBe(200);
    const r2 = await req(base, 'PUT', '/metrics/job/nct', 'n 8\n');
    expect(r2.status).toBe(200);
    const s = (await req(base, 'GET', '/metrics')).text;
    expect(s).toMatch(/^m\{job="gz"\} 7$/m);
    expect(s).toMatch(/^n\{job="nct"\} 8$/m);
  });

  const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
  it.each<[string, string, string, Buffer | string, Record<string, string>, number, RegExp, boolean]>([
    // name, method, path, body, headers, status, message, failure recorded on the group (only when the
    // path and body were understood, as on the Pushgateway)
    ['body that does not parse', 'PUT', '/metrics/job/x', 'm{a="1} 1\n', {}, 400, /parsing error/, false],
    ['timestamps', 'PUT', '/metrics/job/x', 'm 1 1700000000000\n', {}, 400, /timestamps/, true],
    [
      'duplicate series',
      'PUT',
      '/metrics/job/x',
      'm{a="1"} 1\nm{a="1"} 2\n',
      {},
      400,
      /duplicate series/,
      true,
    ],
    ['reserved accrue_ name', 'PUT', '/metrics/job/x', 'accrue_x 1\n', {}, 400, /reserved/, true],
    ['CR in body', 'PUT', '/metrics/job/x', 'm 1\r\n', {}, 400, /./, false],
    [
      'invalid UTF-8',
      'PUT',
      '/metrics/job/x',
      Buffer.from([0x6d, 0x20, 0xff, 0x0a]),
      {},
      400,
      /UTF-8/,
      false,
    ],
    ['bad gzip', 'PUT', '/metrics/job/x', 'not gzip', { 'content-encoding': 'gzip' }, 400, /gzip/, false],
    [
      'gzip bomb',
      'PUT',
      '/metrics/job/x',
      bomb,
      { 'content-encoding': 'gzip' },
      413,
      /exceeds the limit/,
      false,
    ],
    ['oversize body', 'PUT', '/metrics/job/x', Buffer.alloc(100 * 1024, 0x20), {}, 413, /./, false],
    [
      'unknown content encoding',
      'PUT',
      '/metrics/job/x',
      'm 1\n',
      { 'content-encoding': 'br' },
      400,
      /not supported/,
      false,
    ],
    ['odd path segments', 'PUT', '/metrics/job/x/instance', 'm 1\n', {}, 400, /odd number/, false],
    ['missing job', 'PUT', '/metrics/', 'm 1\n', {}, 400, /job name is required/, false],
    ['empty job', 'PUT', '/metrics/job//a/b', 'm 1\n', {}, 400, /job name is required/, false],
    [
      '__proto__ path label',
      'PUT',
      '/metrics/job/x/__proto__/y',
      'm 1\n',
      {},
      400,
      /must not start with "__"/,
      false,
    ],
    ['bad base64', 'PUT', '/metrics/job/x/a@base64/%21%21', 'm 1\n', {}, 400, /invalid base64/, false],
    [
      'newline in a label value (base64)',
      'PUT',
      `/metrics/job/x/a@base64/${Buffer.from('l1\nl2"q').toString('base64url')}`,
      'm{__bad="1"} 1\n',
      {},
      400,
      /must not start with "__"/,
      true,
    ],
  ])('refuses %s', async (_name, method, path, body, headers, status, message, recorded) => {
    const r = await req(base, method, path, body, headers);
    expect(r.status).toBe(status);
    expect(r.text).toMatch(message);
    const hasSeries = [...store.groups.values()].some((g) => g.families.size > 0);
    expect(hasSeries).toBe(false);
    expect(store.calls.includes('recordPushFailure')).toBe(recorded);
    const s = await req(base, 'GET', '/metrics');
    expect(s.status).toBe(200);
    expect(s.text).toMatch(/^accrue_push_rejected_total\{reason="[a-z_]+"\} 1$/m);
    expect(s.text).toMatch(
      new RegExp(`^accrue_push_requests_total\\{method="${method}",code="${status}"\\} 1$`, 'm'),
    );
  });

  it('a family type conflict with another group is refused and does not break /metrics', async () => {
    expect((await req(base, 'PUT', '/metrics/job/a', '# TYPE m counter\nm 1\n')).status).toBe(200);
    const bad = await req(base, 'PUT', '/metrics/job/b', '# TYPE m gauge\nm 2\n');
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/family m/);
    const ok = await req(base, 'PUT', '/metrics/job/b', '# TYPE n gauge\nn 3\n');
    expect(ok.status).toBe(200);
    const s = await req(base, 'GET', '/metrics');
    expect(s.status).toBe(200);
    expect(s.text).toMatch(/^m\{job="a"\} 1$/m);
    expect(s.text).toMatch(/^n\{job="b"\} 3$/m);
    expect(s.text).toMatch(/^accrue_push_rejected_total\{reason="family_conflict"\} 1$/m);
  });

  it('instance@base64/= is the same group as no instance (no 500-forever)', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    expect((await req(base, 'PUT', '/metrics/job/x/instance@base64/=', 'm 2\n')).status).toBe(200);
    const s = await req(base, 'GET', '/metrics');
    expect(s.status).toBe(200);
    expect(s.text.match(/^m\{/gm)).toHaveLength(1);
    expect(s.text).toMatch(/^m\{job="x"\} 2$/m);
  });

  it('serves OpenMetrics on Accept, with one # EOF at the end', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    const s = await req(base, 'GET', '/metrics', undefined, {
      accept: 'application/openmetrics-text; version=1.0.0',
    });
    expect(s.headers['content-type']).toBe('application/openmetrics-text; version=1.0.0; charset=utf-8');
    expect(s.text.match(/# EOF/g)).toHaveLength(1);
    expect(s.text.endsWith('# EOF\n')).toBe(true);
  });

  it('gzips when accepted; the body decodes to the plain body', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    const plain = await req(base, 'GET', '/metrics');
    const gz = await req(base, 'GET', '/metrics', undefined, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    const decoded = gunzipSync(gz.body).toString('utf8');
    // Own counters differ between the two scrapes (scrapes_total); stored part must be equal.
    const strip = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('accrue_'))
        .join('\n');
    expect(strip(decoded)).toBe(strip(plain.text));
  });

  it('a plain scrape after a gzip-only render is served from the cached gzip bytes', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    const gz = await req(base, 'GET', '/metrics', undefined, { 'accept-encoding': 'gzip' });
    const plain = await req(base, 'GET', '/metrics');
    expect(plain.headers['content-encoding']).toBeUndefined();
    const strip = (t: string) =>
      t
        .split('\n')
        .filter((l) => !l.startsWith('accrue_'))
        .join('\n');
    expect(strip(plain.text)).toBe(strip(gunzipSync(gz.body).toString('utf8')));
    expect(plain.text).toMatch(/^m\{job="x"\} 1$/m);
  });

  it('every own metric name is registered as reserved for the render', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n', { 'idempotency-key': 'own-names' });
    await req(base, 'PUT', '/metrics/job/x', 'm 1 5\n');
    const text = (await req(base, 'GET', '/metrics')).text;
    const names = new Set([...text.matchAll(/^# TYPE (accrue_\w+) /gm)].map((m) => m[1]));
    const { ServiceStats } = await import('../../../service/stats');
    const own = new ServiceStats().ownNames;
    expect([...names].sort()).toEqual([...own].sort());
  });

  it("Accrue's JSON view lists groups with push times and last_push_successful", async () => {
    await req(base, 'PUT', '/metrics/job/x/instance/i', 'm 1\nn 2\n');
    await req(base, 'PUT', '/metrics/job/x/instance/i', 'm 1 123\n');
    const r = await req(base, 'GET', '/api/v1/accrue/metrics');
    expect(r.status).toBe(200);
    const j = JSON.parse(r.text);
    expect(j.status).toBe('success');
    expect(j.data).toHaveLength(1);
    expect(j.data[0].labels).toEqual({ job: 'x', instance: 'i' });
    expect(j.data[0].last_push_successful).toBe(false);
    expect(j.data[0].last_failure_reason).toMatch(/timestamp/);
    expect(j.data[0].families).toEqual([
      { name: 'm', type: 'untyped', help: '', series: 1 },
      { name: 'n', type: 'untyped', help: '', series: 1 },
    ]);
    const st = JSON.parse((await req(base, 'GET', '/api/v1/status')).text);
    expect(st.data.flags.admin_api).toBe(false);
  });

  it('health, readiness follows store.ping()', async () => {
    expect((await req(base, 'GET', '/-/healthy')).status).toBe(200);
    expect((await req(base, 'GET', '/-/ready')).status).toBe(200);
    store.failing = true;
    const r = await req(base, 'GET', '/-/ready');
    expect(r.status).toBe(503);
    expect(r.text).toMatch(/fake store is down/);
    expect((await req(base, 'GET', '/-/healthy')).status).toBe(200);
  });

  it('admin wipe is 404 while the admin API is off', async () => {
    await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    expect((await req(base, 'PUT', '/api/v1/admin/wipe')).status).toBe(404);
    expect(store.groups.size).toBe(1);
  });

  it('a store that fails on push gives 503 and records nothing', async () => {
    store.failing = true;
    const r = await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
    expect(r.status).toBe(503);
    expect(store.calls.includes('recordPushFailure')).toBe(false);
  });

  it('status page escapes hostile label values', async () => {
    const v = Buffer.from('<script>alert(1)</script>"\'&').toString('base64url');
    await req(base, 'PUT', `/metrics/job/x/evil@base64/${v}`, 'm 1\n');
    const r = await req(base, 'GET', '/');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/text\/html/);
    expect(r.text).not.toContain('<script>alert(1)</script>');
    expect(r.text).toContain('&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;');
    expect(r.text).toContain('class="delete"');
  });
});

describe('auth', () => {
  const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
  it.each<[string, Record<string, string>, number]>([
    ['no credentials', {}, 401],
    ['wrong password', { authorization: basic('pusher', 'nope') }, 401],
    ['password of another length', { authorization: basic('pusher', 's3cr3t:with:colons-and-more') }, 401],
    ['bearer instead of basic', { authorization: 'Bearer s3cr3t' }, 401],
    ['garbage header', { authorization: 'Basic !!!' }, 401],
    ['right credentials', { authorization: basic('pusher', 's3:cr3t') }, 200],
    ['scheme in lower case', { authorization: basic('pusher', 's3:cr3t').replace('Basic', 'basic') }, 200],
  ])('basic push auth: %s', async (_name, headers, status) => {
    const { app, base, store } = await start({ pushAuth: 'basic:pusher:s3:cr3t' });
    try {
      const r = await req(base, 'PUT', '/metrics/job/x', 'm 1\n', headers);
      expect(r.status).toBe(status);
      if (status === 401) {
        expect(r.headers['www-authenticate']).toMatch(/^Basic/);
        expect(store.calls).not.toContain('recordPushFailure');
        expect(store.groups.size).toBe(0);
      }
      // Scrapes stay open without scrapeAuth.
      expect((await req(base, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('bearer push auth, delete buttons hidden on the status page', async () => {
    const { app, base } = await start({ pushAuth: 'bearer:tok' });
    try {
      expect(
        (await req(base, 'DELETE', '/metrics/job/x', undefined, { authorization: 'Bearer wrong' })).status,
      ).toBe(401);
      expect(
        (await req(base, 'PUT', '/metrics/job/x', 'm 1\n', { authorization: 'Bearer tok' })).status,
      ).toBe(200);
      expect((await req(base, 'GET', '/')).text).not.toContain('class="delete"');
    } finally {
      await app.close();
    }
  });

  it('scrape auth protects reads but not health; push credentials also read', async () => {
    const { app, base } = await start({
      scrapeAuth: 'bearer:scrape',
      pushAuth: 'bearer:push',
      adminApi: true,
    });
    try {
      for (const p of ['/metrics', '/api/v1/metrics', '/api/v1/status', '/']) {
        expect((await req(base, 'GET', p)).status).toBe(401);
        expect((await req(base, 'GET', p, undefined, { authorization: 'Bearer scrape' })).status).toBe(200);
        expect((await req(base, 'GET', p, undefined, { authorization: 'Bearer push' })).status).toBe(200);
      }
      expect((await req(base, 'GET', '/-/healthy')).status).toBe(200);
      expect(
        (await req(base, 'PUT', '/api/v1/admin/wipe', undefined, { authorization: 'Bearer scrape' })).status,
      ).toBe(401);
      expect(
        (await req(base, 'PUT', '/api/v1/admin/wipe', undefined, { authorization: 'Bearer push' })).status,
      ).toBe(202);
    } finally {
      await app.close();
    }
  });

  it.each(['basic:onlyuser', 'basic::pw', 'bearer:', 'token:abc', ''])(
    'refuses auth spec %j at startup',
    async (spec) => {
      const store = new FakeStore();
      if (spec === '') return; // empty means "off" (config reads '' as unset)
      await expect(
        buildServer({ store, config: { ...baseConfig, pushAuth: spec }, codec: fakeCodec }),
      ).rejects.toThrow(/ACCRUE_PUSH_AUTH/);
    },
  );
});

describe('scrape cache', () => {
  it('concurrent scrapes share one snapshot read (single-flight)', async () => {
    const { app, base, store } = await start({ snapshotRefreshMs: 60_000 });
    try {
      store.snapshotDelayMs = 50;
      const rs = await Promise.all(Array.from({ length: 8 }, () => req(base, 'GET', '/metrics')));
      expect(rs.every((r) => r.status === 200)).toBe(true);
      expect(store.calls.filter((c) => c === 'snapshot')).toHaveLength(1);
    } finally {
      await app.close();
    }
  });

  it('re-reads only when the generation changed, and at once after a local push', async () => {
    const { app, base, store } = await start({ snapshotRefreshMs: 60_000 });
    try {
      await req(base, 'GET', '/metrics');
      await req(base, 'GET', '/metrics');
      expect(store.calls.filter((c) => c === 'snapshot')).toHaveLength(1);
      await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
      const s = await req(base, 'GET', '/metrics');
      expect(s.text).toMatch(/^m\{job="x"\} 1$/m);
      expect(store.calls.filter((c) => c === 'snapshot')).toHaveLength(2);
    } finally {
      await app.close();
    }
  });

  it('serves the last good snapshot while young enough, then 503 with the reason', async () => {
    let t = 1_000_000;
    const { app, base, store } = await start({ snapshotRefreshMs: 1000, snapshotMaxAgeMs: 10_000 }, () => t);
    try {
      await req(base, 'PUT', '/metrics/job/x', 'm 1\n');
      expect((await req(base, 'GET', '/metrics')).status).toBe(200);
      store.failing = true;
      t += 5_000;
      const stale = await req(base, 'GET', '/metrics');
      expect(stale.status).toBe(200);
      expect(stale.text).toMatch(/^m\{job="x"\} 1$/m);
      expect(stale.text).toMatch(/^accrue_snapshot_age_seconds 5$/m);
      t += 6_000;
      const dead = await req(base, 'GET', '/metrics');
      expect(dead.status).toBe(503);
      expect(dead.text).toMatch(/store unavailable \(fake store is down\).*snapshotMaxAgeMs=10000/);
      store.failing = false;
      expect((await req(base, 'GET', '/metrics')).status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('503 when the store was never readable', async () => {
    const store = new FakeStore();
    store.failing = true;
    const app = await buildServer({ store, config: baseConfig, codec: fakeCodec });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      const r = await req(base, 'GET', '/metrics');
      expect(r.status).toBe(503);
      expect(r.text).toMatch(/no snapshot yet/);
    } finally {
      await app.close();
    }
  });
});

describe('acceptsGzip', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['deflate, gzip;q=1.0, *;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip;q=0.0, identity', false],
    ['*', true],
    ['*;q=0', false],
    ['br', false],
    ['gzip;q=NaN', false],
    ['x-gzip', true],
    ['notgzip', false],
  ])('%j -> %s', async (header, expected) => {
    const { acceptsGzip } = await import('../../../service/routes/scrape');
    expect(acceptsGzip(header)).toBe(expected);
  });
});
