/**
 * `npm run hostile [-- --quick]`: the attacks of issue 13 against a real local gateway (what `npm start`
 * runs: service/local.ts, embedded SQS, pipeline, durable memory store) on free loopback ports with its
 * own data directory. Prints one table and exits non-zero when any case fails. Bounded: every case has
 * a deadline and the whole run is killed after RUN_LIMIT_MS.
 *
 * During the attack (stalled uploads, slowloris, a 1M-series gzipped push, a series-cap push, four
 * clients looping a `=` path) probes measure `/-/healthy` and a normal 10-series push (p99 < 200 ms) and
 * the gateway's RSS from /proc (< 300 MiB). Afterwards: connections closed within 60 s, cross-site push
 * refused and not stored, a 2 MB name refused with a body < 4 KiB, lone surrogates never duplicate a
 * line, and every refusal counted under its documented reason. Last, slow readers of a large /metrics
 * are cut at the response deadline (ACCRUE_RESPONSE_DEADLINE_MS) and counted.
 *
 * `--quick` (the jest variant, test/integration/hostile.test.ts) uses short timeouts and smaller counts;
 * `--cpu-prof-dir <dir>` / `--heap-prof-dir <dir>` profile the gateway (open the files in Chrome DevTools);
 * `--phases` prints the gateway's RSS at each phase of the attack; `--bundle` runs the same entry built
 * with esbuild (service/build.mjs `buildLocal`) under plain node with the container's flags, instead of
 * under the tsx loader that `npm start` uses (docs/security.md "Memory under attack").
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { SERVICE_LIMIT_DEFAULTS } from '../shared/config';
import { canReadTcpTable } from '../test/support/tcp-state';
import { hold, slowloris, stalledUpload } from './hostile-clients';
import { slowReaders } from './hostile-slow-readers';

const QUICK = process.argv.includes('--quick');
/** `--cpu-prof-dir <dir>` / `--heap-prof-dir <dir>`: the gateway writes a V8 CPU / allocation profile there. */
function profileArgs(kind: 'cpu' | 'heap'): string[] {
  const i = process.argv.indexOf(`--${kind}-prof-dir`);
  const dir = i < 0 ? undefined : process.argv[i + 1];
  return dir ? [`--${kind}-prof`, `--${kind}-prof-dir=${dir}`] : [];
}
const PROFILE_ARGS = [...profileArgs('cpu'), ...profileArgs('heap')];
/** `--bundle`: the gateway as a built bundle under plain node, with the container's node flags. */
const BUNDLE = process.argv.includes('--bundle');
/** service/Dockerfile: NODE_OPTIONS and the CMD's flag. */
const CONTAINER_NODE_ARGS = ['--enable-source-maps', '--max-semi-space-size=1', '--optimize-for-size'];
/** `--phases`: print the gateway's RSS at each phase of the attack (where memory goes). */
const PHASES = process.argv.includes('--phases');
const phaseMarks: {
  readonly at: number;
  readonly label: string;
  readonly rss: number;
  readonly max: number;
}[] = [];
const ROOT = resolve(__dirname, '..');
const MiB = 1024 * 1024;

/** Scale and timeouts of a run. */
const S = QUICK
  ? {
      uploads: 12,
      unreadUploads: 4,
      uploadBytes: 4 * MiB,
      slowloris: 40,
      slowReaders: 4,
      largeGroups: 3,
      readEveryMs: 300,
      bigSeries: 300_000,
      loopMs: 3000,
      env: {
        ACCRUE_HEADERS_TIMEOUT_MS: '1500',
        ACCRUE_REQUEST_TIMEOUT_MS: '3000',
        ACCRUE_IDLE_TIMEOUT_MS: '3000',
        ACCRUE_KEEP_ALIVE_TIMEOUT_MS: '2000',
        ACCRUE_MAX_BODY_BYTES: String(3 * MiB),
        ACCRUE_MAX_INFLIGHT_BODY_BYTES: String(8 * MiB),
        ACCRUE_MAX_SERIES_PER_PUSH: '20000',
        ACCRUE_RESPONSE_DEADLINE_MS: '3000',
      },
      closeWithinMs: 10_000,
    }
  : {
      uploads: 60,
      unreadUploads: 10,
      uploadBytes: 15 * MiB,
      slowloris: 200,
      slowReaders: 10,
      largeGroups: 4,
      readEveryMs: 5000,
      bigSeries: 1_000_000,
      loopMs: 15_000,
      env: {},
      closeWithinMs: 60_000,
    };
const RUN_LIMIT_MS = QUICK ? 75_000 : 300_000;
/** The gateway's response deadline in this run (ACCRUE_RESPONSE_DEADLINE_MS; the default in the full run). */
const RESPONSE_DEADLINE_MS = Number(
  (S.env as Record<string, string>).ACCRUE_RESPONSE_DEADLINE_MS ?? SERVICE_LIMIT_DEFAULTS.responseDeadlineMs,
);
const P99_LIMIT_MS = 200;
const RSS_LIMIT_MIB = 300;

/** PASS / FAIL: judged; INFO: measured and printed, not judged (timings and RSS under `--quick`). */
type Verdict = 'PASS' | 'FAIL' | 'INFO';
interface Row {
  readonly name: string;
  readonly figure: string;
  readonly verdict: Verdict;
}
const rows: Row[] = [];
const row = (name: string, figure: string, ok: boolean) =>
  rows.push({ name, figure, verdict: ok ? 'PASS' : 'FAIL' });
/**
 * A latency or memory row: judged in the full run; with `--quick` (jest, beside other suites on shared
 * cores, with smaller counts) only printed, as INFO, with what the full run would have said.
 */
const timedRow = (name: string, figure: string, ok: boolean) =>
  QUICK
    ? rows.push({
        name,
        figure: `${figure} (${ok ? 'within' : 'over'} the limit; not judged)`,
        verdict: 'INFO',
      })
    : row(name, figure, ok);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Res {
  readonly status: number;
  readonly body: Buffer;
  readonly ms: number;
}

/** One request on a fresh connection (like a load balancer's health check). */
function req(
  port: number,
  method: string,
  path: string,
  body?: Buffer | string,
  headers: Record<string, string> = {},
  timeoutMs = 10_000,
): Promise<Res> {
  return new Promise((resolveRes) => {
    const t0 = performance.now();
    const r = httpRequest(
      { host: '127.0.0.1', port, path, method, headers, agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolveRes({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks),
            ms: performance.now() - t0,
          }),
        );
        res.on('error', () => resolveRes({ status: -1, body: Buffer.alloc(0), ms: performance.now() - t0 }));
      },
    );
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', () => resolveRes({ status: -1, body: Buffer.alloc(0), ms: performance.now() - t0 }));
    r.end(body);
  });
}

function p99(xs: readonly number[]): number {
  if (xs.length === 0) return Number.NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]!;
}

function rssMiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** Counters of accrue_push_rejected_total by reason, and the ingest's, from one scrape. */
async function counters(
  port: number,
): Promise<{ push: Map<string, number>; ingest: Map<string, number>; text: string }> {
  const r = await req(port, 'GET', '/metrics');
  const text = r.body.toString('utf8');
  const read = (name: string) => {
    const m = new Map<string, number>();
    for (const x of text.matchAll(new RegExp(`^${name}\\{[^}]*reason="([a-z_]+)"[^}]*\\} (\\S+)$`, 'gm')))
      m.set(x[1]!, (m.get(x[1]!) ?? 0) + Number(x[2]));
    return m;
  };
  return {
    push: read('accrue_push_rejected_total'),
    ingest: read('accrue_ingest_events_rejected_total'),
    text,
  };
}

function bigBody(series: number): Buffer {
  const parts: string[] = [];
  for (let i = 0; i < series; i++) parts.push(`m{i="${i.toString().padStart(6, '0')}"} 1\n`);
  return gzipSync(parts.join(''));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'accrue-hostile-'));
  const entry = BUNDLE
    ? [...CONTAINER_NODE_ARGS, await buildLocalBundle()]
    : ['--import', 'tsx', join(ROOT, 'service', 'local.ts')];
  const child: ChildProcess = spawn(process.execPath, [...PROFILE_ARGS, ...entry], {
    cwd: ROOT,
    env: {
      ...process.env,
      ACCRUE_HOST: '127.0.0.1',
      // Port 0: the gateway binds a free port itself and names it in local.json (a port picked here could be
      // taken by another process before the gateway binds it, and the probes would then talk to that one).
      ACCRUE_PORT: '0',
      ACCRUE_DATA_DIR: join(dir, 'data'),
      ACCRUE_LOCAL_SQS_PORT: '0',
      ACCRUE_LOCAL_FILE: join(dir, 'local.json'),
      ACCRUE_WAIT_TIME_SECONDS: '1',
      ACCRUE_LOG_LEVEL: 'ERROR',
      ...S.env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const killer = setTimeout(() => {
    process.stderr.write(`hostile: run exceeded ${RUN_LIMIT_MS} ms, stopping\n`);
    child.kill('SIGKILL');
    process.exit(2);
  }, RUN_LIMIT_MS);
  try {
    const port = await gatewayPort(join(dir, 'local.json'), child.pid!);
    await run(port, child.pid!, dir);
  } finally {
    clearTimeout(killer);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
  print();
  process.exit(rows.some((r) => r.verdict === 'FAIL') ? 1 : 0);
}

/** Builds `npm start`'s entry (service/local.ts) into .accrue/hostile-bundle with esbuild; returns the file. */
async function buildLocalBundle(): Promise<string> {
  const build = (await import(join(ROOT, 'service', 'build.mjs'))) as {
    buildLocal: (outdir?: string) => Promise<string>;
  };
  return build.buildLocal();
}

/** The port the gateway bound, from the local.json it writes once started (its own pid in it). */
async function gatewayPort(file: string, pid: number): Promise<number> {
  for (let i = 0; i <= 600; i++) {
    try {
      const doc = JSON.parse(readFileSync(file, 'utf8')) as { pid?: number; metricsUrl?: string };
      if (doc.pid === pid && doc.metricsUrl) return Number(new URL(doc.metricsUrl).port);
    } catch {
      // Not written yet.
    }
    await sleep(100);
  }
  throw new Error(`gateway did not start: no ${file} with pid ${pid} after 60 s`);
}

async function run(port: number, pid: number, dir: string): Promise<void> {
  for (let i = 0; ; i++) {
    if ((await req(port, 'GET', '/-/healthy', undefined, {}, 1000)).status === 200) break;
    if (i > 300) throw new Error('gateway did not start');
    await sleep(100);
  }
  const local = JSON.parse(readFileSync(join(dir, 'local.json'), 'utf8')) as {
    sqsEndpoint: string;
    queueUrl: string;
  };
  // Bodies built before the probes start: building them would stall this process's own probes.
  const big = bigBody(S.bigSeries);
  const capSeries = Number(S.env.ACCRUE_MAX_SERIES_PER_PUSH ?? 100_000) + 1;
  const capGz = gzipSync(Array.from({ length: capSeries }, (_, i) => `c{i="${i}"} 1\n`).join(''));
  const before = await counters(port);
  const rssBase = rssMiB(pid);

  // --- probes, all through the attack ---------------------------------------------------------------
  let attacking = true;
  const health: number[] = [];
  const pushes: number[] = [];
  const pushFailures: number[] = [];
  let rssMax = rssBase;
  const mark = (label: string) =>
    phaseMarks.push({ at: Date.now(), label, rss: rssMiB(pid), max: Math.max(rssMax, rssMiB(pid)) });
  mark('before the attack');
  const normal = Array.from({ length: 10 }, (_, i) => `probe_m{k="${i}"} ${i}\n`).join('');
  const probes = (async () => {
    while (attacking) {
      const [h, p] = await Promise.all([
        req(port, 'GET', '/-/healthy', undefined, {}, 5000),
        req(port, 'PUT', '/metrics/job/probe', normal, {}, 5000),
        sleep(50),
      ]);
      health.push(h.status === 200 ? h.ms : 5000);
      pushes.push(p.ms);
      if (p.status !== 200) pushFailures.push(p.status);
      rssMax = Math.max(rssMax, rssMiB(pid));
    }
  })();

  // --- the attack ------------------------------------------------------------------------------------
  const t0 = performance.now();
  const loris = Array.from({ length: S.slowloris }, () => slowloris(port, () => false));
  const eqPath = `/metrics/job@base64/${'='.repeat(8000)}x`;
  const loopStatus = new Map<number, number>();
  const loopers = Array.from({ length: 4 }, async () => {
    const end = performance.now() + S.loopMs;
    while (performance.now() < end) {
      const r = await req(port, 'PUT', eqPath, 'm 1\n');
      loopStatus.set(r.status, (loopStatus.get(r.status) ?? 0) + 1);
    }
  });
  mark('slowloris and loopers started');
  const bigRes = await req(port, 'PUT', '/metrics/job/big', big, { 'content-encoding': 'gzip' }, 30_000);
  // A body under the size limit with more series than the cap: refused while parsing.
  mark('big push refused');
  const capRes = await req(port, 'PUT', '/metrics/job/cap', capGz, { 'content-encoding': 'gzip' }, 30_000);
  mark('cap push refused');
  const uploads = Array.from({ length: S.uploads }, (_, i) =>
    stalledUpload(port, S.uploadBytes, i % 2 === 1),
  );
  // Clients that never read: they can't see a graceful close, so the kernel's table tells (Linux only).
  const unread = canReadTcpTable() ? S.unreadUploads : 0;
  const unreadUploads = Array.from({ length: unread }, (_, i) =>
    stalledUpload(port, S.uploadBytes, i % 2 === 1, false),
  );
  await Promise.all(loopers);
  mark('loopers done');
  const uploadEnds = await Promise.all(uploads.map((u) => u.closed));
  const unreadEnds = await Promise.all(unreadUploads.map((u) => u.closed));
  mark('uploads closed');
  const lorisEnds = await Promise.all(loris.map((l) => l.closed));
  mark('slowloris closed');
  // An idle keep-alive connection after one request, read; and one whose client never reads the answer.
  const keepAlive = (s: Socket) =>
    s.write('GET /-/healthy HTTP/1.1\r\nHost: gw\r\nConnection: keep-alive\r\n\r\n');
  const idle = hold(port, keepAlive);
  const idleUnread = unread > 0 ? hold(port, keepAlive, false) : undefined;
  const idleEnd = await idle.closed;
  const idleUnreadEnd = await idleUnread?.closed;
  mark('idle connections closed');
  attacking = false;
  await probes;
  const attackS = ((performance.now() - t0) / 1000).toFixed(1);

  timedRow(
    `/-/healthy p99 (${health.length} probes over ${attackS} s of attack)`,
    `${p99(health).toFixed(1)} ms`,
    p99(health) < P99_LIMIT_MS,
  );
  // A probe that got no answer within its 5 s timeout is a latency figure (status -1); any answer but 200
  // is a refusal of a good push.
  const refused = pushFailures.filter((s) => s !== -1);
  const timedOut = pushFailures.length - refused.length;
  row(
    'normal 10-series pushes during the attack: none refused',
    `${pushes.length - pushFailures.length}/${pushes.length} 200${refused.length ? `; ${tally(refused)}` : ''}`,
    refused.length === 0,
  );
  timedRow(
    `normal 10-series push p99 (${pushes.length}; no answer in 5 s: ${timedOut})`,
    `${p99(pushes).toFixed(1)} ms`,
    p99(pushes) < P99_LIMIT_MS && timedOut === 0,
  );
  timedRow(
    'gateway RSS, max (start)',
    `${rssMax.toFixed(0)} MiB (${rssBase.toFixed(0)})`,
    rssMax < RSS_LIMIT_MIB,
  );
  const upMax = Math.max(...uploadEnds.map((u) => u.ms));
  const upStatuses = tally(uploadEnds.map((u) => u.status));
  row(
    `${S.uploads} stalled ${S.uploadBytes / MiB} MiB uploads (half chunked): closed after`,
    `max ${(upMax / 1000).toFixed(1)} s; ${upStatuses}`,
    upMax < S.closeWithinMs,
  );
  const lorisMax = Math.max(...lorisEnds.map((u) => u.ms));
  row(
    `${S.slowloris} slowloris connections closed`,
    `max ${(lorisMax / 1000).toFixed(1)} s`,
    lorisMax < S.closeWithinMs,
  );
  row(
    'idle keep-alive connection closed',
    `${(idleEnd.ms / 1000).toFixed(1)} s`,
    idleEnd.ms < S.closeWithinMs,
  );
  if (unread === 0)
    rows.push({
      name: 'clients that never read: stalled uploads and idle keep-alive closed',
      figure: 'not measured (needs /proc/net/tcp)',
      verdict: 'INFO',
    });
  else {
    const unreadMax = Math.max(...unreadEnds.map((u) => u.ms));
    row(
      `${unread} stalled ${S.uploadBytes / MiB} MiB uploads, client never reads (half chunked): gateway closed after`,
      `max ${(unreadMax / 1000).toFixed(1)} s`,
      unreadMax < S.closeWithinMs,
    );
    row(
      'idle keep-alive connection, client never reads: gateway closed after',
      `${((idleUnreadEnd?.ms ?? Number.NaN) / 1000).toFixed(1)} s`,
      (idleUnreadEnd?.ms ?? Number.POSITIVE_INFINITY) < S.closeWithinMs,
    );
  }
  row(
    `${S.bigSeries} series gzipped push (${(big.length / MiB).toFixed(1)} MiB gz): refused`,
    `${bigRes.status} in ${bigRes.ms.toFixed(0)} ms`,
    bigRes.status === 413 || bigRes.status === 400 || bigRes.status === 503,
  );
  row(
    `${capSeries} series push under the size limit: refused while parsing`,
    `${capRes.status} in ${capRes.ms.toFixed(0)} ms`,
    capRes.status === 400 && /maxSeriesPerPush/.test(capRes.body.toString()),
  );
  row(
    "4 clients looping the '=' path for the attack",
    `${tally([...loopStatus.entries()].flatMap(([k, n]) => Array<number>(n).fill(k)))}`,
    [...loopStatus.keys()].every((k) => k === 400),
  );

  // --- after the attack ------------------------------------------------------------------------------
  const xs = await req(port, 'POST', '/metrics/job/xsite', 'xsite_m 1\n', {
    origin: 'https://evil.example',
    'sec-fetch-site': 'cross-site',
    'content-type': 'text/plain',
  });
  const afterX = (await req(port, 'GET', '/metrics')).body.toString();
  row(
    'cross-site push refused, nothing stored',
    `${xs.status}`,
    xs.status === 403 && !afterX.includes('xsite'),
  );

  const name = `n${'x'.repeat(2_000_000)}`;
  const nr = await req(port, 'PUT', '/metrics/job/name', `${name} 1\n`);
  row(
    '2 MB metric name refused, answer size',
    `${nr.status}, ${nr.body.length} bytes`,
    nr.status === 400 && nr.body.length < 4096,
  );

  const bad = await req(port, 'PUT', '/metrics/job/a%ED%A0%80', 'm 1\n');
  const badBytes = await req(
    port,
    'PUT',
    '/metrics/job/s',
    Buffer.from('m{v="A\xed\xa0\x80B"} 1\n', 'latin1'),
  );
  const sqs = new SQSClient({
    endpoint: local.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const now = Date.now();
  // Escaped in the JSON text (so SQS carries ASCII); JSON.parse turns them into lone surrogates.
  const msg = (inst: string, v: string) =>
    `{"v":1,"group":{"job":"surr","instance":"${inst}"},"events":[{"kind":"counter","time":${now},"name":"surr_total","labels":{"v":"${v}"}}]}`;
  await sqs.send(
    new SendMessageBatchCommand({
      QueueUrl: local.queueUrl,
      Entries: [
        { Id: 'a', MessageBody: msg('i', 'A\\ud800B') },
        { Id: 'b', MessageBody: msg('i', 'A\\udbffB') },
        { Id: 'c', MessageBody: msg('A\\ud800B', 'x') },
        { Id: 'd', MessageBody: msg('A\\udbffB', 'x') },
        { Id: 'e', MessageBody: msg('ok', 'fine') },
      ],
    }),
  );
  sqs.destroy();
  let scrape = '';
  for (let i = 0; i < 100; i++) {
    scrape = (await req(port, 'GET', '/metrics')).body.toString();
    if (/^surr_total\{[^}]*instance="ok"/m.test(scrape)) break;
    await sleep(200);
  }
  const lines = scrape.split('\n').filter((l) => l && !l.startsWith('#'));
  const dups = lines.length - new Set(lines.map((l) => l.replace(/ \S+$/, ''))).size;
  row(
    'lone surrogates: HTTP path/body status; SQS: dup and U+FFFD lines',
    `${bad.status}/${badBytes.status}, ${dups} dup, ${lines.filter((l) => l.includes('\ufffd')).length} U+FFFD`,
    bad.status === 400 &&
      badBytes.status === 400 &&
      dups === 0 &&
      !scrape.includes('\ufffd') &&
      /instance="ok"/.test(scrape),
  );

  // The pipeline writes its own counters after each batch: wait until the four refusals show.
  let after = await counters(port);
  const delta = (m: 'push' | 'ingest', r: string) => (after[m].get(r) ?? 0) - (before[m].get(r) ?? 0);
  for (let i = 0; i < 50 && delta('ingest', 'decode') + delta('ingest', 'invalid') < 4; i++) {
    await sleep(200);
    after = await counters(port);
  }
  const documented = docReasons();
  const undocumented = [...after.push.keys(), ...after.ingest.keys()].filter((r) => !documented.has(r));
  const loops = [...loopStatus.values()].reduce((a, b) => a + b, 0);
  const expect: [string, 'push' | 'ingest', number, 'eq' | 'ge'][] = [
    ['cross_site', 'push', 1, 'eq'],
    ['invalid_name', 'push', 1, 'eq'],
    ['limit', 'push', 1, 'eq'],
    ['invalid', 'push', loops + 1, 'eq'], // '=' loops + the undecodable URL
    ['decode', 'push', 1, 'eq'], // invalid UTF-8 body
    ['too_large', 'push', upCount(uploadEnds, 413) + (bigRes.status === 413 ? 1 : 0), 'ge'],
    ['overloaded', 'push', upCount(uploadEnds, 503), 'ge'],
    ['decode', 'ingest', 2, 'eq'], // the two messages with a lone surrogate in the group
    ['invalid', 'ingest', 2, 'eq'], // the two events with a lone surrogate in a label
  ];
  const wrong = expect.filter(([r, m, n, how]) => (how === 'eq' ? delta(m, r) !== n : delta(m, r) < n));
  row(
    'every refusal counted under its documented reason',
    wrong.length === 0 && undocumented.length === 0
      ? expect.map(([r, m]) => `${m === 'ingest' ? 'ingest.' : ''}${r}=${delta(m, r)}`).join(' ')
      : `mismatch: ${wrong.map((w) => `${w[1]}.${w[0]}=${delta(w[1], w[0])}`).join(',')} ${undocumented.join(',')}`,
    wrong.length === 0 && undocumented.length === 0,
  );
  const slow = await slowReaders(port, { ...S, deadlineMs: RESPONSE_DEADLINE_MS }, (method, path, body) =>
    req(port, method, path, body, {}, 30_000),
  );
  row(slow.name, slow.figure, slow.ok);
}

function upCount(ends: readonly { status: number }[], status: number): number {
  return ends.filter((e) => e.status === status).length;
}

function tally(xs: readonly number[]): string {
  const m = new Map<number, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return [...m.entries()]
    .sort(([a], [b]) => a - b)
    .map(([k, n]) => `${k === 0 ? 'closed' : k}×${n}`)
    .join(' ');
}

/** The reasons docs/service.md and docs/ingest.md name (backquoted in their tables). */
function docReasons(): Set<string> {
  const text = ['service.md', 'ingest.md'].map((f) => readFileSync(join(ROOT, 'docs', f), 'utf8')).join('\n');
  return new Set([...text.matchAll(/`([a-z_]+)`/g)].map((m) => m[1]!));
}

function print(): void {
  const w = Math.max(...rows.map((r) => r.name.length));
  const f = Math.max(...rows.map((r) => r.figure.length));
  const flags = [QUICK && '--quick', BUNDLE && '--bundle'].filter(Boolean).join(' ');
  process.stdout.write(`npm run hostile${flags ? ` -- ${flags}` : ''}\n`);
  for (const r of rows) process.stdout.write(`${r.verdict}  ${r.name.padEnd(w)}  ${r.figure.padStart(f)}\n`);
  if (rows.some((r) => r.verdict === 'INFO'))
    process.stdout.write(
      'INFO: measured, not judged: with --quick the counts are smaller and the cores shared; `npm run hostile` judges these rows\n',
    );
  if (!PHASES || phaseMarks.length === 0) return;
  const t0 = phaseMarks[0]!.at;
  process.stdout.write(
    `phase (s since attack start at ${new Date(t0).toISOString()}): gateway RSS now / max so far\n`,
  );
  for (const m of phaseMarks)
    process.stdout.write(
      `  ${((m.at - t0) / 1000).toFixed(1).padStart(6)}  ${m.label.padEnd(30)} ${m.rss.toFixed(0)} / ${m.max.toFixed(0)} MiB\n`,
    );
}

main().catch((err: unknown) => {
  process.stderr.write(`hostile: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
