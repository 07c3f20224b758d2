/**
 * Pushgateway pushes (PUT/POST) on DynamoDB: ordered by push time through the group's meta item, written in
 * counted chunks (./counted-chunks.ts); and push failures (recordPushFailure).
 */

import type { TransactWriteItem } from '@aws-sdk/client-dynamodb';
import { boundsKey } from '../../model/buckets';
import { TransientError, ValidationError } from '../../model/errors';
import {
  type HistogramSeries,
  hasStart,
  type Labels,
  type MetricFamily,
  type MetricType,
} from '../../model/types';
import {
  type FamilySchema,
  failureReason,
  familyConflict,
  groupLimitError,
  groupShapeNames,
  reservedNameCandidates,
  reservedNameConflict,
  schemaOf,
  seriesLabelLimitError,
} from '../families';
import { encNative } from '../native-codec';
import type { GroupingKey, PushRequest, PushResult, ValidGroupingKey } from '../types';
import { copyLabels } from './apply-types';
import {
  CREATED,
  familyPushSk,
  groupPk,
  type Item,
  labelsAttr,
  n,
  numList,
  SK_META,
  SK_SCHEMA,
  s,
  schemaPk,
  seriesSk,
  shardOf,
  valueAttr,
} from './codec';
import type { StoreContext } from './context';
import { type CountedEntry, countedChunks } from './counted-chunks';
import { deleteAt } from './delete';
import { Expr } from './expr';
import { groupCountFailure, groupCountUpdate, initGroupCount } from './group-count';
import { toAccrue } from './io';
import { deletePack, isPacked, packAbsent, packableSeries, packCount, packFamily, packSk } from './packs';
import { backoffMs, cancellationReasons, sleep } from './retry';
import { newerPushThan, revisionToken } from './revision';
import { limitErr, loadSchemas, reservationGuards } from './schemas';
import { deleteExisting, familyDelta, genUpdate, limitCond, totalUpdate } from './updates';

/** A push validated at the edge (`ValidPush`, shared/store/valid.ts); its grouping key is normalized. */
export async function pushToGroup(ctx: StoreContext, request: PushRequest): Promise<PushResult> {
  const group = request.group;
  const gl = groupLimitError(group, ctx.limits);
  if (gl) throw gl;
  const t = request.pushTimeMs;
  if (request.method === 'DELETE') return deleteAt(ctx, group, t);
  const gnames = groupShapeNames(group);
  // Per family: the type (label names and bucket layouts may differ between series); label limits.
  const fams = request.families.map((f) => {
    let schema: FamilySchema | undefined;
    for (const sr of f.series) {
      schema ??= schemaOf(f.name, f.type, gnames, sr.labels);
      const lim = seriesLabelLimitError(f.name, group, gnames, sr.labels, ctx.limits);
      if (lim) throw lim;
    }
    return { family: f, schema, bounds: [] as number[] };
  });
  const gpk = groupPk(group);
  for (let attempt = 0; attempt < 6; attempt++) {
    const part = await ctx.io.queryGroup(gpk);
    const meta = part.meta;
    if (newerPushThan(meta, t)) return { status: 'stale' };
    const pushed = new Set(fams.map((f) => f.family.name));
    for (const [fam, ts] of part.pushTs) {
      if (ts > t && (request.method === 'PUT' || pushed.has(fam))) return { status: 'stale' };
    }
    // Old series being replaced, per family.
    const removed = new Map<string, Item[]>();
    for (const it of part.series) {
      const fam = it.f?.S ?? '';
      if (request.method === 'PUT' || pushed.has(fam)) {
        const l = removed.get(fam) ?? [];
        l.push(it);
        removed.set(fam, l);
      }
    }
    // Series of their own item are replaced in place; pushed series move out of packs (./packs.ts).
    const oldKeys = new Set(part.series.filter((it) => !isPacked(it)).map((it) => it.sk!.S!));
    // Schemas, read fresh: pushes are rare next to applies and must be exact.
    const pushedTypes = new Map<string, MetricType>();
    const reservedNames: string[] = [];
    for (const f of fams) {
      if (!f.schema) continue;
      pushedTypes.set(f.family.name, f.family.type);
      reservedNames.push(...reservedNameCandidates(f.family.name, f.family.type));
    }
    const famNames = [...new Set([...pushed, ...removed.keys(), ...reservedNames])];
    await loadSchemas(ctx, famNames);
    const definedType = (nm: string): MetricType | undefined => {
      const st = ctx.cache.schemas.get(nm);
      return pushedTypes.get(nm) ?? (st && st.count > 0 ? st.schema.type : undefined);
    };
    // Per family: what the first transaction defines or checks (new family, redefinition, limit, HELP).
    // The counts themselves follow the items, transaction by transaction (countedChunks).
    const firstDefs = new Map<string, (d: number) => TransactWriteItem>();
    const defined: { name: string; type: MetricType }[] = [];
    let totalDelta = 0;
    for (const f of fams) {
      const name = f.family.name;
      const newCount = f.family.series.length;
      const here = removed.get(name)?.length ?? 0;
      const delta = newCount - here;
      totalDelta += delta;
      const stored = ctx.cache.schemas.get(name);
      if (!f.schema) continue; // an empty family: removes its series here (their deletes count), defines nothing
      if (!stored || stored.count === here) {
        const rc = reservedNameConflict(name, f.family.type, definedType);
        if (rc) throw rc;
      }
      if (!stored || (familyConflict(stored.schema, f.schema) && stored.count === here)) {
        // New family, or redefinition of one whose only series are the ones this push replaces.
        if (newCount > ctx.limits.maxSeriesPerFamily) throw limitErr(ctx, 'maxSeriesPerFamily', name);
        const schema = f.schema;
        const help = f.family.help || stored?.help;
        defined.push({ name, type: f.family.type });
        firstDefs.set(name, (d) => {
          const e = new Expr();
          const item: Item = {
            pk: s(schemaPk(name)),
            sk: s(SK_SCHEMA),
            name: s(name),
            t: s(schema.type),
            shape: s(schema.shape),
            bk: s(schema.buckets),
            b: numList([]),
            // The series this push replaces are still there until their deletes commit (with their -1).
            n: n((stored ? here : 0) + d),
            ...(help ? { help: s(help) } : {}),
          };
          return {
            Put: {
              TableName: ctx.table,
              Item: item,
              ConditionExpression: stored
                ? `${e.n('n')} = ${e.v(n(here))}`
                : `attribute_not_exists(${e.n('pk')})`,
              ...e.parts(),
            },
          };
        });
        continue;
      }
      const c = familyConflict(stored.schema, f.schema);
      if (c) throw c;
      if (delta > 0 && stored.count + delta > ctx.limits.maxSeriesPerFamily)
        throw limitErr(ctx, 'maxSeriesPerFamily', name);
      const help = f.family.help && !stored.help ? f.family.help : undefined;
      const type = f.schema.type;
      if (delta > 0 || help) {
        firstDefs.set(name, (d) => {
          const e = new Expr();
          const conds = [`${e.n('t')} = ${e.v(s(type))}`];
          if (delta > 0) conds.push(limitCond(e, ctx.limits.maxSeriesPerFamily - delta));
          const h = help ? `, ${e.n('help')} = ${e.v(s(help))}` : '';
          return {
            Update: {
              TableName: ctx.table,
              Key: { pk: s(schemaPk(name)), sk: s(SK_SCHEMA) },
              UpdateExpression: `SET ${e.n('name')} = ${e.v(s(name))}${h} ADD ${e.n('n')} ${e.v(n(d))}`,
              ConditionExpression: conds.join(' AND '),
              ...e.parts(),
            },
          };
        });
      }
    }
    for (const [fam, items] of removed) if (!pushed.has(fam)) totalDelta -= items.length;
    const groupCount = part.series.length + totalDelta;
    if (totalDelta > 0 && groupCount > ctx.limits.maxSeriesPerGroup)
      throw limitErr(ctx, 'maxSeriesPerGroup', fams[0]?.family.name ?? '');
    if (totalDelta > 0) {
      const total = await ctx.io.readTotal();
      if (total + totalDelta > ctx.limits.maxSeriesTotal)
        throw limitErr(ctx, 'maxSeriesTotal', fams[0]?.family.name ?? '');
    }
    // The reserved-name rule in the first transaction, beside the definitions (./schemas.ts).
    const guards = reservationGuards(ctx, defined, new Set([...pushed, ...removed.keys()]));
    const entries: CountedEntry[] = guards.map((item) => ({ item, delta: 0 }));
    // POST markers (ordering per family) and, for PUT, removal of all markers.
    const markerCond = (x: Expr) =>
      `attribute_not_exists(${x.n('pushTs')}) OR ${x.n('pushTs')} <= ${x.v(n(t))}`;
    if (request.method === 'PUT') {
      for (const fam of part.pushTs.keys()) {
        const x = new Expr();
        const Key = { pk: s(gpk), sk: s(familyPushSk(fam)) };
        entries.push({
          item: {
            Delete: { TableName: ctx.table, Key, ConditionExpression: markerCond(x), ...x.parts() },
          },
          delta: 0,
        });
      }
    } else {
      for (const fam of pushed) {
        const x = new Expr();
        const Item = { pk: s(gpk), sk: s(familyPushSk(fam)), fam: s(fam), pushTs: n(t) };
        entries.push({
          item: { Put: { TableName: ctx.table, Item, ConditionExpression: markerCond(x), ...x.parts() } },
          delta: 0,
        });
      }
    }
    // Series: puts (conditional on what we saw) first, then deletes of what is not pushed again; each
    // new or deleted series counts in the transaction that writes it.
    const newKeys = new Set<string>();
    const guarded = new Set(part.packs.map((p) => p.sk!.S!));
    for (const f of fams) {
      for (const sr of f.family.series) {
        const labels = copyLabels(sr.labels);
        const sk = seriesSk(f.family.name, labels);
        newKeys.add(sk);
        const x = new Expr();
        const existed = oldKeys.has(sk);
        // A pack this push didn't see must still not exist (an apply creating the series there meanwhile
        // would give it two homes): checked with the series' put; the push reads again if it appeared.
        const pack = packSk(sk);
        if (!existed && packableSeries(f.family.type, labels) && !guarded.has(pack)) {
          guarded.add(pack);
          entries.push({ item: packAbsent(ctx.table, gpk, pack), delta: 0 });
        }
        entries.push({
          item: {
            Put: {
              TableName: ctx.table,
              Item: pushedSeriesItem(gpk, sk, f.family, sr, labels),
              ConditionExpression: existed
                ? `attribute_exists(${x.n('pk')})`
                : `attribute_not_exists(${x.n('pk')})`,
              ...x.parts(),
            },
          },
          family: f.family.name,
          delta: existed ? 0 : 1,
        });
      }
    }
    for (const items of removed.values()) {
      for (const it of items) {
        if (newKeys.has(it.sk!.S!) || isPacked(it)) continue;
        entries.push({ item: deleteExisting(ctx.table, it), family: it.f?.S ?? '', delta: -1 });
      }
    }
    // A replaced family's packs go whole (each holds one family), with -k on its count.
    for (const p of part.packs) {
      if (!removed.has(packFamily(p))) continue;
      entries.push({ item: deletePack(ctx.table, p), family: packFamily(p), delta: -packCount(p) });
    }
    // A group new to the store is counted in the first transaction (./group-count.ts).
    const isNew = part.meta === undefined;
    const chunks = countedChunks({
      entries,
      headSize: isNew ? 3 : 2,
      head: (c, groupDelta, final) => [
        pushMetaUpdate(ctx, {
          gpk,
          group,
          t,
          put: request.method === 'PUT',
          c,
          groupDelta,
          totalDelta,
          final,
          isNew,
        }),
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
    });
    const r = await writeGroupChunks(ctx, t, chunks, isNew ? 2 : undefined);
    if (r === 'stale') return { status: 'stale' };
    if (r === 'ok') {
      for (const it of part.series) {
        ctx.cache.forgetSeries(`${gpk}|${it.sk!.S!}`);
      }
      for (const p of part.packs) ctx.cache.packFull.delete(`${gpk}|${p.sk!.S!}`);
      for (const k of newKeys) {
        ctx.cache.exists.set(`${gpk}|${k}`, true);
        ctx.cache.packed.delete(`${gpk}|${k}`);
        ctx.cache.setFloor.delete(`${gpk}|${k}`);
        ctx.cache.bigValue.delete(`${gpk}|${k}`);
      }
      for (const nm of famNames) ctx.cache.schemas.delete(nm);
      return { status: 'applied' };
    }
    // 'retry': something changed under us; read again.
    await sleep(backoffMs(attempt, ctx.io.retry));
  }
  throw new TransientError(`push to group ${describeGroup(group)}: the group kept changing; retry later`);
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

function pushedSeriesItem(
  gpk: string,
  sk: string,
  f: MetricFamily,
  sr: MetricFamily['series'][number],
  labels: Labels,
): Item {
  const item: Item = { pk: s(gpk), sk: s(sk), f: s(f.name), t: s(f.type), l: labelsAttr(labels) };
  // The start the push carried (a protobuf created_timestamp), kept as given: the gateway can't know it.
  const start = hasStart(f.type) ? sr.createdMs : undefined;
  if (start !== undefined && Number.isFinite(start)) item[CREATED] = n(start);
  if (f.type === 'histogram') {
    const h = sr as unknown as { buckets: { le: number; count: number }[]; sum: number; count: number };
    const bounds = h.buckets.map((b) => b.le);
    item.b = numList(bounds);
    item.bk = s(boundsKey(bounds));
    item.c = valueAttr(h.count);
    item.s = valueAttr(h.sum);
    h.buckets.forEach((b, i) => {
      item[`b${i}`] = valueAttr(b.count);
    });
    const native = (sr as HistogramSeries).native;
    if (native !== undefined) item.nh = s(JSON.stringify(encNative(native)));
  } else if (f.type === 'summary') {
    const q = sr as unknown as {
      quantiles: { quantile: number; value: number }[];
      sum: number;
      count: number;
    };
    item.c = valueAttr(q.count);
    item.s = valueAttr(q.sum);
    item.qk = numList(q.quantiles.map((x) => x.quantile));
    item.qv = numList(q.quantiles.map((x) => x.value));
  } else {
    item.v = valueAttr((sr as { value: number }).value);
  }
  return item;
}

export function describeGroup(g: GroupingKey): string {
  return Object.keys(g)
    .map((k) => `${k}=${JSON.stringify(String(g[k]).slice(0, 64))}`)
    .join(',');
}
