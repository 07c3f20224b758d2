/**
 * The soak's setup (bench/soak.ts): the store under test (memory, or DynamoDB on DynamoDB Local with the
 * SDK-level faults and timed requests) and the producers (real publishers on an SQS client with duplicate
 * sends injected and bytes counted).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { AccruePublisher } from '../../shared/client';
import { MemoryStore } from '../../shared/store';
import { createTables, DynamoStore, deleteTables } from '../../shared/store/dynamodb';
import type { Store } from '../../shared/store/types';
import { type FaultLog, injectDuplicateSends, injectDynamoFaults } from './faults';
import type { ProducerTotals } from './verify';

export const CREDENTIALS = { accessKeyId: 'soak', secretAccessKey: 'soak' };
export const REGION = 'us-east-1';

/** DynamoDB requests by command: how many, their total and longest wall time (ms), as the client saw them. */
export type RequestTimes = Record<string, { n: number; ms: number; maxMs: number }>;

function timeRequests(client: DynamoDBClient): RequestTimes {
  const times: RequestTimes = {};
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const cmd = ((context as { commandName?: string }).commandName ?? '?').replace(/Command$/, '');
      const t0 = performance.now();
      try {
        return await next(args);
      } finally {
        const ms = performance.now() - t0;
        const a = times[cmd] ?? { n: 0, ms: 0, maxMs: 0 };
        times[cmd] = a;
        a.n++;
        a.ms += ms;
        a.maxMs = Math.max(a.maxMs, ms);
      }
    },
    { step: 'finalizeRequest', name: 'soakTiming' },
  );
  return times;
}

/** The store under test, with the DynamoDB SDK-level faults; `close` also deletes the tables. */
export async function openStore(
  opts: { readonly store: 'memory' | 'dynamodb'; readonly dynamoEndpoint?: string },
  name: string,
  faults: FaultLog,
  seed: number,
): Promise<{
  store: Store;
  close: () => Promise<void>;
  killNextPush?: () => void;
  /** DynamoDB requests of the writing store, timed. */
  requests?: RequestTimes;
  /** Another instance over the same data (a second service replica's view); the store itself if none. */
  openReader: () => Promise<Store>;
}> {
  if (opts.store !== 'dynamodb') {
    const store = await MemoryStore.open({});
    return { store, close: () => store.close(), openReader: async () => store };
  }
  const client = new DynamoDBClient({
    endpoint: opts.dynamoEndpoint!,
    region: REGION,
    credentials: CREDENTIALS,
  });
  const { killNextPush } = injectDynamoFaults(client, faults, seed);
  const requests = timeRequests(client);
  const tables = { seriesTable: `${name}-series`, ledgerTable: `${name}-ledger` };
  await createTables(client, tables);
  const store = await DynamoStore.open({ client, ...tables, ownsClient: false });
  const readerClient = new DynamoDBClient({
    endpoint: opts.dynamoEndpoint!,
    region: REGION,
    credentials: CREDENTIALS,
  });
  return {
    store,
    killNextPush,
    requests,
    openReader: () => DynamoStore.open({ client: readerClient, ...tables, ownsClient: true }),
    close: async () => {
      await store.close().catch(() => undefined);
      await deleteTables(client, tables).catch(() => undefined);
      client.destroy();
    },
  };
}

/** The producers' SQS client (duplicate sends injected, bytes counted) and the publishers on it. */
export function openProducers(
  opts: { readonly sqsEndpoint: string; readonly maxMessageBytes?: number },
  r: { readonly seed: number; readonly publishers: number },
  queueUrl: string,
  faults: FaultLog,
) {
  const sqs = new SQSClient({
    endpoint: opts.sqsEndpoint,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
  injectDuplicateSends(sqs, faults, r.seed);
  const bytes = { total: 0, messages: 0 };
  sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if ((context as { commandName?: string }).commandName === 'SendMessageBatchCommand') {
        for (const e of (args.input as { Entries?: { MessageBody?: string }[] }).Entries ?? []) {
          bytes.total += Buffer.byteLength(e.MessageBody ?? '');
          bytes.messages++;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'soakBytes', priority: 'low' },
  );
  const errors: string[] = [];
  const publishers = Array.from(
    { length: r.publishers },
    (_, i) =>
      new AccruePublisher({
        queueUrl,
        group: { job: 'soak', instance: `p${i}` },
        sqs,
        maxMessageBytes: opts.maxMessageBytes ?? 65_536,
        flushIntervalMs: 200,
        backoffBaseMs: 20,
        backoffMaxMs: 500,
        maxAttempts: 20,
        whenFull: 'throw',
        onError: (e) => errors.push(e.message),
      }),
  );
  return {
    publishers,
    errors,
    bytes,
    /** Flushes and closes every publisher; their totals summed. */
    close: async (timeoutMs?: number): Promise<ProducerTotals> => {
      const stats = await Promise.all(publishers.map((p) => p.close(timeoutMs ? { timeoutMs } : undefined)));
      sqs.destroy();
      const sum = (k: keyof ProducerTotals) => stats.reduce((a, s) => a + s[k], 0);
      return {
        eventsSent: sum('eventsSent'),
        eventsFailed: sum('eventsFailed'),
        eventsDropped: sum('eventsDropped'),
        messagesSent: sum('messagesSent'),
        messagesRetried: sum('messagesRetried'),
      };
    },
  };
}

export function roundTimes(t: RequestTimes): RequestTimes {
  const out: RequestTimes = {};
  for (const [k, v] of Object.entries(t))
    out[k] = { n: v.n, ms: Math.round(v.ms), maxMs: Math.round(v.maxMs) };
  return out;
}
