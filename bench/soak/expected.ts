/**
 * The soak's independent count (bench/soak.ts): what the store must hold, computed from what the producers
 * published, and the comparison of a snapshot with it.
 */
import { labelsKey } from '../../shared/model/identity';
import type { HistogramSeries, Labels, ScalarSeries } from '../../shared/model/types';
import type { StoreSnapshot } from '../../shared/store/types';

export interface SoakCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

type Expect =
  | { kind: 'sum'; value: number; events: number; signed: boolean }
  | { kind: 'hist'; bounds: readonly number[]; counts: number[]; sum: number; count: number }
  | { kind: 'set'; timeMs: number; value: number }
  | { kind: 'gauge'; setTimeMs: number; setValue: number; value: number };

/** The independent count: what the store must hold, computed from what the producers published. */
export class ExpectedTotals {
  readonly #m = new Map<string, { group: Labels; name: string; labels: Labels; e: Expect }>();

  #get(group: Labels, name: string, labels: Labels, init: () => Expect): Expect {
    const key = `${labelsKey(group)}\u0001${name}\u0001${labelsKey(labels)}`;
    let x = this.#m.get(key);
    if (!x) {
      x = { group, name, labels, e: init() };
      this.#m.set(key, x);
    }
    return x.e;
  }

  add(group: Labels, name: string, labels: Labels, value: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'sum', value: 0, events: 0, signed: false }));
    if (e.kind !== 'sum') throw new Error(`${name}: not a sum`);
    e.value += value;
    e.events++;
    if (value < 0) e.signed = true;
  }

  observe(group: Labels, name: string, labels: Labels, bounds: readonly number[], v: number): void {
    const e = this.#get(group, name, labels, () => ({
      kind: 'hist',
      bounds,
      counts: new Array<number>(bounds.length).fill(0),
      sum: 0,
      count: 0,
    }));
    if (e.kind !== 'hist') throw new Error(`${name}: not a histogram`);
    for (let i = 0; i < bounds.length; i++) if (v <= bounds[i]!) e.counts[i]!++;
    e.sum += v;
    e.count++;
  }

  /** Last writer wins by event time; a tie goes to the larger value (the store contract's rule). */
  set(group: Labels, name: string, labels: Labels, timeMs: number, value: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'set', timeMs: -1, value: 0 }));
    if (e.kind !== 'set') throw new Error(`${name}: not a set`);
    if (timeMs > e.timeMs || (timeMs === e.timeMs && value > e.value)) {
      e.timeMs = timeMs;
      e.value = value;
    }
  }

  /**
   * A gauge moved by sets and adds (bench/soak/shapes.ts), called in the order the store applies them: in
   * one message the sets first, then the adds (docs/store.md); across messages only where the soak has
   * made that order certain (the earlier phase drained). A set applies when newer than the last set, or
   * equal with a larger value than that set's value, and then replaces the value.
   */
  gaugeSet(group: Labels, name: string, labels: Labels, timeMs: number, value: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'gauge', setTimeMs: -1, setValue: 0, value: 0 }));
    if (e.kind !== 'gauge') throw new Error(`${name}: not a mixed gauge`);
    if (timeMs > e.setTimeMs || (timeMs === e.setTimeMs && value > e.setValue)) {
      e.setTimeMs = timeMs;
      e.setValue = value;
      e.value = value;
    }
  }

  gaugeAdd(group: Labels, name: string, labels: Labels, delta: number): void {
    const e = this.#get(group, name, labels, () => ({ kind: 'gauge', setTimeMs: -1, setValue: 0, value: 0 }));
    if (e.kind !== 'gauge') throw new Error(`${name}: not a mixed gauge`);
    e.value += delta;
  }

  /** Forgets every series of `group` (a PUT replaced its content). */
  clearGroup(group: Labels): void {
    const prefix = `${labelsKey(group)}\u0001`;
    for (const k of [...this.#m.keys()]) if (k.startsWith(prefix)) this.#m.delete(k);
  }

  get size(): number {
    return this.#m.size;
  }

  /**
   * Compares a snapshot's groups whose job is `job` with the model: one check per expected series, one
   * for unexpected series. `lost` / `doubled` add up events missing or counted twice (sums and histogram
   * counts; for a sum of unit increments the difference in value, else in event count equivalents).
   */
  compare(
    snap: StoreSnapshot,
    job: string,
  ): { checks: SoakCheck[]; lost: number; doubled: number; unexpected: string[] } {
    const actual = new Map<string, ScalarSeries | HistogramSeries>();
    for (const g of snap.groups) {
      if (g.key.job !== job) continue;
      for (const f of g.families)
        for (const s of f.series as readonly (ScalarSeries | HistogramSeries)[])
          actual.set(`${labelsKey(g.key)}\u0001${f.name}\u0001${labelsKey(s.labels)}`, s);
    }
    const checks: SoakCheck[] = [];
    let lost = 0;
    let doubled = 0;
    for (const [key, x] of this.#m) {
      const a = actual.get(key);
      actual.delete(key);
      const id = `${x.name}${JSON.stringify(x.labels)} @ ${JSON.stringify(x.group)}`;
      if (!a) {
        checks.push({ name: id, ok: false, detail: 'missing from the store' });
        if (x.e.kind === 'sum') lost += x.e.events;
        else if (x.e.kind === 'hist') lost += x.e.count;
        continue;
      }
      const e = x.e;
      if (e.kind === 'hist') {
        const h = a as HistogramSeries;
        const want = e.bounds.map((le, i) => `${le}:${e.counts[i]}`).join(',');
        const got = (h.buckets ?? []).map((b) => `${b.le}:${b.count}`).join(',');
        const ok = h.count === e.count && h.sum === e.sum && got === want;
        if (h.count < e.count) lost += e.count - h.count;
        if (h.count > e.count) doubled += h.count - e.count;
        checks.push({
          name: id,
          ok,
          detail: ok
            ? `count ${e.count}, sum ${e.sum}`
            : `want count ${e.count} sum ${e.sum} buckets ${want}; got count ${h.count} sum ${h.sum} buckets ${got}`,
        });
      } else {
        const v = (a as ScalarSeries).value;
        const ok = v === e.value;
        // Only a counter-like sum (no negative deltas) says how many events were lost or doubled.
        if (e.kind === 'sum' && !e.signed && !ok) {
          if (v < e.value) lost += e.value - v;
          else doubled += v - e.value;
        }
        checks.push({ name: id, ok, detail: ok ? `${v}` : `want ${e.value}, got ${v}` });
      }
    }
    const unexpected = [...actual.keys()].map((k) => k.replaceAll('\u0001', ' '));
    checks.push({
      name: 'no series the producers did not send',
      ok: unexpected.length === 0,
      detail: unexpected.length === 0 ? 'none' : unexpected.slice(0, 5).join('; '),
    });
    return { checks, lost, doubled, unexpected };
  }
}
