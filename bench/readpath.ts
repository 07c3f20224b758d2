/**
 * The cloud read path on DynamoDB Local (issue 11): the container's entry (the bundle service/build.mjs
 * builds, run as `node main.js`) serves /metrics over the DynamoDB store while another process (this one,
 * through its own DynamoStore, as the ingest Lambda would) changes `changesPerSec` groups per second.
 *
 * Per size (100 series per group; 1k / 10k / 100k series = 10 / 100 / 1,000 groups):
 * - load: the series are written with parallel BatchWriteItem in the store's item layout (transactions
 *   on DynamoDB Local manage ~500 items/s, too slow for 100k), then the service starts and does its one
 *   full read;
 * - measure for `seconds`: a scraper GETs /metrics with gzip every `scrapeEveryMs` (latency to the last
 *   compressed byte, time to headers, status);
 *   the writer applies one counter increment to a random group every 1/changesPerSec s; freshness is the
 *   time from the apply's acknowledgement to the first scrape showing that value (an upper bound: the
 *   scrape interval adds up to `scrapeEveryMs`);
 * - read units, requests, groups re-read per incremental refresh, from the service's own metrics
 *   (`accrue_store_read_units_total` and friends) over the window: target flat in the store's size.
 * Read cost per replica and day: the window's read units per second x 86,400 + the full read x (1 + 4
 *   resyncs a day), at bench/prices.json's on-demand RRU price (bench/cost.ts `readCostPerReplicaDay`).
 * Targets at 100k: scrape p99 <= 50 ms, no non-200, freshness p99 <= 2 s at the cloud default refresh
 * (1 s), read cost <= $0.50 per replica per day.
 *
 *   npx tsx bench/readpath.ts            # 1k, 10k, 100k series
 *   npx tsx bench/readpath.ts --quick    # 1k, 10k, shorter windows
 *   npx tsx bench/readpath.ts --sizes 100000 --seconds 30
 *   npx tsx bench/readpath.ts --endpoint http://127.0.0.1:8000
 */

import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync } from 'node:zlib';
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { createTables, DynamoStore, deleteTables } from '../shared/store/dynamodb';
import { groupPk, type Item, labelsAttr, n, s, schemaPk, seriesSk } from '../shared/store/dynamodb/codec';
import { groupShapeNames, schemaOf } from '../shared/store/families';
import { validateApplyRequest } from '../shared/store/valid';
import { loadPrices, readCostPerReplicaDay } from './cost';
import { dynamoEndpoint } from './dynamo-local';

const SERIES_PER_GROUP = 100;
const FAMILY = 'bench_series';
const CHANGES = 'bench_changes_total';
const TARGETS = { scrapeP99Ms: 50, freshnessP99Ms: 2000, usdPerReplicaDay: 0.5 } as const;
const CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };
const ROOT = path.resolve(__dirname, '..');

function pct(xs: readonly number[], p: number): number {
  if (xs.length === 0) return Number.NaN;
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
const r1 = (x: number) => Math.round(x * 10) / 10;
const r3 = (x: number) => Math.round(x * 1000) / 1000;

const groupOf = (i: number) => ({ job: 'bench', instance: `g${i}` });

/** The store's items for `groups` groups of SERIES_PER_GROUP gauges (meta, series, family schema, counters). */
function* seedItems(groups: number, nowMs: number): Generator<WriteRequest> {
  const g0 = groupOf(0);
  const schema = schemaOf(FAMILY, 'gauge', groupShapeNames(g0), { k: '0' });
  yield {
    PutRequest: {
      Item: {
        pk: s(schemaPk(FAMILY)),
        sk: s('schema'),
        name: s(FAMILY),
        t: s('gauge'),
        shape: s(schema.shape),
        bk: s(schema.buckets),
        b: { L: [] },
        n: n(groups * SERIES_PER_GROUP),
        help: s('Bench series.'),
      },
    },
  };
  yield { PutRequest: { Item: { pk: s('c#total'), sk: s('c'), n: n(groups * SERIES_PER_GROUP) } } };
  for (let i = 0; i < groups; i++) {
    const g = groupOf(i);
    const pk = groupPk(g);
    const meta: Item = {
      pk: s(pk),
      sk: s('meta'),
      l: labelsAttr(g),
      lastUpdateMs: n(nowMs),
      lastPushMs: n(nowMs),
      putTs: n(nowMs),
      n: n(SERIES_PER_GROUP),
    };
    yield { PutRequest: { Item: meta } };
    for (let k = 0; k < SERIES_PER_GROUP; k++) {
      const labels = { k: String(k) };
      yield {
        PutRequest: {
          Item: {
            pk: s(pk),
            sk: s(seriesSk(FAMILY, labels)),
            f: s(FAMILY),
            t: s('gauge'),
            l: labelsAttr(labels),
            v: n(k + i / 1000),
          },
        },
      };
    }
  }
}

async function load(client: DynamoDBClient, table: string, groups: number): Promise<number> {
  const t0 = performance.now();
  const all = [...seedItems(groups, Date.now())];
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < all.length; i += 25) batches.push(all.slice(i, i + 25));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      let batch: WriteRequest[] | undefined = batches[next++]!;
      for (let attempt = 0; batch && batch.length > 0; attempt++) {
        if (attempt > 0) await sleep(Math.min(1000, 20 * 2 ** attempt));
        const out: BatchWriteItemCommandOutput = await client.send(
          new BatchWriteItemCommand({ RequestItems: { [table]: batch } }),
        );
        batch = out.UnprocessedItems?.[table];
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return (performance.now() - t0) / 1000;
}

interface Service {
  readonly base: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

async function startService(bundle: string, env: NodeJS.ProcessEnv): Promise<Service> {
  // READPATH_SERVICE_NODE_OPTIONS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) goes to the service only.
  const nodeOptions = process.env.READPATH_SERVICE_NODE_OPTIONS;
  const child = spawn(process.execPath, [...(nodeOptions ? nodeOptions.split(' ') : []), bundle], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`service did not start: ${log.slice(-2000)}`)), 60_000);
    const on = (d: Buffer) => {
      if (log.length < 100_000) log += d.toString('utf8');
      const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', on);
    child.stderr!.on('data', on);
    child.once('exit', (code) => reject(new Error(`service exited ${code}: ${log.slice(-2000)}`)));
  });
  return {
    base,
    child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([done, sleep(30_000)]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/**
 * One scrape as Prometheus makes it (gzip). `ms` runs to the last byte of the compressed body, as the
 * gateway's share of a scrape; gunzipping it (the scraper's CPU, ~20-40 ms for 5.7 MB here, on the same
 * loaded cores) is done after the clock stops. `headersMs`: time to the response headers.
 */
function scrape(base: string): Promise<{ status: number; text: string; ms: number; headersMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const req = httpGet(`${base}/metrics`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
      const headersMs = performance.now() - t0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.once('error', reject);
      res.once('end', () => {
        const ms = performance.now() - t0;
        const body = Buffer.concat(chunks);
        const gz = res.headers['content-encoding'] === 'gzip';
        resolve({
          status: res.statusCode ?? 0,
          text: (gz ? gunzipSync(body) : body).toString('utf8'),
          ms,
          headersMs,
        });
      });
    });
    req.once('error', reject);
  });
}

/**
 * CPU time (user + system, ms) a process has used so far, from /proc (Linux; NaN elsewhere): the service's
 * CPU per refresh is the figure that holds on a shared machine, where wall-clock latencies stretch with the
 * other processes' load.
 */
function cpuMs(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in USER_HZ (100)
  } catch {
    return Number.NaN;
  }
}

const load1 = () => Math.round(loadavg()[0]! * 10) / 10;

function own(text: string, name: string, labels = ''): number {
  const esc = `${name}${labels}`.replace(/[{}]/g, '\\$&');
  const m = new RegExp(`^${esc} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : Number.NaN;
}

interface OwnSample {
  units: number;
  requests: number;
  incremental: number;
  full: number;
  reread: number;
  refreshSeconds: number;
}

function sample(text: string): OwnSample {
  return {
    units: own(text, 'accrue_store_read_units_total'),
    requests: own(text, 'accrue_store_read_requests_total'),
    incremental: own(text, 'accrue_snapshot_refreshes_total', '{kind="incremental"}'),
    full: own(text, 'accrue_snapshot_refreshes_total', '{kind="full"}'),
    reread: own(text, 'accrue_snapshot_groups_reread_total'),
    refreshSeconds: own(text, 'accrue_snapshot_refresh_seconds_total'),
  };
}

export interface SizeResult {
  series: number;
  groups: number;
  loadSeconds: number;
  startupFullReadUnits: number;
  windowSeconds: number;
  changes: number;
  scrapes: number;
  non200: number;
  scrapeP50Ms: number;
  scrapeP99Ms: number;
  scrapeMaxMs: number;
  /** Time to the response headers (the server's share; the rest is transfer and the client's gunzip). */
  headersP50Ms: number;
  headersP99Ms: number;
  freshnessSeen: number;
  freshnessP50Ms: number;
  freshnessP99Ms: number;
  freshnessMaxMs: number;
  refreshesPerSec: number;
  refreshAvgMs: number;
  readUnitsPerRefresh: number;
  requestsPerRefresh: number;
  groupsRereadPerRefresh: number;
  readUnitsPerSec: number;
  usdPerReplicaDay: number;
  /** The service's CPU (user + system) over the window, per second and per refresh. */
  serviceCpuMsPerSec: number;
  serviceCpuMsPerRefresh: number;
  /** The machine's 1-minute load average at the window's start and end (2 cores here). */
  loadAverage: readonly [number, number];
}

async function measureSize(
  endpoint: string,
  bundle: string,
  series: number,
  o: { seconds: number; changesPerSec: number; scrapeEveryMs: number },
): Promise<SizeResult> {
  const groups = series / SERIES_PER_GROUP;
  const tables = {
    seriesTable: `bench-read-${series}-${process.pid}-${Date.now().toString(36)}`,
    ledgerTable: `bench-read-ledger-${series}-${process.pid}-${Date.now().toString(36)}`,
  };
  const admin = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS });
  let svc: Service | undefined;
  let writer: DynamoStore | undefined;
  try {
    await createTables(admin, tables);
    const loadSeconds = await load(admin, tables.seriesTable, groups);
    svc = await startService(bundle, {
      PATH: process.env.PATH ?? '',
      ACCRUE_STORE: 'dynamodb',
      AWS_REGION: 'us-east-1',
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      ACCRUE_SERIES_TABLE: tables.seriesTable,
      ACCRUE_LEDGER_TABLE: tables.ledgerTable,
      ACCRUE_HOST: '127.0.0.1',
      ACCRUE_PORT: '0',
    });
    // Served once the full read is done.
    let text = '';
    for (let i = 0; i < 600; i++) {
      const r = await scrape(svc.base);
      text = r.text;
      if (r.status === 200 && own(text, 'accrue_snapshot_series') >= series) break;
      await sleep(200);
    }
    if (!(own(text, 'accrue_snapshot_series') >= series))
      throw new Error(`the service never served the ${series} loaded series`);
    const startupFullReadUnits = own(text, 'accrue_store_read_units_total');
    writer = await DynamoStore.open({
      client: new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: CREDENTIALS }),
      ...tables,
      ownsClient: true,
    });
    // Warm the writer (schema of the counter family) and let the first increments settle.
    await writer.apply(
      [
        {
          id: 'warm',
          group: groupOf(0),
          ops: [{ kind: 'counter_inc', name: CHANGES, labels: {}, value: 1 }],
        },
      ].map(validateApplyRequest),
    );
    const counts = new Array<number>(groups).fill(0);
    counts[0] = 1;
    await sleep(3000);
    const before = sample((await scrape(svc.base)).text);
    const loadStart = load1();
    const cpu0 = cpuMs(svc.child.pid);
    const t0 = performance.now();
    const end = t0 + o.seconds * 1000;
    const pending: { g: number; value: number; ackMs: number }[] = [];
    const freshness: number[] = [];
    const latencies: number[] = [];
    const headers: number[] = [];
    let non200 = 0;
    let changes = 0;
    const writes = (async () => {
      let seq = 0;
      const gap = 1000 / o.changesPerSec;
      let due = performance.now();
      while (performance.now() < end) {
        const g = Math.floor(Math.random() * groups);
        const value = ++counts[g]!;
        await writer!.apply(
          [
            {
              id: `c-${seq++}`,
              group: groupOf(g),
              ops: [{ kind: 'counter_inc', name: CHANGES, labels: {}, value: 1 }],
            },
          ].map(validateApplyRequest),
        );
        pending.push({ g, value, ackMs: performance.now() });
        changes++;
        due += gap;
        const wait = due - performance.now();
        if (wait > 0) await sleep(wait);
      }
    })();
    const re = new RegExp(`^${CHANGES}\\{instance="g(\\d+)",job="bench"\\} (\\d+)$`, 'gm');
    const scrapes = (async () => {
      while (performance.now() < end + 3000) {
        const r = await scrape(svc!.base);
        const seenAt = performance.now();
        latencies.push(r.ms);
        headers.push(r.headersMs);
        if (r.status !== 200) non200++;
        const shown = new Map<number, number>();
        for (const m of r.text.matchAll(re)) shown.set(Number(m[1]), Number(m[2]));
        for (let i = pending.length - 1; i >= 0; i--) {
          const p = pending[i]!;
          if ((shown.get(p.g) ?? 0) >= p.value) {
            freshness.push(seenAt - p.ackMs);
            pending.splice(i, 1);
          }
        }
        await sleep(o.scrapeEveryMs);
      }
    })();
    await Promise.all([writes, scrapes]);
    const windowSeconds = (performance.now() - t0) / 1000;
    const serviceCpu = cpuMs(svc.child.pid) - cpu0;
    const loadEnd = load1();
    const after = sample((await scrape(svc.base)).text);
    const refreshes = after.incremental - before.incremental;
    const units = after.units - before.units;
    const unitsPerSec = units / windowSeconds;
    return {
      series,
      groups,
      loadSeconds: r1(loadSeconds),
      startupFullReadUnits: r1(startupFullReadUnits),
      windowSeconds: r1(windowSeconds),
      changes,
      scrapes: latencies.length,
      non200,
      scrapeP50Ms: r1(pct(latencies, 50)),
      scrapeP99Ms: r1(pct(latencies, 99)),
      scrapeMaxMs: r1(Math.max(...latencies)),
      headersP50Ms: r1(pct(headers, 50)),
      headersP99Ms: r1(pct(headers, 99)),
      freshnessSeen: freshness.length,
      freshnessP50Ms: r1(pct(freshness, 50)),
      freshnessP99Ms: r1(pct(freshness, 99)),
      freshnessMaxMs: r1(Math.max(...freshness)),
      refreshesPerSec: r3(refreshes / windowSeconds),
      refreshAvgMs: r1(
        ((after.refreshSeconds - before.refreshSeconds) /
          Math.max(1, refreshes + (after.full - before.full))) *
          1000,
      ),
      readUnitsPerRefresh: r3(units / Math.max(1, refreshes)),
      requestsPerRefresh: r3((after.requests - before.requests) / Math.max(1, refreshes)),
      groupsRereadPerRefresh: r3((after.reread - before.reread) / Math.max(1, refreshes)),
      readUnitsPerSec: r3(unitsPerSec),
      usdPerReplicaDay: r3(
        readCostPerReplicaDay(
          { unitsPerSec, fullReadUnits: startupFullReadUnits, fullReadsPerDay: 5 },
          loadPrices(),
        ),
      ),
      serviceCpuMsPerSec: r1(serviceCpu / windowSeconds),
      serviceCpuMsPerRefresh: r1(serviceCpu / Math.max(1, refreshes)),
      loadAverage: [loadStart, loadEnd],
    };
  } finally {
    await svc?.stop();
    await writer?.close();
    await deleteTables(admin, tables).catch(() => undefined);
    admin.destroy();
  }
}

export async function run(opts: {
  quick: boolean;
  endpoint?: string;
  sizes?: number[];
  seconds?: number;
}): Promise<Record<string, unknown>> {
  const { endpoint, stop: stopLocal } = await dynamoEndpoint(opts.endpoint);
  const dir = mkdtempSync(path.join(tmpdir(), 'accrue-readpath-'));
  try {
    const bundle = execFileSync(
      process.execPath,
      [path.join(ROOT, 'service/build.mjs'), path.join(dir, 'svc')],
      {
        encoding: 'utf8',
      },
    ).trim();
    const sizes = opts.sizes ?? (opts.quick ? [1_000, 10_000] : [1_000, 10_000, 100_000]);
    const seconds = opts.seconds ?? (opts.quick ? 20 : 60);
    const results: SizeResult[] = [];
    for (const size of sizes) {
      process.stderr.write(`readpath: ${size} series...\n`);
      results.push(
        await measureSize(endpoint, bundle, size, { seconds, changesPerSec: 10, scrapeEveryMs: 200 }),
      );
    }
    const top = results[results.length - 1]!;
    return {
      endpoint: opts.endpoint ? endpoint : 'DynamoDB Local (started by the bench)',
      entry: 'service bundle (node main.js, service/build.mjs), ACCRUE_SNAPSHOT_REFRESH_MS default (1000)',
      changesPerSec: 10,
      seriesPerGroup: SERIES_PER_GROUP,
      targets: TARGETS,
      targetsMet:
        top.series >= 100_000 &&
        top.scrapeP99Ms <= TARGETS.scrapeP99Ms &&
        top.non200 === 0 &&
        top.freshnessP99Ms <= TARGETS.freshnessP99Ms &&
        top.usdPerReplicaDay <= TARGETS.usdPerReplicaDay,
      scrapeP99Ms: top.scrapeP99Ms,
      freshnessP99Ms: top.freshnessP99Ms,
      readUnitsPerRefresh: top.readUnitsPerRefresh,
      usdPerReplicaDay: top.usdPerReplicaDay,
      sizes: results,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await stopLocal();
  }
}

if (require.main === module) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--endpoint');
  const sz = argv.indexOf('--sizes');
  const secs = argv.indexOf('--seconds');
  run({
    quick: argv.includes('--quick'),
    ...(at >= 0 && argv[at + 1] ? { endpoint: argv[at + 1]! } : {}),
    ...(sz >= 0 && argv[sz + 1] ? { sizes: argv[sz + 1]!.split(',').map(Number) } : {}),
    ...(secs >= 0 && argv[secs + 1] ? { seconds: Number(argv[secs + 1]) } : {}),
  }).then(
    (r) => console.log(JSON.stringify(r, null, 2)),
    (e) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
