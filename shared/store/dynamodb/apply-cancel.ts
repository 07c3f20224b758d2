/**
 * Learning from a cancelled apply transaction (ALL_OLD per failed condition): duplicates, redelivery
 * mismatches, stale sets, existence, limits and families redefined meanwhile.
 */
import { boundsKey } from '../../model/buckets';
import { MAX_NATIVE_BUCKETS } from '../../model/native';
import { bucketLayoutConflict, familyConflict, nativeLayoutConflict, type SeriesLimit } from '../families';
import { redeliveryMismatch } from '../plan';
import type { Desc, POp, SeriesAcc } from './apply-types';
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

/** Learns from a cancelled transaction: duplicates, stale sets, existence, limits, redefined families. */
/** Returns the ops whose family schema must be read again (redefined or wiped meanwhile). */
export function onCancelled(ctx: StoreContext, reasons: CancellationReason[], descs: Desc[]): POp[] {
  const limitHits: { scope: SeriesLimit; news: SeriesAcc[]; have: number; max: number }[] = [];
  const refetch: POp[] = [];
  reasons.forEach((r, i) => {
    if (r.Code !== 'ConditionalCheckFailed') return;
    const d = descs[i];
    if (!d) return;
    const why = `${d.k}${d.k === 'series' ? (d.acc.isNew ? ':new' : d.acc.set ? ':set' : ':add') : ''}`;
    ctx.io.stats.conditionFailures[why] = (ctx.io.stats.conditionFailures[why] ?? 0) + 1;
    const item = r.Item;
    switch (d.k) {
      case 'ledger': {
        const h = readString(item?.h);
        if (h !== undefined && h !== d.unit.req.hash) {
          failRequest(d.unit.req, redeliveryMismatch(d.unit.req.id));
          break;
        }
        d.unit.state = 'duplicate';
        d.unit.adds = [];
        break;
      }
      case 'header':
        failRequest(d.req, redeliveryMismatch(d.req.id));
        break;
      case 'series': {
        const a = d.acc;
        if (!item) {
          // Gone (or never there): its home is learnt again (its item or its pack) before the next attempt.
          ctx.cache.exists.delete(a.key);
          break;
        }
        if (a.isNew) {
          ctx.cache.exists.set(a.key, true);
          break;
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
          const storedNative = item.nh !== undefined || item[NATIVE_SCHEMA] !== undefined;
          if (storedNative !== (a.native !== undefined)) {
            // Created before its histogram was declared native: the next attempt adds the classic part only.
            if (!storedNative) ctx.cache.classicOnly.add(a.key);
            else for (const o of a.ops) rejectOp(o, nativeLayoutConflict(o.op.name, storedNative));
            break;
          }
          const bk = readString(item.bk);
          const stored = bk !== undefined ? readNumList(item.b) : undefined;
          if (stored && a.first.bounds && bk !== boundsKey(a.first.bounds)) {
            // Observations are added only into a series with the same bucket layout.
            for (const o of a.ops) rejectOp(o, bucketLayoutConflict(o.op.name, stored, o.bounds ?? [])!);
            break;
          }
          if (a.native !== undefined) {
            // Another native layout (or a rewrite that lost a race): write into what is stored next time.
            const layout = item.nh !== undefined ? 'pushed' : nativeLayoutOf(item);
            if (layout !== undefined) ctx.cache.nativeLayout.set(a.key, layout);
            const same =
              layout !== 'pushed' &&
              layout?.schema === a.native.schema &&
              layout.zeroThreshold === a.native.zeroThreshold;
            if (!same || a.rewrite) break;
            // Same layout: the bucket cap (or an item without its bound) refused the ADD: rewrite it.
            const bound = readNumber(item[NATIVE_BUCKET_BOUND]);
            if (bound === undefined || bound + nativeBucketCount(a.native) > MAX_NATIVE_BUCKETS) {
              ctx.cache.nativeFull.add(a.key);
              break;
            }
          }
          // A histogram whose sum was pushed as NaN/Inf: adding keeps it as it is (IEEE); counts are lost.
          for (const o of a.ops) for (const u of o.req.units) u.adds = u.adds.filter((x) => x !== o);
        }
        break;
      }
      case 'meta': {
        const g = d.acc;
        if (!item) {
          // Expired or wiped meanwhile: create (and count) it again before the next attempt.
          ctx.cache.groupExists.set(g.gpk, false);
          break;
        }
        const have = readNumber(item?.n) ?? 0;
        if (g.newSeries.length > 0 && have + g.newSeries.length > ctx.limits.maxSeriesPerGroup) {
          limitHits.push({
            scope: 'maxSeriesPerGroup',
            news: g.newSeries,
            have,
            max: ctx.limits.maxSeriesPerGroup,
          });
        }
        const ev = readNumber(item?.lastEventMs);
        if (ev !== undefined && ev > (ctx.cache.eventFloor.get(g.gpk) ?? Number.NEGATIVE_INFINITY))
          ctx.cache.eventFloor.set(g.gpk, ev);
        break;
      }
      case 'family': {
        const f = d.acc;
        const stored = item ? schemaFromItem(item) : undefined;
        if (!stored || familyConflict(stored.schema, f.schema)) {
          if (stored) ctx.cache.schemas.set(f.name, stored);
          else ctx.cache.schemas.delete(f.name);
          for (const a of f.newSeries) refetch.push(...a.ops);
          break;
        }
        ctx.cache.schemas.set(f.name, stored);
        limitHits.push({
          scope: 'maxSeriesPerFamily',
          news: f.newSeries,
          have: stored.count,
          max: ctx.limits.maxSeriesPerFamily,
        });
        break;
      }
      case 'total': {
        const have = readNumber(item?.n) ?? 0;
        limitHits.push({ scope: 'maxSeriesTotal', news: d.news, have, max: ctx.limits.maxSeriesTotal });
        break;
      }
      case 'gen':
        break;
      case 'pack':
        onPackCancelled(ctx, d, item);
        break;
      case 'guard':
        onGuardCancelled(ctx, d.key, d.accs, item);
        break;
    }
  });
  for (const h of limitHits) {
    const room = Math.max(0, h.max - h.have);
    h.news.forEach((a, k) => {
      if (k < room) return;
      for (const o of a.ops) rejectOp(o, limitErr(ctx, h.scope, a.first.op.name));
    });
  }
  return refetch;
}
