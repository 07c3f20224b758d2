/**
 * A store outage on a WARM Lambda: every record of the batch fails with a transient error, so the handler
 * must throw (FullBatchFailureError) — the invocation then counts in the function's Errors metric, which is
 * what the IngestErrors alarm watches — instead of returning normally with every record listed as failed.
 * The outage is real: DynamoDB Local sits behind a TCP proxy that is closed after the cold start.
 */
import { randomUUID } from 'node:crypto';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { CreateQueueCommand, DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSEvent } from 'aws-lambda';
import { FullBatchFailureError } from '../../shared/ingest/batch-response';
import { createTables } from '../../shared/store/dynamodb';
import { dynamoEndpoint, testDynamoClient, testSqsClient, uniqueName } from '../support/aws';
import { envelope, execution, setLambdaEnv, sqsRecord } from './ingest-harness';

let restoreEnv: () => void;
let sqs: SQSClient;
let dlqUrl: string;
let proxy: Server;
const sockets = new Set<Socket>();
let handler: (e: SQSEvent) => Promise<{ batchItemFailures: { itemIdentifier: string }[] }>;

/** A TCP proxy to DynamoDB Local on a free loopback port; `cut()` refuses new and drops open connections. */
async function startProxy(target: URL): Promise<string> {
  proxy = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const addr = proxy.address();
  return `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
}
async function cut(): Promise<void> {
  await new Promise<void>((r) => {
    proxy.close(() => r());
    for (const s of sockets) s.destroy();
  });
}

beforeAll(async () => {
  sqs = testSqsClient();
  dlqUrl = (await sqs.send(new CreateQueueCommand({ QueueName: uniqueName('outage-dlq') }))).QueueUrl!;
  const tables = { seriesTable: uniqueName('oseries'), ledgerTable: uniqueName('oledger') };
  await createTables(testDynamoClient(), tables);
  const endpoint = await startProxy(new URL(dynamoEndpoint()));
  restoreEnv = setLambdaEnv({ ...tables, dlqUrl, instance: 'lambda-outage', dynamoEndpoint: endpoint });
  ({ handler } = await import('../../functions/ingest'));
});
afterAll(async () => {
  restoreEnv();
  if (proxy.listening) await cut();
  await sqs.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
  sqs.destroy();
});

const G = { job: 'aria', instance: 'outage' };

describe('functions/ingest on a store outage', () => {
  it('answers normally while the store is up, then throws when every record of a batch fails', async () => {
    // Warm: the cold start and one batch go through the proxy.
    const warm = await handler({ Records: [sqsRecord(envelope(randomUUID(), G, [execution('EURUSD', 1)]))] });
    expect(warm).toEqual({ batchItemFailures: [] });

    await cut();
    const records = [1, 2, 3].map((n) => sqsRecord(envelope(randomUUID(), G, [execution('EURUSD', n)])));
    const attempt = handler({ Records: records });
    await expect(attempt).rejects.toBeInstanceOf(FullBatchFailureError);
    await expect(attempt).rejects.toThrow(/all 3 record\(s\) of the batch failed/);
  });
});
