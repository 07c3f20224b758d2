/**
 * The items a push writes (./push.ts), each with its effect on its family's series count: POST markers
 * (or, for PUT, their removal), the pushed series (conditional on what the push read), and the deletes of
 * the replaced series that are not pushed again, packs whole.
 */
import { boundsKey } from '../../model/buckets';
import {
  type HistogramSeries,
  hasStart,
  type Labels,
  type MetricFamily,
  type SummarySeries,
} from '../../model/types';
import { encNative } from '../native-codec';
import type { PushRequest } from '../types';
import { copyLabels } from './apply-types';
import { CREATED, familyPushSk, type Item, labelsAttr, n, numList, s, seriesSk, valueAttr } from './codec';
import type { StoreContext } from './context';
import type { CountedEntry } from './counted-chunks';
import { Expr } from './expr';
import { deletePack, isPacked, packAbsent, packableSeries, packCount, packFamily, packSk } from './packs';
import type { GroupRead, PushedFamily } from './push-read';
import { deleteExisting } from './updates';

/** POST markers (ordering per family) and, for PUT, removal of all markers. */
export function markerEntries(
  ctx: StoreContext,
  request: PushRequest,
  gpk: string,
  read: GroupRead,
): CountedEntry[] {
  const t = request.pushTimeMs;
  const markerCond = (x: Expr) =>
    `attribute_not_exists(${x.n('pushTs')}) OR ${x.n('pushTs')} <= ${x.v(n(t))}`;
  const entries: CountedEntry[] = [];
  if (request.method === 'PUT') {
    for (const fam of read.part.pushTs.keys()) {
      const x = new Expr();
      const Key = { pk: s(gpk), sk: s(familyPushSk(fam)) };
      entries.push({
        item: { Delete: { TableName: ctx.table, Key, ConditionExpression: markerCond(x), ...x.parts() } },
        delta: 0,
      });
    }
  } else {
    for (const fam of read.pushed) {
      const x = new Expr();
      const Item = { pk: s(gpk), sk: s(familyPushSk(fam)), fam: s(fam), pushTs: n(t) };
      entries.push({
        item: { Put: { TableName: ctx.table, Item, ConditionExpression: markerCond(x), ...x.parts() } },
        delta: 0,
      });
    }
  }
  return entries;
}

/**
 * The pushed series, put conditional on what the push saw; a new series counts in the transaction that
 * writes it. Returns their sort keys too.
 */
export function seriesPuts(
  ctx: StoreContext,
  gpk: string,
  fams: readonly PushedFamily[],
  read: GroupRead,
): { entries: CountedEntry[]; newKeys: Set<string> } {
  const entries: CountedEntry[] = [];
  const newKeys = new Set<string>();
  const guarded = new Set(read.part.packs.map((p) => p.sk!.S!));
  for (const { family } of fams) {
    family.series.forEach((sr, i) => {
      const labels = copyLabels(sr.labels);
      const sk = seriesSk(family.name, labels);
      newKeys.add(sk);
      const x = new Expr();
      const existed = read.oldKeys.has(sk);
      // A pack this push didn't see must still not exist (an apply creating the series there meanwhile
      // would give it two homes): checked with the series' put; the push reads again if it appeared.
      const pack = packSk(sk);
      if (!existed && packableSeries(family.type, labels) && !guarded.has(pack)) {
        guarded.add(pack);
        entries.push({ item: packAbsent(ctx.table, gpk, pack), delta: 0 });
      }
      entries.push({
        item: {
          Put: {
            TableName: ctx.table,
            Item: pushedSeriesItem(gpk, sk, family, i, labels),
            ConditionExpression: existed
              ? `attribute_exists(${x.n('pk')})`
              : `attribute_not_exists(${x.n('pk')})`,
            ...x.parts(),
          },
        },
        family: family.name,
        delta: existed ? 0 : 1,
      });
    });
  }
  return { entries, newKeys };
}

/**
 * Deletes of the replaced series not pushed again (-1 each); a replaced family's packs go whole (each
 * holds one family), with -k on its count.
 */
export function removalEntries(
  ctx: StoreContext,
  read: GroupRead,
  newKeys: ReadonlySet<string>,
): CountedEntry[] {
  const entries: CountedEntry[] = [];
  for (const items of read.removed.values()) {
    for (const it of items) {
      if (newKeys.has(it.sk!.S!) || isPacked(it)) continue;
      entries.push({ item: deleteExisting(ctx.table, it), family: it.f?.S ?? '', delta: -1 });
    }
  }
  for (const p of read.part.packs) {
    if (!read.removed.has(packFamily(p))) continue;
    entries.push({ item: deletePack(ctx.table, p), family: packFamily(p), delta: -packCount(p) });
  }
  return entries;
}

/** The item of series `i` of a pushed family. */
function pushedSeriesItem(gpk: string, sk: string, f: MetricFamily, i: number, labels: Labels): Item {
  const item: Item = { pk: s(gpk), sk: s(sk), f: s(f.name), t: s(f.type), l: labelsAttr(labels) };
  // The start the push carried (a protobuf created_timestamp), kept as given: the gateway can't know it.
  const start = hasStart(f.type) ? f.series[i]!.createdMs : undefined;
  if (start !== undefined && Number.isFinite(start)) item[CREATED] = n(start);
  // Narrowed by the family's type, each series is of its family's kind: no cast needed.
  if (f.type === 'histogram') putHistogram(item, f.series[i]!);
  else if (f.type === 'summary') putSummary(item, f.series[i]!);
  else item.v = valueAttr(f.series[i]!.value);
  return item;
}

function putHistogram(item: Item, h: HistogramSeries): void {
  const bounds = h.buckets.map((b) => b.le);
  item.b = numList(bounds);
  item.bk = s(boundsKey(bounds));
  item.c = valueAttr(h.count);
  item.s = valueAttr(h.sum);
  h.buckets.forEach((b, i) => {
    item[`b${i}`] = valueAttr(b.count);
  });
  if (h.native !== undefined) item.nh = s(JSON.stringify(encNative(h.native)));
}

function putSummary(item: Item, q: SummarySeries): void {
  item.c = valueAttr(q.count);
  item.s = valueAttr(q.sum);
  item.qk = numList(q.quantiles.map((x) => x.quantile));
  item.qv = numList(q.quantiles.map((x) => x.value));
}
