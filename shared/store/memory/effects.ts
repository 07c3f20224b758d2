/**
 * The effects of accepted writes on the state: an op, a push, a push failure, a wipe. Called for live writes
 * and, with the same arguments, when the journal is replayed (./persist.ts), so both give the same state.
 */
import { gaugeSetWins } from '../../model/gauge';
import { addNative } from '../../model/native';
import type { HistogramSeries, Labels, MetricFamily, ScalarSeries, SummarySeries } from '../../model/types';
import { opFamilyType } from '../families';
import type { GroupingKey, MetricOp, PushMethod } from '../types';
import {
  type Cell,
  flatKey,
  freezeLabels,
  type HistCell,
  isScalarType,
  own,
  pushedStart,
  type ScalarCell,
  scalarCell,
  summaryCell,
} from './cells';
import { addCell, createFamily, createGroup, type MemoryState, removeFamily, removeGroup } from './state';

/**
 * Applies a checked op; returns whether anything changed (a stale set changes nothing). `now` is the store
 * clock of the apply (the journal record's time on replay): a counter or histogram series the op creates
 * starts then (`createdMs`); an existing series keeps its start.
 */
export function applyOp(
  st: MemoryState,
  group: GroupingKey,
  keyStr: string,
  op: MetricOp,
  sk: string,
  now: number,
): boolean {
  const existingGrp = st.groups.get(keyStr);
  const existingFam = existingGrp?.families.get(op.name);
  const existingCell = existingFam?.series.get(sk);
  if (op.kind === 'gauge_set' && existingCell && existingFam && isScalarType(existingFam.type)) {
    // Ties on event time compare with the value of the last SET (not the current value, which adds may
    // have moved): a redelivered set is stale and does not undo later adds.
    const setMs = existingFam.setMs?.get(sk) ?? Number.NEGATIVE_INFINITY;
    const value = existingFam.setVal?.get(sk) ?? (existingCell as ScalarCell).value;
    if (!gaugeSetWins(op.timeMs, op.value, setMs, value)) return false;
  }
  const grp = existingGrp ?? createGroup(st, group, keyStr);
  const fam = existingFam ?? createFamily(st, grp, op.name, opFamilyType(op.kind), op.help ?? '', op.labels);
  if (op.help && fam.help === '') fam.help = own(op.help);
  if (op.kind === 'histogram_observe') {
    let c = existingCell as HistCell | undefined;
    if (!c) {
      c = {
        t: 'h',
        labels: freezeLabels(op.labels),
        bounds: Object.freeze([...op.bounds]),
        cum: new Array<number>(op.bounds.length).fill(0),
        sum: 0,
        count: 0,
        native: undefined,
        createdMs: now,
        snap: undefined,
      };
      addCell(st, grp, fam, sk, c);
    }
    // Checked before (./apply.ts): the op has native buckets exactly when the series does (or it is new).
    if (op.native !== undefined)
      c.native = c.native === undefined ? op.native : addNative(c.native, op.native);
    let run = 0;
    for (let b = 0; b < c.cum.length; b++) {
      run += op.counts[b]!;
      c.cum[b]! += run;
    }
    c.sum += op.sum;
    c.count += op.count;
    c.snap = undefined;
  } else {
    const old = existingCell as ScalarCell | undefined;
    const labels = old?.labels ?? freezeLabels(op.labels);
    const value = op.kind === 'gauge_set' ? op.value : (old?.value ?? 0) + op.value;
    const start = old === undefined ? (op.kind === 'counter_inc' ? now : undefined) : old.createdMs;
    const next = scalarCell(labels, value, start);
    if (old) fam.series.set(sk, next);
    else addCell(st, grp, fam, sk, next);
    if (op.kind === 'gauge_set') fam.recordSet(sk, op.timeMs, op.value);
  }
  fam.cached = undefined;
  grp.cached = undefined;
  st.snapGroups = undefined;
  return true;
}

export function touchGroupForApply(
  st: MemoryState,
  keyStr: string,
  now: number,
  eventTimeMs: number | undefined,
): void {
  const g = st.groups.get(keyStr);
  if (!g) return;
  g.lastPushMs = g.lastPushMs === undefined ? now : Math.max(g.lastPushMs, now);
  g.lastUpdateMs = now;
  if (eventTimeMs !== undefined)
    g.lastEventMs = g.lastEventMs === undefined ? eventTimeMs : Math.max(g.lastEventMs, eventTimeMs);
  g.cached = undefined;
  st.snapGroups = undefined;
}

export function applyPush(
  st: MemoryState,
  group: GroupingKey,
  keyStr: string,
  method: PushMethod,
  families: readonly MetricFamily[],
  t: number,
  now: number,
): void {
  if (method === 'DELETE') {
    const grp = st.groups.get(keyStr);
    if (grp) {
      removeGroup(st, grp);
      st.gen++;
    }
    st.tombstones.set(keyStr, Math.max(t, st.tombstones.get(keyStr) ?? Number.NEGATIVE_INFINITY));
    return;
  }
  const grp = st.groups.get(keyStr) ?? createGroup(st, group, keyStr);
  if (method === 'PUT') {
    for (const f of [...grp.families.values()]) removeFamily(st, grp, f);
    grp.famPushMs.clear();
    grp.putMs = Math.max(grp.putMs, t);
  }
  const intern = new Map<string, string>();
  for (const f of families) {
    const old = grp.families.get(f.name);
    if (old) removeFamily(st, grp, old);
    const name = own(f.name);
    grp.famPushMs.set(name, t);
    if (f.series.length === 0) continue;
    const fam = createFamily(st, grp, name, f.type, f.help, f.series[0]!.labels);
    for (const s of f.series) {
      const labels = freezeLabels(s.labels, intern);
      addCell(st, grp, fam, flatKey(labels), pushedCell(f.type, s, labels));
    }
  }
  grp.maxPushMs = Math.max(grp.maxPushMs, t);
  grp.lastPushMs = grp.lastPushMs === undefined ? t : Math.max(grp.lastPushMs, t);
  grp.lastUpdateMs = now;
  grp.cached = undefined;
  st.snapGroups = undefined;
  st.gen++;
}

/** The cell of one pushed series (frozen labels given), with the start the push carried where it may have one. */
function pushedCell(type: MetricFamily['type'], s: MetricFamily['series'][number], labels: Labels): Cell {
  if (type === 'histogram') {
    const h = s as HistogramSeries;
    return {
      t: 'h',
      labels,
      bounds: Object.freeze(h.buckets.map((b) => b.le)),
      cum: h.buckets.map((b) => b.count),
      sum: h.sum,
      count: h.count,
      native: h.native,
      createdMs: pushedStart(type, h),
      snap: undefined,
    };
  }
  if (type === 'summary') {
    const q = s as SummarySeries;
    return summaryCell(labels, q.quantiles, q.sum, q.count, pushedStart(type, q));
  }
  const sc = s as ScalarSeries;
  return scalarCell(labels, sc.value, pushedStart(type, sc));
}

export function applyFailure(
  st: MemoryState,
  key: GroupingKey,
  timeMs: number,
  reason: string,
  now: number,
): void {
  const keyStr = flatKey(key);
  const grp = st.groups.get(keyStr) ?? createGroup(st, key, keyStr);
  if (grp.lastPushFailureMs === undefined || timeMs >= grp.lastPushFailureMs) {
    grp.lastPushFailureMs = timeMs;
    grp.lastFailureReason = reason;
  }
  grp.lastUpdateMs = now;
  grp.cached = undefined;
  st.snapGroups = undefined;
  st.gen++;
}

export function applyWipe(st: MemoryState): void {
  st.groups.clear();
  st.schemas.clear();
  st.tombstones.clear();
  st.total = 0;
  st.sortedGroups = undefined;
  st.snapGroups = undefined;
  st.gen++;
}
