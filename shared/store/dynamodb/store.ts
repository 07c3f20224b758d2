/**
 * DynamoStore: the Store contract (../types.ts) on two DynamoDB tables. The design, its costs and what a
 * reader may observe are written down in docs/store-dynamodb.md; the short version:
 *
 * - series table (pk, sk): per group a partition `g#<digest>` holding the group's `meta` item, one item
 *   per series (`s#<family>#<digest>`) and POST markers (`p#<family>`); per family a global schema item
 *   (`f#<family>`, `schema`) with type, label shape, bucket layout and the family's series count; the
 *   store-wide series count (`c#total`); 16 generation shards (`gen`, `00`..`15`).
 * - ledger table (id): one item per applied request (part), with a TTL.
 * - apply: the additive ops and gauge sets of a whole batch are packed into as few TransactWriteItems as
 *   fit in 100 actions, each with the ledger puts of its requests (`attribute_not_exists`); a cancelled
 *   transaction is analysed per item (ALL_OLD on condition failure) and retried without what is
 *   duplicate, stale or over a limit. A request over 100 actions is split deterministically (sorted
 *   series keys) into parts `<id>#<n>`, each exactly once.
 * - limits and family consistency: conditional updates of the counters in the same transaction.
 *
 * This file is the facade; each job lives in its own module:
 * - ./apply.ts (+ apply-pack, apply-exec, apply-cancel, apply-types): SQS deltas, exactly once;
 * - ./push.ts (+ push-read, push-families, push-items): Pushgateway PUT/POST and push failures;
 * - ./delete.ts: DELETE, expiry, wipe;
 * - ./schemas.ts: family schemas and limits; ./updates.ts: the update expressions of counters and series;
 * - ./read.ts and ./snapshot-reader.ts: reads; ./io.ts: requests, retries and their counters;
 * - ./write-cache.ts: what an instance remembers between writes.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { AccrueError } from '../../model/errors';
import { groupLimitError } from '../families';
import {
  type ApplyResult,
  DEFAULT_LEDGER_TTL_SECONDS,
  DEFAULT_LIMITS,
  type DeadLetterClaim,
  type GroupInfo,
  type GroupingKey,
  type PushResult,
  type Store,
  type StoreLimits,
  type StoreSnapshot,
  type ValidApplyRequest,
  type ValidGroupingKey,
  type ValidPush,
} from '../types';
import { applyRequests } from './apply';
import { digest } from './codec';
import type { StoreContext } from './context';
import { claimDeadLetters, settleDeadLetters } from './dead-letter-claims';
import { deleteAt, expireGroups, wipeTable } from './delete';
import { DynamoIo, type DynamoStoreStats } from './io';
import { pushToGroup, recordFailure } from './push';
import { pushOnce } from './push-ledger';
import { groupInfos, pingTables, readGeneration } from './read';
import { DEFAULT_RETRY, type RetryPolicy } from './retry';
import { SnapshotReader } from './snapshot-reader';
import { WriteCache } from './write-cache';

export type { DynamoStoreStats } from './io';

export interface DynamoStoreOptions {
  readonly client: DynamoDBClient;
  readonly seriesTable: string;
  readonly ledgerTable: string;
  /** Ledger item lifetime; must exceed queue retention + visibility timeout. @default 1_296_000 (15 days) */
  readonly ledgerTtlSeconds?: number;
  /** Lifetime of a DELETE tombstone (keeps older pushes stale). @default ledgerTtlSeconds */
  readonly tombstoneTtlSeconds?: number;
  readonly limits?: Partial<StoreLimits>;
  /** Clock, ms since epoch (lastUpdateMs, TTLs). @default Date.now */
  readonly now?: () => number;
  /** Retry policy for throttling and transaction conflicts. */
  readonly retry?: Partial<RetryPolicy>;
  /** Segments of the parallel Scan behind snapshot(), listGroups(), expire(), wipe(). @default 4 */
  readonly scanSegments?: number;
  /** Destroy the client on close() (when the store created it). @default false */
  readonly ownsClient?: boolean;
  /** Snapshot reads (./snapshot-reader.ts): wall clock of the change index. @default Date.now */
  readonly wallNow?: () => number;
  /** How far back a snapshot looks in the change index before its cursor. @default 10_000 */
  readonly changeOverlapMs?: number;
  /** Period of the snapshot's full re-read. @default 21_600_000 (6 h) */
  readonly resyncMs?: number;
}

export class DynamoStore implements Store {
  readonly stats: DynamoStoreStats;
  private readonly ctx: StoreContext;
  private readonly ownsClient: boolean;
  private closed = false;

  private constructor(o: DynamoStoreOptions) {
    const ledgerTtl = o.ledgerTtlSeconds ?? DEFAULT_LEDGER_TTL_SECONDS;
    const now = o.now ?? Date.now;
    const wallNow = o.wallNow ?? Date.now;
    const segments = Math.max(1, o.scanSegments ?? 4);
    const io = new DynamoIo(
      o.client,
      o.seriesTable,
      { ...DEFAULT_RETRY, ...(o.retry ?? {}) },
      segments,
      wallNow,
    );
    this.stats = io.stats;
    this.ownsClient = o.ownsClient ?? false;
    this.ctx = {
      io,
      cache: new WriteCache(),
      reader: new SnapshotReader({
        client: o.client,
        table: o.seriesTable,
        read: (fn) => io.read(fn),
        batchGet: (keys, projection, onPage) => io.batchGet(keys, projection, onPage),
        wallNow,
        now,
        segments,
        overlapMs: o.changeOverlapMs ?? 10_000,
        resyncMs: o.resyncMs ?? 6 * 3600_000,
      }),
      table: o.seriesTable,
      ledgerTable: o.ledgerTable,
      ledgerTtl,
      tombstoneTtl: o.tombstoneTtlSeconds ?? ledgerTtl,
      limits: { ...DEFAULT_LIMITS, ...(o.limits ?? {}) },
      now,
    };
  }

  /** Attempts per write under throttling or conflicts (the retry policy). */
  get retryAttempts(): number {
    return this.ctx.io.retry.attempts;
  }

  /** Opens the store on existing tables (see createTables) and checks that they answer. */
  static async open(o: DynamoStoreOptions): Promise<DynamoStore> {
    const store = new DynamoStore(o);
    await store.ping();
    return store;
  }

  async apply(requests: readonly ValidApplyRequest[]): Promise<ApplyResult[]> {
    this.assertOpen();
    return applyRequests(this.ctx, requests);
  }

  async push(request: ValidPush): Promise<PushResult> {
    this.assertOpen();
    if (typeof request.id !== 'string') return pushToGroup(this.ctx, request);
    // With an idempotency key: at most once per key, through the ledger (./push-ledger.ts).
    return pushOnce(this.ctx, { ...request, id: request.id }, (r) => pushToGroup(this.ctx, r));
  }

  async recordPushFailure(group: ValidGroupingKey, timeMs: number, reason: string): Promise<void> {
    this.assertOpen();
    return recordFailure(this.ctx, group, timeMs, reason);
  }

  /** One ledger item per message's dead letters (./dead-letter-claims.ts). */
  async claimDeadLetters(key: string, leaseMs: number): Promise<DeadLetterClaim> {
    this.assertOpen();
    return claimDeadLetters(this.ctx, key, leaseMs);
  }

  async settleDeadLetters(key: string, token: string, sent: boolean): Promise<void> {
    this.assertOpen();
    return settleDeadLetters(this.ctx, key, token, sent);
  }

  async deleteGroup(group: ValidGroupingKey, timeMs: number): Promise<void> {
    this.assertOpen();
    const gl = groupLimitError(group, this.ctx.limits);
    if (gl) throw gl;
    await deleteAt(this.ctx, group, timeMs);
  }

  async expire(nowMs: number, ttlMs: number): Promise<GroupingKey[]> {
    this.assertOpen();
    return expireGroups(this.ctx, nowMs, ttlMs);
  }

  async wipe(): Promise<void> {
    this.assertOpen();
    return wipeTable(this.ctx);
  }

  /** Incremental: the change index since the previous snapshot, and the groups it names (./snapshot-reader.ts). */
  async snapshot(): Promise<StoreSnapshot> {
    this.assertOpen();
    return this.ctx.reader.snapshot();
  }

  async generation(): Promise<string> {
    this.assertOpen();
    return readGeneration(this.ctx);
  }

  async listGroups(): Promise<GroupInfo[]> {
    this.assertOpen();
    return groupInfos(await this.ctx.reader.snapshot());
  }

  async ping(): Promise<void> {
    return pingTables(this.ctx);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsClient) this.ctx.io.client.destroy();
  }

  private assertOpen(): void {
    if (this.closed) throw new AccrueError('internal', 'the DynamoDB store is closed');
  }
}

export { digest };
