/**
 * The protobuf exposition as it was first defined, kept as the oracle of the direct encoder
 * (shared/expfmt/snapshot-protobuf.ts): the text render parsed back and encoded, every series given
 * `instance=""` when it has no instance (the text parser drops empty values), with the stored native
 * histograms put back (text carries none). A series is matched by the labels it is exposed with (group
 * labels over series labels, empty values dropped, as the text parser reads them); when groups expose the
 * same series, the most recently updated group's native histogram is taken, as snapshot-render keeps that
 * group's series. Slow (it parses the whole body); tests and the refresh-cost bench's baseline only.
 */
import { metricFamiliesToProtobufDelimited, parseText, renderSnapshot } from '../../shared/expfmt';
import { escapeSnapshotNames } from '../../shared/expfmt/snapshot-escaping';
import { labelsKey } from '../../shared/model/identity';
import { DEFAULT_ESCAPING, type EscapingScheme } from '../../shared/model/names';
import type { NativeHistogram } from '../../shared/model/native';
import type { AnySeries, HistogramSeries, Labels, MetricFamily } from '../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../shared/store/types';

/** The stored families' protobuf exposition, by the old definition (see the module comment). */
export function protobufByText(snapshot: StoreSnapshot, escaping: EscapingScheme = DEFAULT_ESCAPING): Buffer {
  if (snapshot.groups.length === 0) return Buffer.alloc(0);
  const text = renderSnapshot(snapshot, 'text', { escaping });
  const natives = nativeJoiner(escapeSnapshotNames(snapshot, escaping));
  // Quoted UTF-8 names (allow-utf-8) are read back as they are.
  const families = natives(parseText(text, { names: 'utf8' })).map(withEmptyInstance);
  return Buffer.from(metricFamiliesToProtobufDelimited(families));
}

/** `instance=""` put back on series without an instance (the text parser drops empty values). */
export function withEmptyInstance(f: MetricFamily): MetricFamily {
  const series = (f.series as readonly AnySeries[]).map((s) =>
    Object.hasOwn(s.labels, 'instance') ? s : { ...s, labels: { ...s.labels, instance: '' } },
  );
  return { ...f, series } as MetricFamily;
}

function exposedLabels(group: Labels, series: Labels): Labels {
  const out: Record<string, string> = {};
  for (const n of Object.keys(series)) if (series[n] !== '') out[n] = series[n]!;
  for (const n of Object.keys(group)) if (group[n] !== '') out[n] = group[n]!;
  return out;
}

interface Holder {
  readonly group: GroupState;
  readonly family: MetricFamily;
}

/**
 * Histogram families by name, groups oldest first (a later group wins a shared series, as in the text
 * render), only for names where some series carries a native histogram.
 */
function holders(groups: readonly GroupState[]): Map<string, Holder[]> {
  const out = new Map<string, Holder[]>();
  const withNative = new Set<string>();
  // Ties: the group whose key sorts first wins (comes last here), as the text render's tie rule.
  const ordered = groups
    .map((g) => ({ g, k: labelsKey(g.key) }))
    .sort((a, b) => a.g.lastUpdateMs - b.g.lastUpdateMs || (a.k < b.k ? 1 : a.k > b.k ? -1 : 0))
    .map((x) => x.g);
  for (const group of ordered) {
    for (const family of group.families) {
      if (family.type !== 'histogram') continue;
      if (family.series.some((s) => s.native !== undefined)) withNative.add(family.name);
      const list = out.get(family.name);
      if (list === undefined) out.set(family.name, [{ group, family }]);
      else list.push({ group, family });
    }
  }
  for (const name of [...out.keys()]) if (!withNative.has(name)) out.delete(name);
  return out;
}

/** Native histogram of each exposed series; a later group's series without one clears an earlier one's. */
function nativesByLabels(list: readonly Holder[]): Map<string, NativeHistogram> {
  const out = new Map<string, NativeHistogram>();
  for (const { group, family } of list) {
    if (family.type !== 'histogram') continue;
    for (const s of family.series) {
      const key = labelsKey(exposedLabels(group.key, s.labels));
      if (s.native !== undefined) out.set(key, s.native);
      else out.delete(key);
    }
  }
  return out;
}

/**
 * A function that puts the snapshot's native histograms back on families parsed from its text render.
 * The index is built on first use only (scrapes of unchanged blocks never call it), over families, and
 * per family name only for the names it is asked about.
 */
export function nativeJoiner(snapshot: StoreSnapshot): (families: readonly MetricFamily[]) => MetricFamily[] {
  let byName: Map<string, Holder[]> | undefined;
  return (families) =>
    families.map((f) => {
      if (f.type !== 'histogram') return f;
      byName ??= holders(snapshot.groups);
      const list = byName.get(f.name);
      if (list === undefined) return f;
      const natives = nativesByLabels(list);
      const series = (f.series as readonly HistogramSeries[]).map((s) => {
        const native = natives.get(labelsKey(s.labels));
        return native === undefined ? s : { ...s, native };
      });
      return { ...f, series };
    });
}
