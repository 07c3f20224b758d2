/**
 * Snapshots: immutable GroupState trees that share every group and family not changed since the last one.
 */

import type { HistogramSeries, MetricFamily, ScalarSeries, SummarySeries } from '../../model/types';
import { groupTimes } from '../group-times';
import type { GroupState } from '../types';
import { type Fam, type Grp, type HistCell, histSnap, type ScalarCell, type SummaryCell } from './cells';
import type { MemoryState } from './state';

export function orderedGroups(st: MemoryState): Grp[] {
  if (!st.sortedGroups) {
    st.sortedGroups = [...st.groups.values()].sort((a, b) =>
      a.keyStr < b.keyStr ? -1 : a.keyStr > b.keyStr ? 1 : 0,
    );
  }
  return st.sortedGroups;
}

export function buildGroups(st: MemoryState): readonly GroupState[] {
  if (st.snapGroups) return st.snapGroups;
  const out: GroupState[] = [];
  for (const g of orderedGroups(st)) out.push(g.cached ?? buildGroup(st, g));
  st.snapGroups = Object.freeze(out);
  return st.snapGroups;
}

export function buildGroup(st: MemoryState, g: Grp): GroupState {
  if (!g.famOrder) g.famOrder = [...g.families.keys()].sort();
  const families: MetricFamily[] = [];
  for (const name of g.famOrder) {
    const f = g.families.get(name)!;
    families.push(f.cached ?? buildFamily(st, f));
  }
  st.groupsRebuilt++;
  const familyPushMs = new Map<string, number>();
  for (const name of g.famOrder) {
    const t = g.famPushMs.get(name);
    if (t !== undefined) familyPushMs.set(name, t);
  }
  const state: GroupState = Object.freeze({
    key: g.key,
    ...groupTimes(g),
    ...(familyPushMs.size > 0 ? { familyPushMs } : {}),
    families: Object.freeze(families),
  });
  g.cached = state;
  return state;
}

export function buildFamily(_st: MemoryState, f: Fam): MetricFamily {
  if (!f.order) f.order = [...f.series.keys()].sort();
  let built: MetricFamily;
  if (f.type === 'histogram') {
    const series: HistogramSeries[] = [];
    for (const k of f.order) series.push(histSnap(f.series.get(k) as HistCell));
    built = { name: f.name, help: f.help, type: 'histogram', series: Object.freeze(series) };
  } else if (f.type === 'summary') {
    const series: SummarySeries[] = [];
    for (const k of f.order) series.push((f.series.get(k) as SummaryCell).snap);
    built = { name: f.name, help: f.help, type: 'summary', series: Object.freeze(series) };
  } else {
    const series: ScalarSeries[] = [];
    for (const k of f.order) {
      series.push(f.series.get(k) as ScalarCell);
    }
    built = { name: f.name, help: f.help, type: f.type, series: Object.freeze(series) };
  }
  f.cached = Object.freeze(built);
  return f.cached;
}
