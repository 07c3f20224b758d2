/**
 * The scrape never waits for the store (service/scrape.ts): real HTTP against the real server over a fake
 * store whose snapshot() can be held back, and the cache directly for the wait bound.
 */
import { request as httpRequest } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { createCodec } from '../../../service/codec';
import { type Renderer, ScrapeCache } from '../../../service/scrape';
import { buildServer } from '../../../service/server';
import { ServiceStats } from '../../../service/stats';
import type { ServiceConfig } from '../../../shared/config';
import * as expfmt from '../../../shared/expfmt';
import type { StoreSnapshot } from '../../../shared/store/types';
import { gaugeFamily } from '../../contract/helpers';
import { FakeStore, fakeCodec } from './fakes';

/** A FakeStore whose snapshot() waits while `hold` is set. */
class HeldStore extends FakeStore {
  private release: (() => void) | undefined;
  private gate: Promise<void> | undefined;
  inFlight = 0;
  maxInFlight = 0;
  hold(): void {
    this.gate = new Promise((r) => {
      this.release = r;
    });
  }
  let(): void {
    this.release?.();
    this.gate = undefined;
  }
  override async snapshot(): Promise<StoreSnapshot> {
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.gate) await this.gate;
      return await super.snapshot();
    } finally {
      this.inFlight--;
    }
  }
}

const config: ServiceConfig = {
  host: '127.0.0.1',
  port: 0,
  adminApi: false,
  maxBodyBytes: 64 * 1024,
  snapshotRefreshMs: 60_000,
  snapshotMaxAgeMs: 60_000,
};

function get(base: string, path = '/metrics', method = 'GET', body?: string) {
  return new Promise<{ status: number; text: string; ms: number }>((resolve, reject) => {
    const t0 = performance.now();
    const u = new URL(path, base);
    const r = httpRequest({ host: u.hostname, port: u.port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          text: Buffer.concat(chunks).toString('utf8'),
          ms: performance.now() - t0,
        }),
      );
    });
    r.on('error', reject);
    r.end(body);
  });
}

async function until(what: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!(await what())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function serve(store: FakeStore, over: Partial<ServiceConfig> = {}) {
  const app = await buildServer({ store, config: { ...config, ...over }, codec: fakeCodec });
  const base = await app.listen({ port: 0, host: '127.0.0.1' });
  return { app, base };
}

describe('a scrape never waits for the store', () => {
  it('serves the last snapshot while a refresh of changes made elsewhere is held back, then the new one', async () => {
    const store = new HeldStore();
    const { app, base } = await serve(store, { snapshotRefreshMs: 50 });
    try {
      expect((await get(base)).status).toBe(200);
      store.hold();
      // Another writer (another instance, the ingest Lambda): only the background refresh sees it.
      await store.push({
        method: 'PUT',
        group: { job: 'x' },
        families: [gaugeFamily('m', [[{}, 1]])],
        pushTimeMs: 1,
      });
      await until(async () => store.inFlight === 1, 2000);
      // The refresh can't finish: scrapes still answer at once, from the old snapshot.
      const during = await Promise.all(Array.from({ length: 10 }, () => get(base)));
      for (const r of during) {
        expect(r.status).toBe(200);
        expect(r.ms).toBeLessThan(1000);
        expect(r.text).not.toMatch(/^m\{job="x"\} 1$/m);
      }
      expect(store.inFlight).toBe(1);
      store.let();
      await until(async () => /^m\{job="x"\} 1$/m.test((await get(base)).text), 2000);
      expect(store.maxInFlight).toBe(1);
    } finally {
      store.let();
      await app.close();
    }
  });

  it('read-your-writes: a scrape after a push through this instance waits for the refresh that push started', async () => {
    const store = new HeldStore();
    const { app, base } = await serve(store);
    try {
      expect((await get(base)).status).toBe(200);
      store.hold();
      expect((await get(base, '/metrics/job/y', 'PUT', 'n 2\n')).status).toBe(200);
      const scrape = get(base);
      await new Promise((r) => setTimeout(r, 100));
      store.let();
      const r = await scrape;
      expect(r.status).toBe(200);
      expect(r.text).toMatch(/^n\{job="y"\} 2$/m);
    } finally {
      store.let();
      await app.close();
    }
  });

  it('single-flight: writes during a refresh start exactly one more, never two at once', async () => {
    const store = new HeldStore();
    const { app, base } = await serve(store);
    try {
      await get(base);
      const before = store.calls.filter((c) => c === 'snapshot').length;
      store.hold();
      await get(base, '/metrics/job/a', 'PUT', 'a 1\n');
      await get(base, '/metrics/job/b', 'PUT', 'b 2\n');
      await get(base, '/metrics/job/c', 'PUT', 'c 3\n');
      const scrapes = Promise.all(Array.from({ length: 5 }, () => get(base)));
      store.let();
      await scrapes;
      await until(async () => /^c\{job="c"\} 3$/m.test((await get(base)).text), 2000);
      const text = (await get(base)).text;
      expect(text).toMatch(/^a\{job="a"\} 1$/m);
      expect(text).toMatch(/^b\{job="b"\} 2$/m);
      expect(store.maxInFlight).toBe(1);
      // The held refresh, then one more for everything written meanwhile.
      expect(store.calls.filter((c) => c === 'snapshot').length - before).toBe(2);
    } finally {
      store.let();
      await app.close();
    }
  });

  it('refreshes in the background without scrapes, every refreshMs', async () => {
    const store = new FakeStore();
    const { app, base } = await serve(store, { snapshotRefreshMs: 30 });
    try {
      await get(base);
      await store.push({
        method: 'PUT',
        group: { job: 'direct' },
        families: [gaugeFamily('d', [[{}, 4]])],
        pushTimeMs: 1,
      });
      const calls = store.calls.filter((c) => c === 'snapshot').length;
      await until(async () => store.calls.filter((c) => c === 'snapshot').length >= calls + 3, 3000);
      const r = await get(base);
      expect(r.text).toMatch(/^d\{job="direct"\} 4$/m);
    } finally {
      await app.close();
    }
    // Closed: no more refreshes.
    const after = store.calls.length;
    await new Promise((r) => setTimeout(r, 100));
    expect(store.calls.length).toBe(after);
  });

  it('reports the refreshes in its own metrics', async () => {
    const store = new FakeStore();
    const { app, base } = await serve(store);
    try {
      await get(base);
      const text = (await get(base)).text;
      expect(text).toMatch(/^accrue_snapshot_refresh_duration_seconds [0-9.e-]+$/m);
      expect(text).toMatch(/^accrue_snapshot_refresh_seconds_total [0-9.e-]+$/m);
    } finally {
      await app.close();
    }
  });
});

/** A cache that refreshes only when asked (invalidate): every refresh in these tests is one the test made. */
function idleCache(store: FakeStore, renderer: Renderer): ScrapeCache {
  return new ScrapeCache(
    store,
    renderer,
    { refreshMs: 60_000, maxAgeMs: 60_000 },
    new ServiceStats(),
    Date.now,
  );
}

/** PUT of one gauge named like its job, with value and push time `v`. */
function putGauge(store: FakeStore, job: string, v: number) {
  return store.push({
    method: 'PUT',
    group: { job },
    families: [gaugeFamily(job, [[{}, v]])],
    pushTimeMs: v,
  });
}

describe('a changed store is rendered before it is served', () => {
  it('renders and gzips the new snapshot in the background, so the scrape after a change only copies bytes', async () => {
    const store = new FakeStore();
    let renders = 0;
    const counting = {
      ...fakeCodec,
      render: (...a: Parameters<typeof fakeCodec.render>) => {
        if (a[0].groups.length > 0) renders++; // the stored part, not the own-metrics tail
        return fakeCodec.render(...a);
      },
    };
    const cache = idleCache(store, counting);
    try {
      await putGauge(store, 'a', 1);
      cache.invalidate();
      const first = await cache.scrape('text', true); // Prometheus's format, gzipped: now warmed
      expect(first.ok).toBe(true);
      await putGauge(store, 'b', 2);
      const before = renders;
      cache.invalidate();
      // No scrape in between: the served snapshot changes only once it is rendered and gzipped.
      await until(async () => ((await cache.snapshot())?.groups.length ?? 0) === 2, 2000);
      expect(renders).toBe(before + 1);
      const after = (await cache.scrape('text', true)) as { ok: true; body: Buffer };
      expect(gunzipSync(after.body).toString()).toMatch(/^b\{job="b"\} 2$/m);
      expect(renders).toBe(before + 1);
    } finally {
      cache.close();
    }
  });
});

describe('protobuf renders belong to their snapshot', () => {
  it('a protobuf scrape while a new snapshot is being warmed neither evicts it nor renders it twice', async () => {
    const store = new FakeStore();
    const codec = createCodec();
    const storedRenders: string[] = [];
    const scrapes: Promise<unknown>[] = [];
    let cache: ScrapeCache | undefined;
    const renderer: Renderer = {
      render: codec.render,
      renderProtobuf: (snapshot, extra) => {
        if (snapshot.groups.length > 0) {
          storedRenders.push(snapshot.groups.map((g) => g.key.job).join(','));
          // A scrape arriving while this refresh gzips the new render (the old snapshot is still served).
          if (snapshot.groups.length === 2) setImmediate(() => scrapes.push(cache!.scrape('protobuf', true)));
        }
        return codec.renderProtobuf(snapshot, extra);
      },
    };
    cache = idleCache(store, renderer);
    try {
      await putGauge(store, 'a', 1);
      cache.invalidate();
      expect((await cache.scrape('protobuf', true)).ok).toBe(true); // warms protobuf
      await putGauge(store, 'b', 2);
      cache.invalidate();
      await until(async () => ((await cache!.snapshot())?.groups.length ?? 0) === 2, 2000);
      await Promise.all(scrapes);
      const after = (await cache.scrape('protobuf', true)) as { ok: true; body: Buffer };
      const names = expfmt.parseProtobufDelimited(gunzipSync(after.body)).map((f) => f.name);
      expect(names).toEqual(expect.arrayContaining(['a', 'b']));
      expect(storedRenders).toEqual(['a', 'a,b']);
    } finally {
      cache.close();
    }
  });
});

describe('too old to serve', () => {
  it('answers 503 naming the reason, also when the refresh hangs, and recovers', async () => {
    let t = 1_000_000;
    const store = new HeldStore();
    const cache = new ScrapeCache(
      store,
      fakeCodec,
      { refreshMs: 1000, maxAgeMs: 10_000, waitMs: 50 },
      new ServiceStats(),
      () => t,
    );
    try {
      expect((await cache.scrape('text', false)).ok).toBe(true);
      store.hold();
      t += 5_000; // due: a refresh starts and hangs; the scrape is served meanwhile
      const t0 = performance.now();
      expect((await cache.scrape('text', false)).ok).toBe(true);
      t += 6_000; // 11 s old: nothing servable, the scrape waits at most waitMs
      const dead = await cache.scrape('text', false);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(dead).toEqual({
        ok: false,
        reason: expect.stringMatching(
          /refresh still running after 50 ms; last good snapshot is 11 s old, more than snapshotMaxAgeMs=10000/,
        ),
      });
      store.let();
      await until(async () => (await cache.scrape('text', false)).ok, 2000);
    } finally {
      store.let();
      cache.close();
    }
  });

  it('first scrape on a store that never answers: 503, no snapshot yet', async () => {
    const store = new HeldStore();
    store.hold();
    const cache = new ScrapeCache(
      store,
      fakeCodec,
      { refreshMs: 1000, maxAgeMs: 10_000, waitMs: 30 },
      new ServiceStats(),
      Date.now,
    );
    try {
      const r = await cache.scrape('text', false);
      expect(r).toEqual({
        ok: false,
        reason: expect.stringMatching(/no snapshot yet: first read still running after 30 ms/),
      });
    } finally {
      store.let();
      cache.close();
    }
  });
});
