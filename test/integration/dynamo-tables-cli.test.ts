/**
 * Running on DynamoDB from the docs alone (docs/store-dynamodb.md, "Running it"), against DynamoDB Local
 * with real processes and no AWS credentials in the environment:
 * - `accrue tables check` names missing tables; `accrue tables create` creates them (TTL on), twice is fine;
 * - the container's entry (the bundle, `node main.js`) with missing tables exits 1 naming them and the
 *   command; with the tables it serves /metrics and a push.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DescribeTableCommand, DescribeTimeToLiveCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { deleteTables } from '../../shared/store/dynamodb';
import { dynamoEndpoint, uniqueName } from '../support/aws';

const ROOT = resolve(__dirname, '../..');
const BIN = join(ROOT, 'bin/accrue.js');

/** The environment of a user on a laptop: no AWS credentials, DynamoDB Local on loopback. */
function userEnv(tables: { seriesTable: string; ledgerTable: string }): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? tmpdir() };
  return {
    ...env,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint(),
    ACCRUE_SERIES_TABLE: tables.seriesTable,
    ACCRUE_LEDGER_TABLE: tables.ledgerTable,
  };
}

function run(
  cmd: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, cmd, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', rej);
    child.on('exit', (code) => res({ code, out, err }));
  });
}

describe('DynamoDB from the docs: tables command and the container entry', () => {
  const tables = { seriesTable: uniqueName('cli-series'), ledgerTable: uniqueName('cli-ledger') };
  // DynamoDB Local keeps tables per access key: look with the dummy key loopback endpoints get.
  const admin = new DynamoDBClient({
    endpoint: dynamoEndpoint(),
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  let dir: string;
  let bundle: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'accrue-tables-'));
    bundle = execFileSync(process.execPath, [join(ROOT, 'service/build.mjs'), join(dir, 'out')], {
      encoding: 'utf8',
    }).trim();
  }, 120_000);
  afterAll(async () => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    await deleteTables(admin, tables).catch(() => undefined);
    admin.destroy();
  });

  it('the service refuses to start on missing tables, naming them and the command', async () => {
    const r = await run([bundle], {
      ...userEnv(tables),
      ACCRUE_STORE: 'dynamodb',
      ACCRUE_PORT: '0',
      ACCRUE_HOST: '127.0.0.1',
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain(tables.seriesTable);
    expect(r.err).toContain(tables.ledgerTable);
    expect(r.err).toContain('npx accrue tables create');
  }, 60_000);

  it('tables check, create, create again, check', async () => {
    const env = userEnv(tables);
    const check = await run([BIN, 'tables', 'check'], env);
    expect(check.code).toBe(1);
    expect(check.out).toContain(`missing ${tables.seriesTable}`);
    expect(check.err).toContain('npx accrue tables create');

    const created = await run([BIN, 'tables', 'create'], env);
    expect(created.code).toBe(0);
    expect(created.out).toContain(`created ${tables.seriesTable}`);
    expect(created.out).toContain(`created ${tables.ledgerTable}`);
    const d = await admin.send(new DescribeTableCommand({ TableName: tables.seriesTable }));
    expect(d.Table?.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    const ttl = await admin.send(new DescribeTimeToLiveCommand({ TableName: tables.ledgerTable }));
    expect(ttl.TimeToLiveDescription?.AttributeName).toBe('ttl');

    const again = await run([BIN, 'tables', 'create'], env);
    expect(again.code).toBe(0);
    expect(again.out).toContain(`exists  ${tables.seriesTable}`);
    expect((await run([BIN, 'tables', 'check'], env)).code).toBe(0);
  }, 120_000);

  it('usage errors exit 2', async () => {
    const r = await run([BIN, 'tables', 'drop'], userEnv(tables));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/create or check, got "drop"/);
  }, 60_000);

  it('with the tables, the container entry serves a push and /metrics without AWS credentials', async () => {
    child = spawn(process.execPath, [bundle], {
      cwd: dir,
      env: { ...userEnv(tables), ACCRUE_STORE: 'dynamodb', ACCRUE_PORT: '0', ACCRUE_HOST: '127.0.0.1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const c = child;
    const base = await new Promise<string>((res, rej) => {
      let buf = '';
      const timer = setTimeout(() => rej(new Error(`no listen line: ${buf}`)), 30_000);
      const on = (d: Buffer) => {
        buf += d.toString('utf8');
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
        if (m) {
          clearTimeout(timer);
          res(m[1]!);
        }
      };
      c.stdout!.on('data', on);
      c.stderr!.on('data', on);
      c.on('exit', (code) => rej(new Error(`exited ${code}: ${buf}`)));
    });
    expect(
      (await fetch(`${base}/metrics/job/docs`, { method: 'PUT', body: '# TYPE d gauge\nd 7\n' })).status,
    ).toBe(200);
    let text = '';
    for (let i = 0; i < 50 && !/^d\{instance="",job="docs"\} 7$/m.test(text); i++) {
      text = await (await fetch(`${base}/metrics`)).text();
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(text).toMatch(/^d\{instance="",job="docs"\} 7$/m);
    c.kill('SIGTERM');
    const code = await new Promise((r) => c.on('exit', r));
    expect(code).toBe(0);
  }, 120_000);
});
