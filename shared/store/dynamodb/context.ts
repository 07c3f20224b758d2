/** What the store's modules share: its configuration, its DynamoDB plumbing and its write caches. */
import type { StoreLimits } from '../types';
import type { DynamoIo } from './io';
import type { SnapshotReader } from './snapshot-reader';
import type { WriteCache } from './write-cache';

export interface StoreContext {
  readonly io: DynamoIo;
  readonly cache: WriteCache;
  readonly reader: SnapshotReader;
  /** The series table. */
  readonly table: string;
  readonly ledgerTable: string;
  /** Ledger item lifetime, seconds. */
  readonly ledgerTtl: number;
  /** DELETE tombstone lifetime, seconds. */
  readonly tombstoneTtl: number;
  readonly limits: StoreLimits;
  /** Clock, ms since epoch (lastUpdateMs, TTLs). */
  readonly now: () => number;
}
