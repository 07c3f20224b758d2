/**
 * Removing groups: DELETE (a tombstone, then the items), expiry of groups not updated for a TTL, and wipe.
 */

import {
  BatchWriteItemCommand,
  PutItemCommand,
  type TransactWriteItem,
  UpdateItemCommand,
} from '@aws-sdk/client-dynamodb';
import { TransientError } from '../../model/errors';
import type { GroupingKey, PushResult } from '../types';
import { resetChangeItem } from './change-index';
import {
  groupPk,
  type Item,
  labelsAttr,
  n,
  PK_GEN,
  PK_GEN_SHARD,
  readLabels,
  readNumber,
  SK_META,
  s,
  shardOf,
} from './codec';
import type { StoreContext } from './context';
import { type CountedEntry, countedChunks } from './counted-chunks';
import { Expr } from './expr';
import { groupCountFailure, groupCountUpdate, initGroupCount } from './group-count';
import { type GroupPartition, toAccrue } from './io';
import { deletePack, isPacked, packCount, packFamily } from './packs';
import { describeGroup } from './push';
import { backoffMs, cancellationReasons, sleep } from './retry';
import { newerPushThan, revisionToken } from './revision';
import { loadSchemas } from './schemas';
import { deleteExisting, familyDelta, genUpdate, totalCounterUpdate } from './updates';

/** DELETE at time t: a tombstone meta item (hides the group at once), then the group's items go. */
export async function deleteAt(ctx: StoreContext, group: GroupingKey, t: number): Promise<PushResult> {
  const gpk = groupPk(group);
  for (let attempt = 0; attempt < 6; attempt++) {
    const part = await ctx.io.queryGroup(gpk);
    const meta = part.meta;
    if (newerPushThan(meta, t)) return { status: 'stale' };
    for (const ts of part.pushTs.values()) if (ts > t) return { status: 'stale' };
    const visible = meta !== undefined && meta.deleted === undefined;
    const e = new Expr();
    const tomb: TransactWriteItem = {
      Put: {
        TableName: ctx.table,
        Item: {
          pk: s(gpk),
          sk: s(SK_META),
          l: labelsAttr(group),
          deleted: { BOOL: true },
          rv: s(revisionToken()),
          putTs: n(t),
          lastUpdateMs: n(ctx.now()),
          n: n(0),
          // Removed by expire() with the group count's -1 (./group-count.ts), not by DynamoDB's TTL.
          tombUntil: n(Math.floor(ctx.now() / 1000) + ctx.tombstoneTtl),
        },
        ConditionExpression: `attribute_not_exists(${e.n('pk')}) OR ((attribute_not_exists(${e.n('putTs')}) OR ${e.n('putTs')} <= ${e.v(n(t))}) AND (attribute_not_exists(${e.n('pending')}) OR ${e.n('pending')} <= ${e.v(n(t))}))`,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...e.parts(),
      },
    };
    const first: TransactWriteItem[] = [tomb];
    if (visible || part.series.length > 0) first.push({ Update: genUpdate(ctx, shardOf(gpk)) });
    const guard = metaGuard(
      ctx,
      gpk,
      (x) => `${x.n('deleted')} = ${x.v({ BOOL: true })} AND ${x.n('putTs')} = ${x.v(n(t))}`,
    );
    if (!meta) {
      // A group new to the store: its tombstone is counted; at the limit nothing is stored.
      const created = await createTombstone(ctx, tomb);
      if (created === 'full') return { status: 'applied' };
      if (created === 'retry') continue;
      if (part.series.length === 0 && part.markers.length === 0) return { status: 'applied' };
      first.splice(0, 1, guard());
    }
    const r = await removeItems(ctx, gpk, part, first, guard);
    if (r === 'ok') return { status: 'applied' };
    if (r === 'stale') return { status: 'stale' };
    await sleep(backoffMs(attempt, ctx.io.retry));
  }
  throw new TransientError(`DELETE of group ${describeGroup(group)}: the group kept changing; retry later`);
}

/** Puts the tombstone of a group that has no meta item, counted: 'full' at the group limit. */
async function createTombstone(ctx: StoreContext, tomb: TransactWriteItem): Promise<'ok' | 'full' | 'retry'> {
  try {
    await ctx.io.withRetries(() => ctx.io.transact([tomb, groupCountUpdate(ctx, 1)]));
    return 'ok';
  } catch (err) {
    const reasons = cancellationReasons(err);
    if (!reasons) throw toAccrue(err);
    const full = groupCountFailure(ctx, reasons[1]);
    if (full === 'missing') await initGroupCount(ctx);
    return full && full !== 'missing' ? 'full' : 'retry';
  }
}

/**
 * Removes a group's series and markers, adjusting the counters, in transactions of at most 100
 * actions. `first` (the meta change that decides) goes into the first transaction; later transactions
 * carry `guard()` so that they stop if the group was written again meanwhile.
 */
export async function removeItems(
  ctx: StoreContext,
  gpk: string,
  part: GroupPartition,
  first: TransactWriteItem[],
  guard: () => TransactWriteItem,
  /** Expiry's cutoff: a series stamped since then stops the removal. */
  notWrittenSince?: number,
): Promise<'ok' | 'stale' | 'retry'> {
  const fams = new Set<string>();
  for (const it of part.series) fams.add(it.f?.S ?? '');
  if (fams.size > 0) await loadSchemas(ctx, [...fams]);
  const entries: CountedEntry[] = [
    ...part.series
      .filter((it) => !isPacked(it))
      .map((it) => ({
        item: deleteExisting(ctx.table, it, notWrittenSince),
        family: it.f?.S ?? '',
        delta: -1,
      })),
    ...part.packs.map((p) => ({
      item: deletePack(ctx.table, p, notWrittenSince),
      family: packFamily(p),
      delta: -packCount(p),
    })),
    ...part.markers.map((it) => ({ item: deleteExisting(ctx.table, it), delta: 0 })),
  ];
  const chunks = countedChunks({
    entries,
    headSize: Math.max(first.length, 1),
    head: (c) => (c === 0 ? [...first] : [guard()]),
    family: (name, _c, d) =>
      ctx.cache.schemas.has(name) ? { Update: familyDelta(ctx, name, d) } : undefined,
    total: (_c, d) => ({ Update: totalCounterUpdate(ctx, d) }),
  });
  for (let c = 0; c < chunks.length; c++) {
    try {
      await ctx.io.withRetries(() => ctx.io.transact(chunks[c]!));
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw toAccrue(err);
      if (c === 0 && reasons[0]?.Code === 'ConditionalCheckFailed') return 'stale';
      if (c > 0 && reasons[0]?.Code === 'ConditionalCheckFailed') return 'ok'; // written again meanwhile
      return 'retry';
    }
  }
  for (const it of part.series) {
    ctx.cache.forgetSeries(`${gpk}|${it.sk!.S!}`);
  }
  for (const p of part.packs) ctx.cache.packFull.delete(`${gpk}|${p.sk!.S!}`);
  for (const f of fams) ctx.cache.schemas.delete(f);
  ctx.cache.eventFloor.delete(gpk);
  ctx.cache.groupExists.delete(gpk);
  return 'ok';
}

export async function expireGroups(ctx: StoreContext, nowMs: number, ttlMs: number): Promise<GroupingKey[]> {
  const cutoff = nowMs - ttlMs;
  const items = await ctx.io.scanAll();
  const metas = items.filter((it) => it.sk?.S === SK_META && it.pk?.S?.startsWith('g#'));
  // Applies stamp series items (`u`), not the meta item: a group's last update is the newest of them.
  const stamps = new Map<string, number>();
  for (const it of items) {
    const u = readNumber(it.u);
    const pk = it.pk?.S;
    if (u !== undefined && pk !== undefined && u > (stamps.get(pk) ?? Number.NEGATIVE_INFINITY))
      stamps.set(pk, u);
  }
  const lastUpdate = (meta: Item, series: readonly Item[] | undefined): number => {
    let last = readNumber(meta.lastUpdateMs) ?? 0;
    if (series) for (const it of series) last = Math.max(last, readNumber(it.u) ?? 0);
    else last = Math.max(last, stamps.get(meta.pk?.S ?? '') ?? 0);
    return last;
  };
  const out: GroupingKey[] = [];
  for (const m of metas) {
    if (m.deleted !== undefined) {
      await dropTombstone(ctx, m, nowMs);
      continue;
    }
    if (!(lastUpdate(m, undefined) < cutoff)) continue;
    const gpk = m.pk!.S!;
    const part = await ctx.io.queryGroup(gpk);
    if (!part.meta || part.meta.deleted !== undefined || !(lastUpdate(part.meta, part.series) < cutoff))
      continue;
    const e = new Expr();
    const first: TransactWriteItem[] = [
      {
        Delete: {
          TableName: ctx.table,
          Key: { pk: s(gpk), sk: s(SK_META) },
          ConditionExpression: `${e.n('lastUpdateMs')} < ${e.v(n(cutoff))} AND attribute_not_exists(${e.n('deleted')})`,
          ...e.parts(),
        },
      },
      { Update: genUpdate(ctx, shardOf(gpk)) },
      groupCountUpdate(ctx, -1),
    ];
    const guard = metaGuard(ctx, gpk, (x) => `attribute_not_exists(${x.n('pk')})`);
    const r = await removeItems(ctx, gpk, part, first, guard, cutoff);
    if (r === 'ok') out.push(readLabels(m.l));
  }
  return out;
}

/**
 * Removes a tombstone past its time (`tombUntil`, epoch seconds), with the group count's -1. Tombstones of
 * older versions carry the TTL attribute `expiresAt` instead: removed here too when due, and before that
 * moved to `tombUntil`, so that DynamoDB's TTL can't delete them without the -1.
 */
async function dropTombstone(ctx: StoreContext, m: Item, nowMs: number): Promise<void> {
  const attr = m.tombUntil !== undefined ? 'tombUntil' : 'expiresAt';
  const until = readNumber(m[attr]);
  if (until === undefined) return;
  if (!(until < nowMs / 1000)) {
    if (attr === 'expiresAt') await untilFromTtl(ctx, m, until);
    return;
  }
  const e = new Expr();
  try {
    await ctx.io.withRetries(() =>
      ctx.io.transact([
        {
          Delete: {
            TableName: ctx.table,
            Key: { pk: m.pk!, sk: s(SK_META) },
            ConditionExpression: `attribute_exists(${e.n('deleted')}) AND ${e.n(attr)} = ${e.v(n(until))}`,
            ...e.parts(),
          },
        },
        groupCountUpdate(ctx, -1),
      ]),
    );
  } catch (err) {
    if (!cancellationReasons(err)) throw toAccrue(err);
    // Written again meanwhile (revived or a newer DELETE): it stays.
  }
}

/** An older version's tombstone: its TTL time moves to `tombUntil` (unless it was written again meanwhile). */
async function untilFromTtl(ctx: StoreContext, m: Item, until: number): Promise<void> {
  const e = new Expr();
  try {
    await ctx.io.withRetries(() =>
      ctx.io.write(() =>
        ctx.io.client.send(
          new UpdateItemCommand({
            TableName: ctx.table,
            Key: { pk: m.pk!, sk: s(SK_META) },
            UpdateExpression: `SET ${e.n('tombUntil')} = ${e.v(n(until))} REMOVE ${e.n('expiresAt')}`,
            ConditionExpression: `attribute_exists(${e.n('deleted')}) AND ${e.n('expiresAt')} = ${e.v(n(until))}`,
            ReturnConsumedCapacity: 'TOTAL',
            ...e.parts(),
          }),
        ),
      ),
    );
  } catch (err) {
    if ((err as Error)?.name !== 'ConditionalCheckFailedException') throw toAccrue(err);
  }
}

export async function wipeTable(ctx: StoreContext): Promise<void> {
  const items = (await ctx.io.scanAll('pk, sk')).filter(
    (it) => it.pk?.S !== PK_GEN && !it.pk?.S?.startsWith(PK_GEN_SHARD),
  );
  const reqs = items.map((it) => ({ DeleteRequest: { Key: { pk: it.pk!, sk: it.sk! } } }));
  for (let i = 0; i < reqs.length; i += 25) {
    let batch: typeof reqs | undefined = reqs.slice(i, i + 25);
    for (let attempt = 0; batch && batch.length > 0; attempt++) {
      if (attempt > 0) await sleep(backoffMs(attempt, ctx.io.retry));
      const out = await ctx.io.write(() =>
        ctx.io.client.send(
          new BatchWriteItemCommand({
            RequestItems: { [ctx.table]: batch! },
            ReturnConsumedCapacity: 'TOTAL',
          }),
        ),
      );
      batch = out.UnprocessedItems?.[ctx.table] as typeof reqs | undefined;
      if (attempt > ctx.io.retry.attempts) throw new TransientError('wipe: DynamoDB kept items unprocessed');
    }
  }
  ctx.cache.clear();
  await ctx.io.withRetries(() =>
    ctx.io.write(() => ctx.io.client.send(new UpdateItemCommand({ ...genUpdate(ctx, 0) }))),
  );
  // A wipe is not one transaction: readers are told to read everything again.
  ctx.reader.reset();
  await ctx.io.withRetries(() =>
    ctx.io.write(() =>
      ctx.io.client.send(
        new PutItemCommand({ TableName: ctx.table, Item: resetChangeItem(ctx.io.wallNow()) }),
      ),
    ),
  );
}

/** A condition check on the group's meta item, made anew for each transaction that must carry it. */
function metaGuard(ctx: StoreContext, gpk: string, condition: (x: Expr) => string): () => TransactWriteItem {
  return () => {
    const x = new Expr();
    return {
      ConditionCheck: {
        TableName: ctx.table,
        Key: { pk: s(gpk), sk: s(SK_META) },
        ConditionExpression: condition(x),
        ...x.parts(),
      },
    };
  };
}
