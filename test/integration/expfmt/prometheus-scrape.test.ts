/**
 * The real Prometheus (2.42, Debian) scrapes renderSnapshot's output: OpenMetrics on /metrics (negotiated
 * from Prometheus's own Accept header) and text 0.0.4 on /text. Both targets must be healthy (so the
 * real OpenMetrics and text parsers accept the output), expose the same series, and keep `le` identical
 * across formats. Series with a start (`createdMs`) add OpenMetrics `_created` lines, which Prometheus 2.x
 * ingests as series `<family>_created`: their value is the start in seconds, and nothing else differs from
 * the text scrape.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { negotiate } from '../../../shared/expfmt/negotiate';
import { RenderCache, renderSnapshot } from '../../../shared/expfmt/snapshot-render';
import type { MetricFamily } from '../../../shared/model/types';
import { MemoryStore } from '../../../shared/store/memory';
import type { StoreSnapshot } from '../../../shared/store/types';
import { FakeClock, inc, req } from '../../contract/helpers';
import { validApplies } from '../../support/edge';

const PROMETHEUS = process.env.ACCRUE_PROMETHEUS ?? '/usr/bin/prometheus';
/** Starts of the series that have one (ms; sub-second parts, as the stores keep the store clock in ms). */
const ORDERS_START = 1_700_000_000_123;
const LATENCY_START = 1_700_000_100_250;
const FILL_START = 1_699_999_999_999;

function families(): MetricFamily[] {
  return [
    {
      name: 'aria_orders_total',
      help: 'Orders "placed" \\ by symbol.\nSecond line.',
      type: 'counter',
      series: [
        { labels: { symbol: 'BTCUSD', action: 'buy' }, value: 3, createdMs: ORDERS_START },
        { labels: { symbol: 'a"b\\c\nd', action: 'sell' }, value: 1e6 },
      ],
    },
    // A gauge never has a start: no _created even if a series object carried one.
    {
      name: 'aria_pnl',
      help: 'PnL.',
      type: 'gauge',
      series: [{ labels: {}, value: -2.5e-7, createdMs: ORDERS_START }],
    },
    {
      name: 'aria_latency_seconds',
      help: 'Latency.',
      type: 'histogram',
      series: [
        {
          labels: { venue: 'x' },
          buckets: [
            { le: 0.005, count: 1 },
            { le: 1, count: 2 },
            { le: 1e6, count: 3 },
          ],
          sum: 1.5,
          count: 4,
          createdMs: LATENCY_START,
        },
      ],
    },
    {
      name: 'aria_fill',
      help: 'Fill.',
      type: 'summary',
      series: [
        { labels: {}, quantiles: [{ quantile: 0.5, value: 1 }], sum: 2, count: 3, createdMs: FILL_START },
      ],
    },
    { name: 'aria_legacy', help: 'Legacy.', type: 'untyped', series: [{ labels: {}, value: Number.NaN }] },
  ];
}

/** The store's clock when it created `aria_store_fills_total` (first apply) and when it added to it. */
const STORE_START = 1_700_000_200_777;

/** A counter as the memory store keeps it after two applies: its start is the first apply's clock. */
async function storeFamilies(): Promise<readonly MetricFamily[]> {
  const clock = new FakeClock(STORE_START);
  const store = await MemoryStore.open({ now: clock.now });
  await store.apply(
    validApplies([req('f1', { job: 'x' }, [inc('aria_store_fills_total', { venue: 'v' }, 2)])]),
  );
  clock.advance(30_000);
  await store.apply(
    validApplies([req('f2', { job: 'x' }, [inc('aria_store_fills_total', { venue: 'v' }, 1)])]),
  );
  const fams = (await store.snapshot()).groups[0]!.families;
  await store.close();
  return fams;
}

let stored: readonly MetricFamily[] = [];

function snapshotFor(job: string): StoreSnapshot {
  return {
    generation: job,
    takenAtMs: 0,
    groups: [
      { key: { job }, lastUpdateMs: 1, lastPushMs: 1_700_000_000_000, families: [...families(), ...stored] },
      { key: { job, instance: 'i-1' }, lastUpdateMs: 2, lastPushMs: 1_700_000_000_500, families: families() },
    ],
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

interface PromApi {
  data: {
    activeTargets: { health: string; lastError: string; labels: { job: string } }[];
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
}

async function getJson(url: string): Promise<PromApi> {
  const r = await fetch(url);
  return (await r.json()) as PromApi;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

describe('real Prometheus scrapes renderSnapshot output', () => {
  let server: Server;
  let prom: ChildProcess | undefined;
  let dir: string;
  let promUrl: string;
  const served: { path: string; accept: string | undefined; format: string }[] = [];
  let promLog = '';

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'accrue-expfmt-'));
    stored = await storeFamilies();
    const cache = new RenderCache();
    server = createServer((req, res) => {
      const text = req.url === '/text';
      const n = text ? negotiate(undefined) : negotiate(req.headers.accept);
      served.push({ path: req.url ?? '', accept: req.headers.accept, format: n.format });
      // Prometheus 2.42 without --enable-feature=native-histograms never asks for protobuf.
      const body = renderSnapshot(
        snapshotFor(text ? 'textjob' : 'omjob'),
        n.format as 'text' | 'openmetrics',
        { cache },
      );
      res.writeHead(200, { 'content-type': n.contentType });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    const config = [
      'global: { scrape_interval: 2s, scrape_timeout: 2s }',
      'scrape_configs:',
      '  - job_name: om',
      '    honor_labels: true',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
      '  - job_name: text',
      '    honor_labels: true',
      '    metrics_path: /text',
      `    static_configs: [{ targets: ['127.0.0.1:${port}'] }]`,
      '',
    ].join('\n');
    await writeFile(join(dir, 'prometheus.yml'), config);
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--log.level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    prom.stdout?.on('data', (d) => {
      promLog += String(d);
    });
    prom.stderr?.on('data', (d) => {
      promLog += String(d);
    });
    await until('Prometheus ready', async () => ((await fetch(`${promUrl}/-/ready`)).ok ? true : undefined));
  }, 60_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      const exited = new Promise((r) => prom!.once('exit', r));
      prom.kill('SIGTERM');
      await exited;
    }
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  it('both targets are up with no scrape error, and /metrics was served as OpenMetrics', async () => {
    // Waits for both targets to be up; a scrape can time out on a loaded machine, so "down" is retried
    // until the deadline, which then fails with Prometheus's last error (a parse error shows up there).
    let lastSeen = '';
    const targets = await until('two healthy targets', async () => {
      const t = await getJson(`${promUrl}/api/v1/targets`);
      const active = t.data.activeTargets;
      lastSeen = JSON.stringify(active.map((a) => [a.labels.job, a.health, a.lastError]));
      if (active.length === 2 && active.every((a) => a.health === 'up')) return active;
      return undefined;
    }).catch((e: Error) => {
      throw new Error(`${e.message}; targets: ${lastSeen}`);
    });
    for (const t of targets)
      expect({ job: t.labels.job, health: t.health, lastError: t.lastError }).toEqual({
        job: t.labels.job,
        health: 'up',
        lastError: '',
      });
    const om = served.find((s) => s.path === '/metrics');
    expect(om?.accept).toContain('application/openmetrics-text');
    expect(om?.format).toBe('openmetrics');
  }, 60_000);

  it('both formats yield the same series (le, quantile, escapes, instance handling)', async () => {
    const query = async (q: string) =>
      (await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`)).data.result;
    const key = (m: Record<string, string>) =>
      Object.keys(m)
        .filter((k) => k !== 'job')
        .sort()
        .map((k) => `${k}=${JSON.stringify(m[k])}`)
        .join(',');
    const sel = '{__name__=~"aria_.*|push_time_seconds|push_failure_time_seconds"';
    const result = await until('series of both jobs', async () => {
      const om = await query(`${sel},job="omjob",__name__!~".+_created"}`);
      const text = await query(`${sel},job="textjob"}`);
      return om.length > 0 && om.length === text.length ? { om, text } : undefined;
    });
    const om = new Map(result.om.map((r) => [key(r.metric), r.value[1]]));
    const text = new Map(result.text.map((r) => [key(r.metric), r.value[1]]));
    expect([...om.keys()].sort()).toEqual([...text.keys()].sort());
    for (const [k, v] of om) expect([k, v]).toEqual([k, text.get(k)]);
    const les = new Set(
      result.om.filter((r) => r.metric.__name__ === 'aria_latency_seconds_bucket').map((r) => r.metric.le),
    );
    expect([...les].sort()).toEqual(['+Inf', '0.005', '1', '1e+06']);
    // The group without instance: instance="" means "no instance" (Prometheus drops empty labels), and
    // honor_labels keeps Prometheus from attaching the target's address.
    const orders = result.om.filter((r) => r.metric.__name__ === 'aria_orders_total');
    expect(orders.map((r) => r.metric.instance ?? '(none)').sort()).toEqual([
      '(none)',
      '(none)',
      'i-1',
      'i-1',
    ]);
    expect(orders.some((r) => r.metric.symbol === 'a"b\\c\nd' && r.value[1] === '1000000')).toBe(true);
    const legacy = result.om.find((r) => r.metric.__name__ === 'aria_legacy');
    expect(legacy?.value[1]).toBe('NaN');
    expect(promLog).not.toMatch(/level=error/);
  }, 60_000);

  it('OpenMetrics _created carries each known start in seconds, for both groups, and nothing else', async () => {
    const result = await until('the _created series', async () => {
      const r = (
        await getJson(`${promUrl}/api/v1/query?query=${encodeURIComponent('{__name__=~".+_created"}')}`)
      ).data.result;
      return r.length >= 7 ? r : undefined;
    });
    const seen = result
      .map((r) => ({
        name: r.metric.__name__,
        instance: r.metric.instance ?? '(none)',
        job: r.metric.job,
        symbol: r.metric.symbol,
        seconds: Number(r.value[1]),
      }))
      .sort((a, b) => `${a.name}${a.instance}`.localeCompare(`${b.name}${b.instance}`));
    const expected = [
      ['aria_fill_created', FILL_START],
      ['aria_latency_seconds_created', LATENCY_START],
      ['aria_orders_created', ORDERS_START],
    ].flatMap(([name, ms]) =>
      ['(none)', 'i-1'].map((instance) => ({
        name: name as string,
        instance,
        job: 'omjob',
        symbol: name === 'aria_orders_created' ? 'BTCUSD' : undefined,
        seconds: (ms as number) / 1000,
      })),
    );
    // The store's counter: its start is the first apply's clock, not the second's.
    expected.push({
      name: 'aria_store_fills_created',
      instance: '(none)',
      job: 'omjob',
      symbol: undefined,
      seconds: STORE_START / 1000,
    });
    expected.sort((a, b) => `${a.name}${a.instance}`.localeCompare(`${b.name}${b.instance}`));
    expect(seen).toEqual(expected);
  }, 60_000);
});
