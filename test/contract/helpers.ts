/**
 * Builders and readers for the store contract suite (test/contract/store-contract.ts).
 * Kept separate so implementation-specific tests can reuse them.
 */
import { labelsKey } from '../../shared/model/identity';
import type { HistogramFamily, Labels, MetricFamily, ScalarFamily } from '../../shared/model/types';
import type {
  ApplyRequest,
  CounterInc,
  GaugeAdd,
  GaugeSet,
  GroupingKey,
  GroupState,
  HistogramObserve,
  MetricOp,
  StoreSnapshot,
} from '../../shared/store/types';

/** A settable clock for stores that take `now`. */
export class FakeClock {
  t: number;
  constructor(start = 1_700_000_000_000) {
    this.t = start;
  }
  readonly now = (): number => this.t;
  advance(ms: number): number {
    this.t += ms;
    return this.t;
  }
}

export const inc = (name: string, labels: Labels, value: number, help?: string): CounterInc => ({
  kind: 'counter_inc',
  name,
  labels,
  value,
  ...(help !== undefined ? { help } : {}),
});
export const add = (name: string, labels: Labels, value: number): GaugeAdd => ({
  kind: 'gauge_add',
  name,
  labels,
  value,
});
export const set = (name: string, labels: Labels, value: number, timeMs: number): GaugeSet => ({
  kind: 'gauge_set',
  name,
  labels,
  value,
  timeMs,
});
/** Histogram observations from raw values against `bounds` (non-cumulative counts, like the ingest path). */
export function observe(
  name: string,
  labels: Labels,
  bounds: readonly number[],
  values: readonly number[],
): HistogramObserve {
  const counts = new Array<number>(bounds.length + 1).fill(0);
  let sum = 0;
  for (const v of values) {
    let i = bounds.findIndex((b) => v <= b);
    if (i < 0) i = bounds.length;
    counts[i] = counts[i]! + 1;
    sum += v;
  }
  return { kind: 'histogram_observe', name, labels, bounds, counts, sum, count: values.length };
}

export const req = (
  id: string,
  group: GroupingKey,
  ops: readonly MetricOp[],
  eventTimeMs?: number,
): ApplyRequest => ({
  id,
  group,
  ops,
  ...(eventTimeMs !== undefined ? { eventTimeMs } : {}),
});

export function counterFamily(name: string, series: Array<[Labels, number]>, help = ''): ScalarFamily {
  return { name, help, type: 'counter', series: series.map(([labels, value]) => ({ labels, value })) };
}
export function gaugeFamily(name: string, series: Array<[Labels, number]>, help = ''): ScalarFamily {
  return { name, help, type: 'gauge', series: series.map(([labels, value]) => ({ labels, value })) };
}
export function histogramFamily(
  name: string,
  labels: Labels,
  buckets: Array<[number, number]>,
  sum: number,
  count: number,
): HistogramFamily {
  return {
    name,
    help: '',
    type: 'histogram',
    series: [{ labels, buckets: buckets.map(([le, c]) => ({ le, count: c })), sum, count }],
  };
}

/** Plain copy of labels (null-prototype objects compare badly with toEqual). */
export const plain = (l: Labels): Record<string, string> => ({ ...l });

export function findGroup(snap: StoreSnapshot, group: GroupingKey): GroupState | undefined {
  const k = labelsKey(dropEmpty(group));
  return snap.groups.find((g) => labelsKey(g.key) === k);
}

function dropEmpty(l: Labels): Labels {
  const out: Record<string, string> = Object.create(null);
  for (const n of Object.keys(l)) if (l[n] !== '') out[n] = l[n]!;
  return out;
}

export function findFamily(snap: StoreSnapshot, group: GroupingKey, name: string): MetricFamily | undefined {
  return findGroup(snap, group)?.families.find((f) => f.name === name);
}

/** Value of a counter/gauge series, undefined when absent. */
export function seriesValue(
  snap: StoreSnapshot,
  group: GroupingKey,
  name: string,
  labels: Labels = {},
): number | undefined {
  const f = findFamily(snap, group, name);
  if (!f || f.type === 'histogram' || f.type === 'summary') return undefined;
  const k = labelsKey(labels);
  return f.series.find((s) => labelsKey(s.labels) === k)?.value;
}

export function histogramOf(snap: StoreSnapshot, group: GroupingKey, name: string, labels: Labels = {}) {
  const f = findFamily(snap, group, name);
  if (f?.type !== 'histogram') return undefined;
  const k = labelsKey(labels);
  const s = f.series.find((x) => labelsKey(x.labels) === k);
  if (!s) return undefined;
  return { buckets: s.buckets.map((b) => [b.le, b.count]), sum: s.sum, count: s.count };
}

/** Total number of series in a snapshot. */
export function seriesCount(snap: StoreSnapshot): number {
  let n = 0;
  for (const g of snap.groups) for (const f of g.families) n += f.series.length;
  return n;
}

/** Runs `fn` and returns what it threw (fails the test when it did not throw). */
export async function thrown(fn: () => Promise<unknown>): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a rejection, but the call resolved');
}
