/**
 * Ingest Lambda bundle: size and a local cold-start proxy (issue 6).
 *
 * 1. Bundles functions/ingest/index.ts with esbuild exactly as the CDK construct does (infra/bundling.ts:
 *    CJS, node22, minify, tree-shaking, source maps) and reports its size, plus the biggest packages from
 *    esbuild's metafile.
 * 2. Cold start: in a fresh `node` process (NODE_OPTIONS=--enable-source-maps, as the function runs), times
 *    `require(bundle)` and the first SQS event (one ARIA message of 20 events) against DynamoDB Local with
 *    the store's tables (`createTables`). The DLQ URL is a dummy: the message is valid, nothing is rejected.
 * 3. For comparison, the same with the AWS SDK bundled too (pinned SDK versions instead of the runtime's).
 * 4. The budget row: the as-deployed bundle against INGEST_BUNDLE_BUDGET_BYTES (250 KB), whether packages
 *    that must stay out of it (TypeBox, the YAML parser) crept back in, and the top contributing files
 *    (also printed to stderr as a table). The same budget is a unit test (test/unit/infra/bundle.test.ts).
 *
 * The deployed bundle leaves the AWS SDK to the runtime; here the child resolves it from the repository's
 * node_modules (NODE_PATH), as Lambda resolves it from /var/runtime/node_modules.
 *
 * Targets: bundle <= 250 KB minified; require + first event < 150 ms.
 *
 *   npx tsx bench/bundle.ts            # 7 cold starts per variant
 *   npx tsx bench/bundle.ts --quick    # 3
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { build, type Metafile } from 'esbuild';
import { esbuildOptions, INGEST_BUNDLE_BUDGET_BYTES, REPO_ROOT } from '../infra/bundling';
import { createTables } from '../shared/store/dynamodb/tables';
import { ariaMessage } from './ingest';

export const TARGET_BUNDLE_BYTES = INGEST_BUNDLE_BUDGET_BYTES;
/** Packages the ingest bundle must not contain (the Lambda's decode path doesn't need them). */
export const FORBIDDEN_PACKAGES = ['yaml', '@sinclair/typebox'] as const;
export const TARGET_COLD_START_MS = 150;

interface ColdStart {
  ok: boolean;
  requireMs: number;
  firstEventMs: number;
  totalMs: number;
  requireCpuMs: number;
  totalCpuMs: number;
  batchItemFailures?: number;
  error?: string;
}

/** Bytes in the output per package (node_modules/<pkg> or the repo folder), largest first. */
export function biggestInputs(meta: Metafile, top = 12): { input: string; bytes: number }[] {
  const sums = new Map<string, number>();
  for (const out of Object.values(meta.outputs)) {
    for (const [file, info] of Object.entries(out.inputs)) {
      const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
      const key = m ? m[1]! : file.split('/').slice(0, 2).join('/');
      sums.set(key, (sums.get(key) ?? 0) + info.bytesInOutput);
    }
  }
  return [...sums.entries()]
    .map(([input, bytes]) => ({ input, bytes }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, top);
}

/** Bytes in the output per input file, largest first. */
export function topFiles(meta: Metafile, top = 15): { file: string; bytes: number }[] {
  const files: { file: string; bytes: number }[] = [];
  for (const out of Object.values(meta.outputs))
    for (const [file, info] of Object.entries(out.inputs)) files.push({ file, bytes: info.bytesInOutput });
  return files.sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

/** The budget row: size against the budget, forbidden packages found, top contributors. */
export function budgetRow(bytes: number, meta: Metafile) {
  const forbidden = Object.keys(meta.inputs).filter((f) =>
    FORBIDDEN_PACKAGES.some((p) => f.includes(`node_modules/${p}/`)),
  );
  return {
    budgetBytes: TARGET_BUNDLE_BYTES,
    bundleBytes: bytes,
    headroomBytes: TARGET_BUNDLE_BYTES - bytes,
    forbiddenInputs: forbidden.length,
    ok: bytes <= TARGET_BUNDLE_BYTES && forbidden.length === 0,
    topFiles: topFiles(meta),
  };
}

function printBudget(row: ReturnType<typeof budgetRow>): void {
  const kb = (b: number) => `${(b / 1024).toFixed(1)} KB`;
  const lines = [
    `ingest bundle ${kb(row.bundleBytes)} of ${kb(row.budgetBytes)} budget (headroom ${kb(row.headroomBytes)}), forbidden packages: ${row.forbiddenInputs} -> ${row.ok ? 'OK' : 'OVER BUDGET'}`,
    'top contributors:',
    ...row.topFiles.map((f) => `  ${kb(f.bytes).padStart(9)}  ${f.file}`),
  ];
  process.stderr.write(`${lines.join('\n')}\n`);
}

function sqsEvent(): unknown {
  const now = Date.now();
  return {
    Records: [
      {
        messageId: '0b6f3c2e-0000-4000-8000-000000000001',
        receiptHandle: 'bench',
        body: ariaMessage(7, 20, now - 60_000).replace('"bench-7"', `"bench-${now}"`),
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(now),
          SenderId: 'bench',
          ApproximateFirstReceiveTimestamp: String(now),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:accrue',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

// Wall time and this process's CPU time (user + system): on a shared, overloaded machine the CPU time is
// the steadier figure for `require` (it doesn't count waiting for a core); the first event also waits for
// DynamoDB Local, which only wall time shows.
const DRIVER = `
const c0 = process.cpuUsage();
const t0 = process.hrtime.bigint();
const m = require(process.env.BENCH_BUNDLE);
const t1 = process.hrtime.bigint();
const c1 = process.cpuUsage(c0);
const ms = (a, b) => Number(b - a) / 1e6;
const cpuMs = (c) => (c.user + c.system) / 1000;
const done = (extra) => {
  const t2 = process.hrtime.bigint();
  const c2 = process.cpuUsage(c0);
  process.stdout.write(JSON.stringify({ requireMs: ms(t0, t1), firstEventMs: ms(t1, t2), totalMs: ms(t0, t2), requireCpuMs: cpuMs(c1), totalCpuMs: cpuMs(c2), ...extra }));
};
Promise.resolve()
  .then(() => m.handler(JSON.parse(process.env.BENCH_EVENT)))
  .then(
    (r) => {
      const failures = r && Array.isArray(r.batchItemFailures) ? r.batchItemFailures.length : -1;
      done({ ok: failures === 0, batchItemFailures: failures });
    },
    (e) => done({ ok: false, error: String((e && e.message) || e).slice(0, 300) }),
  )
  .finally(() => setImmediate(() => process.exit(0)));
`;

function coldStart(driver: string, env: NodeJS.ProcessEnv): Promise<ColdStart> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [driver], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.on('error', reject);
    child.on('exit', () => {
      try {
        resolve(JSON.parse(out) as ColdStart);
      } catch {
        reject(new Error(`cold-start driver printed no result: ${out.slice(0, 200)} ${err.slice(0, 500)}`));
      }
    });
  });
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

const round = (x: number) => Math.round(x * 10) / 10;

export async function run(opts: { quick: boolean }): Promise<Record<string, unknown>> {
  const runs = opts.quick ? 3 : 7;
  const warmups = opts.quick ? 2 : 5;
  const dir = mkdtempSync(path.join(tmpdir(), 'accrue-bundle-'));
  const entry = path.join(REPO_ROOT, 'functions', 'ingest', 'index.ts');
  // @ts-expect-error -- plain ESM helper without types (test/support/emulators.mjs)
  const emulators = (await import('../test/support/emulators.mjs')) as {
    startDynamoDbLocal(): Promise<{ endpoint: string; stop(): Promise<void> }>;
  };
  const ddb = await emulators.startDynamoDbLocal();
  try {
    const tables = { seriesTable: 'bench-series', ledgerTable: 'bench-ledger' };
    const client = new DynamoDBClient({
      endpoint: ddb.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    });
    await createTables(client, tables);
    client.destroy();

    const driver = path.join(dir, 'driver.cjs');
    writeFileSync(driver, DRIVER);
    const variants: Record<string, unknown> = {};
    let budget: ReturnType<typeof budgetRow> | undefined;
    for (const variant of ['as-deployed', 'sdk-bundled'] as const) {
      const outfile = path.join(dir, variant, 'index.js');
      const options = esbuildOptions(entry, outfile);
      if (variant === 'sdk-bundled') options.external = [];
      const result = await build(options);
      const code = readFileSync(outfile);
      if (variant === 'as-deployed') {
        budget = budgetRow(code.length, result.metafile!);
        printBudget(budget);
      }
      const env: NodeJS.ProcessEnv = {
        PATH: process.env['PATH'],
        // The SDK comes from the repository's node_modules (Lambda: the runtime's copy).
        NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
        NODE_OPTIONS: '--enable-source-maps',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: ddb.endpoint,
        ACCRUE_STORE: 'dynamodb',
        ACCRUE_SERIES_TABLE: tables.seriesTable,
        ACCRUE_LEDGER_TABLE: tables.ledgerTable,
        ACCRUE_DLQ_URL: 'http://127.0.0.1:9/000000000000/accrue-dlq',
        ACCRUE_PROFILE: 'aria',
        POWERTOOLS_LOG_LEVEL: 'WARN',
        BENCH_BUNDLE: outfile,
      };
      // Warm-up runs, discarded: the first requests to a freshly started DynamoDB Local (a JVM) are slow
      // because of its JIT, which would be measured instead of our code.
      for (let i = 0; i < warmups; i++)
        await coldStart(driver, { ...env, BENCH_EVENT: JSON.stringify(sqsEvent()) });
      const samples: ColdStart[] = [];
      for (let i = 0; i < runs; i++)
        samples.push(await coldStart(driver, { ...env, BENCH_EVENT: JSON.stringify(sqsEvent()) }));
      const ok = samples.filter((s) => s.ok);
      variants[variant] = {
        bundleBytes: code.length,
        bundleGzipBytes: gzipSync(code).length,
        sourceMapBytes: statSync(`${outfile}.map`).size,
        withinBundleTarget: code.length <= TARGET_BUNDLE_BYTES,
        coldStarts: runs,
        firstEventOk: ok.length === runs,
        error: samples.find((s) => !s.ok)?.error,
        requireMsMedian: round(median(samples.map((s) => s.requireMs))),
        firstEventMsMedian: round(median(samples.map((s) => s.firstEventMs))),
        totalMsMin: round(Math.min(...samples.map((s) => s.totalMs))),
        totalMsMedian: round(median(samples.map((s) => s.totalMs))),
        totalMsMax: round(Math.max(...samples.map((s) => s.totalMs))),
        requireCpuMsMedian: round(median(samples.map((s) => s.requireCpuMs))),
        totalCpuMsMedian: round(median(samples.map((s) => s.totalCpuMs))),
        withinColdStartTarget:
          ok.length === runs && median(samples.map((s) => s.totalMs)) < TARGET_COLD_START_MS,
        biggest: biggestInputs(result.metafile!),
      };
    }
    return {
      name: 'bundle',
      loadAverage1m: Math.round(loadavg()[0]! * 100) / 100,
      cpus: cpus().length,
      targets: { bundleBytes: TARGET_BUNDLE_BYTES, coldStartMs: TARGET_COLD_START_MS },
      budget,
      ...variants,
    };
  } finally {
    await ddb.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  run({ quick: process.argv.includes('--quick') }).then(
    (r) => process.stdout.write(`${JSON.stringify(r, null, 2)}\n`),
    (e: unknown) => {
      process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
      process.exit(1);
    },
  );
}
