/**
 * Pre-aggregation of one message's operations: one additive op per series (counter increments summed,
 * gauge inc/dec summed, histogram observations bucketed and summed) and the newest gauge set per series
 * (ties: the larger value, like the store's last-writer-wins rule, so the result doesn't depend on order).
 *
 * Series are kept per family in a Map keyed by the label values joined with NUL in the family's label
 * order (fixed per family, so no sorting on the hot path). Output order is deterministic: families in
 * the order first touched, series in the order first touched.
 */
import { gaugeSetWins } from '../model/gauge';
import { KEY_SEP } from '../model/identity';
import { type NativeLayout, NativeObserver } from '../model/native';
import type { Labels } from '../model/types';
import type { HistogramObserve, MetricOp } from '../store/types';

/** A family as this message uses it: from the profile, or defined by the first generic event naming it. */
export interface FamilyInfo {
  readonly name: string;
  readonly type: 'counter' | 'gauge' | 'histogram';
  /** HELP; for generic families the first non-empty one seen in the message. */
  help: string;
  /** Label names in key order. */
  readonly labelNames: readonly string[];
  /** Label names sorted (the family's shape). */
  readonly sortedLabelNames: readonly string[];
  readonly bounds: readonly number[];
  /** Histograms a profile declares native: their exponential layout (the observations go to both). */
  readonly native?: NativeLayout | undefined;
}

/** Accumulated state of one series; one class for every type so the hot path stays monomorphic. */
export class SeriesAcc {
  readonly labelValues: readonly string[];
  add = 0;
  hasAdd = false;
  setValue = 0;
  setTime = -1;
  hasSet = false;
  readonly counts: number[] | undefined;
  sum = 0;
  count = 0;
  readonly native: NativeObserver | undefined;
  constructor(labelValues: readonly string[], info: FamilyInfo) {
    this.labelValues = labelValues;
    this.counts = info.type === 'histogram' ? new Array<number>(info.bounds.length + 1).fill(0) : undefined;
    this.native = info.native === undefined ? undefined : new NativeObserver(info.native);
  }

  /**
   * Adds one observation: non-cumulative bucket of the first bound >= v (Prometheus `le`), sum, count, and
   * the exponential bucket when the family is native.
   */
  observe(bounds: readonly number[], v: number): void {
    const n = bounds.length;
    let b = 0;
    while (b < n && v > bounds[b]!) b++;
    this.counts![b]!++;
    this.sum += v;
    this.count++;
    this.native?.observe(v);
  }

  /** Last writer wins by event time; on equal times the larger value wins (shared/model/gauge.ts). */
  setGauge(v: number, timeMs: number): void {
    if (gaugeSetWins(timeMs, v, this.setTime, this.setValue)) {
      this.setTime = timeMs;
      this.setValue = v;
    }
    this.hasSet = true;
  }
}

interface FamilyState {
  readonly info: FamilyInfo;
  /** Series in first-touched order. */
  readonly list: SeriesAcc[];
  /** Canonical index by key; built only when a family can be reached by more than one path. */
  map: Map<string, SeriesAcc> | null;
}

function keyOfValues(values: readonly string[]): string {
  let key = '';
  for (let i = 0; i < values.length; i++) key = i === 0 ? values[0]! : key + KEY_SEP + values[i]!;
  return key;
}

export class Aggregator {
  /** By family slot (profile metric id, then generic families). */
  private readonly slots: (FamilyState | undefined)[] = [];
  private readonly order: FamilyState[] = [];

  private family(slot: number, info: FamilyInfo): FamilyState {
    let fam = this.slots[slot];
    if (fam === undefined) {
      fam = { info, list: [], map: null };
      this.slots[slot] = fam;
      this.order.push(fam);
    }
    return fam;
  }

  /**
   * The series with these label values (in the family's key order), found through the canonical index.
   * Use for families that several emits or generic events can reach.
   */
  series(slot: number, info: FamilyInfo, labelValues: readonly string[]): SeriesAcc {
    const fam = this.family(slot, info);
    let map = fam.map;
    if (map === null) {
      map = new Map();
      for (const acc of fam.list) map.set(keyOfValues(acc.labelValues), acc);
      fam.map = map;
    }
    const key = keyOfValues(labelValues);
    let acc = map.get(key);
    if (acc === undefined) {
      acc = new SeriesAcc(labelValues.slice(), info);
      map.set(key, acc);
      fam.list.push(acc);
    }
    return acc;
  }

  /**
   * A series the caller knows to be new for its only path (a profile metric fed by exactly one emit,
   * after a miss in that emit's cache); takes ownership of `labelValues`. Falls back to the index when a
   * generic event reached the family.
   */
  newSeries(slot: number, info: FamilyInfo, labelValues: readonly string[]): SeriesAcc {
    const fam = this.family(slot, info);
    if (fam.map !== null) return this.series(slot, info, labelValues);
    const acc = new SeriesAcc(labelValues, info);
    fam.list.push(acc);
    return acc;
  }

  /** The aggregated operations, deterministic order. Gauges with both sets and adds give a set, then an add. */
  ops(): MetricOp[] {
    const out: MetricOp[] = [];
    for (const fam of this.order) {
      const { info } = fam;
      const { name } = info;
      const help = info.help;
      for (const acc of fam.list) {
        const labels = toLabels(info.labelNames, acc.labelValues);
        // Object literals, not spreads: this runs once per series of every message. `help` is left out
        // when empty rather than set to undefined (marshallers such as DynamoDB's refuse undefined).
        if (info.type === 'histogram') {
          out.push(histogramOp(info, help, labels, acc));
        } else if (info.type === 'counter') {
          out.push(
            help === ''
              ? { kind: 'counter_inc', name, labels, value: acc.add }
              : { kind: 'counter_inc', name, help, labels, value: acc.add },
          );
        } else {
          if (acc.hasSet) {
            const value = acc.setValue;
            const timeMs = acc.setTime;
            out.push(
              help === ''
                ? { kind: 'gauge_set', name, labels, value, timeMs }
                : { kind: 'gauge_set', name, help, labels, value, timeMs },
            );
          }
          if (acc.hasAdd) {
            out.push(
              help === ''
                ? { kind: 'gauge_add', name, labels, value: acc.add }
                : { kind: 'gauge_add', name, help, labels, value: acc.add },
            );
          }
        }
      }
    }
    return out;
  }
}

/** One series' histogram op (with its native part when the family is native); literals, not spreads. */
function histogramOp(info: FamilyInfo, help: string, labels: Labels, acc: SeriesAcc): HistogramObserve {
  const { name, bounds } = info;
  const counts = acc.counts!;
  const { sum, count } = acc;
  if (acc.native === undefined)
    return help === ''
      ? { kind: 'histogram_observe', name, labels, bounds, counts, sum, count }
      : { kind: 'histogram_observe', name, help, labels, bounds, counts, sum, count };
  const native = acc.native.histogram();
  return help === ''
    ? { kind: 'histogram_observe', name, labels, bounds, counts, sum, count, native }
    : { kind: 'histogram_observe', name, help, labels, bounds, counts, sum, count, native };
}

function toLabels(names: readonly string[], values: readonly string[]): Labels {
  const labels: Record<string, string> = Object.create(null);
  for (let i = 0; i < names.length; i++) labels[names[i]!] = values[i]!;
  return labels;
}
