/**
 * The change index, writer side: every TransactWriteItems that touches a group partition (`g#…`) or a
 * family schema (`f#…`) also puts ONE small item saying so, so that a reader refreshes its snapshot by
 * reading what changed instead of the whole table (the reader: ./snapshot-reader.ts; the design and the
 * alternatives rejected: docs/store-dynamodb.md, "Reads").
 *
 *   pk `chg#<hour>#<shard>`   hour = floor(ms / 1 h), shard random in 0..CHANGE_SHARDS-1
 *   sk `<ms, 13 digits>#<random>`
 *   g  the group partition keys the transaction touched (string set)
 *   f  the schema partition keys it touched (string set), when any
 *   expiresAt  TTL (the series table's TTL attribute)
 *
 * - The item is part of the transaction: it exists exactly when the change committed.
 * - `ms` is the writer's wall clock when the transaction is sent (each attempt is stamped anew), so a
 *   reader's overlap window only has to cover clock skew, replica lag and one request's flight time.
 * - Random shards spread the writes over CHANGE_SHARDS partition keys (no hot partition: each takes
 *   1,000 WCU/s); the hour in the key keeps every partition short-lived, whatever TTL deletion lags.
 * - A transaction gives one action to the index, so builders pack at most
 *   `TRANSACT_MAX_ACTIONS - CHANGE_INDEX_ACTIONS` actions of their own.
 */
import { randomBytes } from 'node:crypto';
import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { type Item, n, s } from './codec';
import { SERIES_TTL_ATTRIBUTE } from './tables';

/** DynamoDB's limit of actions in one TransactWriteItems. */
export const TRANSACT_MAX_ACTIONS = 100;
/** Actions every transaction gives to the change index. */
export const CHANGE_INDEX_ACTIONS = 1;
/** Partition keys per hour; a reader queries each (writes spread over them). */
export const CHANGE_SHARDS = 8;
/** Length of the time bucket in the partition key. */
export const CHANGE_BUCKET_MS = 3_600_000;
/** Lifetime of a change item; a reader further behind than half of it reads everything again. */
export const CHANGE_TTL_SECONDS = 3600;

const MS_DIGITS = 13;

export function changePk(bucket: number, shard: number): string {
  return `chg#${bucket}#${shard}`;
}

export function changeBucket(ms: number): number {
  return Math.floor(ms / CHANGE_BUCKET_MS);
}

/** The sort key prefix of everything stamped at or after `ms` (sort keys compare as strings). */
export function changeSkFrom(ms: number): string {
  return String(Math.max(0, Math.floor(ms))).padStart(MS_DIGITS, '0');
}

/** The stamp of a change item's sort key. */
export function changeMs(sk: string): number {
  return Number(sk.slice(0, MS_DIGITS));
}

function changeItem(wallMs: number, attrs: Item): Item {
  const ms = Math.max(0, Math.floor(wallMs));
  return {
    pk: s(changePk(changeBucket(ms), Math.floor(Math.random() * CHANGE_SHARDS))),
    sk: s(`${changeSkFrom(ms)}#${randomBytes(6).toString('base64url')}`),
    ...attrs,
    [SERIES_TTL_ATTRIBUTE]: n(Math.floor(ms / 1000) + CHANGE_TTL_SECONDS),
  };
}

/** The partition keys of the series table a transaction writes or checks. */
function touchedKeys(table: string, items: readonly TransactWriteItem[]): { g: string[]; f: string[] } {
  const g = new Set<string>();
  const f = new Set<string>();
  for (const it of items) {
    const a = it.Put ?? it.Update ?? it.Delete ?? it.ConditionCheck;
    if (!a || a.TableName !== table) continue;
    const pk = (it.Put ? it.Put.Item?.pk : (a as { Key?: Item }).Key?.pk)?.S;
    if (pk?.startsWith('g#')) g.add(pk);
    else if (pk?.startsWith('f#')) f.add(pk);
  }
  return { g: [...g], f: [...f] };
}

/**
 * The transaction's actions followed by its change item (when it touches a group or a schema). The caller
 * sends the result as is; `items` must leave room for CHANGE_INDEX_ACTIONS.
 */
export function withChangeItem(
  table: string,
  items: readonly TransactWriteItem[],
  wallMs: number,
): TransactWriteItem[] {
  const { g, f } = touchedKeys(table, items);
  if (g.length === 0 && f.length === 0) return [...items];
  const attrs: Item = {};
  if (g.length > 0) attrs.g = { SS: g };
  if (f.length > 0) attrs.f = { SS: f };
  return [...items, { Put: { TableName: table, Item: changeItem(wallMs, attrs) } }];
}

/** A change item telling readers to read everything again (after a wipe, which is not transactional). */
export function resetChangeItem(wallMs: number): Item {
  return changeItem(wallMs, { reset: { BOOL: true } });
}
