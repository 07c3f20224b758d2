/**
 * Update expressions of the apply path and the counters: a series, a group's meta, a family's and the
 * store's series counts, a generation shard.
 */

import type { AttributeValue, Put, TransactWriteItem, Update } from '@aws-sdk/client-dynamodb';
import { boundsKey } from '../../model/buckets';
import { addNative, forEachBucket, MAX_NATIVE_BUCKETS, type NativeHistogram } from '../../model/native';
import { hasStart } from '../../model/types';
import type { FamilySchema } from '../families';
import type { MetricOp } from '../types';
import type { GroupAcc, SeriesAcc } from './apply-types';
import {
  addDecimals,
  CREATED,
  deltaString,
  genKey,
  type Item,
  isNativeAttr,
  labelsAttr,
  NATIVE_BUCKET_BOUND,
  NATIVE_SCHEMA,
  NATIVE_ZERO_COUNT,
  NATIVE_ZERO_THRESHOLD,
  n,
  nativeAttrs,
  nativeBucketAttr,
  nativeBucketCount,
  numList,
  PK_TOTAL,
  readNative,
  readNumber,
  SK_META,
  SK_SCHEMA,
  SK_TOTAL,
  s,
  schemaPk,
  valueAttr,
} from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';

export function seriesUpdate(ctx: StoreContext, a: SeriesAcc, nowMs: number, eventMs?: number): Update {
  const e = new Expr();
  // The write's time `u` (and event time `ev`): the group's times are the newest of its items.
  const sets: string[] = [`${e.n('u')} = ${e.v(n(nowMs))}`];
  if (eventMs !== undefined) sets.push(`${e.n('ev')} = ${e.v(n(eventMs))}`);
  const adds: string[] = [];
  const o = a.first;
  const conds: string[] = [];
  if (a.isNew) {
    sets.push(`${e.n('f')} = ${e.v(s(o.op.name))}`, `${e.n('l')} = ${e.v(labelsAttr(o.labels))}`);
    sets.push(`${e.n('t')} = ${e.v(s(o.schema.type))}`);
    // The series starts now (./codec.ts CREATED): only this creating write, guarded by the condition below.
    if (hasStart(o.schema.type)) sets.push(`${e.n(CREATED)} = ${e.v(n(nowMs))}`);
    conds.push(`attribute_not_exists(${e.n('pk')})`);
  } else {
    conds.push(`attribute_exists(${e.n('pk')})`);
  }
  if (a.set) {
    const op = a.set.op as Extract<MetricOp, { kind: 'gauge_set' }>;
    const vv = e.v(valueAttr(op.value));
    const tv = e.v(n(op.timeMs));
    sets.push(`${e.n('v')} = ${vv}`, `${e.n('ts')} = ${tv}`, `${e.n('sv')} = ${vv}`);
    if (!a.isNew) {
      // The gauge rule of shared/model/gauge.ts (`gaugeSetWins`) as a condition: a later time wins, on a
      // tie the larger value. Ties compare with the last SET's value `sv` (adds may have moved `v`): a redelivered set is
      // stale and never undoes later adds. Items written before `sv` existed compare with `v`.
      const ts = e.n('ts');
      const sv = e.n('sv');
      conds.push(
        `(attribute_not_exists(${ts}) OR ${ts} < ${tv} OR (${ts} = ${tv} AND (${sv} < ${vv} OR (attribute_not_exists(${sv}) AND ${e.n('v')} < ${vv}))))`,
      );
    }
  } else if (a.hist) {
    const bounds = a.first.bounds ?? [];
    if (a.isNew)
      sets.push(`${e.n('b')} = ${e.v(numList(bounds))}`, `${e.n('bk')} = ${e.v(s(boundsKey(bounds)))}`);
    else
      conds.push(
        `(attribute_not_exists(${e.n('bk')}) OR ${e.n('bk')} = ${e.v(s(boundsKey(bounds)))})`,
        `attribute_not_exists(${e.n('nh')})`,
      );
    if (a.native !== undefined) nativeAdds(e, a.native, a.isNew, sets, adds, conds);
    else if (!a.isNew) conds.push(`attribute_not_exists(${e.n(NATIVE_SCHEMA)})`);
    adds.push(
      `${e.n('c')} ${e.v({ N: deltaString(a.hist.count) })}`,
      `${e.n('s')} ${e.v({ N: deltaString(a.hist.sum) })}`,
    );
    a.hist.cum.forEach((c, i) => {
      if (c !== 0 || a.isNew) adds.push(`${e.n(`b${i}`)} ${e.v({ N: deltaString(c) })}`);
    });
    if (!a.isNew)
      conds.push(`(attribute_not_exists(${e.n('s')}) OR attribute_type(${e.n('s')}, ${e.v(s('N'))}))`);
  } else if (a.rmw) {
    // Exact float addition, written back only if the value is still the one read.
    const old = a.rmw.old;
    sets.push(`${e.n('v')} = ${e.v(valueAttr((readNumber(old) ?? 0) + (a.scalar ?? 0)))}`);
    conds.push(old === undefined ? `attribute_not_exists(${e.n('v')})` : `${e.n('v')} = ${e.v(old)}`);
  } else {
    adds.push(`${e.n('v')} ${e.v({ N: deltaString(a.scalar ?? 0) })}`);
    if (!a.isNew)
      conds.push(`(attribute_not_exists(${e.n('v')}) OR attribute_type(${e.n('v')}, ${e.v(s('N'))}))`);
  }
  const expr = [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
  ]
    .filter(Boolean)
    .join(' ');
  return {
    TableName: ctx.table,
    Key: { pk: s(a.gpk), sk: s(a.sk) },
    UpdateExpression: expr,
    ConditionExpression: conds.join(' AND '),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...e.parts(),
  };
}

/**
 * The native part of an apply, ADDed bucket by bucket (./codec.ts): a new series takes the ops' layout; an
 * existing one must have exactly that layout (`prepareNative` in ./apply-exec.ts reduced the ops into the
 * layout it knows); a cancellation tells the stored one.
 */
function nativeAdds(
  e: Expr,
  h: NativeHistogram,
  isNew: boolean,
  sets: string[],
  adds: string[],
  conds: string[],
): void {
  const schema = e.v(n(h.schema));
  const zt = e.v(n(h.zeroThreshold));
  const buckets = nativeBucketCount(h);
  if (isNew) sets.push(`${e.n(NATIVE_SCHEMA)} = ${schema}`, `${e.n(NATIVE_ZERO_THRESHOLD)} = ${zt}`);
  else
    conds.push(
      `${e.n(NATIVE_SCHEMA)} = ${schema}`,
      `${e.n(NATIVE_ZERO_THRESHOLD)} = ${zt}`,
      // The bucket cap (./codec.ts NATIVE_BUCKET_BOUND); an item without the bound is rewritten once.
      `${e.n(NATIVE_BUCKET_BOUND)} <= ${e.v(n(MAX_NATIVE_BUCKETS - buckets))}`,
    );
  adds.push(`${e.n(NATIVE_BUCKET_BOUND)} ${e.v(n(buckets))}`);
  if (h.zeroCount !== 0 || isNew) adds.push(`${e.n(NATIVE_ZERO_COUNT)} ${e.v(n(h.zeroCount))}`);
  forEachBucket(h.positive, (i, c) => {
    if (c !== 0) adds.push(`${e.n(nativeBucketAttr('p', i))} ${e.v(n(c))}`);
  });
  forEachBucket(h.negative, (i, c) => {
    if (c !== 0) adds.push(`${e.n(nativeBucketAttr('n', i))} ${e.v(n(c))}`);
  });
}

/**
 * A histogram series written whole (a Put) because its native buckets can't be ADDed: the ops' layout
 * differs from the stored one in a way that changes the stored buckets (a lower schema, a larger zero
 * threshold), the stored histogram was pushed (`nh`), or the ops bring more buckets than one update
 * expression can name. The item read (`a.rewrite.old`) plus the ops, merged by the spec; written only if
 * no other write touched it since it was read (its count and write time are unchanged).
 */
export function seriesRewrite(ctx: StoreContext, a: SeriesAcc, nowMs: number, eventMs?: number): Put {
  const e = new Expr();
  const old = a.rewrite?.old;
  const o = a.first;
  const hist = a.hist!;
  const item: Item = {};
  if (old === undefined) {
    const bounds = o.bounds ?? [];
    Object.assign(item, {
      pk: s(a.gpk),
      sk: s(a.sk),
      f: s(o.op.name),
      l: labelsAttr(o.labels),
      t: s(o.schema.type),
      b: numList(bounds),
      bk: s(boundsKey(bounds)),
      [CREATED]: n(nowMs),
    });
  } else for (const k of Object.keys(old)) if (!isNativeAttr(k)) item[k] = old[k]!;
  const count = (readNumber(old?.c) ?? 0) + hist.count;
  item.c = n(count);
  item.s = rewrittenSum(old?.s, hist.sum);
  hist.cum.forEach((c, i) => {
    item[`b${i}`] = n((readNumber(old?.[`b${i}`]) ?? 0) + c);
  });
  item.u = n(nowMs);
  if (eventMs !== undefined) item.ev = n(eventMs);
  const stored = old === undefined ? undefined : readNative(old, `series item of ${o.op.name}`);
  const merged = stored === undefined ? a.native! : addNative(stored, a.native!);
  Object.assign(item, nativeAttrs(merged));
  const same = (attr: string) =>
    old?.[attr] === undefined ? `attribute_not_exists(${e.n(attr)})` : `${e.n(attr)} = ${e.v(old[attr]!)}`;
  const cond =
    old === undefined
      ? `attribute_not_exists(${e.n('pk')})`
      : `attribute_exists(${e.n('pk')}) AND ${same('c')} AND ${same('u')} AND ${same(NATIVE_SCHEMA)}`;
  return {
    TableName: ctx.table,
    Item: item,
    ConditionExpression: cond,
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...e.parts(),
  };
}

/**
 * A rewritten series' sum as the ADD path would have made it: the stored decimal plus the delta, exactly
 * (./codec.ts addDecimals), when DynamoDB can hold the result (38 significant digits); otherwise, and for a
 * pushed NaN/Inf sum (a String attribute), the float sum as a replaced value.
 */
function rewrittenSum(old: AttributeValue | undefined, delta: number): AttributeValue {
  if (old === undefined) return { N: deltaString(delta) };
  if (old.N !== undefined) {
    const exact = addDecimals(old.N, deltaString(delta));
    if (significantDigits(exact) <= 38) return { N: exact };
  }
  return valueAttr((readNumber(old) ?? 0) + delta);
}

function significantDigits(plain: string): number {
  return plain.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
}

export function metaApplyUpdate(ctx: StoreContext, g: GroupAcc, nowMs: number, withEvent: boolean): Update {
  const e = new Expr();
  // The meta item exists (created and counted ahead, ./group-count.ts): an apply never creates a group.
  const conds: string[] = [`attribute_exists(${e.n('pk')})`];
  const sets = [
    `${e.n('l')} = if_not_exists(${e.n('l')}, ${e.v(labelsAttr(g.group))})`,
    `${e.n('lastUpdateMs')} = ${e.v(n(nowMs))}`,
    `${e.n('lastPushMs')} = ${e.v(n(nowMs))}`,
  ];
  if (withEvent && g.eventMax !== undefined) {
    // Not conditional (a condition would cancel the whole transaction on an older event time): the
    // floor known to this process (read from the table on first use) keeps it from going back.
    sets.push(`${e.n('lastEventMs')} = ${e.v(n(g.eventMax))}`);
  }
  let add = '';
  const k = g.newSeries.length;
  if (k > 0) {
    add = ` ADD ${e.n('n')} ${e.v(n(k))}`;
    conds.push(limitCond(e, ctx.limits.maxSeriesPerGroup - k));
  }
  return {
    TableName: ctx.table,
    Key: { pk: s(g.gpk), sk: s(SK_META) },
    UpdateExpression: `SET ${sets.join(', ')}${add} REMOVE ${e.n('deleted')}, ${e.n('expiresAt')}, ${e.n('tombUntil')}`,
    ConditionExpression: conds.join(' AND '),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...e.parts(),
  };
}

export function familyCounterUpdate(ctx: StoreContext, schema: FamilySchema, k: number): Update {
  const e = new Expr();
  const conds = [`${e.n('t')} = ${e.v(s(schema.type))}`];
  if (k > 0) conds.push(limitCond(e, ctx.limits.maxSeriesPerFamily - k));
  return {
    TableName: ctx.table,
    Key: { pk: s(schemaPk(schema.name)), sk: s(SK_SCHEMA) },
    UpdateExpression: `ADD ${e.n('n')} ${e.v(n(k))}`,
    ConditionExpression: conds.join(' AND '),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...e.parts(),
  };
}

export function totalCounterUpdate(ctx: StoreContext, k: number): Update {
  return totalUpdate(ctx, k, k);
}

/** Adds `add` to the store's series count; with `limitDelta` > 0, only if that many more still fit. */
export function totalUpdate(ctx: StoreContext, add: number, limitDelta: number): Update {
  const e = new Expr();
  return {
    TableName: ctx.table,
    Key: { pk: s(PK_TOTAL), sk: s(SK_TOTAL) },
    UpdateExpression: `ADD ${e.n('n')} ${e.v(n(add))}`,
    ...(limitDelta > 0 ? { ConditionExpression: limitCond(e, ctx.limits.maxSeriesTotal - limitDelta) } : {}),
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
    ...e.parts(),
  };
}

export function genUpdate(ctx: StoreContext, shard: number): Update {
  const e = new Expr();
  return {
    TableName: ctx.table,
    Key: genKey(shard),
    UpdateExpression: `ADD ${e.n('n')} ${e.v(n(1))}`,
    ...e.parts(),
  };
}

export function familyDelta(ctx: StoreContext, name: string, delta: number): Update {
  const e = new Expr();
  return {
    TableName: ctx.table,
    Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
    UpdateExpression: `ADD ${e.n('n')} ${e.v(n(delta))}`,
    ConditionExpression: `attribute_exists(${e.n('pk')})`,
    ...e.parts(),
  };
}

/** Delete of an item the caller saw (conditional on it still being there). */
export function deleteExisting(table: string, it: Item, notWrittenSince?: number): TransactWriteItem {
  const x = new Expr();
  // Expiry: only if no apply stamped the series (`u`) since the cutoff.
  const fresh =
    notWrittenSince === undefined
      ? ''
      : ` AND (attribute_not_exists(${x.n('u')}) OR ${x.n('u')} < ${x.v(n(notWrittenSince))})`;
  return {
    Delete: {
      TableName: table,
      Key: { pk: it.pk!, sk: it.sk! },
      ConditionExpression: `attribute_exists(${x.n('pk')})${fresh}`,
      ...x.parts(),
    },
  };
}

export function limitCond(e: Expr, lim: number): string {
  const nn = e.n('n');
  return lim >= 0
    ? `(attribute_not_exists(${nn}) OR ${nn} <= ${e.v(n(lim))})`
    : `(attribute_exists(${nn}) AND ${nn} <= ${e.v(n(lim))})`;
}
