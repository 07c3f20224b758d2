/**
 * Snapshot assembly: `GroupState`s from series-table items (a group's meta item, its series items, and the
 * family schema items that give type, HELP and bucket layout). Used for the full read (a Scan) and for
 * every group the change index says changed (one Query of its partition).
 */
import { labelsKey } from '../../model/identity';
import type { NativeHistogram } from '../../model/native';
import type { MetricFamily, MetricType } from '../../model/types';
import type { FamilySchema } from '../families';
import type { GroupState } from '../types';
import {
  type Item,
  readCreated,
  readLabels,
  readNative,
  readNumber,
  readNumList,
  readString,
  SK_META,
  SK_SCHEMA,
} from './codec';
import { mergeSeries, PACK_PREFIX } from './packs';

/** A family schema item, decoded. */
export interface SchemaEntry {
  readonly schema: FamilySchema;
  readonly bounds: readonly number[];
  readonly help?: string;
  readonly count: number;
}

export function schemaFromItem(it: Item): SchemaEntry | undefined {
  const name = readString(it.name);
  const type = readString(it.t) as MetricType | undefined;
  if (!name || !type) return undefined;
  const help = readString(it.help);
  return {
    schema: { name, type, shape: readString(it.shape) ?? '', buckets: readString(it.bk) ?? '' },
    bounds: readNumList(it.b),
    ...(help ? { help } : {}),
    count: readNumber(it.n) ?? 0,
  };
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One group partition's items, sorted out. */
export interface GroupItems {
  meta?: Item;
  series: Item[];
  /** Pack items (./packs.ts), folded into `series` by withPacks. */
  packs?: Item[];
}

/** Notes a pack item of the partition (folded into its series by withPacks). */
export function addPack(g: GroupItems, it: Item): void {
  if (!g.packs) g.packs = [];
  g.packs.push(it);
}

/** Folds a partition's pack items into its series (one entry per series). */
export function withPacks(g: GroupItems): GroupItems {
  if (g.packs && g.packs.length > 0) g.series = mergeSeries(g.series, g.packs);
  g.packs = undefined;
  return g;
}

/** Splits scanned items into schemas and group partitions. */
export function sortItems(items: readonly Item[]): {
  schemas: Map<string, SchemaEntry>;
  groups: Map<string, GroupItems>;
} {
  const schemas = new Map<string, SchemaEntry>();
  const groups = new Map<string, GroupItems>();
  for (const it of items) {
    const pk = it.pk?.S ?? '';
    const sk = it.sk?.S ?? '';
    if (pk.startsWith('f#') && sk === SK_SCHEMA) {
      const e = schemaFromItem(it);
      if (e) schemas.set(e.schema.name, e);
    } else if (pk.startsWith('g#')) {
      let g = groups.get(pk);
      if (!g) {
        g = { series: [] };
        groups.set(pk, g);
      }
      if (sk === SK_META) g.meta = it;
      else if (sk.startsWith('s#')) g.series.push(it);
      else if (sk.startsWith(PACK_PREFIX)) addPack(g, it);
    }
  }
  for (const g of groups.values()) withPacks(g);
  return { schemas, groups };
}

/** The group as readers see it; undefined when it has no meta item or is tombstoned (orphans are left out). */
export function assembleGroup(
  g: GroupItems,
  schemas: ReadonlyMap<string, SchemaEntry>,
): GroupState | undefined {
  const m = g.meta;
  if (!m || m.deleted !== undefined) return undefined;
  const byFam = new Map<string, Item[]>();
  for (const it of g.series) {
    const f = it.f?.S ?? '';
    const l = byFam.get(f) ?? [];
    l.push(it);
    byFam.set(f, l);
  }
  const families: MetricFamily[] = [];
  for (const [name, list] of byFam) families.push(assembleFamily(name, list, schemas.get(name)));
  families.sort((a, b) => cmp(a.name, b.name));
  // The apply path stamps series items, not the meta item (u: write time, ev: event time).
  let u: number | undefined;
  let ev: number | undefined;
  for (const it of g.series) {
    const iu = readNumber(it.u);
    const iev = readNumber(it.ev);
    if (iu !== undefined && (u === undefined || iu > u)) u = iu;
    if (iev !== undefined && (ev === undefined || iev > ev)) ev = iev;
  }
  const newest = (a: number | undefined, b: number | undefined) =>
    a === undefined ? b : b === undefined ? a : Math.max(a, b);
  const stamped: Record<string, number | undefined> = {
    lastPushMs: newest(readNumber(m.lastPushMs), u),
    lastUpdateMs: newest(readNumber(m.lastUpdateMs), u),
    lastEventMs: newest(readNumber(m.lastEventMs), ev),
  };
  const num = (k: string) => (k in stamped ? stamped[k] : readNumber(m[k]));
  // A meta item created ahead of a group's first apply (./group-count.ts) shows once it has content.
  if (families.length === 0 && num('lastPushMs') === undefined && num('lastPushFailureMs') === undefined)
    return undefined;
  const reason = readString(m.lastFailureReason);
  return {
    key: readLabels(m.l),
    ...(num('lastPushMs') !== undefined ? { lastPushMs: num('lastPushMs')! } : {}),
    ...(num('lastPushFailureMs') !== undefined ? { lastPushFailureMs: num('lastPushFailureMs')! } : {}),
    ...(reason !== undefined ? { lastFailureReason: reason } : {}),
    ...(num('lastEventMs') !== undefined ? { lastEventMs: num('lastEventMs')! } : {}),
    lastUpdateMs: num('lastUpdateMs') ?? 0,
    families,
  };
}

function assembleFamily(name: string, list: Item[], sc: SchemaEntry | undefined): MetricFamily {
  const type = (sc?.schema.type ?? (list[0]?.t?.S as MetricType | undefined) ?? 'untyped') as MetricType;
  const help = sc?.help ?? '';
  const sorted = list
    .map((it) => ({ it, labels: readLabels(it.l) }))
    .map((x) => ({ ...x, key: labelsKey(x.labels) }))
    .sort((a, b) => cmp(a.key, b.key));
  if (type === 'histogram') {
    return {
      name,
      help,
      type,
      series: sorted.map(({ it, labels }) => ({
        labels,
        // Each series keeps its own layout; items from before per-series layouts use the family's.
        buckets: (it.bk !== undefined ? readNumList(it.b) : (sc?.bounds ?? [])).map((le, i) => ({
          le,
          count: readNumber(it[`b${i}`]) ?? 0,
        })),
        sum: readNumber(it.s) ?? 0,
        count: readNumber(it.c) ?? 0,
        ...nativeOf(it, name),
        ...startOf(it),
      })),
    };
  }
  if (type === 'summary') {
    return {
      name,
      help,
      type,
      series: sorted.map(({ it, labels }) => {
        const qk = readNumList(it.qk);
        const qv = readNumList(it.qv);
        return {
          labels,
          quantiles: qk.map((quantile, i) => ({ quantile, value: qv[i] ?? Number.NaN })),
          sum: readNumber(it.s) ?? 0,
          count: readNumber(it.c) ?? 0,
          ...startOf(it),
        };
      }),
    };
  }
  return {
    name,
    help,
    type,
    series: sorted.map(({ it, labels }) =>
      type === 'counter'
        ? { labels, value: readNumber(it.v) ?? 0, ...startOf(it) }
        : { labels, value: readNumber(it.v) ?? 0 },
    ),
  };
}

/** The series' start (./codec.ts CREATED), when the item has one. */
function startOf(it: Item): { createdMs?: number } {
  const ms = readCreated(it);
  return ms === undefined ? {} : { createdMs: ms };
}

/** Groups sorted by `labelsKey` of their grouping key. */
export function sortGroups(groups: GroupState[]): GroupState[] {
  return groups
    .map((g) => ({ g, k: labelsKey(g.key) }))
    .sort((a, b) => cmp(a.k, b.k))
    .map((x) => x.g);
}

/**
 * The native histogram of a series item (pushed: attribute `nh`; aggregated from events: per-bucket
 * attributes, ./codec.ts), validated. A damaged one is left out (the classic part still renders): one item
 * never breaks the scrape.
 */
function nativeOf(it: Item, family: string): { native?: NativeHistogram } {
  try {
    const native = readNative(it, `series item of ${family}`);
    return native === undefined ? {} : { native };
  } catch {
    return {};
  }
}
