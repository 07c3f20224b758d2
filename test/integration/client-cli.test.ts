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
import { ARIA_PROFILE } from '../../shared/profiles';
import { sqsEndpoint, testSqsClient, uniqueName } from '../support/aws';

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
    [['start', '--help']],
    [['help', 'send']],
    [['help', 'nope']],
  ])('accrue %j prints usage and exits 0 (in-process)', async (args) => {
    const r = await inProcess(args);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^(accrue —|Usage: accrue)/);
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

  it('lists groups', async () => {
    const r = await run(['groups', '--url', base]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'job="aria-pro" instance="mt5-1"  families=2 series=7 last_push=2026-11-25T10:00:00.000Z',
    );
    expect(r.out).toContain('instance="x\\"\\ny"');
    expect(r.out).toContain('LAST PUSH FAILED');
  });

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

it.each([
  [{ job: 'a' }, '/metrics/job/a'],
  [{ job: 'a b', instance: 'i' }, '/metrics/job/a%20b/instance/i'],
  [{ job: 'x/y' }, `/metrics/job@base64/${Buffer.from('x/y').toString('base64url')}`],
])('groupPath(%j) = %s', (labels, p) => {
  expect(groupPath(labels)).toBe(p);
});
