/**
 * One transaction of a plan: ledger and header items, series updates, counters, group metas and a
 * generation shard; after a commit, what the write caches learn.
 */

import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { AccrueError, TransientError } from '../../model/errors';
import { addNative, EMPTY_BUCKETS, populatedBuckets } from '../../model/native';
import { onCancelled } from './apply-cancel';
import { accumulate, homeOf, type Plan } from './apply-pack';
import {
  type Desc,
  type FamAcc,
  type GroupAcc,
  MAX_ACTIONS,
  type POp,
  type PReq,
  type SeriesAcc,
  type Unit,
} from './apply-types';
import { MAX_DELTA, NATIVE_SCHEMA, n, readNumber, s, shardOf, valueAttr } from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';
import { packGuard, packUpdate } from './pack-writes';
import { packKeyOf, seriesIn } from './packs';
import { cancellationReasons, describe, isTransient } from './retry';
import {
  familyCounterUpdate,
  genUpdate,
  metaApplyUpdate,
  seriesRewrite,
  seriesUpdate,
  totalCounterUpdate,
} from './updates';

/** One attempt at a plan: 'ok', 'again' (retry now), 'transient' (back off), or an error (back off). */
export async function execPlan(
  ctx: StoreContext,
  plan: Plan,
  recheck: POp[],
): Promise<'ok' | 'again' | 'transient' | Error> {
  await learnNativePresence(ctx, plan);
  accumulate(ctx, plan);
  const live = plan.units.filter((u) => u.state === 'pending');
  if (live.length === 0) return 'ok';
  await readForRmw(ctx, plan);
  await prepareNative(ctx, plan);
  const nowMs = ctx.now();
  const items: TransactWriteItem[] = [];
  const descs: Desc[] = [];
  ledgerWrites(ctx, live, nowMs, items, descs);
  const evented = plan.series.size > 0 ? contentWrites(ctx, plan, live, nowMs, items, descs) : [];
  if (items.length === 0) {
    for (const u of live) u.state = 'empty';
    return 'ok';
  }
  // Homes learnt since this plan was packed (a cancellation before it) can add actions: pack it again.
  if (items.length > MAX_ACTIONS && plan.units.length > 1) return 'again';
  if (items.length > MAX_ACTIONS) dropGuards(items, descs);
  try {
    await ctx.io.transact(items);
  } catch (err) {
    const reasons = cancellationReasons(err);
    if (reasons && !isTransient(err)) {
      recheck.push(...onCancelled(ctx, reasons, descs));
      return 'again';
    }
    if (isTransient(err)) return err as Error;
    // A request DynamoDB calls invalid will never pass; anything else (missing table, access denied)
    // is an operational problem: the message goes back to the queue instead of being dropped.
    const e =
      (err as Error)?.name === 'ValidationException'
        ? new AccrueError('internal', `DynamoDB refused a write: ${describe(err)}`)
        : new TransientError(`DynamoDB write failed: ${describe(err)}`, { cause: err });
    for (const u of live) {
      u.state = 'failed';
      u.error = e;
    }
    return 'ok';
  }
  noteCommitted(ctx, plan, live, descs, evented);
  return 'ok';
}

/** The ledger items of the plan's parts, and the header of each multi-part request among them. */
function ledgerWrites(
  ctx: StoreContext,
  live: Unit[],
  nowMs: number,
  items: TransactWriteItem[],
  descs: Desc[],
): void {
  const ttl = n(Math.floor(nowMs / 1000) + ctx.ledgerTtl);
  const headers = new Set<PReq>();
  for (const u of live) {
    if (u.ledger === undefined) continue;
    const e = new Expr();
    // A one-part request's ledger item is its header: it carries the plan hash.
    const single = u.req.header === undefined;
    items.push({
      Put: {
        TableName: ctx.ledgerTable,
        Item: { id: s(u.ledger), ttl, at: n(nowMs), ...(single ? { h: s(u.req.hash) } : {}) },
        ConditionExpression: `attribute_not_exists(${e.n('id')})`,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...e.parts(),
      },
    });
    descs.push({ k: 'ledger', unit: u });
    if (!single) headers.add(u.req);
  }
  for (const r of headers) {
    // Every part's transaction writes (or confirms) the header: a redelivery with another plan fails
    // this condition before any of its parts can commit.
    const e = new Expr();
    const hv = e.v(s(r.hash));
    items.push({
      Put: {
        TableName: ctx.ledgerTable,
        Item: {
          id: s(r.header!),
          ttl,
          at: n(nowMs),
          h: s(r.hash),
          np: n(r.units.filter((u) => u.ledger).length),
        },
        ConditionExpression: `attribute_not_exists(${e.n('id')}) OR ${e.n('h')} = ${hv}`,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        ...e.parts(),
      },
    });
    descs.push({ k: 'header', req: r });
  }
}

/**
 * Series, group metas (only where series are created or a tombstone revived), counters of new series and
 * a generation shard. Returns the groups whose event time rides on their series items only (no meta write).
 */
function contentWrites(
  ctx: StoreContext,
  plan: Plan,
  live: Unit[],
  nowMs: number,
  items: TransactWriteItem[],
  descs: Desc[],
): GroupAcc[] {
  const evented: GroupAcc[] = [];
  const fams = new Map<string, FamAcc>();
  const news: SeriesAcc[] = [];
  // Event times move forward only: written when newer than what this process knows of the group.
  const withEvent = new Map<string, boolean>();
  for (const g of plan.groups.values()) {
    const floor = ctx.cache.eventFloor.get(g.gpk);
    withEvent.set(g.gpk, g.eventMax !== undefined && (floor === undefined || g.eventMax > floor));
  }
  // Each series written carries the write's time (and event time): readers take the group's
  // lastUpdateMs/lastPushMs/lastEventMs as the newest of its items (./assemble.ts), so the group's meta
  // item is written only when its series count changes or it must be revived (issue 11, defect 8).
  const eventOf = (gpk: string) => (withEvent.get(gpk) ? plan.groups.get(gpk)?.eventMax : undefined);
  seriesWrites(ctx, plan, nowMs, eventOf, items, descs);
  for (const a of plan.series.values()) {
    if (!a.isNew) continue;
    news.push(a);
    let f = fams.get(a.first.op.name);
    if (!f) {
      f = { name: a.first.op.name, schema: a.first.schema, newSeries: [] };
      fams.set(f.name, f);
    }
    f.newSeries.push(a);
  }
  for (const g of plan.groups.values()) {
    if (g.newSeries.length === 0 && !ctx.cache.tombstoned.has(g.gpk)) {
      if (withEvent.get(g.gpk) && g.eventMax !== undefined) evented.push(g);
      continue;
    }
    const we = withEvent.get(g.gpk) === true;
    items.push({ Update: metaApplyUpdate(ctx, g, nowMs, we) });
    descs.push({ k: 'meta', acc: g, withEvent: we });
  }
  for (const f of fams.values()) {
    items.push({ Update: familyCounterUpdate(ctx, f.schema, f.newSeries.length) });
    descs.push({ k: 'family', acc: f });
  }
  if (news.length > 0) {
    items.push({ Update: totalCounterUpdate(ctx, news.length) });
    descs.push({ k: 'total', news });
  }
  const shard = shardOf(live[0]!.ledger ?? live[0]!.req.id);
  items.push({ Update: genUpdate(ctx, shard) });
  descs.push({ k: 'gen' });
  return evented;
}

/** After a commit: unit states, and what the write caches learn (homes, values, set times, counts). */
function noteCommitted(
  ctx: StoreContext,
  plan: Plan,
  live: Unit[],
  descs: Desc[],
  evented: GroupAcc[],
): void {
  for (const u of live) {
    if (u.ledger !== undefined || u.adds.length > 0 || u.sets.length > 0) u.state = 'applied';
    else u.state = 'empty';
  }
  for (const a of plan.series.values()) {
    ctx.cache.exists.set(a.key, true);
    if (a.home === 'pack') ctx.cache.packed.add(a.key);
    else ctx.cache.packed.delete(a.key);
    if (a.rmw) {
      const stored = valueAttr((readNumber(a.rmw.old) ?? 0) + (a.scalar ?? 0));
      if (stored.S !== undefined) ctx.cache.bigValue.add(a.key);
      else ctx.cache.bigValue.delete(a.key);
    }
    if (a.set) {
      const op = a.set.op as { value: number; timeMs: number };
      ctx.cache.noteSet(a.key, op.timeMs, op.value);
    }
  }
  for (const g of evented) ctx.cache.eventFloor.set(g.gpk, g.eventMax!);
  for (const d of descs) {
    if (d.k === 'meta') ctx.cache.tombstoned.delete(d.acc.gpk);
    if (d.k === 'meta' && d.withEvent && d.acc.eventMax !== undefined)
      ctx.cache.eventFloor.set(d.acc.gpk, d.acc.eventMax);
    if (d.k === 'family') {
      const cur = ctx.cache.schemas.get(d.acc.name);
      if (cur) ctx.cache.schemas.set(d.acc.name, { ...cur, count: cur.count + d.acc.newSeries.length });
    }
  }
}

/**
 * The series updates of a plan: series of their own item one Update each, series of a pack one Update per
 * pack (./pack-writes.ts).
 */
function seriesWrites(
  ctx: StoreContext,
  plan: Plan,
  nowMs: number,
  eventOf: (gpk: string) => number | undefined,
  items: TransactWriteItem[],
  descs: Desc[],
): void {
  const packs = new Map<string, { accs: SeriesAcc[]; guards: SeriesAcc[]; ev?: number }>();
  const packOf = (key: string) => {
    let p = packs.get(key);
    if (!p) {
      p = { accs: [], guards: [] };
      packs.set(key, p);
    }
    return p;
  };
  const ownNew: SeriesAcc[] = [];
  for (const a of plan.series.values()) {
    a.home = homeOf(ctx, { key: a.key, pack: a.first.pack });
    const ev = eventOf(a.gpk);
    if (a.home === 'pack') {
      const p = packOf(packKeyOf(a.key));
      p.accs.push(a);
      if (ev !== undefined) p.ev = ev;
      continue;
    }
    items.push(
      a.rewrite ? { Put: seriesRewrite(ctx, a, nowMs, ev) } : { Update: seriesUpdate(ctx, a, nowMs, ev) },
    );
    descs.push({ k: 'series', acc: a });
    if (a.isNew && a.first.pack) ownNew.push(a);
  }
  // A new series of its own item (its pack is full) must not be in its pack: checked in the pack's update
  // when the transaction writes the pack anyway, else with one ConditionCheck per pack.
  const guards = new Map<string, SeriesAcc[]>();
  for (const a of ownNew) {
    const key = packKeyOf(a.key);
    const p = packs.get(key);
    if (p) p.guards.push(a);
    else guards.set(key, [...(guards.get(key) ?? []), a]);
  }
  for (const [key, p] of packs) {
    const { update, newBytes } = packUpdate(ctx, key, p.accs, p.guards, nowMs, p.ev);
    items.push({ Update: update });
    descs.push({ k: 'pack', key, accs: p.accs, guards: p.guards, newBytes });
  }
  for (const [key, accs] of guards) {
    items.push(packGuard(ctx, key, accs));
    descs.push({ k: 'guard', key, accs });
  }
}

/**
 * One request part whose new series all go to their own items (full packs) may not fit with the packs'
 * guards: those go (docs/store-dynamodb.md, "Series packs", the one case a pack's fullness is not re-checked).
 */
function dropGuards(items: TransactWriteItem[], descs: Desc[]): void {
  for (let i = descs.length - 1; i >= 0 && items.length > MAX_ACTIONS; i--) {
    if (descs[i]!.k !== 'guard') continue;
    items.splice(i, 1);
    descs.splice(i, 1);
  }
}

export async function readForRmw(ctx: StoreContext, plan: Plan): Promise<void> {
  const need: SeriesAcc[] = [];
  for (const a of plan.series.values()) {
    if (a.scalar === undefined || a.set) continue;
    if (Math.abs(a.scalar) >= MAX_DELTA || ctx.cache.bigValue.has(a.key)) need.push(a);
  }
  if (need.length === 0) return;
  const known = need.filter((a) => !a.isNew);
  const own = known.filter((a) => !ctx.cache.packed.has(a.key));
  const packKeys = [
    ...new Set(known.filter((a) => ctx.cache.packed.has(a.key)).map((a) => packKeyOf(a.key))),
  ];
  const [items, packs] = await Promise.all([
    ctx.io.batchGet(
      own.map((a) => ({ pk: s(a.gpk), sk: s(a.sk) })),
      'pk, sk, v',
    ),
    packKeys.length > 0
      ? ctx.io.batchGet(
          packKeys.map((k) => ({ pk: s(k.slice(0, k.indexOf('|'))), sk: s(k.slice(k.indexOf('|') + 1)) })),
        )
      : Promise.resolve([]),
  ]);
  const byKey = new Map(items.map((it) => [`${it.pk?.S}|${it.sk?.S}`, it]));
  const packByKey = new Map(packs.map((it) => [`${it.pk?.S}|${it.sk?.S}`, it]));
  for (const a of need) {
    const old = a.isNew
      ? undefined
      : ctx.cache.packed.has(a.key)
        ? seriesIn(packByKey.get(packKeyOf(a.key)), a.sk)?.v
        : byKey.get(a.key)?.v;
    a.rmw = old === undefined ? {} : { old };
  }
}

/**
 * Most native buckets one series update ADDs (each names an attribute and a value; an update expression
 * holds at most 4 KB). Ops bringing more rewrite the item instead.
 */
export const MAX_NATIVE_ADDS = 200;

/**
 * Decides how each series' native buckets are written: ADDed in the layout the series is known (or assumed)
 * to have, with the ops reduced into it by the spec (a higher schema, a smaller zero threshold); or, when
 * merging changes the stored buckets themselves (a lower schema, a larger zero threshold, a pushed `nh`),
 * too many buckets come at once, or the series would pass MAX_NATIVE_BUCKETS (./codec.ts
 * NATIVE_BUCKET_BOUND), read whole (consistently) and rewritten (./updates.ts `seriesRewrite`).
 */
export async function prepareNative(ctx: StoreContext, plan: Plan): Promise<void> {
  const need: SeriesAcc[] = [];
  for (const a of plan.series.values()) {
    if (a.native === undefined || a.set) continue;
    const known = a.isNew ? undefined : ctx.cache.nativeLayout.get(a.key);
    if (known !== undefined && known !== 'pushed') {
      const empty = { ...known, zeroCount: 0, positive: EMPTY_BUCKETS, negative: EMPTY_BUCKETS };
      const into = addNative(empty, a.native);
      if (into.schema === known.schema && into.zeroThreshold === known.zeroThreshold) a.native = into;
    }
    const fits =
      known === undefined ||
      (known !== 'pushed' &&
        a.native.schema === known.schema &&
        a.native.zeroThreshold === known.zeroThreshold);
    const size = populatedBuckets(a.native.positive) + populatedBuckets(a.native.negative);
    // Past the bucket cap (learnt from a cancellation): rewritten whole, which reduces as the spec says.
    const full = ctx.cache.nativeFull.delete(a.key);
    if (!fits || size > MAX_NATIVE_ADDS || full) need.push(a);
  }
  if (need.length === 0) return;
  const old = need.filter((a) => !a.isNew);
  const items =
    old.length === 0 ? [] : await ctx.io.batchGet(old.map((a) => ({ pk: s(a.gpk), sk: s(a.sk) })));
  const byKey = new Map(items.map((it) => [`${it.pk?.S}|${it.sk?.S}`, it]));
  for (const a of need) {
    const it = byKey.get(a.key);
    // Gone since: the update's existence condition fails and the series is created again next round.
    if (!a.isNew && it === undefined) continue;
    a.rewrite = it === undefined ? {} : { old: it };
  }
}

/**
 * Reads (consistently) whether existing series have native buckets, for series that observations with and
 * without them reach in one plan: the stored series decides which ops are refused, as on every store. Rare
 * (a profile turned native while messages of the old one are still queued); nothing is read otherwise.
 */
async function learnNativePresence(ctx: StoreContext, plan: Plan): Promise<void> {
  plan.nativePresent.clear();
  const seen = new Map<string, { gpk: string; sk: string; has: boolean; mixed: boolean }>();
  for (const u of plan.units) {
    if (u.state !== 'pending') continue;
    for (const o of u.adds) {
      if (o.op.kind !== 'histogram_observe' || ctx.cache.exists.get(o.key) !== true) continue;
      const has = o.op.native !== undefined;
      const x = seen.get(o.key);
      if (x === undefined) seen.set(o.key, { gpk: o.req.gpk, sk: o.sk, has, mixed: false });
      else if (x.has !== has) x.mixed = true;
    }
  }
  const mixed = [...seen.values()].filter((x) => x.mixed);
  if (mixed.length === 0) return;
  const items = await ctx.io.batchGet(
    mixed.map((x) => ({ pk: s(x.gpk), sk: s(x.sk) })),
    `pk, sk, nh, ${NATIVE_SCHEMA}`,
  );
  for (const it of items)
    plan.nativePresent.set(`${it.pk?.S}|${it.sk?.S}`, it.nh !== undefined || it[NATIVE_SCHEMA] !== undefined);
}
