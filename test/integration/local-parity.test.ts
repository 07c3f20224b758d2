/**
 * `npm start` honours the variables the Lambdas and the container honour (issue: wiring that drifted).
 * The local gateway (service/local/runner.ts, what `npm start` runs) is started in-process with each
 * variable set to a value that changes behaviour, and the change is observed through real SQS and HTTP:
 * ACCRUE_MAX_MESSAGE_BYTES and ACCRUE_MAX_EVENT_FUTURE_MS (the skew past which the ingest Lambda's decoder
 * clamps event times) and
 * ACCRUE_GROUP_TTL_SECONDS (read by the janitor Lambda).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { parseText } from '../../shared/expfmt/text-parse';
import { drainDlq, envelope, execution, until } from './ingest-harness';

const ROOT = path.resolve(__dirname, '..', '..');
const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** What service/local.ts writes to `.accrue/local.json` once it is up. */
interface LocalFile {
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  metricsUrl: string;
  region: string;
}

let dir: string;
let child: ChildProcess;
let local: LocalFile;
let sqs: SQSClient;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'accrue-parity-'));
  child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(ROOT, 'service', 'local.ts')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ACCRUE_PORT: '0',
      ACCRUE_LOCAL_SQS_PORT: '0',
      ACCRUE_DATA_DIR: path.join(dir, 'data'),
      ACCRUE_WAIT_TIME_SECONDS: '1',
      ACCRUE_MAX_MESSAGE_BYTES: '4096',
      ACCRUE_MAX_EVENT_FUTURE_MS: '2000',
      ACCRUE_GROUP_TTL_SECONDS: '2',
    },
    stdio: 'ignore',
  });
  const file = path.join(dir, '.accrue', 'local.json');
  await until(() => existsSync(file), 45_000, 'npm start wrote .accrue/local.json');
  local = JSON.parse(readFileSync(file, 'utf8')) as LocalFile;
  sqs = new SQSClient({
    endpoint: local.sqsEndpoint,
    region: local.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
});
afterAll(async () => {
  sqs?.destroy();
  if (child?.pid && child.exitCode === null) {
    const exited = new Promise((r) => child.once('exit', r));
    process.kill(child.pid, 'SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

/** The value of `name` for the group's series on /metrics (summed over the other labels). */
async function scraped(name: string, instance: string): Promise<number | undefined> {
  const text = await (await fetch(local.metricsUrl)).text();
  let sum: number | undefined;
  for (const f of parseText(text))
    if (f.name === name && (f.type === 'counter' || f.type === 'gauge' || f.type === 'untyped'))
      for (const s of f.series) if (s.labels.instance === instance) sum = (sum ?? 0) + s.value;
  return sum;
}

async function send(body: string): Promise<void> {
  await sqs.send(new SendMessageCommand({ QueueUrl: local.queueUrl, MessageBody: body }));
}

describe('npm start honours the ingest and janitor variables', () => {
  it('ACCRUE_MAX_MESSAGE_BYTES: a 5 KB message is dead-lettered naming the limit; a small one is applied', async () => {
    const group = { job: 'aria', instance: 'parity-size' };
    const big = envelope(randomUUID(), group, [{ ...execution('EURUSD', 1), symbol: 'X'.repeat(5000) }]);
    await send(big);
    await send(envelope(randomUUID(), group, [execution('EURUSD', 2)]));
    let dead: Awaited<ReturnType<typeof drainDlq>> = [];
    await until(async () => {
      dead = dead.concat(await drainDlq(sqs, local.dlqUrl));
      return dead.length > 0;
    });
    expect(dead[0]!.body).toBe(big);
    expect(String(dead[0]!.detail.message)).toMatch(/4096/);
    await until(async () => (await scraped('aria_trade_volume_total', group.instance)) === 2);
  });

  it('ACCRUE_MAX_EVENT_FUTURE_MS: an event 60 s ahead is applied at SentTimestamp + 2 s (clamped, not refused)', async () => {
    const group = { job: 'aria', instance: 'parity-future' };
    const sentAfter = Date.now();
    await send(
      envelope(randomUUID(), group, [
        execution('EURUSD', 3, sentAfter + 60_000),
        execution('EURUSD', 4, sentAfter),
      ]),
    );
    await until(async () => (await scraped('aria_trade_volume_total', group.instance)) === 7);
    const api = local.metricsUrl.replace(/\/metrics$/, '/api/v1/accrue/metrics');
    const groups = (
      (await (await fetch(api)).json()) as {
        data: { labels: Record<string, string>; last_event_time: string }[];
      }
    ).data;
    const lastEvent = Date.parse(groups.find((g) => g.labels.instance === group.instance)!.last_event_time);
    // The default skew (5 min) would have kept sentAfter + 60 s; 2 s clamps it to the send time + 2 s.
    expect(lastEvent).toBeGreaterThanOrEqual(sentAfter);
    expect(lastEvent).toBeLessThanOrEqual(Date.now() + 2_000);
    expect(await drainDlq(sqs, local.dlqUrl)).toEqual([]);
  });

  it('ACCRUE_GROUP_TTL_SECONDS: a group not updated for 2 s is expired by the local janitor', async () => {
    const group = { instance: 'parity-ttl' };
    const res = await fetch(
      local.metricsUrl.replace(/\/metrics$/, '/metrics/job/parity/instance/parity-ttl'),
      {
        method: 'PUT',
        body: 'parity_ttl_value 1\n',
      },
    );
    expect(res.status).toBeLessThan(300);
    const has = async () => (await scraped('parity_ttl_value', group.instance)) !== undefined;
    expect(await has()).toBe(true);
    await until(async () => !(await has()), 15_000, 'group expired');
  });
});
