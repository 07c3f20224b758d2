/**
 * How the memory store holds series: cells (a scalar series is its frozen snapshot object), families and
 * groups, and the compact frozen label sets and flat keys they are indexed by (docs/memory.md).
 */
import { KEY_SEP } from '../../model/identity';
import type { NativeHistogram } from '../../model/native';
import {
  type Bucket,
  type HistogramSeries,
  hasStart,
  type Labels,
  type MetricFamily,
  type MetricType,
  type Quantile,
  type ScalarSeries,
  type SeriesStart,
  type SummarySeries,
} from '../../model/types';
import { groupShapeNames } from '../families';
import type { GroupingKey, GroupState } from '../types';

/**
 * A counter/gauge/untyped series is held as its (frozen) snapshot object itself: no separate mutable cell,
 * a change replaces the object (snapshots stay immutable). Gauge-set event times live in `Fam.setMs`,
 * only for series that were ever set. See docs/store.md "Memory".
 */
export type ScalarCell = ScalarSeries;

export interface HistCell {
  readonly t: 'h';
  readonly labels: Labels;
  /** This series' finite bucket bounds (series of one family may differ, as on the Pushgateway). */
  readonly bounds: readonly number[];
  /** Cumulative counts per finite bound. */
  readonly cum: number[];
  sum: number;
  count: number;
  /** The native histogram, when the series has one (replaced, never mutated: snapshots share it). */
  native: NativeHistogram | undefined;
  /** When the series started, where known (`SeriesStart`): set when the cell is created, never changed. */
  readonly createdMs: number | undefined;
  snap: HistogramSeries | undefined;
}

export interface SummaryCell {
  readonly t: 'q';
  readonly labels: Labels;
  readonly snap: SummarySeries;
}

export type Cell = ScalarCell | HistCell | SummaryCell;

export function isScalarType(t: MetricType): boolean {
  return t !== 'histogram' && t !== 'summary';
}

export class Fam {
  readonly series = new Map<string, Cell>();
  /** Series keys sorted; undefined when series were added/removed since. */
  order: string[] | undefined;
  cached: MetricFamily | undefined;
  /** Event time of the last applied gauge set per series key (absent: never set, i.e. -Infinity). */
  setMs: Map<string, number> | undefined;
  /** Value of that set (the series value may have moved since, by adds). */
  setVal: Map<string, number> | undefined;
  recordSet(sk: string, timeMs: number, value: number): void {
    if (!this.setMs) this.setMs = new Map();
    if (!this.setVal) this.setVal = new Map();
    this.setMs.set(sk, timeMs);
    this.setVal.set(sk, value);
  }
  constructor(
    readonly name: string,
    readonly type: MetricType,
    public help: string,
  ) {}
}

export class Grp {
  readonly families = new Map<string, Fam>();
  seriesCount = 0;
  lastPushMs: number | undefined;
  lastPushFailureMs: number | undefined;
  lastFailureReason: string | undefined;
  lastEventMs: number | undefined;
  lastUpdateMs = 0;
  /** Newest PUT/DELETE push time. */
  putMs = Number.NEGATIVE_INFINITY;
  /** Newest push time of any method. */
  maxPushMs = Number.NEGATIVE_INFINITY;
  /** Newest POST/PUT time per family name (cleared by a PUT, which dominates them). */
  readonly famPushMs = new Map<string, number>();
  famOrder: string[] | undefined;
  cached: GroupState | undefined;
  readonly shapeNames: readonly string[];
  constructor(
    readonly key: GroupingKey,
    readonly keyStr: string,
  ) {
    this.shapeNames = groupShapeNames(key);
  }
}

export const EMPTY: readonly never[] = Object.freeze([]);

/**
 * Prototype of the store's label objects: itself prototype-less, so hostile names (`constructor`,
 * `toString`) find nothing inherited, as with `Object.create(null)`. Unlike `Object.create(null)` objects
 * (dictionary mode in V8, ~250 bytes each once frozen, one hidden class per object), objects created from
 * a shared non-null prototype stay in fast mode and share one hidden class per label-name order.
 */
const LABELS_PROTO: object = Object.freeze(Object.create(null));

/**
 * A string that shares no storage with a larger one. Strings parsed out of a push body can be V8 "sliced
 * strings" (length >= 13) that keep the whole body alive; a JSON round trip copies them (lone surrogates
 * survive it, unlike a UTF-8 round trip).
 */
export function own(s: string): string {
  return s.length < 13 ? s : (JSON.parse(JSON.stringify(s)) as string);
}

/** Frozen compact copy of a label set; `intern` shares equal values within one push. */
export function freezeLabels(l: Labels, intern?: Map<string, string>): Labels {
  const o = Object.create(LABELS_PROTO) as Record<string, string>;
  for (const k in l) {
    if (!Object.hasOwn(l, k)) continue;
    const v = l[k]!;
    if (intern === undefined) o[k] = own(v);
    else {
      let iv = intern.get(v);
      if (iv === undefined) {
        iv = own(v);
        intern.set(iv, iv);
      }
      o[k] = iv;
    }
  }
  return Object.freeze(o);
}

/**
 * `flatKey(labels)` built with one `join`, so the key is one flat string (the `+=` form leaves a
 * cons-string wrapper per key in the maps: 32 bytes per series).
 */
export function flatKey(labels: Labels): string {
  const names = Object.keys(labels);
  if (names.length === 0) return '';
  if (names.length > 1) names.sort();
  const parts: string[] = new Array(names.length * 2);
  for (let i = 0; i < names.length; i++) {
    parts[2 * i] = names[i]!;
    parts[2 * i + 1] = labels[names[i]!]!;
  }
  return parts.join(KEY_SEP);
}

export function histSnap(c: HistCell): HistogramSeries {
  if (c.snap) return c.snap;
  const bounds = c.bounds;
  const buckets: Bucket[] = [];
  for (let i = 0; i < bounds.length; i++) buckets.push(Object.freeze({ le: bounds[i]!, count: c.cum[i]! }));
  const base = { labels: c.labels, buckets: Object.freeze(buckets), sum: c.sum, count: c.count };
  const withNative = c.native === undefined ? base : { ...base, native: c.native };
  c.snap = Object.freeze(withCreated(withNative, c.createdMs));
  return c.snap;
}

/** A counter/gauge/untyped cell: its frozen snapshot, with `createdMs` only when the start is known. */
export function scalarCell(labels: Labels, value: number, createdMs: number | undefined): ScalarCell {
  return Object.freeze(createdMs === undefined ? { labels, value } : { labels, value, createdMs });
}

/** A summary cell from its parts (each quantile frozen), with `createdMs` only when the start is known. */
export function summaryCell(
  labels: Labels,
  quantiles: readonly Quantile[],
  sum: number,
  count: number,
  createdMs: number | undefined,
): SummaryCell {
  const q = Object.freeze(quantiles.map((x) => Object.freeze({ quantile: x.quantile, value: x.value })));
  const snap =
    createdMs === undefined
      ? { labels, quantiles: q, sum, count }
      : { labels, quantiles: q, sum, count, createdMs };
  return { t: 'q', labels, snap: Object.freeze(snap) };
}

/** `o` with `createdMs` when it is known (left out otherwise, so unknown starts add nothing). */
export function withCreated<T extends object>(o: T, createdMs: number | undefined): T & SeriesStart {
  return createdMs === undefined ? o : { ...o, createdMs };
}

/**
 * The start a stored series keeps from a pushed one: the pushed `createdMs` (a protobuf
 * `created_timestamp`) of a counter, histogram or summary; never a gauge's or an untyped series'.
 */
export function pushedStart(type: MetricType, s: SeriesStart): number | undefined {
  if (!hasStart(type)) return undefined;
  const ms = s.createdMs;
  return typeof ms === 'number' && Number.isFinite(ms) ? ms : undefined;
}
