/**
 * Accrue's service beside the real Pushgateway (Debian's /usr/bin/prometheus-pushgateway with
 * `--persistence.file=` empty: Debian's build otherwise defaults to a shared file under /var/lib), in the same run, on the same data:
 * - scrape latency p50/p95 (`Accept-Encoding: gzip`, as Prometheus asks) and RSS at 1k, 10k, 100k series;
 * - 10-series push throughput with consistency checks on (the Pushgateway's default) at 100k stored series.
 *
 * Accrue runs in a child process (esbuild bundle of buildServer over a non-durable MemoryStore), so its
 * RSS (/proc/PID/status VmRSS) is measured like the Pushgateway's. Both get identical request bodies over
 * keep-alive HTTP from this process.
 *
 * Run: `npx tsx bench/pushgateway.ts [--quick]`. Targets at 100k series: scrape p50 <= 0.1x the
 * Pushgateway's, RSS <= the Pushgateway's, push rate >= 100x the Pushgateway's.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { build } from 'esbuild';

const ROOT = resolve(__dirname, '..');
const PUSHGATEWAY = '/usr/bin/prometheus-pushgateway';
const SERIES_PER_GROUP = 1000;
const FAMILIES_PER_GROUP = 10;

/**
 * V8 flags for the Accrue child, the same the container sets (service/Dockerfile NODE_OPTIONS): a small
 * young generation and V8's memory-over-speed heuristics keep RSS close to the live heap (about 40 MiB
 * less at 100k series), at about twice the CPU for cold renders and large pushes. Override with
 * ACCRUE_BENCH_NODE_FLAGS (e.g. "--max-semi-space-size=2" for the faster profile).
 */
const ACCRUE_NODE_FLAGS = (
  process.env.ACCRUE_BENCH_NODE_FLAGS ?? '--max-semi-space-size=1 --optimize-for-size'
)
  .split(' ')
  .filter(Boolean);

const agent = new Agent({ keepAlive: true, maxSockets: 32 });

function httpCall(
  base: string,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; bytes: number; text: string }> {
  return new Promise((res, rej) => {
    const u = new URL(base);
    const r = request({ host: u.hostname, port: u.port, path, method, headers, agent }, (resp) => {
      const chunks: Buffer[] = [];
      resp.on('data', (c: Buffer) => chunks.push(c));
      resp.on('end', () => {
        const b = Buffer.concat(chunks);
        res({
          status: resp.statusCode ?? 0,
          bytes: b.length,
          text: b.length < 4096 ? b.toString('utf8') : '',
        });
      });
    });
    r.on('error', rej);
    r.end(body);
  });
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const p = typeof a === 'object' && a ? a.port : 0;
      s.close(() => res(p));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitReady(base: string, child: ChildProcess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`${what} exited with ${child.exitCode}`);
    const ok = await httpCall(base, 'GET', '/-/ready').then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) return;
    await sleep(100);
  }
  throw new Error(`${what} not ready`);
}

function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 102.4) / 10 : Number.NaN;
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((res) => {
    child.once('exit', () => res());
    child.kill('SIGTERM');
  });
}

/**
 * Starts a server on a free port and makes sure the one answering is ours: on a shared machine another
 * process may take the port between the probe and the bind (then our child exits, and a foreign server
 * would answer). Checks the child is still alive after it answered and that it holds no bench data.
 */
async function startOwned(
  what: string,
  spawnOn: (port: number) => ChildProcess,
): Promise<{ child: ChildProcess; base: string }> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const child = spawnOn(port);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitReady(base, child, what);
      await sleep(300);
      if (child.exitCode !== null) throw new Error(`${what} exited`);
      const m = await httpCall(base, 'GET', '/api/v1/metrics');
      if (m.status !== 200 || /bench_/.test(m.text) || m.bytes >= 4096)
        throw new Error(`${what}: port ${port} answered with foreign data`);
      return { child, base };
    } catch (err) {
      await stop(child);
      if (attempt === 4) throw err;
    }
  }
  throw new Error(`${what}: could not start`);
}

/** The child's entry: buildServer over a non-durable MemoryStore, bundled so it runs under plain node. */
async function bundleAccrue(dir: string): Promise<string> {
  const outfile = join(dir, 'accrue-bench.js');
  await build({
    stdin: {
      contents: `
        import { MemoryStore } from './shared/store';
        import { buildServer } from './service/server';
        (async () => {
          const store = await MemoryStore.open({});
          const app = await buildServer({ store, logger: false, config: {
            host: '127.0.0.1', port: 0, adminApi: false, maxBodyBytes: 64 * 1024 * 1024,
            snapshotRefreshMs: 1000, snapshotMaxAgeMs: 60000 } });
          await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
          process.on('SIGTERM', () => app.close().then(() => store.close()).then(() => process.exit(0)));
        })();`,
      resolveDir: ROOT,
      loader: 'ts',
      sourcefile: 'accrue-bench-entry.ts',
    },
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    logLevel: 'warning',
  });
  return outfile;
}

/** One group's body: 10 families x 100 series; the same families (names, types, label shape) in every group. */
function groupBody(group: number): string {
  let out = '';
  const per = SERIES_PER_GROUP / FAMILIES_PER_GROUP;
  for (let f = 0; f < FAMILIES_PER_GROUP; f++) {
    const name = `bench_family_${f}_total`;
    out += `# HELP ${name} Bench family ${f}.\n# TYPE ${name} counter\n`;
    for (let s = 0; s < per; s++)
      out += `${name}{series="s${s}",shard="g${group % 7}"} ${group * 1000 + s}\n`;
  }
  return out;
}

function pushBody(i: number): string {
  let out = '# HELP bench_push_value Pushed in the throughput test.\n# TYPE bench_push_value gauge\n';
  for (let s = 0; s < 10; s++) out += `bench_push_value{k="k${s}"} ${i + s}\n`;
  return out;
}

function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[i]!;
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function scrapeStats(base: string, n: number): Promise<{ p50: number; p95: number; bytes: number }> {
  const headers = { accept: 'text/plain;version=0.0.4;q=0.5,*/*;q=0.1', 'accept-encoding': 'gzip' };
  await httpCall(base, 'GET', '/metrics', undefined, headers); // warm-up
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const r = await httpCall(base, 'GET', '/metrics', undefined, headers);
    times.push(performance.now() - t0);
    if (r.status !== 200) throw new Error(`scrape ${base}: ${r.status}`);
    bytes = r.bytes;
  }
  times.sort((a, b) => a - b);
  return { p50: round(quantile(times, 0.5)), p95: round(quantile(times, 0.95)), bytes };
}

async function pushRate(
  base: string,
  seconds: number,
  concurrency: number,
): Promise<{ perSecond: number; failures: number }> {
  const until = performance.now() + seconds * 1000;
  let ok = 0;
  let failures = 0;
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < until) {
        const i = next++;
        const r = await httpCall(base, 'PUT', `/metrics/job/bench_push/instance/p${i % 500}`, pushBody(i), {
          'content-type': 'text/plain; version=0.0.4',
        });
        if (r.status === 200) ok++;
        else failures++;
      }
    }),
  );
  const elapsed = (performance.now() - t0) / 1000;
  return { perSecond: round(ok / elapsed, 1), failures };
}

async function populate(base: string, from: number, to: number): Promise<void> {
  for (let g = from; g < to; g++) {
    const r = await httpCall(base, 'PUT', `/metrics/job/bench/instance/i${g}`, groupBody(g), {
      'content-type': 'text/plain; version=0.0.4',
    });
    if (r.status !== 200) throw new Error(`populate ${base} group ${g}: ${r.status} ${r.text}`);
  }
}

export async function run(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'accrue-bench-pg-'));
  const levels = [1_000, 10_000, 100_000];
  const scrapes = opts.quick ? 8 : 30;
  const pushSeconds = opts.quick ? 3 : 10;
  const concurrency = 8;
  const procs: ChildProcess[] = [];
  try {
    const entry = await bundleAccrue(dir);
    const pg = await startOwned('pushgateway', (port) =>
      spawn(
        PUSHGATEWAY,
        // Debian's build defaults --persistence.file to /var/lib/prometheus/pushgateway.data (shared, and
        // reloaded at start): set it empty so the Pushgateway keeps metrics in memory only.
        [`--web.listen-address=127.0.0.1:${port}`, '--persistence.file=', '--log.level=warn'],
        { stdio: 'ignore' },
      ),
    );
    procs.push(pg.child);
    const ac = await startOwned('accrue', (port) =>
      spawn(process.execPath, [...ACCRUE_NODE_FLAGS, entry], {
        env: { ...process.env, PORT: String(port) },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    procs.push(ac.child);
    const targets = [
      { name: 'accrue', base: ac.base, pid: ac.child.pid! },
      { name: 'pushgateway', base: pg.base, pid: pg.child.pid! },
    ];

    const results: Record<string, unknown>[] = [];
    let groups = 0;
    for (const series of levels) {
      const want = series / SERIES_PER_GROUP;
      const row: Record<string, unknown> = { series };
      for (const t of targets) {
        const t0 = performance.now();
        await populate(t.base, groups, want);
        const populateS = (performance.now() - t0) / 1000;
        const s = await scrapeStats(t.base, scrapes);
        row[t.name] = {
          scrapeP50Ms: s.p50,
          scrapeP95Ms: s.p95,
          scrapeBytesGz: s.bytes,
          rssMiB: rssMiB(t.pid),
          populateS: round(populateS),
        };
      }
      groups = want;
      results.push(row);
      process.stderr.write(`${JSON.stringify(row)}\n`);
    }
    const push: Record<string, unknown> = {
      storedSeries: levels[levels.length - 1],
      seriesPerPush: 10,
      concurrency,
      seconds: pushSeconds,
    };
    for (const t of targets) push[t.name] = await pushRate(t.base, pushSeconds, concurrency);
    for (const t of targets) push[`${t.name}RssAfterMiB`] = rssMiB(t.pid);

    const top = results[results.length - 1]!;
    const a = top['accrue'] as { scrapeP50Ms: number; rssMiB: number };
    const p = top['pushgateway'] as { scrapeP50Ms: number; rssMiB: number };
    const ap = push['accrue'] as { perSecond: number };
    const pp = push['pushgateway'] as { perSecond: number };
    const ratios = {
      scrapeP50: round(a.scrapeP50Ms / p.scrapeP50Ms, 3),
      rss: round(a.rssMiB / p.rssMiB, 2),
      pushRate: round(ap.perSecond / pp.perSecond, 1),
    };
    const targetsMet = {
      scrapeP50: ratios.scrapeP50 <= 0.1,
      rss: ratios.rss <= 1,
      pushRate: ratios.pushRate >= 100,
    };
    return {
      quick: opts.quick,
      scrapesPerLevel: scrapes,
      levels: results,
      push,
      ratiosAt100k: ratios,
      targetsMet,
    };
  } finally {
    for (const c of procs) await stop(c);
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

function printTable(r: Record<string, unknown>): void {
  const lines: string[] = [];
  const pad = (s: string, n: number) => s.padEnd(n);
  lines.push(`${pad('measure', 34)}${pad('accrue', 14)}${pad('pushgateway', 14)}ratio`);
  for (const row of r['levels'] as Record<string, Record<string, number>>[]) {
    const a = row['accrue']!;
    const p = row['pushgateway']!;
    const n = String(row['series']);
    for (const [k, label] of [
      ['scrapeP50Ms', 'scrape p50 ms'],
      ['scrapeP95Ms', 'scrape p95 ms'],
      ['rssMiB', 'RSS MiB'],
    ] as const) {
      lines.push(
        `${pad(`${label} @ ${n} series`, 34)}${pad(String(a[k]), 14)}${pad(String(p[k]), 14)}${round(a[k]! / p[k]!, 3)}`,
      );
    }
  }
  const push = r['push'] as Record<string, { perSecond: number }>;
  lines.push(
    `${pad('10-series pushes/s @ 100k', 34)}${pad(String(push['accrue']!.perSecond), 14)}${pad(String(push['pushgateway']!.perSecond), 14)}${round(push['accrue']!.perSecond / push['pushgateway']!.perSecond, 1)}`,
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}

if (require.main === module) {
  run({ quick: process.argv.includes('--quick') })
    .then((r) => {
      printTable(r);
      process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
    })
    .catch((err: unknown) => {
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    });
}
