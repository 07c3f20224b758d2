/**
 * `npm start` end to end, as a user runs it: the entry (service/local.ts) as a child process, an ARIA
 * event sent with the AWS SDK to the SQS endpoint it printed, `/metrics` showing the `aria_*` series
 * (linted by the real promtool), a graceful stop by PID, and a restart that still has the data.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';

const ROOT = path.resolve(__dirname, '..', '..');
// tsx as a loader of this very node process (not its CLI wrapper), so that the PID we signal is the app's.
const TSX_LOADER = pathToFileURL(path.join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

interface Started {
  child: ChildProcess;
  out: () => string;
  sqsEndpoint: string;
  queueUrl: string;
  dlqUrl: string;
  metricsUrl: string;
}

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'accrue-local-'));
});
afterAll(async () => {
  for (const c of children)
    if (c.exitCode === null && c.signalCode === null && c.pid) process.kill(c.pid, 'SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

async function start(): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX_LOADER, path.join(ROOT, 'service', 'local.ts')], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_SDK_JS_SUPPRESS_NODE_VERSION_WARNING: '1',
      ACCRUE_PORT: '0',
      ACCRUE_LOCAL_SQS_PORT: '0',
      ACCRUE_DATA_DIR: path.join(dir, 'data'),
      ACCRUE_WAIT_TIME_SECONDS: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  const deadline = Date.now() + 45_000;
  while (!/Ctrl-C stops it/.test(out)) {
    if (child.exitCode !== null) throw new Error(`npm start exited with ${child.exitCode}:\n${out}`);
    if (Date.now() > deadline) throw new Error(`npm start printed no banner:\n${out}`);
    await sleep(100);
  }
  const grab = (re: RegExp) => {
    const m = re.exec(out);
    if (!m?.[1]) throw new Error(`banner lacks ${re}:\n${out}`);
    return m[1];
  };
  return {
    child,
    out: () => out,
    sqsEndpoint: grab(/SQS endpoint\s+(\S+)/),
    queueUrl: grab(/\n\s+queue\s+(\S+)/),
    dlqUrl: grab(/dead letters\s+(\S+)/),
    metricsUrl: grab(/\n\s+metrics\s+(\S+)/),
  };
}

async function stop(s: Started): Promise<number | null> {
  const exited = new Promise<number | null>((resolve) => s.child.once('exit', (code) => resolve(code)));
  process.kill(s.child.pid!, 'SIGTERM');
  return exited;
}

async function sendAria(s: Started, events: unknown[]): Promise<void> {
  const sqs = new SQSClient({
    endpoint: s.sqsEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
  try {
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: s.queueUrl,
        MessageBody: JSON.stringify({ v: 1, group: { job: 'aria', instance: 'e2e' }, events }),
      }),
    );
  } finally {
    sqs.destroy();
  }
}

async function metricsUntil(url: string, re: RegExp): Promise<string> {
  const deadline = Date.now() + 20_000;
  let last = '';
  while (Date.now() < deadline) {
    const res = await fetch(url);
    last = await res.text();
    if (res.status === 200 && re.test(last)) return last;
    await sleep(100);
  }
  throw new Error(`/metrics never matched ${re}:\n${last}`);
}

describe('npm start', () => {
  it('ingests an ARIA event sent to the printed endpoint, serves it on /metrics, stops by PID and keeps it across a restart', async () => {
    const first = await start();
    expect(first.sqsEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(first.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    expect(first.out()).toContain('aws sqs send-message --endpoint-url');
    // The banner points at the status page, the demo and the CLI, and the printed status page answers.
    const statusUrl = /status page\s+(http\S+)/.exec(first.out())?.[1];
    expect(statusUrl).toBe(first.metricsUrl.replace(/metrics$/, ''));
    expect(first.out()).toContain('npm run demo');
    expect(first.out()).toContain('| npx accrue send --job aria-pro --instance local');
    const page = await fetch(statusUrl!);
    expect([page.status, page.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
    expect(await page.text()).toContain('No data yet');
    const localFile = path.join(dir, '.accrue', 'local.json');
    expect(JSON.parse(readFileSync(localFile, 'utf8'))).toMatchObject({
      queueUrl: first.queueUrl,
      metricsUrl: first.metricsUrl,
    });

    const t = Date.now();
    await sendAria(first, [
      { kind: 'error', time: t, error_type: 'timeout', symbol: 'EURUSD' },
      {
        kind: 'execution',
        time: t,
        symbol: 'EURUSD',
        action: 'BUY',
        status: 'success',
        regime: 'T',
        latency_seconds: 0.02,
        slippage_pips: 0.3,
      },
      { kind: 'pnl', time: t, type: 'daily', value: -125.5 },
    ]);
    // The pipeline's own metrics are written right after the batch: wait for both.
    await metricsUntil(first.metricsUrl, /aria_pnl_dollars\{/);
    const text = await metricsUntil(
      first.metricsUrl,
      /^accrue_ingest_messages_total\{[^}]*outcome="applied"\} 1$/m,
    );
    expect(text).toMatch(
      /^aria_errors_total\{error_type="timeout",instance="e2e",job="aria",symbol="EURUSD"\} 1$/m,
    );
    expect(text).toMatch(/^aria_execution_latency_seconds_count\{[^}]*symbol="EURUSD"[^}]*\} 1$/m);
    expect(text).toMatch(/^aria_pnl_dollars\{instance="e2e",job="aria",type="daily"\} -125\.5$/m);
    expect(text).toMatch(
      /^accrue_ingest_messages_total\{instance="accrue-local",job="accrue",outcome="applied"\} 1$/m,
    );
    // The real promtool accepts the exposition (throws on a non-zero exit).
    execFileSync('promtool', ['check', 'metrics'], { input: text });

    expect(await stop(first)).toBe(0);
    expect(first.out()).toContain('stopped');
    expect(existsSync(localFile)).toBe(false);

    const second = await start();
    try {
      const again = await metricsUntil(second.metricsUrl, /aria_errors_total\{/);
      expect(again).toMatch(
        /^aria_errors_total\{error_type="timeout",instance="e2e",job="aria",symbol="EURUSD"\} 1$/m,
      );
      await sendAria(second, [{ kind: 'error', time: Date.now(), error_type: 'timeout', symbol: 'EURUSD' }]);
      await metricsUntil(
        second.metricsUrl,
        /^aria_errors_total\{error_type="timeout",instance="e2e",job="aria",symbol="EURUSD"\} 2$/m,
      );
    } finally {
      expect(await stop(second)).toBe(0);
    }
  }, 120_000);
});
