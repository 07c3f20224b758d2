/**
 * The group limit (`maxGroups`, the rule of ../families.ts `groupCountError`) on DynamoDB: one counter
 * item `c#groups` holds the number of group meta items (live groups, failure-only groups and DELETE
 * tombstones, as the memory store counts them). Every transaction that creates a meta item adds 1 to it
 * with the condition that it stays within the limit; every one that deletes a meta item (expiry, the
 * removal of an expired tombstone) subtracts 1. Tombstones are removed by expire(), not by DynamoDB's TTL,
 * so no meta item disappears without its -1.
 *
 * The counter is created on first need from a count of the meta items (a table from an older version, or
 * after wipe()): while it is missing, every creation fails its condition and waits for it, so nothing is
 * created during that count. One process counts once at a time, however many of its writes wait (the
 * count is a full Scan: after an upgrade it costs the table's size once per process, not once per write),
 * and a write whose "missing" answer arrives after a count ended finds the counter with one read.
 */
import {
  ConditionalCheckFailedException,
  GetItemCommand,
  PutItemCommand,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { groupCountError } from '../families';
import type { GroupingKey } from '../types';
import { rejectOp, type Unit } from './apply-types';
import { type Item, labelsAttr, n, PK_GROUPS, readNumber, SK_META, SK_TOTAL, s } from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';
import { type CancellationReason, cancellationReasons } from './retry';

/** Adds `delta` to the group count; with `delta` > 0, only if the count stays within maxGroups. */
export function groupCountUpdate(ctx: StoreContext, delta: number): TransactWriteItem {
  const e = new Expr();
  return {
    Update: {
      TableName: ctx.table,
      Key: { pk: s(PK_GROUPS), sk: s(SK_TOTAL) },
      UpdateExpression: `ADD ${e.n('n')} ${e.v(n(delta))}`,
      ...(delta > 0
        ? {
            ConditionExpression: `attribute_exists(${e.n('n')}) AND ${e.n('n')} <= ${e.v(n(ctx.limits.maxGroups - delta))}`,
          }
        : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    },
  };
}

/**
 * Why a group count update failed: 'missing' (create the counter, then try again) or the limit error.
 * Undefined when it did not fail.
 */
export function groupCountFailure(
  ctx: StoreContext,
  reason: CancellationReason | undefined,
): 'missing' | ReturnType<typeof groupCountError> | undefined {
  if (reason?.Code !== 'ConditionalCheckFailed') return undefined;
  const have = readNumber(reason.Item?.n);
  if (have === undefined) return 'missing';
  return groupCountError(have, ctx.limits) ?? groupCountError(ctx.limits.maxGroups, ctx.limits);
}

const counting = new WeakMap<StoreContext, Promise<void>>();

/** Creates the counter from a count of the meta items, unless someone else did; one count per process at a time. */
export function initGroupCount(ctx: StoreContext): Promise<void> {
  let p = counting.get(ctx);
  if (!p) {
    p = countGroups(ctx).finally(() => counting.delete(ctx));
    counting.set(ctx, p);
  }
  return p;
}

async function countGroups(ctx: StoreContext): Promise<void> {
  // A write's "missing" can be older than the counter: its transaction was judged before a count (of this
  // process, or another) created it, and its answer came after that count ended (slow answers under load).
  // One consistent read, not a Scan, tells.
  if (await counterExists(ctx)) return;
  const items = await ctx.io.scanAll('pk, sk');
  const count = items.filter((it) => it.sk?.S === SK_META && it.pk?.S?.startsWith('g#')).length;
  const e = new Expr();
  try {
    await ctx.io.write(() =>
      ctx.io.client.send(
        new PutItemCommand({
          TableName: ctx.table,
          Item: { pk: s(PK_GROUPS), sk: s(SK_TOTAL), n: n(count) },
          ConditionExpression: `attribute_not_exists(${e.n('pk')})`,
          ReturnConsumedCapacity: 'TOTAL',
          ...e.parts(),
        }),
      ),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

async function counterExists(ctx: StoreContext): Promise<boolean> {
  const got = await ctx.io.read(() =>
    ctx.io.client.send(
      new GetItemCommand({
        TableName: ctx.table,
        Key: { pk: s(PK_GROUPS), sk: s(SK_TOTAL) },
        ConsistentRead: true,
        ProjectionExpression: 'pk',
        ReturnConsumedCapacity: 'TOTAL',
      }),
    ),
  );
  return got.Item !== undefined;
}

/**
 * A meta item created for a group new to the store (apply path, before its first transaction): it holds
 * the labels only, so readers don't show it (../assemble.ts) until a write gives it content or a push
 * time; expiry removes it if none comes.
 */
export function newGroupMeta(ctx: StoreContext, gpk: string, group: GroupingKey): TransactWriteItem {
  const e = new Expr();
  const item: Item = {
    pk: s(gpk),
    sk: s(SK_META),
    l: labelsAttr(group),
    lastUpdateMs: n(ctx.now()),
    n: n(0),
  };
  return {
    Put: {
      TableName: ctx.table,
      Item: item,
      ConditionExpression: `attribute_not_exists(${e.n('pk')})`,
      ...e.parts(),
    },
  };
}

/**
 * Creates (and counts) the meta items of groups new to the store that pending units write to; at the
 * group limit, their ops are rejected with the limit error, as on the memory store.
 */
export async function ensureGroups(ctx: StoreContext, units: readonly Unit[]): Promise<void> {
  const fresh = new Map<string, GroupingKey>();
  for (const u of units)
    if (
      u.state === 'pending' &&
      (u.adds.length > 0 || u.sets.length > 0) &&
      ctx.cache.groupExists.get(u.req.gpk) === false
    )
      fresh.set(u.req.gpk, u.req.group);
  for (const [gpk, group] of fresh) {
    const err = await createGroup(ctx, gpk, group);
    if (!err) continue;
    for (const u of units) {
      if (u.req.gpk !== gpk || u.state !== 'pending') continue;
      for (const o of [...u.adds, ...u.sets]) rejectOp(o, err);
    }
  }
}

/** One group's meta item and +1 on the count; returns the limit error when the store is full. */
async function createGroup(
  ctx: StoreContext,
  gpk: string,
  group: GroupingKey,
): Promise<ReturnType<typeof groupCountError>> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await ctx.io.withRetries(() =>
        ctx.io.transact([newGroupMeta(ctx, gpk, group), groupCountUpdate(ctx, 1)]),
      );
      ctx.cache.groupExists.set(gpk, true);
      return undefined;
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw err;
      if (reasons[0]?.Code === 'ConditionalCheckFailed') {
        ctx.cache.groupExists.set(gpk, true); // created meanwhile (or a tombstone): nothing to count
        return undefined;
      }
      const why = groupCountFailure(ctx, reasons[1]);
      if (why === 'missing') await initGroupCount(ctx);
      else if (why) return why;
    }
  }
  throw new Error(`group count: could not create group ${gpk}`);
}
