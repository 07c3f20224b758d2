/**
 * The `accrue` CLI as real processes (node bin/accrue.js …): help, validate, send to the SQS emulator
 * (flags and .accrue/local.json), groups against a real HTTP server. A larger table of hostile inputs
 * runs through the same `main()` in-process, to keep the suite fast on a shared machine.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { groupPath, main } from '../../shared/cli/main';
import { decodeMessage } from '../../shared/ingest';
import { ownMetricsRequest } from '../../shared/ingest/pipeline';
import { ARIA_PROFILE } from '../../shared/profiles';
import { sqsEndpoint, testSqsClient, uniqueName } from '../support/aws';
import { type Running, startService } from './service-support';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin/accrue.js');

function run(
  args: string[],
  opts: { cwd?: string; stdin?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, ...opts.env };
    delete env.ACCRUE_QUEUE_URL;
    delete env.ACCRUE_URL;
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...env, ...opts.env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
    child.stdin.end(opts.stdin ?? '');
  });
}

async function inProcess(args: string[], cwd?: string): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const prev = process.cwd();
  if (cwd) process.chdir(cwd);
  try {
    const code = await main(args, { out: (s) => (out += s), err: (s) => (err += s) });
    return { code, out, err };
  } finally {
    process.chdir(prev);
  }
}

const exec = {
  kind: 'execution',
  symbol: 'EURUSD',
  action: 'BUY',
  status: 'success',
  regime: 'T',
  latency_seconds: 0.012,
  slippage_pips: 0.4,
};
let work: string;
let sqs: SQSClient;
const queues: string[] = [];

beforeAll(() => {
  work = mkdtempSync(path.join(tmpdir(), 'accrue-cli-'));
  sqs = testSqsClient();
});
afterAll(async () => {
  for (const q of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined);
  sqs.destroy();
  rmSync(work, { recursive: true, force: true });
});

function file(name: string, content: string): string {
  const f = path.join(work, name);
  writeFileSync(f, content);
  return f;
}

async function receiveAll(queueUrl: string): Promise<string[]> {
  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (!r.Messages?.length) empty++;
    else for (const m of r.Messages) bodies.push(m.Body!);
  }
  return bodies;
}

describe('help (real processes)', () => {
  it.each([[['--help']], [['validate', '-h']]])('accrue %j prints usage and exits 0', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^(accrue —|Usage: accrue)/);
  });

  it.each([
    [[]],
    [['send', '--help']],
    [['groups', '--help']],
    [['top', '--help']],
    [['start', '--help']],
    [['help', 'send']],
    [['help', 'nope']],
  ])('accrue %j prints usage and exits 0 (in-process)', async (args) => {
    const r = await inProcess(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^(accrue —|Usage: accrue)/);
  });

  it("each command's help shows the values it will use and where they come from", async () => {
    const env = { ACCRUE_URL: 'http://127.0.0.1:9555', ACCRUE_PORT: '9556', ACCRUE_PROFILE: 'aria' };
    const groups = await run(['groups', '--help'], { env, cwd: work });
    expect(groups.out).toContain('now: http://127.0.0.1:9555 (from ACCRUE_URL)');
    expect(groups.out).toContain('now: none (ACCRUE_PUSH_AUTH is not set)');
    const top = await run(['top', '--help'], {
      env: { ...env, ACCRUE_PUSH_AUTH: 'basic:u:secret' },
      cwd: work,
    });
    expect(top.out).toContain('now: basic credentials from ACCRUE_PUSH_AUTH');
    expect(top.out).not.toContain('secret');
    const start = await run(['start', '--help'], { env, cwd: work });
    expect(start.out).toContain('http://127.0.0.1:9556 (from ACCRUE_HOST / ACCRUE_PORT)');
    const send = await run(['send', '--help'], { env, cwd: work });
    expect(send.out).toContain(
      'now: none yet: run `npm start` (it writes .accrue/local.json), or set ACCRUE_QUEUE_URL',
    );
    expect(send.out).toContain('aria (from ACCRUE_PROFILE)');
    expect(send.out).toContain('--job NAME          group job for bare events (default: aria-pro)');
    const validate = await run(['validate', '--help'], { cwd: work });
    expect(validate.out).toContain('now: aria (default; set ACCRUE_PROFILE to change)');
    // The local file npm start writes is read, and a broken one is shown, not hidden.
    const dir = mkdtempSync(path.join(work, 'local-'));
    mkdirSync(path.join(dir, '.accrue'));
    writeFileSync(
      path.join(dir, '.accrue/local.json'),
      JSON.stringify({ metricsUrl: 'http://127.0.0.1:9777/metrics', queueUrl: 'http://q/1/x' }),
    );
    const main = await run(['--help'], { cwd: dir });
    expect(main.out).toContain('gateway  http://127.0.0.1:9777 (from .accrue/local.json)');
    expect(main.out).toContain('queue    http://q/1/x (from .accrue/local.json)');
    writeFileSync(path.join(dir, '.accrue/local.json'), '{');
    expect((await run(['groups', '--help'], { cwd: dir })).out).toMatch(/now: none: .*not valid JSON/);
  });

  it.each<[string[], string]>([
    [
      ['groups', '--nope'],
      'accrue groups: unknown option --nope (options: --url, --auth, --filter, --state, --limit, --page, --all, --json, --help/-h)',
    ],
    [
      ['top', '-x'],
      'accrue top: unknown option -x (options: --url, --auth, --filter, --interval, --count, --limit, --help/-h)',
    ],
    [['send', '--queue-url'], 'accrue send: option --queue-url needs a value, e.g. --queue-url VALUE'],
    [['validate', '--json=yes'], 'accrue validate: option --json takes no value'],
    [['top', 'extra'], 'accrue top: unexpected argument "extra"'],
    [['groups', '--limit', '0'], 'accrue groups: --limit "0": must be a whole number from 1 to 500'],
    [['groups', '--state', 'broken'], 'accrue groups: --state "broken": must be all, failed, stale or ok'],
    [['top', '--interval', '0'], 'accrue top: --interval "0": must be seconds from 0.2 to 3600'],
  ])('usage error %j is one well-formed sentence and a pointer to --help', async (args, first) => {
    const r = await inProcess(args);
    expect(r.code).toBe(2);
    expect(r.err).toBe(`${first}\nRun \`accrue ${args[0]} --help\` for usage.\n`);
  });

  it('an unknown command or flag is a usage error (exit 2) that points at --help', async () => {
    const a = await run(['frobnicate']);
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/unknown command "frobnicate".*\n.*--help/);
    const b = await run(['validate', '--no-such-flag']);
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/no-such-flag/);
  });
});

describe('validate (real processes)', () => {
  it('a valid envelope file exits 0', async () => {
    const f = file(
      'ok.json',
      JSON.stringify({
        v: 1,
        id: 'batch-1',
        group: { job: 'aria-pro' },
        events: [{ ...exec, time: Date.now() }],
      }),
    );
    const r = await run(['validate', f]);
    expect(r.err).toMatch(/ok: 1 message\(s\), 1 event\(s\) valid/);
    expect(r.code).toBe(0);
  });

  it('prints every problem with its path and exits 1 (stdin, NDJSON)', async () => {
    const lines = [
      JSON.stringify({ ...exec, latency_seconds: -1, regime: 'X' }),
      JSON.stringify({ kind: 'pnl', type: 'weekly', value: 'a lot' }),
      'not json',
    ].join('\n');
    const r = await run(['validate', '-'], { stdin: lines });
    expect(r.code).toBe(1);
    expect(r.err).toContain('stdin: events[0].latency_seconds: must be >= 0');
    expect(r.err).toMatch(/stdin: events\[0\]\.regime: must be one of/);
    expect(r.err).toMatch(/stdin: events\[1\]\.type: must be one of/);
    expect(r.err).toMatch(/stdin: events\[1\]\.value: must be a number/);
    expect(r.err).toMatch(/stdin:3: not valid JSON/);
  });
});

describe('validate: hostile inputs (in-process main)', () => {
  const now = Date.now();
  it.each<[string, number, string, RegExp]>([
    [
      'bare event array',
      0,
      JSON.stringify([exec, { kind: 'kill_switch', active: true }]),
      /2 event\(s\) valid/,
    ],
    [
      'label value with quotes and newlines',
      0,
      JSON.stringify({ kind: 'counter', name: 'x_total', labels: { a: 'q"\n\\' } }),
      /valid/,
    ],
    [
      'a label named constructor',
      0,
      JSON.stringify({ kind: 'counter', name: 'x_total', labels: { constructor: 'x' } }),
      /valid/,
    ],
    [
      '__proto__ label name',
      1,
      '{"kind":"counter","name":"x_total","labels":{"__proto__":"x"}}',
      /events\[0\]\.labels/,
    ],
    ['__proto__ event field', 1, '{"kind":"kill_switch","active":true,"__proto__":{"x":1}}', /events\[0\]/],
    ['1e309 (parses as Infinity)', 1, '{"kind":"pnl","type":"daily","value":1e309}', /events\[0\]\.value/],
    [
      'huge counter',
      1,
      JSON.stringify({ kind: 'counter', name: 'x_total', value: 2 ** 60 }),
      /events\[0\]\.value/,
    ],
    [
      'wrong type for boolean',
      1,
      JSON.stringify({ kind: 'connection', connected: 1 }),
      /events\[0\]\.connected/,
    ],
    ['unknown kind', 1, JSON.stringify({ kind: 'trade' }), /events\[0\]/],
    [
      'envelope with wrong version',
      1,
      JSON.stringify({ v: 2, group: { job: 'a' }, events: [] }),
      /v: .*undecodable/,
    ],
    ['envelope without job', 1, JSON.stringify({ v: 1, group: {}, events: [] }), /group\.job/],
    [
      'oversize envelope',
      1,
      JSON.stringify({
        v: 1,
        group: { job: 'a' },
        events: Array.from({ length: 3000 }, () => ({ ...exec, time: now })),
      }),
      /undecodable/,
    ],
    ['a JSON string', 1, '"hello"', /must be an envelope object/],
    ['empty input', 1, '   ', /is empty/],
  ])('%s → exit %d', async (_name, code, content, pattern) => {
    const f = file(`v-${Math.random().toString(36).slice(2)}.json`, content);
    const r = await inProcess(['validate', f]);
    expect(r.err).toMatch(pattern);
    expect(r.code).toBe(code);
  });

  it('--json prints the problems as JSON', async () => {
    const f = file('j.json', JSON.stringify({ kind: 'connection', connected: 'yes' }));
    const r = await inProcess(['validate', '--json', f]);
    expect(r.code).toBe(1);
    const problems = JSON.parse(r.out) as { path: string }[];
    expect(problems.map((p) => p.path)).toContain('events[0].connected');
  });
});

describe('send (real processes against the SQS emulator)', () => {
  async function queue(): Promise<string> {
    const r = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('cli') }));
    queues.push(r.QueueUrl!);
    return r.QueueUrl!;
  }

  it('sends bare events with flags; the bodies decode with every event accepted', async () => {
    const q = await queue();
    const f = file(
      'events.ndjson',
      [
        exec,
        { kind: 'error', error_type: 'timeout', symbol: 'XAUUSD' },
        { kind: 'pnl', type: 'daily', value: 12.5 },
      ]
        .map((e) => JSON.stringify(e))
        .join('\n'),
    );
    const r = await run([
      'send',
      f,
      '--queue-url',
      q,
      '--endpoint',
      sqsEndpoint(),
      '--job',
      'aria-pro',
      '--instance',
      'cli-1',
      '--label',
      'env=test',
    ]);
    expect(r.err).not.toMatch(/error|problem/i);
    expect(r.out).toMatch(/sent 3 event\(s\) in 1 message\(s\)/);
    expect(r.code).toBe(0);
    const bodies = await receiveAll(q);
    expect(bodies).toHaveLength(1);
    const d = decodeMessage(bodies[0]!, 'x', ARIA_PROFILE);
    expect(d.group).toEqual({ job: 'aria-pro', instance: 'cli-1', env: 'test' });
    expect(d.acceptedCount).toBe(3);
  });

  it('finds the queue through .accrue/local.json and keeps an envelope id as given', async () => {
    const q = await queue();
    const dir = mkdtempSync(path.join(work, 'proj-'));
    mkdirSync(path.join(dir, '.accrue'));
    writeFileSync(
      path.join(dir, '.accrue/local.json'),
      JSON.stringify({
        sqsEndpoint: sqsEndpoint(),
        queueUrl: q,
        dlqUrl: `${q}-dlq`,
        metricsUrl: 'http://127.0.0.1:9/metrics',
      }),
    );
    const envelope = JSON.stringify({
      v: 1,
      id: 'my-batch-7',
      group: { job: 'aria-pro' },
      events: [{ ...exec, time: Date.now() }],
    });
    const r = await run(['send'], { cwd: dir, stdin: envelope });
    expect(r.code).toBe(0);
    const bodies = await receiveAll(q);
    expect(bodies).toEqual([envelope]);
  });

  it('invalid input sends nothing', async () => {
    const q = await queue();
    const r = await run(['send', '--queue-url', q, '--endpoint', sqsEndpoint()], {
      stdin: `${JSON.stringify(exec)}\n${JSON.stringify({ ...exec, action: 'HOLD' })}`,
    });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/events\[1\]\.action: must be one of.*\n.*nothing sent/s);
    expect(await receiveAll(q)).toEqual([]);
  });

  it('without a gateway it says what to do', async () => {
    const dir = mkdtempSync(path.join(work, 'empty-'));
    const r = await run(['send'], { cwd: dir, stdin: JSON.stringify(exec) });
    expect(r.code).toBe(1);
    expect(r.err).toContain(
      'no local gateway found at .accrue/local.json: run `npm start` first, or pass --queue-url',
    );
  });
});

describe('groups (real process against a real HTTP server)', () => {
  let server: Server;
  let base: string;
  const requests: { method: string; url: string; auth?: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      requests.push({ method: req.method!, url: req.url!, auth: req.headers.authorization });
      if (req.method === 'GET' && req.url === '/api/v1/accrue/metrics') {
        res.setHeader('content-type', 'application/json');
        res.end(
          JSON.stringify({
            status: 'success',
            data: [
              {
                labels: { job: 'aria-pro', instance: 'mt5-1' },
                last_push_time: '2026-11-25T10:00:00.000Z',
                last_push_successful: true,
                families: [
                  { name: 'a', series: 3 },
                  { name: 'b', series: 4 },
                ],
              },
              {
                labels: { job: 'batch', instance: 'x"\ny' },
                last_push_time: null,
                last_push_successful: false,
                families: [],
              },
            ],
          }),
        );
      } else if (req.method === 'GET' && req.url!.startsWith('/api/v1/accrue/group/')) {
        res.setHeader('content-type', 'application/json');
        res.end('{"status":"success","data":{}}');
      } else if (req.method === 'DELETE' && req.url!.startsWith('/metrics/job/')) {
        res.statusCode = req.url!.includes('forbidden') ? 401 : 202;
        res.end(res.statusCode === 401 ? 'unauthorized\n' : '');
      } else {
        res.statusCode = 404;
        res.end();
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const addr = server.address() as { port: number };
    base = `http://127.0.0.1:${addr.port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('deletes exactly one group, with @base64 for "/" and empty values, and the auth header', async () => {
    requests.length = 0;
    const r = await run([
      'groups',
      'delete',
      'job=aria-pro',
      'instance=a/b',
      'env=',
      '--url',
      base,
      '--auth',
      'basic:ops:s3cret',
    ]);
    expect(r.code).toBe(0);
    expect(requests).toEqual([
      {
        method: 'GET',
        url: `/api/v1/accrue/group/job@base64/${Buffer.from('aria-pro').toString('base64url')}/env@base64/=/instance@base64/${Buffer.from('a/b').toString('base64url')}`,
        auth: `Basic ${Buffer.from('ops:s3cret').toString('base64')}`,
      },
      {
        method: 'DELETE',
        url: `/metrics/job/aria-pro/instance@base64/${Buffer.from('a/b').toString('base64url')}/env@base64/=`,
        auth: `Basic ${Buffer.from('ops:s3cret').toString('base64')}`,
      },
    ]);
  });

  it('a refused delete exits 1 with the server reason', async () => {
    const r = await run(['groups', 'delete', 'job=forbidden', '--url', base]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/HTTP 401 unauthorized/);
  });

  it.each<[string[], RegExp]>([
    [['groups', 'delete'], /job=NAME/],
    [['groups', 'delete', 'instance=x'], /job=NAME is required/],
    [['groups', 'delete', 'job=a', '__proto__=x'], /label name "__proto__" must not start with "__"/],
    [['groups', 'delete', 'job=a', 'job=b'], /given twice/],
    [['groups', 'frob'], /unknown subcommand/],
  ])('usage errors: %j', async (args, pattern) => {
    const r = await inProcess([...args, '--url', base]);
    expect(r.err).toMatch(pattern);
    expect(r.code).toBe(2);
  });

  it('an unreachable gateway says so', async () => {
    const r = await inProcess(['groups', '--url', 'http://127.0.0.1:9']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach .* is the gateway running/);
  });
});

describe('groups and top (real processes against the real service)', () => {
  let svc: Running;
  const NOW = Date.now();
  beforeAll(async () => {
    svc = await startService();
    const put = (group: [string, string][], body: string) =>
      fetch(`${svc.base}${groupPath(Object.fromEntries(group))}`, { method: 'PUT', body });
    for (const i of [1, 2, 3])
      await put(
        [
          ['job', 'aria-pro'],
          ['instance', `mt5-${i}`],
        ],
        `aria_x ${i}\n`,
      );
    await put(
      [
        ['job', 'batch'],
        ['instance', 'x"\ny'],
      ],
      'batch_rows 5\n',
    );
    // A refused push marks its group failed (the reason is recorded).
    await fetch(`${svc.base}/metrics/job/aria-pro/instance/mt5-2`, {
      method: 'PUT',
      body: 'aria_x 1 12345\n',
    });
    const stats = {
      messages: 10,
      outcomes: { applied: 9, duplicate: 1, failed: 0, dead_lettered: 0 },
      eventsAccepted: 42,
      rejected: { invalid: 2 },
      deadLetters: 0,
      applyDurationMs: 1,
    };
    await svc.store.apply([ownMetricsRequest(stats, 'cli-test', NOW)]);
  });
  afterAll(() => svc.stop());

  it('lists groups, failed first, with the status page filter', async () => {
    const r = await run(['groups', '--url', svc.base]);
    expect(r.code).toBe(0);
    const lines = r.out.trim().split('\n');
    expect(lines[0]).toMatch(
      /^job="aria-pro" instance="mt5-2" {2}families=1 series=1 last_push=\S+ {2}LAST PUSH FAILED: "timestamp: /,
    );
    expect(lines).toContain(
      'job="batch" instance="x\\"\\ny"  families=1 series=1 last_push=' +
        lines.find((l) => l.startsWith('job="batch"'))!.split('last_push=')[1],
    );
    expect(lines.length).toBe(5);
    expect(r.err).toMatch(/^5 of 5 matching group\(s\) \(5 in all, 1 failed, 0 stale\)/);
    const f = await run(['groups', '--url', svc.base, '--filter', 'job="aria-pro" instance!="mt5-2"']);
    expect(
      f.out
        .trim()
        .split('\n')
        .map((l) => l.split('  ')[0]),
    ).toEqual(['job="aria-pro" instance="mt5-1"', 'job="aria-pro" instance="mt5-3"']);
    const failed = await inProcess(['groups', '--url', svc.base, '--state', 'failed', '--json']);
    const doc = JSON.parse(failed.out) as { matched: number; groups: { labels: Record<string, string> }[] };
    expect(doc.matched).toBe(1);
    expect(doc.groups[0]!.labels).toEqual({ job: 'aria-pro', instance: 'mt5-2' });
    const page = await inProcess(['groups', '--url', svc.base, '--limit', '2', '--page', '2']);
    expect(page.out.trim().split('\n').length).toBe(2);
    expect(page.err).toContain('--page 3 for more');
    const all = await inProcess(['groups', '--url', svc.base, '--limit', '2', '--all']);
    expect(all.out.trim().split('\n').length).toBe(5);
    const none = await inProcess(['groups', '--url', svc.base, '--filter', 'nothing-like-this']);
    expect(none.out).toBe('no group matches (5 groups on the gateway)\n');
    const bad = await inProcess(['groups', '--url', svc.base, '--filter', 'job="open']);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/HTTP 400 filter: the value of job has no closing quote/);
  });

  it('delete of a group that does not exist says so and deletes nothing; an existing one goes', async () => {
    const missing = await run(['groups', 'delete', 'job=aria-pro', 'instance=mt5-9', '--url', svc.base]);
    expect(missing.code).toBe(1);
    expect(missing.err).toBe(
      `no group {job="aria-pro" instance="mt5-9"} on ${svc.base}: nothing deleted (\`accrue groups\` lists them)\n`,
    );
    expect((await svc.store.snapshot()).groups.length).toBe(5);
    const ok = await run(['groups', 'delete', 'job=batch', 'instance=x"\ny', '--url', svc.base]);
    expect(ok.code).toBe(0);
    expect((await svc.store.snapshot()).groups.map((g) => g.key.job).sort()).toEqual([
      'accrue',
      'aria-pro',
      'aria-pro',
      'aria-pro',
    ]);
  });

  it('top prints plain lines when stdout is not a terminal, with rates between updates', async () => {
    const child = spawn(
      process.execPath,
      [BIN, 'top', '--url', svc.base, '--interval', '0.5', '--count', '3'],
      {
        cwd: ROOT,
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    let fed = false;
    child.stdout.on('data', () => {
      if (fed) return;
      fed = true;
      const more = {
        messages: 1,
        outcomes: { applied: 1, duplicate: 0, failed: 0, dead_lettered: 0 },
        eventsAccepted: 100,
        rejected: {},
        deadLetters: 0,
        applyDurationMs: 1,
      };
      void svc.store.apply([ownMetricsRequest(more, 'cli-test', Date.now())]);
    });
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(0);
    const lines = out.trim().split('\n');
    expect(lines.length).toBe(3);
    expect(lines[0]).toMatch(
      /^\S+Z groups=\d+ series=\d+ failed=1 stale=0 accepted=42 rejected=2 dead_lettered=0 push_refused=1$/,
    );
    expect(lines[2]).toMatch(/accepted=142 \(\d+\.\d\/s\) rejected=2 \(0\.0\/s\)/);
    expect(out).not.toContain('\x1b[');
  });

  it('top redraws in place on a terminal and lists the newest groups', async () => {
    let out = '';
    const code = await main(['top', '--url', svc.base, '--count', '1'], {
      out: (s) => (out += s),
      err: () => {},
      isTTY: true,
    });
    expect(code).toBe(0);
    expect(out.startsWith('\x1b[H\x1b[2J')).toBe(true);
    expect(out).toContain('most recently updated groups:');
    expect(out).toMatch(/rejected by reason: invalid=2/);
    expect(out).toMatch(/s ago\s+job="accrue" instance="cli-test"/);
  });
});

it.each([
  [{ job: 'a' }, '/metrics/job/a'],
  [{ job: 'a b', instance: 'i' }, '/metrics/job/a%20b/instance/i'],
  [{ job: 'x/y' }, `/metrics/job@base64/${Buffer.from('x/y').toString('base64url')}`],
])('groupPath(%j) = %s', (labels, p) => {
  expect(groupPath(labels)).toBe(p);
});
