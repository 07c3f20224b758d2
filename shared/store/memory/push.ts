/**
 * Pushgateway pushes on the memory store: ordering by push time (isStale) and the checks a PUT/POST must
 * pass before anything is applied (checkPush).
 */
import type { MetricFamily, MetricType } from '../../model/types';
import {
  exposedLabelCount,
  familyConflict,
  groupShapeNames,
  labelLimitErrorCounted,
  reservedNameConflict,
  schemaOf,
  seriesLimitError,
} from '../families';
import type { GroupingKey, PushMethod } from '../types';
import type { Grp } from './cells';
import type { MemoryState } from './state';

export function isStale(
  st: MemoryState,
  grp: Grp | undefined,
  keyStr: string,
  method: PushMethod,
  families: readonly MetricFamily[],
  t: number,
): boolean {
  const tomb = st.tombstones.get(keyStr);
  const putMs = Math.max(grp?.putMs ?? Number.NEGATIVE_INFINITY, tomb ?? Number.NEGATIVE_INFINITY);
  const maxMs = Math.max(grp?.maxPushMs ?? Number.NEGATIVE_INFINITY, putMs);
  if (method !== 'POST') return t < maxMs;
  if (t < putMs) return true;
  if (grp)
    for (const f of families) if (t < (grp.famPushMs.get(f.name) ?? Number.NEGATIVE_INFINITY)) return true;
  return false;
}

/** Consistency and limits of a PUT/POST; throws FamilyConflictError / LimitError; changes nothing. */
export function checkPush(
  st: MemoryState,
  grp: Grp | undefined,
  group: GroupingKey,
  method: PushMethod,
  families: readonly MetricFamily[],
): void {
  const shapeNames = grp?.shapeNames ?? groupShapeNames(group);
  const pushedTypes = new Map<string, MetricType>();
  for (const f of families) if (f.series.length > 0) pushedTypes.set(f.name, f.type);
  let removedFromGroup = 0;
  let added = 0;
  if (method === 'PUT') removedFromGroup = grp?.seriesCount ?? 0;
  for (const f of families) {
    const self = grp?.families.get(f.name)?.series.size ?? 0;
    if (method === 'POST') removedFromGroup += self;
    added += f.series.length;
    if (f.series.length === 0) continue;
    const wanted = schemaOf(f.name, f.type, shapeNames, f.series[0]!.labels);
    const entry = st.schemas.get(f.name);
    const others = (entry?.series ?? 0) - self;
    if (entry && others > 0) {
      const c = familyConflict(entry.schema, wanted);
      if (c) throw c;
    } else {
      const c = reservedNameConflict(
        f.name,
        f.type,
        (n) => pushedTypes.get(n) ?? st.schemas.get(n)?.schema.type,
      );
      if (c) throw c;
    }
    for (const s of f.series) {
      const n = exposedLabelCount(shapeNames, s.labels);
      const le = labelLimitErrorCounted(f.name, group, s.labels, n, st.limits);
      if (le) throw le;
    }
    const familyAfter = others + f.series.length;
    if (familyAfter > (entry?.series ?? 0)) {
      const le = seriesLimitError(f.name, { family: familyAfter, group: 0, total: 0 }, st.limits);
      if (le) throw le;
    }
  }
  const groupBefore = grp?.seriesCount ?? 0;
  const groupAfter = groupBefore - removedFromGroup + added;
  const totalAfter = st.total - removedFromGroup + added;
  const name = families.find((f) => f.series.length > 0)?.name ?? '(none)';
  if (groupAfter > groupBefore) {
    const le = seriesLimitError(
      name,
      { family: 0, group: groupAfter, total: totalAfter > st.total ? totalAfter : 0 },
      st.limits,
    );
    if (le) throw le;
  }
}
