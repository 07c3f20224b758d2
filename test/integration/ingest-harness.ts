/**
 * Harness for the ingest integration tests: a real queue pair on the SQS emulator, the real pipeline
 * (real decoder, ARIA profile, SQS dead-letter sink) behind the local event-source runner, over a real
 * store. Fault injection happens through a Store wrapper and the runner's `beforeDelete` hook.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import {
  DLQ_ATTR_DETAIL,
  DLQ_ATTR_REASON,
  DLQ_ATTR_SOURCE,
  SqsDeadLetterSink,
} from '../../shared/aws/dead-letter';
import { ensureQueuePair } from '../../shared/aws/queues';
import { SqsSourceQueue } from '../../shared/aws/source-queue';
import { type RunnerHooks, SqsEventSourceRunner } from '../../shared/aws/sqs-runner';
import { OwnMetrics, type PipelineLogger, processBatch } from '../../shared/ingest/pipeline';
import { labelsKey } from '../../shared/model/identity';
import type { HistogramSeries, ScalarSeries } from '../../shared/model/types';
import { ARIA_PROFILE } from '../../shared/profiles';
import type { Store, StoreSnapshot } from '../../shared/store/types';
import { dynamoEndpoint, sqsEndpoint, uniqueName } from '../support/aws';

export const quietLogger: PipelineLogger = { debug() {}, info() {}, warn() {}, error() {} };

export interface Harness {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly runner: SqsEventSourceRunner;
  /** Sends the bodies (10 per request); resolves with their SQS message ids, in order. */
  send(bodies: readonly string[]): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startHarness(
  sqs: SQSClient,
  store: Store,
  opts: {
    visibilityTimeoutSeconds?: number;
    maxReceiveCount?: number;
    concurrency?: number;
    batchSize?: number;
    batchingWindowMs?: number;
    hooks?: RunnerHooks;
    instance?: string;
  } = {},
): Promise<Harness> {
  const name = uniqueName('ingest');
  const { queueUrl, dlqUrl } = await ensureQueuePair(sqs, {
    queueName: name,
    dlqName: `${name}-dlq`,
    visibilityTimeoutSeconds: opts.visibilityTimeoutSeconds ?? 1,
    maxReceiveCount: opts.maxReceiveCount ?? 10,
  });
  const deadLetters = new SqsDeadLetterSink({ client: sqs, queueUrl: dlqUrl });
  const sourceQueue = new SqsSourceQueue({ client: sqs, queueUrl });
  const ownMetrics = new OwnMetrics(opts.instance ?? 'it');
  const runner = new SqsEventSourceRunner({
    client: sqs,
    queueUrl,
    waitTimeSeconds: 1,
    batchSize: opts.batchSize ?? 10,
    batchingWindowMs: opts.batchingWindowMs ?? 0,
    concurrency: opts.concurrency ?? 2,
    ...(opts.hooks ? { hooks: opts.hooks } : {}),
    handler: (records) =>
      processBatch(records, {
        store,
        profile: ARIA_PROFILE,
        deadLetters,
        sourceQueue,
        logger: quietLogger,
        now: Date.now,
        instance: opts.instance ?? 'it',
        ownMetrics,
      }),
  });
  runner.start();
  return {
    queueUrl,
    dlqUrl,
    runner,
    async send(bodies) {
      const ids: string[] = [];
      for (let i = 0; i < bodies.length; i += 10) {
        const part = bodies.slice(i, i + 10);
        const out = await sqs.send(
          new SendMessageBatchCommand({
            QueueUrl: queueUrl,
            Entries: part.map((b, k) => ({ Id: `m${k}`, MessageBody: b })),
          }),
        );
        if (out.Failed?.length) throw new Error(`send failed: ${JSON.stringify(out.Failed)}`);
        for (let k = 0; k < part.length; k++)
          ids.push(out.Successful!.find((x) => x.Id === `m${k}`)!.MessageId!);
      }
      return ids;
    },
    async stop() {
      await runner.stop();
      await Promise.all(
        [queueUrl, dlqUrl].map((q) => sqs.send(new DeleteQueueCommand({ QueueUrl: q })).catch(() => {})),
      );
    },
  };
}

export async function until(
  cond: () => boolean | Promise<boolean>,
  ms = 30_000,
  what = 'condition',
): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await sleep(50);
  }
}

export async function queueDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
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

export interface DeadLetter {
  body: string;
  reason: string;
  source: string;
  detail: Record<string, unknown>;
}

export async function drainDlq(sqs: SQSClient, dlqUrl: string): Promise<DeadLetter[]> {
  const out: DeadLetter[] = [];
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
        body: m.Body ?? '',
        reason: a[DLQ_ATTR_REASON]?.StringValue ?? '',
        source: a[DLQ_ATTR_SOURCE]?.StringValue ?? '',
        detail: JSON.parse(a[DLQ_ATTR_DETAIL]?.StringValue ?? '{}') as Record<string, unknown>,
      });
    }
  }
}

/** Series of `name` in the group `group` of a snapshot (group labels as given, normalized). */
export function seriesOf(snap: StoreSnapshot, group: Record<string, string>, name: string) {
  const g = snap.groups.find((x) => labelsKey(x.key) === labelsKey(group));
  return g?.families.find((f) => f.name === name)?.series ?? [];
}

/** Sum of a scalar family's values in a group (all series). */
export function scalarTotal(snap: StoreSnapshot, group: Record<string, string>, name: string): number {
  return (seriesOf(snap, group, name) as ScalarSeries[]).reduce((a, s) => a + s.value, 0);
}

/** Value of one scalar series, undefined when absent. */
export function scalarValue(
  snap: StoreSnapshot,
  group: Record<string, string>,
  name: string,
  labels: Record<string, string>,
): number | undefined {
  return (seriesOf(snap, group, name) as ScalarSeries[]).find(
    (s) => labelsKey(s.labels) === labelsKey(labels),
  )?.value;
}

export function histogramCount(snap: StoreSnapshot, group: Record<string, string>, name: string): number {
  return (seriesOf(snap, group, name) as HistogramSeries[]).reduce((a, s) => a + s.count, 0);
}

/** An envelope v1 body. */
export function envelope(id: string | undefined, group: Record<string, string>, events: unknown[]): string {
  return JSON.stringify({ v: 1, ...(id === undefined ? {} : { id }), group, events });
}

let seq = 0;
/** An ARIA execution event (valid). */
export function execution(symbol: string, volume = 1, time = Date.now()): Record<string, unknown> {
  seq++;
  return {
    kind: 'execution',
    time,
    symbol,
    action: seq % 2 ? 'BUY' : 'SELL',
    status: 'success',
    regime: 'T',
    latency_seconds: 0.01 * (seq % 7),
    slippage_pips: 0.5,
    volume,
  };
}

export function counter(
  name: string,
  value: number,
  labels: Record<string, string> = {},
  time = Date.now(),
): Record<string, unknown> {
  return { kind: 'counter', time, name, labels, value };
}

/** An SQS record as Lambda's event source mapping delivers it. */
export function sqsRecord(body: string, messageId: string = randomUUID(), receiveCount = 1): SQSRecord {
  return {
    messageId,
    receiptHandle: `rh-${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: String(Date.now()),
      SenderId: 'AIDATEST',
      ApproximateFirstReceiveTimestamp: String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:accrue-events',
    awsRegion: 'us-east-1',
  };
}

/**
 * Sets the environment the ingest Lambda reads at cold start (DynamoDB store with these tables, this DLQ,
 * the emulators' endpoints unless `dynamoEndpoint` is given); returns a function that restores it.
 */
export function setLambdaEnv(o: {
  seriesTable: string;
  ledgerTable: string;
  dlqUrl: string;
  instance: string;
  dynamoEndpoint?: string;
}): () => void {
  const values: Record<string, string> = {
    ACCRUE_STORE: 'dynamodb',
    ACCRUE_SERIES_TABLE: o.seriesTable,
    ACCRUE_LEDGER_TABLE: o.ledgerTable,
    ACCRUE_DLQ_URL: o.dlqUrl,
    ACCRUE_INSTANCE: o.instance,
    AWS_ENDPOINT_URL_DYNAMODB: o.dynamoEndpoint ?? dynamoEndpoint(),
    AWS_ENDPOINT_URL_SQS: sqsEndpoint(),
  };
  const saved = Object.fromEntries(Object.keys(values).map((k) => [k, process.env[k]]));
  Object.assign(process.env, values);
  return () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
}
