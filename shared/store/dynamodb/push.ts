/**
 * Pushgateway pushes (PUT/POST) on DynamoDB: ordered by push time through the group's meta item, written in
 * counted chunks (./counted-chunks.ts); and push failures (recordPushFailure). A push's steps: its families
 * and the group read (./push-read.ts), families checked and defined (./push-families.ts), its items
 * (./push-items.ts) packed into transactions and written here.
 */

import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { TransientError, ValidationError } from '../../model/errors';
import { failureReason, groupLimitError } from '../families';
import type { GroupingKey, PushRequest, PushResult, ValidGroupingKey } from '../types';
import { groupPk, labelsAttr, n, SK_META, s, shardOf } from './codec';
import type { StoreContext } from './context';
import { type ChunkSpec, type CountedEntry, countedChunks } from './counted-chunks';
import { deleteAt } from './delete';
import { Expr } from './expr';
import { groupCountFailure, groupCountUpdate, initGroupCount } from './group-count';
import { toAccrue } from './io';
import { type Definitions, defineFamilies } from './push-families';
import { markerEntries, removalEntries, seriesPuts } from './push-items';
import { type GroupRead, type PushedFamily, pushedFamilies, readGroup } from './push-read';
import { backoffMs, cancellationReasons, sleep } from './retry';
import { newerPushThan, revisionToken } from './revision';
import { reservationGuards } from './schemas';
import { familyDelta, genUpdate, limitCond, totalUpdate } from './updates';

/**
 * A push validated at the edge (`ValidPush`, shared/store/valid.ts); its grouping key is normalized.
 * Each attempt reads the group, checks and defines its families, packs its items into counted
 * transactions and writes them; a group that changed meanwhile is read again.
 */
export async function pushToGroup(ctx: StoreContext, request: PushRequest): Promise<PushResult> {
  const { group, pushTimeMs: t } = request;
  const gl = groupLimitError(group, ctx.limits);
  if (gl) throw gl;
  if (request.method === 'DELETE') return deleteAt(ctx, group, t);
  const fams = pushedFamilies(ctx, request);
  const gpk = groupPk(group);
  for (let attempt = 0; attempt < 6; attempt++) {
    const read = await readGroup(ctx, request, gpk, fams);
    if (read === 'stale') return { status: 'stale' };
    const defs = await defineFamilies(ctx, fams, read);
    const { chunks, newKeys } = packPush(ctx, request, gpk, fams, read, defs);
    const r = await writeGroupChunks(ctx, t, chunks, read.part.meta === undefined ? 2 : undefined);
    if (r === 'stale') return { status: 'stale' };
    if (r === 'ok') {
      forgetReplaced(ctx, gpk, read, newKeys);
      return { status: 'applied' };
    }
    // 'retry': something changed under us; read again.
    await sleep(backoffMs(attempt, ctx.io.retry));
  }
  throw new TransientError(`push to group ${describeGroup(group)}: the group kept changing; retry later`);
}

/**
 * The push's items (./push-items.ts) in transactions: the reserved-name guards first, then markers,
 * series puts and deletes, each counted in the transaction that writes it (./counted-chunks.ts).
 */
function packPush(
  ctx: StoreContext,
  request: PushRequest,
  gpk: string,
  fams: readonly PushedFamily[],
  read: GroupRead,
  defs: Definitions,
): { chunks: TransactWriteItem[][]; newKeys: Set<string> } {
  // The reserved-name rule in the first transaction, beside the definitions (./schemas.ts).
  const guards = reservationGuards(ctx, defs.defined, new Set([...read.pushed, ...read.removed.keys()]));
  const entries: CountedEntry[] = guards.map((item) => ({ item, delta: 0 }));
  entries.push(...markerEntries(ctx, request, gpk, read));
  const puts = seriesPuts(ctx, gpk, fams, read);
  entries.push(...puts.entries, ...removalEntries(ctx, read, puts.newKeys));
  return { chunks: countedChunks(chunkSpec(ctx, request, gpk, read, defs, entries)), newKeys: puts.newKeys };
}

/** The counters and group meta each transaction of a push carries; a new group is counted in the first. */
function chunkSpec(
  ctx: StoreContext,
  request: PushRequest,
  gpk: string,
  read: GroupRead,
  defs: Definitions,
  entries: CountedEntry[],
): ChunkSpec {
  const { firstDefs, totalDelta } = defs;
  // A group new to the store is counted in the first transaction (./group-count.ts).
  const isNew = read.part.meta === undefined;
  const meta = {
    gpk,
    group: request.group,
    t: request.pushTimeMs,
    put: request.method === 'PUT',
    totalDelta,
    isNew,
  };
  return {
    entries,
    headSize: isNew ? 3 : 2,
    head: (c, groupDelta, final) => [
      pushMetaUpdate(ctx, { ...meta, c, groupDelta, final }),
      { Update: genUpdate(ctx, shardOf(gpk)) },
      ...(isNew && c === 0 ? [groupCountUpdate(ctx, 1)] : []),
    ],
    family: (name, c, d) =>
      c === 0 && firstDefs.has(name)
        ? firstDefs.get(name)!(d)
        : firstDefs.has(name) || ctx.cache.schemas.has(name)
          ? { Update: familyDelta(ctx, name, d) }
          : undefined,
    total: (c, d) => ({ Update: totalUpdate(ctx, d, c === 0 ? totalDelta : 0) }),
    firstChunkFamilies: new Set(firstDefs.keys()),
    firstChunkTotal: totalDelta > 0,
  };
}

/** After a written push: what this instance remembered of the replaced series and schemas is forgotten. */
function forgetReplaced(ctx: StoreContext, gpk: string, read: GroupRead, newKeys: ReadonlySet<string>): void {
  for (const it of read.part.series) {
    ctx.cache.forgetSeries(`${gpk}|${it.sk!.S!}`);
  }
  for (const p of read.part.packs) ctx.cache.packFull.delete(`${gpk}|${p.sk!.S!}`);
  for (const k of newKeys) {
    ctx.cache.exists.set(`${gpk}|${k}`, true);
    ctx.cache.packed.delete(`${gpk}|${k}`);
    ctx.cache.setFloor.delete(`${gpk}|${k}`);
    ctx.cache.bigValue.delete(`${gpk}|${k}`);
  }
  for (const nm of read.famNames) ctx.cache.schemas.delete(nm);
}

/**
 * The group's meta update every push transaction starts with; its condition orders pushes by time: the
 * first transactions mark the group `pending = t` (a newer push takes over and makes this one stale),
 * the last sets `putTs`/`lastPushMs` and clears it. It adds the transaction's own series delta to `n`;
 * the first also checks the group limit for the whole push.
 */
export function pushMetaUpdate(
  ctx: StoreContext,
  o: {
    gpk: string;
    group: GroupingKey;
    t: number;
    put: boolean;
    c: number;
    groupDelta: number;
    totalDelta: number;
    final: boolean;
    /** The group has no meta item yet: the first transaction creates it. */
    isNew: boolean;
  },
): TransactWriteItem {
  const e = new Expr();
  const tv = e.v(n(o.t));
  const sets = [`${e.n('l')} = ${e.v(labelsAttr(o.group))}`, `${e.n('lastUpdateMs')} = ${e.v(n(ctx.now()))}`];
  const removes: string[] = [e.n('deleted'), e.n('expiresAt'), e.n('tombUntil')];
  // Readers see the push whole (./revision.ts): a revision per transaction, `pending` until the last.
  sets.push(`${e.n('rv')} = ${e.v(s(revisionToken()))}`);
  if (o.final) {
    sets.push(`${e.n('lastPushMs')} = ${tv}`);
    if (o.put) sets.push(`${e.n('putTs')} = ${tv}`);
    removes.push(e.n('pending'), e.n('pendingAt'));
    if (o.c > 0) sets.push(`${e.n('mx')} = ${e.v({ BOOL: true })}`);
    else removes.push(e.n('mx'));
  } else {
    sets.push(`${e.n('pending')} = ${tv}`, `${e.n('pendingAt')} = ${e.v(n(ctx.io.wallNow()))}`);
  }
  const conds = [
    `(attribute_not_exists(${e.n('putTs')}) OR ${e.n('putTs')} <= ${tv})`,
    // The first transaction takes the group (no newer push in flight); the later ones go on only while
    // the group is still marked with this push's time: a newer push that started and finished meanwhile
    // (a POST leaves no putTs) cleared or replaced the mark, and this push's rest must not land over it.
    o.c === 0
      ? `(attribute_not_exists(${e.n('pending')}) OR ${e.n('pending')} <= ${tv})`
      : `${e.n('pending')} = ${tv}`,
  ];
  if (o.c === 0) conds.push(`${o.isNew ? 'attribute_not_exists' : 'attribute_exists'}(${e.n('pk')})`);
  const add = o.groupDelta !== 0 ? ` ADD ${e.n('n')} ${e.v(n(o.groupDelta))}` : '';
  if (o.c === 0 && o.totalDelta > 0) conds.push(limitCond(e, ctx.limits.maxSeriesPerGroup - o.totalDelta));
  return {
    Update: {
      TableName: ctx.table,
      Key: { pk: s(o.gpk), sk: s(SK_META) },
      UpdateExpression: `SET ${sets.join(', ')}${add} REMOVE ${removes.join(', ')}`,
      ConditionExpression: conds.join(' AND '),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    },
  };
}

/** Runs a push's transactions in order; 'stale' when a newer push holds the group, 'retry' when the group changed. */
export async function writeGroupChunks(
  ctx: StoreContext,
  t: number,
  chunks: TransactWriteItem[][],
  /** Index of the group count update in the first transaction, when the push creates the group. */
  countAt?: number,
): Promise<'ok' | 'stale' | 'retry'> {
  for (const [c, items] of chunks.entries()) {
    try {
      await ctx.io.withRetries(() => ctx.io.transact(items));
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw toAccrue(err);
      const full = c === 0 && countAt !== undefined ? groupCountFailure(ctx, reasons[countAt]) : undefined;
      if (full === 'missing') await initGroupCount(ctx);
      else if (full) throw full;
      const meta = reasons[0];
      if (meta?.Code === 'ConditionalCheckFailed') {
        if (newerPushThan(meta.Item, t)) return 'stale';
      }
      return 'retry';
    }
  }
  return 'ok';
}

export async function recordFailure(
  ctx: StoreContext,
  g: ValidGroupingKey,
  timeMs: number,
  reason: string,
): Promise<void> {
  const gl = groupLimitError(g, ctx.limits);
  if (gl) throw gl;
  if (!Number.isFinite(timeMs))
    throw new ValidationError([{ path: 'timeMs', message: 'must be a finite number' }]);
  // First as an update of an existing group; a group new to the store is created and counted.
  for (let attempt = 0; attempt < 6; attempt++) {
    const isNew = attempt % 2 === 1;
    const e = new Expr();
    const items: TransactWriteItem[] = [
      {
        Update: {
          TableName: ctx.table,
          Key: { pk: s(groupPk(g)), sk: s(SK_META) },
          UpdateExpression: `SET ${e.n('l')} = if_not_exists(${e.n('l')}, ${e.v(labelsAttr(g))}), ${e.n('lastPushFailureMs')} = ${e.v(n(timeMs))}, ${e.n('lastFailureReason')} = ${e.v(s(failureReason(reason)))}, ${e.n('lastUpdateMs')} = ${e.v(n(ctx.now()))} REMOVE ${e.n('deleted')}, ${e.n('expiresAt')}, ${e.n('tombUntil')}`,
          ConditionExpression: `${isNew ? 'attribute_not_exists' : 'attribute_exists'}(${e.n('pk')})`,
          ...e.parts(),
        },
      },
      { Update: genUpdate(ctx, shardOf(groupPk(g))) },
      ...(isNew ? [groupCountUpdate(ctx, 1)] : []),
    ];
    try {
      await ctx.io.withRetries(() => ctx.io.transact(items));
      return;
    } catch (err) {
      const reasons = cancellationReasons(err);
      if (!reasons) throw toAccrue(err);
      const full = isNew ? groupCountFailure(ctx, reasons[2]) : undefined;
      if (full === 'missing') {
        await initGroupCount(ctx);
        attempt--; // the same attempt again, now counted
      } else if (full) throw full;
    }
  }
  throw new TransientError(`push failure of group ${describeGroup(g)}: the group kept changing; retry later`);
}

export function describeGroup(g: GroupingKey): string {
  return Object.keys(g)
    .map((k) => `${k}=${JSON.stringify(String(g[k]).slice(0, 64))}`)
    .join(',');
}
