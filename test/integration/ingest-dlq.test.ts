/** SqsDeadLetterSink against the SQS emulator: bodies and reason attributes arrive intact, nothing is lost. */
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import {
  DLQ_ATTR_DETAIL,
  DLQ_ATTR_REASON,
  DLQ_ATTR_SOURCE,
  SqsDeadLetterSink,
} from '../../shared/aws/dead-letter';
import type { DeadLetterEntry } from '../../shared/ingest/pipeline';
import { testSqsClient, uniqueName } from '../support/aws';

let sqs: SQSClient;
let dlqUrl: string;

beforeAll(async () => {
  sqs = testSqsClient();
});
beforeEach(async () => {
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('dlq') }))).QueueUrl!;
});
afterEach(async () => {
  await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
});
afterAll(() => sqs.destroy());

interface Received {
  body: string;
  reason: string;
  source: string;
  detail: Record<string, unknown>;
}

async function drain(): Promise<Received[]> {
  const out: Received[] = [];
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlqUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) {
      const a = m.MessageAttributes ?? {};
      out.push({
        body: m.Body!,
        reason: a[DLQ_ATTR_REASON]?.StringValue ?? '',
        source: a[DLQ_ATTR_SOURCE]?.StringValue ?? '',
        detail: JSON.parse(a[DLQ_ATTR_DETAIL]?.StringValue ?? 'null'),
      });
    }
  }
}

const entry = (i: number, body: string, detail: Record<string, unknown> = { index: i }): DeadLetterEntry => ({
  messageId: `src-${i}`,
  body,
  reason: i % 2 ? 'invalid' : 'decode',
  detail,
});

describe('SqsDeadLetterSink', () => {
  it.each([
    ['plain JSON', '{"v":1,"events":[]}'],
    ['newlines, quotes and backslashes', 'line1\nline2 "quoted" \\ back\\slash'],
    // Astral characters (emoji) are valid in AWS SQS but refused by fauxqs 1.9.2: not tested here.
    ['unicode (BMP)', 'EURUSD € 株 ü'],
    ['prototype keys', '{"__proto__":{"polluted":true},"constructor":{"prototype":{}}}'],
    ['NaN and Infinity as text', '{"value":NaN,"x":Infinity}'],
    ['large (200 KiB)', 'x'.repeat(200 * 1024)],
    ['empty', ''],
  ])('keeps the body and the reason: %s', async (_name, body) => {
    const sink = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
    const res = await sink.send([
      entry(1, body, { index: 3, message: 'events[3].value: must be a number\n"quoted"' }),
    ]);
    expect(res.failed).toEqual([]);
    const got = await drain();
    expect(got).toHaveLength(1);
    expect(got[0]!.body).toBe(body === '' ? '(empty)' : body);
    expect(got[0]!.reason).toBe('invalid');
    expect(got[0]!.source).toBe('src-1');
    expect(got[0]!.detail).toEqual({ index: 3, message: 'events[3].value: must be a number\n"quoted"' });
  });

  it('splits many entries into batches of at most 10 and 256 KiB, and delivers all of them', async () => {
    const sink = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
    const entries = Array.from({ length: 27 }, (_, i) =>
      entry(i, i % 9 === 0 ? `${i}:${'y'.repeat(100 * 1024)}` : `small-${i}`),
    );
    const res = await sink.send(entries);
    expect(res.failed).toEqual([]);
    const got = await drain();
    expect(got.map((g) => g.source).sort()).toEqual(entries.map((e) => e.messageId).sort());
    expect(got.filter((g) => g.reason === 'decode')).toHaveLength(14);
  });

  it('cuts an oversize detail instead of failing the entry', async () => {
    const sink = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
    const res = await sink.send([
      { messageId: 'm', body: 'b', reason: 'limit', detail: { message: 'z'.repeat(100_000) } },
    ]);
    expect(res.failed).toEqual([]);
    const r = await sqs.send(new ReceiveMessageCommand({ QueueUrl: dlqUrl, MessageAttributeNames: ['All'] }));
    const detail = r.Messages![0]!.MessageAttributes![DLQ_ATTR_DETAIL]!.StringValue!;
    expect(detail.length).toBeLessThanOrEqual(4096);
    // Still JSON (docs/ingest.md), saying it was cut.
    const parsed = JSON.parse(detail) as { truncated?: boolean; message?: string };
    expect(parsed.truncated).toBe(true);
    expect(parsed.message).toMatch(/^z+…\(\d+ more characters\)$/);
  });

  it('reports every entry as failed when the queue does not exist (so the caller retries the records)', async () => {
    const sink = new SqsDeadLetterSink({ client: sqs, queueUrl: `${dlqUrl}-missing` });
    const res = await sink.send([entry(0, 'a'), entry(1, 'b'), entry(2, 'c')]);
    expect(res.failed).toEqual([0, 1, 2]);
  });

  it('reports an entry SQS refuses (body over the size limit) and delivers the others', async () => {
    const sink = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
    const res = await sink.send([entry(0, 'ok'), entry(1, 'z'.repeat(1100 * 1024)), entry(2, 'ok too')]);
    expect(res.failed).toEqual([1]);
    expect((await drain()).map((g) => g.body).sort()).toEqual(['ok', 'ok too']);
  });

  it('refuses to be built without a queue URL', () => {
    expect(() => new SqsDeadLetterSink({ client: sqs, queueUrl: '' })).toThrow('queueUrl is required');
  });
});
