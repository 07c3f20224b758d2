/**
 * The ingest Lambda bundle, built with the construct's esbuild options (infra/bundling.ts): within the
 * 250 KB budget and free of TypeBox and the YAML parser (the decode path imports neither), with the
 * built-in profile and with an embedded user profile; and the embedded bundle really ingests with its
 * profile (run in a child node process against DynamoDB Local, as Lambda would run it).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { build, type Metafile } from 'esbuild';
import { ingestProfile } from '../../../infra/accrue-gateway';
import {
  esbuildOptions,
  INGEST_BUNDLE_BUDGET_BYTES,
  lambdaBundlingOptions,
  REPO_ROOT,
} from '../../../infra/bundling';
import { createTables, DynamoStore } from '../../../shared/store/dynamodb';
import { dynamoEndpoint, testDynamoClient, uniqueName } from '../../support/aws';

const ENTRY = path.join(REPO_ROOT, 'functions', 'ingest', 'index.ts');
const DESK_YAML = 'test/unit/infra/fixtures/desk.profile.yaml';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'accrue-bundle-test-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bundle(name: string, define: Readonly<Record<string, string>>) {
  const outfile = path.join(dir, name, 'index.js');
  const result = await build(esbuildOptions(ENTRY, outfile, define));
  return { outfile, bytes: readFileSync(outfile).length, meta: result.metafile as Metafile };
}

const inputs = (meta: Metafile) => Object.keys(meta.inputs);

describe('ingest bundle', () => {
  it('is built with the options the construct gives NodejsFunction', () => {
    const cdk = lambdaBundlingOptions();
    const api = esbuildOptions(ENTRY, '/tmp/x.js');
    expect(api).toMatchObject({
      minify: cdk.minify,
      sourcemap: cdk.sourceMap,
      sourcesContent: cdk.sourcesContent,
      target: cdk.target,
      external: cdk.externalModules,
      format: 'cjs',
      platform: 'node',
      bundle: true,
    });
  });

  it.each([
    ['the built-in profile', () => ({})],
    ['an embedded YAML profile', () => ingestProfile(DESK_YAML, REPO_ROOT).define],
  ])('with %s: within the budget, without TypeBox or the YAML parser', async (name, define) => {
    const b = await bundle(name.replace(/\W+/g, '-'), define());
    expect(b.bytes).toBeGreaterThan(10_000); // a real bundle was measured
    expect(b.bytes).toBeLessThanOrEqual(INGEST_BUNDLE_BUDGET_BYTES);
    const all = inputs(b.meta);
    expect(all.some((f) => f.includes('shared/ingest/decode.ts'))).toBe(true);
    expect(all.filter((f) => /node_modules\/(yaml|@sinclair\/typebox)\//.test(f))).toEqual([]);
    expect(all.filter((f) => /shared\/profiles\/(schema|shape|load|compile)\.ts$/.test(f))).toEqual([]);
    expect(all.some((f) => f.endsWith('shared/ingest/envelope.ts'))).toBe(false);
  });

  it('with an embedded profile, ingests events of that profile (child process, DynamoDB Local)', async () => {
    const shipped = ingestProfile(DESK_YAML, REPO_ROOT);
    const b = await bundle('run', shipped.define);
    const tables = { seriesTable: uniqueName('bseries'), ledgerTable: uniqueName('bledger') };
    await createTables(testDynamoClient(), tables);
    const now = Date.now();
    const body = JSON.stringify({
      v: 1,
      id: `bundle-${now}`,
      group: { job: 'desk' },
      events: [
        { kind: 'order', time: now - 1000, desk: 'fx "one"\nline', side: 'buy' },
        { kind: 'order', time: now - 1000, desk: 'fx "one"\nline', side: 'buy' },
        { kind: 'order', time: now - 1000, desk: 'rates', side: 'sell' },
      ],
    });
    const event = {
      Records: [
        {
          messageId: 'm-1',
          receiptHandle: 'r',
          body,
          attributes: { ApproximateReceiveCount: '1' },
          messageAttributes: {},
          eventSource: 'aws:sqs',
        },
      ],
    };
    const driver = path.join(dir, 'driver.cjs');
    writeFileSync(
      driver,
      `require(process.env.BUNDLE).handler(JSON.parse(process.env.EVENT)).then(
        (r) => process.stdout.write(JSON.stringify(r)),
        (e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message) })); });`,
    );
    const child = spawnSync(process.execPath, [driver], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        PATH: process.env['PATH'],
        NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        AWS_ENDPOINT_URL: dynamoEndpoint(),
        ACCRUE_STORE: 'dynamodb',
        ACCRUE_SERIES_TABLE: tables.seriesTable,
        ACCRUE_LEDGER_TABLE: tables.ledgerTable,
        ACCRUE_DLQ_URL: 'http://127.0.0.1:9/000000000000/unused-dlq',
        ACCRUE_PROFILE: shipped.env,
        POWERTOOLS_LOG_LEVEL: 'ERROR',
        BUNDLE: b.outfile,
        EVENT: JSON.stringify(event),
      },
    });
    expect({ stdout: child.stdout, stderr: child.stderr.slice(0, 500) }).toMatchObject({
      stdout: JSON.stringify({ batchItemFailures: [] }),
    });
    const store = await DynamoStore.open({ client: testDynamoClient(), ...tables, ownsClient: true });
    try {
      const snap = await store.snapshot();
      const fam = snap.groups.flatMap((g) => g.families).find((f) => f.name === 'desk_orders_total');
      const values = Object.fromEntries(
        (fam?.series ?? []).map((s) => [
          `${s.labels['desk']}/${s.labels['side']}`,
          (s as { value: number }).value,
        ]),
      );
      expect(values).toEqual({ 'fx "one"\nline/buy': 2, 'rates/sell': 1 });
    } finally {
      await store.close?.();
    }
  });

  it('without the embedded profile, the same bundle refuses embedded:<name> at cold start', async () => {
    const b = await bundle('plain', {});
    const child = spawnSync(
      process.execPath,
      [
        '-e',
        `require(process.env.BUNDLE).handler({ Records: [] }).then(
          () => process.stdout.write('ok'), (e) => process.stdout.write(String(e && e.message)));`,
      ],
      {
        encoding: 'utf8',
        timeout: 30_000,
        env: {
          PATH: process.env['PATH'],
          NODE_PATH: path.join(REPO_ROOT, 'node_modules'),
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: 'test',
          AWS_SECRET_ACCESS_KEY: 'test',
          AWS_ENDPOINT_URL: dynamoEndpoint(),
          ACCRUE_STORE: 'dynamodb',
          ACCRUE_SERIES_TABLE: 'unused-series',
          ACCRUE_LEDGER_TABLE: 'unused-ledger',
          ACCRUE_DLQ_URL: 'http://127.0.0.1:9/000000000000/unused-dlq',
          ACCRUE_PROFILE: 'embedded:desk',
          BUNDLE: b.outfile,
        },
      },
    );
    expect(child.stdout).toMatch(/embedded:desk: this bundle has no embedded profile/);
  });
});
