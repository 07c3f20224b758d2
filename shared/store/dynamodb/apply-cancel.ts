/**
 * Learning from a cancelled apply transaction (ALL_OLD per failed condition): duplicates, redelivery
 * mismatches, stale sets, existence, limits and families redefined meanwhile. One function per kind of
 * cancelled item: ledger, series (histograms apart), group and store counters, family schema; packs and
 * their guards in ./pack-writes.ts.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { boundsKey } from '../../model/buckets';
import { MAX_NATIVE_BUCKETS, type NativeHistogram } from '../../model/native';
import { bucketLayoutConflict, familyConflict, nativeLayoutConflict, type SeriesLimit } from '../families';
import { redeliveryMismatch } from '../plan';
import type { Desc, FamAcc, GroupAcc, POp, SeriesAcc, Unit } from './apply-types';
import { failRequest, rejectOp } from './apply-types';
import { schemaFromItem } from './assemble';
import {
  NATIVE_BUCKET_BOUND,
  NATIVE_SCHEMA,
  nativeBucketCount,
  nativeLayoutOf,
  readNumber,
  readNumList,
  readString,
} from './codec';
import type { StoreContext } from './context';
import { onGuardCancelled, onPackCancelled } from './pack-writes';
import type { CancellationReason } from './retry';
import { limitErr } from './schemas';

/** A limit condition that failed: the new series beyond the room left (`max - have`) are rejected. */
interface LimitHit {
  readonly scope: SeriesLimit;
  readonly news: readonly SeriesAcc[];
  readonly have: number;
  readonly max: number;
}

/** What one cancelled transaction teaches beyond the caches: limits hit, schemas to read again. */
interface Lessons {
  readonly limitHits: LimitHit[];
  /** Ops whose family schema must be read again (redefined or wiped meanwhile). */
  readonly refetch: POp[];
}

type StoredItem = Record<string, AttributeValue> | undefined;

/**
 * Learns from a cancelled transaction: duplicates, stale sets, existence, limits, redefined families.
 * Returns the ops whose family schema must be read again (redefined or wiped meanwhile).
 */
export function onCancelled(ctx: StoreContext, reasons: CancellationReason[], descs: Desc[]): POp[] {
  const lessons: Lessons = { limitHits: [], refetch: [] };
  reasons.forEach((r, i) => {
    if (r.Code !== 'ConditionalCheckFailed') return;
    const d = descs[i];
    if (!d) return;
    countConditionFailure(ctx, d);
    onItemCancelled(ctx, d, r.Item, lessons);
  });
  rejectOverLimits(ctx, lessons.limitHits);
  return lessons.refetch;
}

/** Counts the failed condition by item kind (series: `new`, `set` or `add`) in the store's stats. */
function countConditionFailure(ctx: StoreContext, d: Desc): void {
  const why = `${d.k}${d.k === 'series' ? (d.acc.isNew ? ':new' : d.acc.set ? ':set' : ':add') : ''}`;
  ctx.io.stats.conditionFailures[why] = (ctx.io.stats.conditionFailures[why] ?? 0) + 1;
}

/** One item whose condition failed, with what it held (ALL_OLD), by the kind of item it is. */
function onItemCancelled(ctx: StoreContext, d: Desc, item: StoredItem, lessons: Lessons): void {
  switch (d.k) {
    case 'ledger':
      onLedgerCancelled(d.unit, item);
      break;
    case 'header':
      failRequest(d.req, redeliveryMismatch(d.req.id));
      break;
    case 'series':
      onSeriesCancelled(ctx, d.acc, item);
      break;
    case 'meta':
      onGroupCounterCancelled(ctx, d.acc, item, lessons.limitHits);
      break;
    case 'total': {
      const have = readNumber(item?.n) ?? 0;
      lessons.limitHits.push({ scope: 'maxSeriesTotal', news: d.news, have, max: ctx.limits.maxSeriesTotal });
      break;
    }
    case 'family':
      onSchemaCancelled(ctx, d.acc, item, lessons);
      break;
    case 'gen':
      break;
    case 'pack':
      onPackCancelled(ctx, d, item);
      break;
    case 'guard':
      onGuardCancelled(ctx, d.key, d.accs, item);
      break;
  }
}

/** The ledger item exists: a duplicate (same plan hash), else a redelivery with other content. */
function onLedgerCancelled(unit: Unit, item: StoredItem): void {
  const h = readString(item?.h);
  if (h !== undefined && h !== unit.req.hash) {
    failRequest(unit.req, redeliveryMismatch(unit.req.id));
    return;
  }
  unit.state = 'duplicate';
  unit.adds = [];
}

/** A series item: gone, created meanwhile, a stale set, a value read again, or a histogram's layout. */
function onSeriesCancelled(ctx: StoreContext, a: SeriesAcc, item: StoredItem): void {
  if (!item) {
    // Gone (or never there): its home is learnt again (its item or its pack) before the next attempt.
    ctx.cache.exists.delete(a.key);
    return;
  }
  if (a.isNew) {
    ctx.cache.exists.set(a.key, true);
    return;
  }
  if (a.set) {
    const ts = readNumber(item.ts);
    const v = readNumber(item.sv) ?? readNumber(item.v);
    if (ts !== undefined && v !== undefined) ctx.cache.noteSet(a.key, ts, v);
    // Stored set is newer (or equal time, larger value): this set is stale.
    for (const o of a.ops) for (const u of o.req.units) u.sets = u.sets.filter((x) => x.key !== a.key);
  } else if (a.rmw) {
    // The value changed since it was read: read it again.
  } else if (a.scalar !== undefined) {
    // The stored value is not a number DynamoDB can add to: read-modify-write from now on.
    ctx.cache.bigValue.add(a.key);
  } else {
    onHistogramCancelled(ctx, a, item);
  }
}

/** A histogram ADD refused: native or classic layout differs, the bucket cap, or a sum not a number. */
function onHistogramCancelled(ctx: StoreContext, a: SeriesAcc, item: Record<string, AttributeValue>): void {
  const storedNative = item.nh !== undefined || item[NATIVE_SCHEMA] !== undefined;
  if (storedNative !== (a.native !== undefined)) {
    // Created before its histogram was declared native: the next attempt adds the classic part only.
    if (!storedNative) ctx.cache.classicOnly.add(a.key);
    else for (const o of a.ops) rejectOp(o, nativeLayoutConflict(o.op.name, storedNative));
    return;
  }
  const bk = readString(item.bk);
  const stored = bk !== undefined ? readNumList(item.b) : undefined;
  if (stored && a.first.bounds && bk !== boundsKey(a.first.bounds)) {
    // Observations are added only into a series with the same bucket layout.
    for (const o of a.ops) rejectOp(o, bucketLayoutConflict(o.op.name, stored, o.bounds ?? [])!);
    return;
  }
  if (a.native !== undefined && nativeRefusalLearnt(ctx, a, a.native, item)) return;
  // A histogram whose sum was pushed as NaN/Inf: adding keeps it as it is (IEEE); counts are lost.
  for (const o of a.ops) for (const u of o.req.units) u.adds = u.adds.filter((x) => x !== o);
}

/**
 * A native ADD refused: another native layout (or a rewrite that lost a race) is written into what is
 * stored next time; a series at the bucket cap is rewritten. False when neither explains it.
 */
function nativeRefusalLearnt(
  ctx: StoreContext,
  a: SeriesAcc,
  native: NativeHistogram,
  item: Record<string, AttributeValue>,
): boolean {
  const layout = item.nh !== undefined ? 'pushed' : nativeLayoutOf(item);
  if (layout !== undefined) ctx.cache.nativeLayout.set(a.key, layout);
  const same =
    layout !== 'pushed' && layout?.schema === native.schema && layout.zeroThreshold === native.zeroThreshold;
  if (!same || a.rewrite) return true;
  // Same layout: the bucket cap (or an item without its bound) refused the ADD: rewrite it.
  const bound = readNumber(item[NATIVE_BUCKET_BOUND]);
  if (bound === undefined || bound + nativeBucketCount(native) > MAX_NATIVE_BUCKETS) {
    ctx.cache.nativeFull.add(a.key);
    return true;
  }
  return false;
}

/** The group's meta item (its series count): expired or wiped meanwhile, or the group limit hit. */
function onGroupCounterCancelled(
  ctx: StoreContext,
  g: GroupAcc,
  item: StoredItem,
  limitHits: LimitHit[],
): void {
  if (!item) {
    // Expired or wiped meanwhile: create (and count) it again before the next attempt.
    ctx.cache.groupExists.set(g.gpk, false);
    return;
  }
  const have = readNumber(item.n) ?? 0;
  if (g.newSeries.length > 0 && have + g.newSeries.length > ctx.limits.maxSeriesPerGroup) {
    limitHits.push({
      scope: 'maxSeriesPerGroup',
      news: g.newSeries,
      have,
      max: ctx.limits.maxSeriesPerGroup,
    });
  }
  const ev = readNumber(item.lastEventMs);
  if (ev !== undefined && ev > (ctx.cache.eventFloor.get(g.gpk) ?? Number.NEGATIVE_INFINITY))
    ctx.cache.eventFloor.set(g.gpk, ev);
}

/** A family's schema item: redefined or wiped meanwhile (read it again), else its series limit hit. */
function onSchemaCancelled(ctx: StoreContext, f: FamAcc, item: StoredItem, lessons: Lessons): void {
  const stored = item ? schemaFromItem(item) : undefined;
  if (!stored || familyConflict(stored.schema, f.schema)) {
    if (stored) ctx.cache.schemas.set(f.name, stored);
    else ctx.cache.schemas.delete(f.name);
    for (const a of f.newSeries) lessons.refetch.push(...a.ops);
    return;
  }
  ctx.cache.schemas.set(f.name, stored);
  lessons.limitHits.push({
    scope: 'maxSeriesPerFamily',
    news: f.newSeries,
    have: stored.count,
    max: ctx.limits.maxSeriesPerFamily,
  });
}

/** Rejects, per limit hit, the new series beyond the room the stored count leaves. */
function rejectOverLimits(ctx: StoreContext, limitHits: readonly LimitHit[]): void {
  for (const h of limitHits) {
    const room = Math.max(0, h.max - h.have);
    h.news.forEach((a, k) => {
      if (k < room) return;
      for (const o of a.ops) rejectOp(o, limitErr(ctx, h.scope, a.first.op.name));
    });
  }
}
