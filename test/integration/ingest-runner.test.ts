/**
 * The local event-source runner against the SQS emulator (real SQS protocol through the AWS SDK):
 * long polling, batch size and batching window, deletes, partial batch failures, whole-batch failures,
 * redrive to the DLQ by the queue's RedrivePolicy, concurrency, graceful stop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { SqsEventSourceRunner, type SqsRunnerOptions } from '../../shared/aws/sqs-runner';
import type { IngestRecord } from '../../shared/ingest/pipeline';
import { ValidationError } from '../../shared/model/errors';
import { testSqsClient, uniqueName } from '../support/aws';

let sqs: SQSClient;
const queues: string[] = [];
const runners: SqsEventSourceRunner[] = [];

beforeAll(() => {
  sqs = testSqsClient();
});
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.stop()));
});
afterAll(async () => {
  await Promise.all(queues.map((q) => sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {})));
  sqs.destroy();
});

// Visibility 10 s by default: tests that don't exercise redelivery must not see one on a loaded machine.
async function createQueues(
  maxReceiveCount = 3,
  visibility = 10,
): Promise<{ queueUrl: string; dlqUrl: string }> {
  const name = uniqueName('runner');
  const dlq = await sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ['QueueArn'] }))
  ).Attributes!.QueueArn!;
  const q = await sqs.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(visibility),
        RedrivePolicy: JSON.stringify({
          deadLetterTargetArn: dlqArn,
          maxReceiveCount: String(maxReceiveCount),
        }),
      },
    }),
  );
  queues.push(q.QueueUrl!, dlq.QueueUrl!);
  return { queueUrl: q.QueueUrl!, dlqUrl: dlq.QueueUrl! };
}

async function send(queueUrl: string, bodies: string[]): Promise<void> {
  for (let i = 0; i < bodies.length; i += 10) {
    const part = bodies.slice(i, i + 10);
    const out = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: part.map((b, k) => ({ Id: `m${k}`, MessageBody: b })),
      }),
    );
    expect(out.Failed ?? []).toEqual([]);
  }
}

function runner(opts: Omit<SqsRunnerOptions, 'client'>): SqsEventSourceRunner {
  const r = new SqsEventSourceRunner({ client: sqs, waitTimeSeconds: 1, ...opts });
  runners.push(r);
  r.start();
  return r;
}

async function until(cond: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(25);
  }
}

async function queueDepth(queueUrl: string): Promise<number> {
  const a = (
    await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    )
  ).Attributes!;
  return Number(a.ApproximateNumberOfMessages) + Number(a.ApproximateNumberOfMessagesNotVisible);
}

async function drain(queueUrl: string): Promise<{ body: string; attrs: Record<string, string> }[]> {
  const out: { body: string; attrs: Record<string, string> }[] = [];
  for (;;) {
    const r = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
      }),
    );
    if (!r.Messages?.length) return out;
    for (const m of r.Messages) {
      const attrs: Record<string, string> = {};
      for (const [k, v] of Object.entries(m.MessageAttributes ?? {})) attrs[k] = v.StringValue ?? '';
      out.push({ body: m.Body!, attrs });
    }
  }
}

describe('SqsEventSourceRunner', () => {
  it('delivers every message once and deletes it when the handler succeeds', async () => {
    const { queueUrl } = await createQueues();
    const seen: IngestRecord[] = [];
    const r = runner({
      queueUrl,
      handler: async (records) => {
        seen.push(...records);
        return { batchItemFailures: [] };
      },
    });
    const bodies = Array.from({ length: 45 }, (_, i) => `msg-${i}`);
    await send(queueUrl, bodies);
    await until(() => seen.length >= 45 && r.stats.deleted >= 45);
    expect(seen.map((s) => s.body).sort()).toEqual([...bodies].sort());
    expect(seen.every((s) => s.receiveCount === 1)).toBe(true);
    expect(r.stats.batches).toBeGreaterThanOrEqual(5); // at most 10 per batch with no window
    await until(async () => (await queueDepth(queueUrl)) === 0);
  });

  it('gathers up to batchSize messages within the batching window', async () => {
    const { queueUrl } = await createQueues();
    const sizes: number[] = [];
    runner({
      queueUrl,
      batchSize: 100,
      batchingWindowMs: 1500,
      handler: async (records) => {
        sizes.push(records.length);
        return { batchItemFailures: [] };
      },
    });
    await send(
      queueUrl,
      Array.from({ length: 60 }, (_, i) => `w-${i}`),
    );
    await until(() => sizes.reduce((a, b) => a + b, 0) >= 60);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(60);
    expect(Math.max(...sizes)).toBeGreaterThan(10);
  });

  it('leaves batch item failures on the queue; the queue redrives them to the DLQ after maxReceiveCount', async () => {
    const { queueUrl, dlqUrl } = await createQueues(2, 1);
    const receives = new Map<string, number[]>();
    runner({
      queueUrl,
      handler: async (records) => {
        for (const rec of records)
          receives.set(rec.body, [...(receives.get(rec.body) ?? []), rec.receiveCount ?? -1]);
        return {
          batchItemFailures: records
            .filter((x) => x.body.startsWith('poison'))
            .map((x) => ({ itemIdentifier: x.messageId })),
        };
      },
    });
    await send(queueUrl, ['ok-1', 'poison-1', 'ok-2']);
    let dead: { body: string }[] = [];
    await until(async () => {
      dead.push(...(await drain(dlqUrl)));
      return dead.length >= 1;
    });
    dead = dead.concat(await drain(dlqUrl));
    expect(dead.map((d) => d.body)).toEqual(['poison-1']);
    expect(receives.get('poison-1')).toEqual([1, 2]);
    expect(receives.get('ok-1')).toEqual([1]);
    expect(receives.get('ok-2')).toEqual([1]);
    await until(async () => (await queueDepth(queueUrl)) === 0);
  });

  it.each([
    ['the handler throws', 'throw'],
    ['the worker dies after the handler, before the delete', 'die'],
    ['the response names a message that is not in the batch', 'unknown-id'],
    ['the response carries a non-string identifier', 'bad-type'],
  ])('retries the whole batch when %s', async (_name, mode) => {
    const { queueUrl } = await createQueues(5, 1);
    const calls: number[] = [];
    let first = true;
    runner({
      queueUrl,
      handler: async (records) => {
        calls.push(records.length);
        if (!first) return { batchItemFailures: [] };
        first = false;
        if (mode === 'throw') throw new Error('boom');
        if (mode === 'unknown-id') return { batchItemFailures: [{ itemIdentifier: 'not-in-batch' }] };
        if (mode === 'bad-type') return { batchItemFailures: [{ itemIdentifier: 42 as unknown as string }] };
        return { batchItemFailures: [] };
      },
      hooks: {
        beforeDelete: () => {
          if (mode === 'die' && calls.length === 1) throw new Error('worker died');
        },
      },
    });
    await send(queueUrl, ['a', 'b', 'c']);
    await until(() => calls.reduce((x, y) => x + y, 0) >= 6);
    expect(calls.reduce((x, y) => x + y, 0)).toBe(6);
    await until(async () => (await queueDepth(queueUrl)) === 0);
  });

  it('shares the queue between concurrent pollers without losing or repeating messages', async () => {
    const { queueUrl } = await createQueues(5, 5);
    const seen: string[] = [];
    const r = runner({
      queueUrl,
      concurrency: 3,
      handler: async (records) => {
        await sleep(20);
        seen.push(...records.map((x) => x.body));
        return { batchItemFailures: [] };
      },
    });
    const bodies = Array.from({ length: 120 }, (_, i) => `c-${i}`);
    await send(queueUrl, bodies);
    await until(() => seen.length >= 120);
    await until(() => r.stats.deleted >= 120);
    expect([...seen].sort()).toEqual([...bodies].sort());
  });

  it('stops gracefully: the batch in flight finishes and is deleted', async () => {
    const { queueUrl } = await createQueues(5, 30);
    let started = false;
    let finished = false;
    const r = new SqsEventSourceRunner({
      client: sqs,
      queueUrl,
      waitTimeSeconds: 20,
      handler: async () => {
        started = true;
        await sleep(400);
        finished = true;
        return { batchItemFailures: [] };
      },
    });
    r.start();
    await send(queueUrl, ['slow']);
    await until(() => started);
    await r.stop();
    expect(finished).toBe(true);
    expect(r.stats.deleted).toBe(1);
    expect(await queueDepth(queueUrl)).toBe(0);
  });

  it('stops promptly while long polling an empty queue', async () => {
    const { queueUrl } = await createQueues();
    const r = new SqsEventSourceRunner({
      client: sqs,
      queueUrl,
      waitTimeSeconds: 20,
      handler: async () => ({ batchItemFailures: [] }),
    });
    r.start();
    await sleep(200);
    // A stop that waited for the 20 s long poll would hit this test's 10 s timeout.
    await r.stop();
    expect(r.running).toBe(false);
    expect(r.stats.receiveErrors).toBe(0);
  }, 10_000);

  it('keeps polling with backoff while receives fail, and still stops cleanly', async () => {
    const { queueUrl } = await createQueues();
    const handled: string[] = [];
    const r = new SqsEventSourceRunner({
      client: sqs,
      queueUrl: `${queueUrl}-does-not-exist`,
      waitTimeSeconds: 1,
      handler: async (records) => {
        handled.push(...records.map((x) => x.body));
        return { batchItemFailures: [] };
      },
    });
    r.start();
    await until(() => r.stats.receiveErrors >= 2);
    await r.stop();
    expect(handled).toEqual([]);
    expect(r.stats.batches).toBe(0);
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize: must be an integer in 1..10000'],
    [{ batchSize: 10_001, batchingWindowMs: 1 }, 'batchSize'],
    [{ batchSize: Number.NaN }, 'batchSize'],
    [{ batchSize: 20 }, 'batchingWindowMs: must be > 0 when batchSize > 10'],
    [{ batchingWindowMs: Number.POSITIVE_INFINITY }, 'batchingWindowMs'],
    [{ waitTimeSeconds: 21 }, 'waitTimeSeconds'],
    [{ visibilityTimeoutSeconds: -1 }, 'visibilityTimeoutSeconds'],
    [{ concurrency: 1.5 }, 'concurrency'],
    [{ queueUrl: '' }, 'queueUrl: is required'],
  ])('refuses options %p', (opts, message) => {
    const make = () =>
      new SqsEventSourceRunner({
        client: sqs,
        queueUrl: 'http://x/q',
        handler: async () => ({ batchItemFailures: [] }),
        ...opts,
      });
    expect(make).toThrow(ValidationError);
    expect(make).toThrow(message);
  });
});
