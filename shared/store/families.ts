/**
 * Pure helpers every Store uses to keep the written contract (shared/store/types.ts, points 4 and 5) the
 * same way: the family-consistency rule and the limits. Input validation is the edge's (./valid.ts).
 *
 * Everything here is O(labels) or O(buckets) per op or series: no store access, no scans. Stores keep one
 * `FamilySchema` per family name and compare with `familyConflict()`.
 */

import { boundsKey, sameBounds } from '../model/buckets';
import { FamilyConflictError, LimitError } from '../model/errors';
import { reservedSuffixes, reservesSuffix, suffixOwners } from '../model/exposed-names';
import { codePointLength, longerThan } from '../model/lengths';
import type { Labels, MetricType } from '../model/types';
import type { GroupingKey, HistogramObserve, MetricOp, StoreLimits } from './types';

/** The definition of a family that must agree across all groups. */
export interface FamilySchema {
  readonly name: string;
  readonly type: MetricType;
  /** Sorted, de-duplicated label names as exposed: grouping labels + `instance` + series labels, joined by ','. */
  readonly shape: string;
  /** Histogram bucket bounds, canonical (`boundsKey`); '' for other types. */
  readonly buckets: string;
}

/** The type an op writes. */
export function opFamilyType(kind: MetricOp['kind']): MetricType {
  switch (kind) {
    case 'counter_inc':
      return 'counter';
    case 'gauge_add':
    case 'gauge_set':
      return 'gauge';
    case 'histogram_observe':
      return 'histogram';
  }
}

/**
 * The grouping key's label names as every series of the group exposes them: sorted, with `instance`
 * added (a group without one is exposed with `instance=""`). Compute once per request.
 */
export function groupShapeNames(group: GroupingKey): readonly string[] {
  const names = Object.keys(group);
  if (!Object.hasOwn(group, 'instance')) names.push('instance');
  return names.sort();
}

/** Shape key: sorted union of the group's shape names and the series' label names. */
export function shapeKey(groupNames: readonly string[], seriesLabels: Labels): string {
  const own = Object.keys(seriesLabels);
  if (own.length === 0) return groupNames.join(',');
  const all = new Set(groupNames);
  for (const n of own) all.add(n);
  return [...all].sort().join(',');
}

/** Number of labels in a shape key. */
export function shapeSize(shape: string): number {
  if (shape === '') return 0;
  let n = 1;
  for (let i = 0; i < shape.length; i++) if (shape.charCodeAt(i) === 44) n++;
  return n;
}

export function schemaOf(
  name: string,
  type: MetricType,
  groupNames: readonly string[],
  seriesLabels: Labels,
  bounds?: readonly number[],
): FamilySchema {
  return {
    name,
    type,
    shape: shapeKey(groupNames, seriesLabels),
    buckets: type === 'histogram' && bounds ? boundsKey(bounds) : '',
  };
}

/**
 * Compares a wanted definition with the stored one. Returns the conflict (naming the family, the field
 * and the rule), or undefined when they agree. Only the type must agree across groups: label names and
 * bucket layouts may differ between series and groups, as on the Pushgateway (issue 14). An additive
 * merge into an existing histogram series must keep its layout (`bucketLayoutConflict`).
 */
export function familyConflict(
  existing: FamilySchema,
  wanted: FamilySchema,
): FamilyConflictError | undefined {
  if (existing.type !== wanted.type) {
    return new FamilyConflictError(
      existing.name,
      `type ${wanted.type} conflicts with type ${existing.type} already stored (a family has one type across all groups)`,
    );
  }
  return undefined;
}

/** Observations merged into an existing histogram series must use its bucket layout. */
export function bucketLayoutConflict(
  family: string,
  stored: readonly number[],
  wanted: readonly number[],
): FamilyConflictError | undefined {
  if (sameBounds(stored, wanted)) return undefined;
  return new FamilyConflictError(
    family,
    `histogram bucket layout [${boundsKey(wanted)}] conflicts with [${boundsKey(stored)}] of the stored series (observations are added only into a series with the same buckets)`,
  );
}

/**
 * A series has native buckets for its whole life or never (its count is shared with them): observations
 * without native buckets are not added into a series that has them (pushed, or declared native), and
 * observations with them not into a series created without them (before its profile declared it native).
 */
/**
 * An observation with native buckets into a stored series created without them (before its profile declared
 * the histogram native, e.g. right after an upgrade) adds its classic part only: the series keeps its
 * classic buckets and count, and a deployment's queued messages don't go to the DLQ. Undefined when the
 * observation has no classic buckets to add (a native-only histogram): that stays a conflict.
 */
export function classicPartOf(op: HistogramObserve): HistogramObserve | undefined {
  if (op.native === undefined || op.bounds.length === 0) return undefined;
  const { native: _native, ...classic } = op;
  return classic;
}

export function nativeLayoutConflict(family: string, storedHasNative = true): FamilyConflictError {
  return new FamilyConflictError(
    family,
    storedHasNative
      ? 'the stored series carries a native histogram; observations without native buckets are not added into it (its count would disagree with them)'
      : 'the stored series has no native buckets (it was created before its histogram was declared native) and the observation has no classic buckets to add into it: delete the group, or let it expire, to start it again with native buckets',
  );
}

/**
 * Labels a series exposes: the group's shape names (`groupShapeNames`, `instance` included) plus its own
 * labels (a series label `instance` stands for the group's missing one). Allocation-free, O(labels).
 */
export function exposedLabelCount(groupNames: readonly string[], seriesLabels: Labels): number {
  let n = groupNames.length;
  for (const k in seriesLabels) if (Object.hasOwn(seriesLabels, k) && k !== 'instance') n++;
  return n;
}

/** Label limits of one series of a group (`groupNames` = `groupShapeNames(group)`); both stores call this. */
export function seriesLabelLimitError(
  family: string,
  group: GroupingKey,
  groupNames: readonly string[],
  seriesLabels: Labels,
  limits: StoreLimits,
): LimitError | undefined {
  return labelLimitErrorCounted(
    family,
    group,
    seriesLabels,
    exposedLabelCount(groupNames, seriesLabels),
    limits,
  );
}

/** Longest failure reason a store keeps (`lastFailureReason`); longer ones are cut. */
export const MAX_FAILURE_REASON_LENGTH = 1024;

/** The failure reason as every store keeps it: a string of at most MAX_FAILURE_REASON_LENGTH units. */
export function failureReason(reason: unknown): string {
  const r = typeof reason === 'string' ? reason : String(reason);
  return r.length > MAX_FAILURE_REASON_LENGTH ? r.slice(0, MAX_FAILURE_REASON_LENGTH) : r;
}

/** Family names whose definition decides `reservedNameConflict(name, type, …)`: load these first. */
export function reservedNameCandidates(name: string, type: MetricType): string[] {
  const out = suffixOwners(name).map((o) => o.base);
  for (const suffix of reservedSuffixes(type)) out.push(name + suffix);
  return out;
}

/**
 * Names reserved by histograms and summaries (`shared/model/exposed-names.ts`): a histogram/summary `x`
 * owns its sample names `x_sum`, `x_count` (and a histogram `x_bucket`); they would collide in the
 * exposition. `lookup` answers whether a family is defined and its type. Returns the conflict for
 * defining `name` as `type`, O(1).
 */
export function reservedNameConflict(
  name: string,
  type: MetricType,
  lookup: (name: string) => MetricType | undefined,
): FamilyConflictError | undefined {
  for (const { base, suffix } of suffixOwners(name)) {
    const t = lookup(base);
    if (reservesSuffix(t, suffix)) {
      return new FamilyConflictError(name, `name is reserved by ${t} family ${base} (its ${suffix} series)`);
    }
  }
  for (const suffix of reservedSuffixes(type)) {
    if (lookup(name + suffix) !== undefined) {
      return new FamilyConflictError(
        name,
        `${type} would reserve ${name}${suffix}, which is already a family`,
      );
    }
  }
  return undefined;
}

/**
 * Label limits for one series of `family`: value length of every label (grouping labels included) and
 * the number of labels as exposed (the shape). Returns a LimitError naming the family, the label and the
 * rule (the value itself is not echoed: it may be huge).
 */
export function labelLimitError(
  family: string,
  group: GroupingKey,
  seriesLabels: Labels,
  shape: string,
  limits: StoreLimits,
): LimitError | undefined {
  return labelLimitErrorCounted(family, group, seriesLabels, shapeSize(shape), limits);
}

/** `labelLimitError` with the exposed label count already known (`shapeSize(shape)`). */
export function labelLimitErrorCounted(
  family: string,
  group: GroupingKey,
  seriesLabels: Labels,
  n: number,
  limits: StoreLimits,
): LimitError | undefined {
  if (n > limits.maxLabelsPerSeries) {
    return new LimitError(
      'maxLabelsPerSeries',
      `family ${family}: a series has ${n} labels (grouping labels and instance included), over maxLabelsPerSeries (${limits.maxLabelsPerSeries})`,
    );
  }
  for (const labels of [group, seriesLabels]) {
    for (const name of Object.keys(labels)) {
      const value = labels[name] as string;
      if (longerThan(value, limits.maxLabelValueLength)) {
        return new LimitError(
          'maxLabelValueLength',
          `family ${family}: label ${name} has a value of ${codePointLength(value)} characters, over maxLabelValueLength (${limits.maxLabelValueLength})`,
        );
      }
    }
  }
  return undefined;
}

/**
 * Limits on a grouping key alone (for writes that store no series: DELETE tombstones, push failures):
 * label value length and label count, `instance` included.
 */
export function groupLimitError(group: GroupingKey, limits: StoreLimits): LimitError | undefined {
  const n = groupShapeNames(group).length;
  if (n > limits.maxLabelsPerSeries) {
    return new LimitError(
      'maxLabelsPerSeries',
      `grouping key: ${n} labels (instance included), over maxLabelsPerSeries (${limits.maxLabelsPerSeries})`,
    );
  }
  let chars = 0;
  for (const name of Object.keys(group)) {
    const value = group[name] as string;
    chars += name.length + value.length;
    if (longerThan(value, limits.maxLabelValueLength)) {
      return new LimitError(
        'maxLabelValueLength',
        `grouping key: label ${name} has a value of ${codePointLength(value)} characters, over maxLabelValueLength (${limits.maxLabelValueLength})`,
      );
    }
  }
  if (chars > MAX_GROUP_KEY_CHARS) {
    return new LimitError(
      'maxGroupKeyChars',
      `grouping key: ${chars} characters in label names and values, over ${MAX_GROUP_KEY_CHARS} (every series of the group repeats them)`,
    );
  }
  return undefined;
}

/** UTF-16 units in a grouping key's label names and values together (every series of the group repeats them). */
export const MAX_GROUP_KEY_CHARS = 4096;

/** A write that would add a group (or a DELETE tombstone) to a store already holding `groups` of them. */
export function groupCountError(groups: number, limits: StoreLimits): LimitError | undefined {
  if (groups < limits.maxGroups) return undefined;
  return new LimitError(
    'maxGroups',
    `the store holds ${groups} groups (DELETE tombstones and failure-only groups included), at maxGroups (${limits.maxGroups}); a new group is refused`,
  );
}

export type SeriesLimit = 'maxSeriesPerFamily' | 'maxSeriesPerGroup' | 'maxSeriesTotal';

/**
 * Series-count limits: returns the LimitError for ending up with the given counts, or undefined.
 * `group` is the grouping key (named in the message, values shortened).
 */
export function seriesLimitError(
  family: string,
  counts: { readonly family: number; readonly group: number; readonly total: number },
  limits: StoreLimits,
): LimitError | undefined {
  if (counts.family > limits.maxSeriesPerFamily) {
    return new LimitError(
      'maxSeriesPerFamily',
      `family ${family}: would have ${counts.family} series across all groups, over maxSeriesPerFamily (${limits.maxSeriesPerFamily})`,
    );
  }
  if (counts.group > limits.maxSeriesPerGroup) {
    return new LimitError(
      'maxSeriesPerGroup',
      `family ${family}: the group would have ${counts.group} series, over maxSeriesPerGroup (${limits.maxSeriesPerGroup})`,
    );
  }
  if (counts.total > limits.maxSeriesTotal) {
    return new LimitError(
      'maxSeriesTotal',
      `family ${family}: the store would have ${counts.total} series, over maxSeriesTotal (${limits.maxSeriesTotal})`,
    );
  }
  return undefined;
}
