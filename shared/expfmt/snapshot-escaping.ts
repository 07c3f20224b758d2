/**
 * A store snapshot with its names escaped for a scraper that asked for an escaping scheme (or none:
 * `underscores`), before rendering: families, series labels and grouping keys whose names are not legacy
 * names get the scheme's legacy names (shared/model/names.ts `escapeMetricName` / `escapeLabelName`).
 * Escaping before the render means the renderer's rules (one block per family name, no series twice)
 * also hold for names that escaping made equal (`a.b` and `a_b` both become `a_b`).
 *
 * - `allow-utf-8`, and every snapshot without such names, is returned as it is (same object): the
 *   output for legacy names never depends on the scheme.
 * - Escaped objects are cached per source object and scheme (WeakMaps), so an unchanged family keeps
 *   one escaped object from render to render and the render cache (keyed by object identity) holds.
 * - When escaping makes two label names of one series (or one grouping key) equal, the label whose
 *   name was already a legacy name is kept, else the first in name order; the other is dropped.
 */
import {
  type EscapingScheme,
  escapeLabelName,
  escapeMetricName,
  isLegacyLabelName,
  isLegacyMetricName,
} from '../model/names';
import type { AnySeries, Labels, MetricFamily } from '../model/types';
import type { GroupState, StoreSnapshot } from '../store/types';

type Scheme = Exclude<EscapingScheme, 'allow-utf-8'>;

/** Families and keys known to hold only legacy names (true) or not (false). */
const legacyFamilies = new WeakMap<MetricFamily, boolean>();
const legacyKeys = new WeakMap<Labels, boolean>();
const escapedFamilies = new WeakMap<MetricFamily, Map<Scheme, MetricFamily>>();
const escapedGroups = new WeakMap<GroupState, Map<Scheme, GroupState>>();

function labelsLegacy(labels: Labels): boolean {
  for (const n in labels) if (Object.hasOwn(labels, n) && !isLegacyLabelName(n)) return false;
  return true;
}

export function familyHasOnlyLegacyNames(f: MetricFamily): boolean {
  let ok = legacyFamilies.get(f);
  if (ok === undefined) {
    ok =
      isLegacyMetricName(f.name) && (f.series as readonly AnySeries[]).every((s) => labelsLegacy(s.labels));
    legacyFamilies.set(f, ok);
  }
  return ok;
}

function keyLegacy(key: Labels): boolean {
  let ok = legacyKeys.get(key);
  if (ok === undefined) {
    ok = labelsLegacy(key);
    legacyKeys.set(key, ok);
  }
  return ok;
}

function groupLegacy(g: GroupState): boolean {
  return keyLegacy(g.key) && g.families.every(familyHasOnlyLegacyNames);
}

/** True when some name in the snapshot is not a legacy name (the escaping scheme then matters). */
export function snapshotHasUtf8Names(snapshot: StoreSnapshot): boolean {
  let has = utf8Snapshots.get(snapshot);
  if (has === undefined) {
    has = !snapshot.groups.every(groupLegacy);
    utf8Snapshots.set(snapshot, has);
  }
  return has;
}

const utf8Snapshots = new WeakMap<StoreSnapshot, boolean>();

/** `snapshot` with every name escaped under `scheme` (the same object when nothing changes). */
export function escapeSnapshotNames(snapshot: StoreSnapshot, scheme: EscapingScheme): StoreSnapshot {
  if (scheme === 'allow-utf-8' || !snapshotHasUtf8Names(snapshot)) return snapshot;
  return { ...snapshot, groups: snapshot.groups.map((g) => (groupLegacy(g) ? g : escapedGroup(g, scheme))) };
}

function cached<K extends object, V>(map: WeakMap<K, Map<Scheme, V>>, k: K, s: Scheme, make: () => V): V {
  let m = map.get(k);
  if (m === undefined) {
    m = new Map();
    map.set(k, m);
  }
  let v = m.get(s);
  if (v === undefined) {
    v = make();
    m.set(s, v);
  }
  return v;
}

function escapedGroup(g: GroupState, scheme: Scheme): GroupState {
  return cached(escapedGroups, g, scheme, () => ({
    ...g,
    key: keyLegacy(g.key) ? g.key : escapeLabels(g.key, scheme),
    families: g.families.map((f) => (familyHasOnlyLegacyNames(f) ? f : escapedFamily(f, scheme))),
  }));
}

function escapedFamily(f: MetricFamily, scheme: Scheme): MetricFamily {
  return cached(escapedFamilies, f, scheme, () => {
    const series = (f.series as readonly AnySeries[]).map((s) =>
      labelsLegacy(s.labels) ? s : { ...s, labels: escapeLabels(s.labels, scheme) },
    );
    return { ...f, name: escapeMetricName(f.name, scheme), series } as MetricFamily;
  });
}

/** Labels with escaped names; on a clash the already-legacy name wins, else the first in name order. */
export function escapeLabels(labels: Labels, scheme: Scheme): Labels {
  const out: Record<string, string> = Object.create(null);
  const names = Object.keys(labels).sort();
  for (const n of names) if (isLegacyLabelName(n)) out[n] = labels[n]!;
  for (const n of names) {
    if (isLegacyLabelName(n)) continue;
    const e = escapeLabelName(n, scheme);
    if (!Object.hasOwn(out, e)) out[e] = labels[n]!;
  }
  return out;
}
