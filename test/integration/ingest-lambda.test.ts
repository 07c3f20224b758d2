/**
 * The Lambda entry point (functions/ingest) as Lambda calls it: an SQSEvent in, an SQSBatchResponse out,
 * with its dependencies built from configuration at cold start — DynamoDB store (DynamoDB Local) and the
 * SQS dead-letter sink (SQS emulator).
 */
import { randomUUID } from 'node:crypto';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { createTables, DynamoStore } from '../../shared/store/dynamodb';
import type { Store } from '../../shared/store/types';
import { testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import {
  drainDlq,
  envelope,
  execution,
  scalarTotal,
  scalarValue,
  setLambdaEnv,
  sqsRecord,
} from './ingest-harness';

let restoreEnv: () => void;

let sqs: SQSClient;
let dlqUrl: string;
let store: Store;
let handler: (e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

beforeAll(async () => {
  sqs = testSqsClient();
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('lambda-dlq') }))).QueueUrl!;
  const tables = { seriesTable: uniqueName('lseries'), ledgerTable: uniqueName('lledger') };
  await createTables(testDynamoClient(), tables);
  store = await DynamoStore.open({ client: testDynamoClient(), ...tables, ownsClient: true });
  restoreEnv = setLambdaEnv({ ...tables, dlqUrl, instance: 'lambda-it' });
  // Imported after the environment is set: the entry reads its configuration at cold start.
  ({ handler } = await import('../../functions/ingest'));
});
afterAll(async () => {
  restoreEnv();
  await store.close();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
  sqs.destroy();
});

const G = { job: 'aria', instance: 'lambda' };
const OWN = { job: 'accrue', instance: 'lambda-it' };

describe('functions/ingest handler', () => {
  it('applies good records, dead-letters a poison one, answers no batch item failures', async () => {
    const good = envelope('lambda-good-1', G, [execution('EURUSD', 2), execution('EURUSD', 3)]);
    const poison = '{"v":1,"group":{"job":"aria"},"events":"nope"}';
    const copy = sqsRecord(good); // the producer sent it twice: same idempotency key, another SQS id
    const res = await handler({ Records: [sqsRecord(good), sqsRecord(poison, 'poison-1'), copy] });
    expect(res).toEqual({ batchItemFailures: [] });
    const snap = await store.snapshot();
    expect(scalarTotal(snap, G, 'aria_trade_volume_total')).toBe(5);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'dead_lettered' })).toBe(1);
    expect(scalarValue(snap, OWN, 'accrue_ingest_messages_total', { outcome: 'duplicate' })).toBe(1);
    const dead = await drainDlq(sqs, dlqUrl);
    expect(dead).toEqual([expect.objectContaining({ body: poison, reason: 'decode', source: 'poison-1' })]);
  });

  it('skips a redelivered record (same SQS message id, second receive) as a duplicate', async () => {
    const body = envelope(undefined, G, [execution('GBPJPY', 4)]);
    const id = randomUUID();
    expect(await handler({ Records: [sqsRecord(body, id, 1)] })).toEqual({ batchItemFailures: [] });
    expect(await handler({ Records: [sqsRecord(body, id, 2)] })).toEqual({ batchItemFailures: [] });
    const snap = await store.snapshot();
    expect(scalarTotal(snap, G, 'aria_trade_volume_total')).toBe(9);
  });

  it.each([
    ['empty batch', []],
    ['empty body', ['']],
    ['oversize body', ['x'.repeat(300_000)]],
    ['prototype pollution', ['{"__proto__":{"polluted":true},"v":1}']],
  ])('handles %s without failures or retries', async (_name, bodies) => {
    const res = await handler({ Records: bodies.map((b) => sqsRecord(b)) });
    expect(res).toEqual({ batchItemFailures: [] });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const dead = await drainDlq(sqs, dlqUrl);
    expect(dead.map((d) => d.reason)).toEqual(bodies.map(() => 'decode'));
  });
});
