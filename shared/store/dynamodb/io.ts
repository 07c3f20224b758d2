/**
 * DynamoDB plumbing of the store: one place that sends requests, retries throttling and conflicts,
 * and counts requests and capacity (DynamoStoreStats). Transactions get their change-index item here
 * (./change-index.ts), so no transaction builder can forget it.
 */
import {
  type AttributeValue,
  BatchGetItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  ScanCommand,
  type TransactWriteItem,
  TransactWriteItemsCommand,
} from '@aws-sdk/client-dynamodb';
import { AccrueError, TransientError } from '../../model/errors';
import { withChangeItem } from './change-index';
import { type Item, PK_TOTAL, readNumber, SK_META, SK_TOTAL, s } from './codec';
import { Expr } from './expr';
import { mergeSeries, PACK_PREFIX } from './packs';
import { backoffMs, cancellationReasons, describe, isTransient, type RetryPolicy, sleep } from './retry';

/** Counters of what the store asked DynamoDB for, for benches and the service's own metrics. */
export interface DynamoStoreStats {
  /** Write requests sent (TransactWriteItems, UpdateItem, BatchWriteItem, PutItem), retries included. */
  writeRequests: number;
  transactions: number;
  /** Transactions cancelled (condition failures, conflicts). */
  cancelled: number;
  /** Backoff sleeps after throttling or conflicts. */
  retries: number;
  /** Write capacity units reported by DynamoDB (ReturnConsumedCapacity TOTAL). */
  wcu: number;
  readRequests: number;
  rcu: number;
  /** Condition failures that cancelled a transaction, by the action that failed (ledger = duplicate). */
  conditionFailures: Record<string, number>;
}

/** A group's partition as read by queryGroup: its meta item, series items and POST markers. */
export interface GroupPartition {
  meta?: Item;
  /** Series: own items and the series of packs (./packs.ts), one entry per series. */
  series: Item[];
  /** Pack items as stored (their series are also in `series`). */
  packs: Item[];
  markers: Item[];
  pushTs: Map<string, number>;
}

export class DynamoIo {
  readonly stats: DynamoStoreStats = {
    writeRequests: 0,
    transactions: 0,
    cancelled: 0,
    retries: 0,
    wcu: 0,
    readRequests: 0,
    rcu: 0,
    conditionFailures: {},
  };

  constructor(
    readonly client: DynamoDBClient,
    readonly table: string,
    readonly retry: RetryPolicy,
    readonly segments: number,
    readonly wallNow: () => number,
  ) {}

  async transact(items: TransactWriteItem[]): Promise<void> {
    this.stats.transactions++;
    try {
      await this.write(() =>
        this.client.send(
          new TransactWriteItemsCommand({
            // Change index: stamped per attempt, so a retried transaction is stamped when it is sent.
            TransactItems: withChangeItem(this.table, items, this.wallNow()),
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
    } catch (e) {
      if (cancellationReasons(e)) this.stats.cancelled++;
      throw e;
    }
  }

  /** Counts a write request and its consumed capacity. */
  async write<T extends { ConsumedCapacity?: unknown }>(fn: () => Promise<T>): Promise<T> {
    this.stats.writeRequests++;
    const out = await fn();
    this.stats.wcu += capacity(out.ConsumedCapacity);
    return out;
  }

  /** Runs a write (or a transaction) again on transient errors; other errors go through as they are. */
  withRetries<T>(fn: () => Promise<T>): Promise<T> {
    return this.retrying('write', fn, (e) => e);
  }

  /** Runs a read again on transient errors, counting its requests and read units. */
  read<T extends { ConsumedCapacity?: unknown }>(fn: () => Promise<T>): Promise<T> {
    return this.retrying(
      'read',
      async () => {
        this.stats.readRequests++;
        const out = await fn();
        this.stats.rcu += capacity(out.ConsumedCapacity);
        return out;
      },
      toAccrue,
    );
  }

  /** The one retry loop: full-jitter backoff between attempts, TransientError when they run out. */
  private async retrying<T>(
    what: string,
    fn: () => Promise<T>,
    permanent: (e: unknown) => unknown,
  ): Promise<T> {
    let last: unknown;
    for (let attempt = 0; attempt < this.retry.attempts; attempt++) {
      if (attempt > 0) {
        this.stats.retries++;
        await sleep(backoffMs(attempt, this.retry));
      }
      try {
        return await fn();
      } catch (e) {
        if (!isTransient(e)) throw permanent(e);
        last = e;
      }
    }
    throw new TransientError(
      `DynamoDB ${what} still failing after ${this.retry.attempts} attempts: ${describe(last)}`,
      { cause: last },
    );
  }

  /**
   * Items of `keys`, strongly consistent, in BatchGetItems of 100 (unprocessed keys again, with backoff);
   * `onPage` sees each answer (the snapshot reader counts its read units).
   */
  async batchGet(
    keys: Record<string, AttributeValue>[],
    projection?: string,
    onPage?: (consumed: unknown, items: readonly Item[], asked: number) => void,
  ): Promise<Item[]> {
    const out: Item[] = [];
    const chunks: Record<string, AttributeValue>[][] = [];
    for (let i = 0; i < keys.length; i += 100) chunks.push(keys.slice(i, i + 100));
    await Promise.all(
      chunks.map(async (chunk) => {
        let todo: Record<string, AttributeValue>[] | undefined = chunk;
        for (let attempt = 0; todo && todo.length > 0; attempt++) {
          if (attempt > 0) await sleep(backoffMs(attempt, this.retry));
          if (attempt > this.retry.attempts)
            throw new TransientError('DynamoDB kept keys unprocessed in BatchGetItem');
          const e = new Expr();
          const proj = projection
            ? {
                ProjectionExpression: projection
                  .split(/,\s*/)
                  .map((p) => e.n(p))
                  .join(', '),
                ...e.parts(),
              }
            : {};
          const keysNow: Record<string, AttributeValue>[] = todo;
          const res = await this.read(() =>
            this.client.send(
              new BatchGetItemCommand({
                RequestItems: { [this.table]: { Keys: keysNow, ConsistentRead: true, ...proj } },
                ReturnConsumedCapacity: 'TOTAL',
              }),
            ),
          );
          const items = (res.Responses?.[this.table] ?? []) as Item[];
          onPage?.(res.ConsumedCapacity, items, keysNow.length);
          out.push(...items);
          todo = res.UnprocessedKeys?.[this.table]?.Keys as Record<string, AttributeValue>[] | undefined;
        }
      }),
    );
    return out;
  }

  async queryGroup(gpk: string): Promise<GroupPartition> {
    const items: Item[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const e = new Expr();
      const startNow = start;
      const res = await this.read(() =>
        this.client.send(
          new QueryCommand({
            TableName: this.table,
            KeyConditionExpression: `${e.n('pk')} = ${e.v(s(gpk))}`,
            ConsistentRead: true,
            ReturnConsumedCapacity: 'TOTAL',
            ...(startNow ? { ExclusiveStartKey: startNow } : {}),
            ...e.parts(),
          }),
        ),
      );
      items.push(...((res.Items ?? []) as Item[]));
      start = res.LastEvaluatedKey;
    } while (start);
    const part: GroupPartition = { series: [], packs: [], markers: [], pushTs: new Map() };
    for (const it of items) {
      const sk = it.sk?.S ?? '';
      if (sk === SK_META) part.meta = it;
      else if (sk.startsWith('s#')) part.series.push(it);
      else if (sk.startsWith(PACK_PREFIX)) part.packs.push(it);
      else if (sk.startsWith('p#')) {
        part.markers.push(it);
        part.pushTs.set(it.fam?.S ?? sk.slice(2), readNumber(it.pushTs) ?? 0);
      }
    }
    part.series = mergeSeries(part.series, part.packs);
    return part;
  }

  async readTotal(): Promise<number> {
    const res = await this.read(() =>
      this.client.send(
        new GetItemCommand({
          TableName: this.table,
          Key: { pk: s(PK_TOTAL), sk: s(SK_TOTAL) },
          ConsistentRead: true,
          ReturnConsumedCapacity: 'TOTAL',
        }),
      ),
    );
    return readNumber(res.Item?.n) ?? 0;
  }

  /** Parallel Scan (Segments) of the whole series table. */
  async scanAll(projection?: string): Promise<Item[]> {
    const segs = Array.from({ length: this.segments }, (_, i) => i);
    const parts = await Promise.all(
      segs.map(async (segment) => {
        const out: Item[] = [];
        let start: Record<string, AttributeValue> | undefined;
        do {
          const e = new Expr();
          const startNow = start;
          const proj = projection
            ? {
                ProjectionExpression: projection
                  .split(/,\s*/)
                  .map((p) => e.n(p))
                  .join(', '),
                ...e.parts(),
              }
            : {};
          const res = await this.read(() =>
            this.client.send(
              new ScanCommand({
                TableName: this.table,
                Segment: segment,
                TotalSegments: this.segments,
                ConsistentRead: true,
                ReturnConsumedCapacity: 'TOTAL',
                ...(startNow ? { ExclusiveStartKey: startNow } : {}),
                ...proj,
              }),
            ),
          );
          out.push(...((res.Items ?? []) as Item[]));
          start = res.LastEvaluatedKey;
        } while (start);
        return out;
      }),
    );
    return parts.flat();
  }
}

function capacity(c: unknown): number {
  if (!c) return 0;
  const list = Array.isArray(c) ? c : [c];
  let sum = 0;
  for (const x of list) sum += (x as { CapacityUnits?: number }).CapacityUnits ?? 0;
  return sum;
}

/** A DynamoDB error as the store reports it: only a request DynamoDB calls invalid is permanent. */
export function toAccrue(e: unknown): AccrueError {
  if (e instanceof AccrueError) return e;
  // Only a request DynamoDB calls invalid is permanent; a missing table or denied access is operational.
  if ((e as Error)?.name === 'ValidationException')
    return new AccrueError('internal', `DynamoDB: ${describe(e)}`);
  return new TransientError(`DynamoDB: ${describe(e)}`, { cause: e });
}
