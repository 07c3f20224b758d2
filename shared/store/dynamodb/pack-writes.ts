/**
 * Writing series packs (./packs.ts) in apply transactions: one Update per pack with every series of the
 * transaction in it, each under the condition its own item would have had (exists / doesn't, gauge set
 * newer, value still numeric or still the one read), the guard that keeps a new series of its own item out
 * of its full pack, and learning from a cancelled pack update (ALL_OLD holds the whole pack, so each series' condition is
 * evaluated here to find which failed).
 */

import type { AttributeValue, TransactWriteItem, Update } from '@aws-sdk/client-dynamodb';
import { newerSet } from '../../model/gauge';
import { hasStart } from '../../model/types';
import type { MetricOp } from '../types';
import type { Desc, SeriesAcc } from './apply-types';
import { CREATED, deltaString, labelsAttr, n, readNumber, s, valueAttr } from './codec';
import type { StoreContext } from './context';
import { Expr } from './expr';
import { PACK_ROOM, seriesBytes, seriesId, seriesIn } from './packs';

type SetOp = Extract<MetricOp, { kind: 'gauge_set' }>;

/**
 * The map a new series starts with in its pack: labels, its first value (set or sum of deltas), and for a
 * counter its start (`nowMs`, ./codec.ts CREATED; the map is written only while absent).
 */
function newSeriesMap(a: SeriesAcc, nowMs: number): AttributeValue {
  const m: Record<string, AttributeValue> = { l: labelsAttr(a.first.labels) };
  if (hasStart(a.first.schema.type)) m[CREATED] = n(nowMs);
  if (a.set) {
    const op = a.set.op as SetOp;
    m.v = valueAttr(op.value);
    m.ts = n(op.timeMs);
    m.sv = valueAttr(op.value);
  } else if (a.rmw) m.v = valueAttr(a.scalar ?? 0);
  else m.v = { N: deltaString(a.scalar ?? 0) };
  return { M: m };
}

/** SET clauses and conditions of one series already in the pack. */
function existingClauses(e: Expr, p: string, a: SeriesAcc): { sets: string[]; conds: string[] } {
  const v = `${p}.${e.n('v')}`;
  if (a.set) {
    const op = a.set.op as SetOp;
    const vv = e.v(valueAttr(op.value));
    const tv = e.v(n(op.timeMs));
    const ts = `${p}.${e.n('ts')}`;
    const sv = `${p}.${e.n('sv')}`;
    return {
      sets: [`${v} = ${vv}`, `${ts} = ${tv}`, `${sv} = ${vv}`],
      // shared/model/gauge.ts's rule: a later time wins, on a tie the larger value than the last set's.
      conds: [
        `attribute_exists(${p})`,
        `(attribute_not_exists(${ts}) OR ${ts} < ${tv} OR (${ts} = ${tv} AND ${sv} < ${vv}))`,
      ],
    };
  }
  if (a.rmw) {
    const old = a.rmw.old;
    return {
      sets: [`${v} = ${e.v(valueAttr((readNumber(old) ?? 0) + (a.scalar ?? 0)))}`],
      conds: [
        `attribute_exists(${p})`,
        old === undefined ? `attribute_not_exists(${v})` : `${v} = ${e.v(old)}`,
      ],
    };
  }
  return {
    sets: [`${v} = ${v} + ${e.v({ N: deltaString(a.scalar ?? 0) })}`],
    conds: [`attribute_type(${v}, ${e.v(s('N'))})`],
  };
}

/**
 * The Update of one pack: its series (`accs`), the write and event times, and for new series the count
 * `k`, the bytes `z` (room checked) and their map; `guards` are new series of their own item that must not
 * be in this pack.
 */
export function packUpdate(
  ctx: StoreContext,
  key: string,
  accs: readonly SeriesAcc[],
  guards: readonly SeriesAcc[],
  nowMs: number,
  eventMs: number | undefined,
): { update: Update; newBytes: number } {
  const e = new Expr();
  const first = accs[0] ?? guards[0]!;
  const sets = [
    `${e.n('u')} = ${e.v(n(nowMs))}`,
    `${e.n('f')} = ${e.v(s(first.first.op.name))}`,
    `${e.n('t')} = ${e.v(s(first.first.schema.type))}`,
  ];
  if (eventMs !== undefined) sets.push(`${e.n('ev')} = ${e.v(n(eventMs))}`);
  const conds: string[] = [];
  let newCount = 0;
  let newBytes = 0;
  accs.forEach((a, i) => {
    // Series names are digests (base64url): placeholders of their own, as Expr.n would fold `-` into `_`.
    const p = `#p${i}`;
    e.names[p] = seriesId(a.sk);
    if (a.isNew) {
      sets.push(`${p} = ${e.v(newSeriesMap(a, nowMs))}`);
      conds.push(`attribute_not_exists(${p})`);
      newCount++;
      newBytes += seriesBytes(a.first.labels);
      return;
    }
    const c = existingClauses(e, p, a);
    sets.push(...c.sets);
    conds.push(...c.conds);
  });
  if (guards.length > 0) conds.push(guardCondition(e, guards));
  let add = '';
  if (newCount > 0) {
    add = ` ADD ${e.n('k')} ${e.v(n(newCount))}, ${e.n('z')} ${e.v(n(newBytes))}`;
    conds.push(`(attribute_not_exists(${e.n('z')}) OR ${e.n('z')} <= ${e.v(n(PACK_ROOM))})`);
  }
  const bar = key.indexOf('|');
  return {
    update: {
      TableName: ctx.table,
      Key: { pk: s(key.slice(0, bar)), sk: s(key.slice(bar + 1)) },
      UpdateExpression: `SET ${sets.join(', ')}${add}`,
      ...(conds.length > 0 ? { ConditionExpression: conds.join(' AND ') } : {}),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    },
    newBytes,
  };
}

/** The pack is full (so takes no new series) and doesn't hold these series of their own item. */
function guardCondition(e: Expr, guards: readonly SeriesAcc[]): string {
  const conds = [`${e.n('z')} > ${e.v(n(PACK_ROOM))}`];
  guards.forEach((a, i) => {
    const p = `#g${i}`;
    e.names[p] = seriesId(a.sk);
    conds.push(`attribute_not_exists(${p})`);
  });
  return conds.join(' AND ');
}

/** The guard of new series of their own item when the transaction doesn't write their pack: a ConditionCheck. */
export function packGuard(ctx: StoreContext, key: string, guards: readonly SeriesAcc[]): TransactWriteItem {
  const e = new Expr();
  const bar = key.indexOf('|');
  return {
    ConditionCheck: {
      TableName: ctx.table,
      Key: { pk: s(key.slice(0, bar)), sk: s(key.slice(bar + 1)) },
      ConditionExpression: guardCondition(e, guards),
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      ...e.parts(),
    },
  };
}

/** Learns from a failed guard: the pack has room after all (or is gone), or holds the series. */
export function onGuardCancelled(
  ctx: StoreContext,
  key: string,
  guards: readonly SeriesAcc[],
  item: Record<string, AttributeValue> | undefined,
): void {
  if (!((readNumber(item?.z) ?? 0) > PACK_ROOM)) ctx.cache.packFull.delete(key);
  for (const a of guards) {
    if (!seriesIn(item, a.sk)) continue;
    // It is in the pack after all: known, not new.
    ctx.cache.exists.set(a.key, true);
    ctx.cache.packed.add(a.key);
  }
}

/** Learns from a cancelled pack update: which series' condition failed against the pack as it was. */
export function onPackCancelled(
  ctx: StoreContext,
  d: Extract<Desc, { k: 'pack' }>,
  item: Record<string, AttributeValue> | undefined,
): void {
  if (d.newBytes > 0 && (readNumber(item?.z) ?? 0) > PACK_ROOM) ctx.cache.packFull.add(d.key);
  if (d.guards.length > 0) onGuardCancelled(ctx, d.key, d.guards, item);
  for (const a of d.accs) {
    const m = seriesIn(item, a.sk);
    if (a.isNew) {
      if (m) {
        ctx.cache.exists.set(a.key, true);
        ctx.cache.packed.add(a.key);
      }
      continue;
    }
    if (!m) {
      // Gone from the pack (a push or DELETE removed it, maybe leaving it an item of its own): learn its
      // home again from both places before the next attempt.
      ctx.cache.exists.delete(a.key);
      ctx.cache.packed.delete(a.key);
      continue;
    }
    if (a.set) {
      const ts = readNumber(m.ts);
      const v = readNumber(m.sv) ?? readNumber(m.v);
      if (ts === undefined || v === undefined) continue;
      ctx.cache.noteSet(a.key, ts, v);
      if (!newerSet(a.set.op as SetOp, { timeMs: ts, value: v }))
        for (const o of a.ops) for (const u of o.req.units) u.sets = u.sets.filter((x) => x.key !== a.key);
    } else if (!a.rmw && a.scalar !== undefined && m.v?.N === undefined) {
      // Not a number DynamoDB can add to (NaN, infinities): read-modify-write from now on.
      ctx.cache.bigValue.add(a.key);
    }
  }
}
