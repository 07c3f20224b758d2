/**
 * The Python producer (examples/python/producer.py, Debian's boto3 under /usr/bin/python3) against the
 * SQS emulator: every received body must validate against the envelope JSON Schema (ajv; the committed
 * schema/envelope-v1.schema.json when present) and decode with every event accepted.
 *
 * Debian 12's botocore 1.29 speaks SQS's *query* protocol; fauxqs 1.9.2 only speaks the JSON protocol
 * (it routes form-encoded requests to its SNS handler: "Unknown action: CreateQueue"). The producer
 * therefore switches botocore's own SQS model to the JSON protocol (which AWS SQS also accepts); the
 * second test pins the exact failure of the plain query protocol.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import Ajv from 'ajv';
import { decodeMessage, envelopeSchema } from '../../shared/ingest';
import { ARIA_PROFILE } from '../../shared/profiles';
import { sqsEndpoint, testSqsClient, uniqueName } from '../support/aws';

const ROOT = path.resolve(__dirname, '../..');
const PRODUCER = path.join(ROOT, 'examples/python/producer.py');
const SCHEMA = path.join(ROOT, 'schema/envelope-v1.schema.json');

function python(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('/usr/bin/python3', [PRODUCER, ...args], {
      cwd: ROOT,
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

let sqs: SQSClient;
const queues: string[] = [];
beforeAll(() => {
  sqs = testSqsClient();
});
afterAll(async () => {
  for (const q of queues) await sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => undefined);
  sqs.destroy();
});

async function queue(): Promise<string> {
  const r = await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('py') }));
  queues.push(r.QueueUrl!);
  return r.QueueUrl!;
}

it('sends envelopes that validate against the JSON Schema and decode in full', async () => {
  const q = await queue();
  const r = await python([
    '--queue-url',
    q,
    '--endpoint',
    sqsEndpoint(),
    '--count',
    '6000',
    '--instance',
    'py-1',
  ]);
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  const summary = JSON.parse(r.out) as { events: number; messages: number };
  expect(summary.events).toBe(6002);

  const bodies: string[] = [];
  for (let empty = 0; empty < 2; ) {
    const m = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: q,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        VisibilityTimeout: 60,
      }),
    );
    if (!m.Messages?.length) empty++;
    else for (const x of m.Messages) bodies.push(x.Body!);
  }
  expect(bodies.length).toBe(summary.messages);
  expect(bodies.length).toBeGreaterThan(1); // 6000 events don't fit one 256 KiB message

  const schema = existsSync(SCHEMA)
    ? JSON.parse(readFileSync(SCHEMA, 'utf8'))
    : JSON.parse(JSON.stringify(envelopeSchema(ARIA_PROFILE)));
  const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
  let events = 0;
  for (const b of bodies) {
    expect(Buffer.byteLength(b)).toBeLessThanOrEqual(262_144);
    const ok = validate(JSON.parse(b));
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    const d = decodeMessage(b, 'x', ARIA_PROFILE);
    expect(d.rejected).toEqual([]);
    expect(d.group).toEqual({ job: 'aria-pro', instance: 'py-1' });
    events += d.acceptedCount;
  }
  expect(events).toBe(6002);
  // the schema check can fail: a body with an invalid event does not validate
  const bad = JSON.parse(bodies[0]!);
  bad.events[0].latency_seconds = -1;
  expect(validate(bad)).toBe(false);
});

it("botocore's query protocol is what fauxqs refuses (the reason for the JSON-protocol switch)", async () => {
  const q = await queue();
  const r = await python([
    '--queue-url',
    q,
    '--endpoint',
    sqsEndpoint(),
    '--count',
    '1',
    '--sqs-protocol',
    'query',
  ]);
  expect(r.code).not.toBe(0);
  expect(r.err).toMatch(/InvalidAction|Unknown action|MissingAction/);
});
