/**
 * Pure helpers every Store uses to keep the written contract (shared/store/types.ts, points 4 and 5) the
 * same way: input validation of ops and pushes, the family-consistency rule, and the label limits.
 *
 * Everything here is O(labels) or O(buckets) per op or series: no store access, no scans. Stores keep one
 * `FamilySchema` per family name and compare with `familyConflict()`.
 */

import {
  boundsKey,
  bucketProblemText,
  checkCumulativeBuckets,
  isBucketProblem,
  layoutProblems,
  sameBounds,
} from '../model/buckets';
import {
  FamilyConflictError,
  LimitError,
  type Problem,
  RejectReason,
  ValidationError,
} from '../model/errors';
import { reservedSuffixes, reservesSuffix, suffixOwners } from '../model/exposed-names';
import { labelsKey } from '../model/identity';
import { labelNameProblemMemo, metricNameProblemMemo } from '../model/name-memo';
import type { NameValidation } from '../model/names';
import { nativeShapeProblems } from '../model/native';
import { isMetricType, type Labels, type MetricFamily, type MetricType } from '../model/types';
import { normalizeGroupingKey } from './grouping';
import type { GroupingKey, HistogramObserve, MetricOp, PushMethod, PushRequest, StoreLimits } from './types';

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
      const len = (labels[name] as string).length;
      if (len > limits.maxLabelValueLength) {
        return new LimitError(
          'maxLabelValueLength',
          `family ${family}: label ${name} has a value of ${len} characters, over maxLabelValueLength (${limits.maxLabelValueLength})`,
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
    const len = (group[name] as string).length;
    chars += name.length + len;
    if (len > limits.maxLabelValueLength) {
      return new LimitError(
        'maxLabelValueLength',
        `grouping key: label ${name} has a value of ${len} characters, over maxLabelValueLength (${limits.maxLabelValueLength})`,
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

/** Characters in a grouping key's label names and values together (every series of the group repeats them). */
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

// ------------------------------------------------------------------------------------------ validation

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Problems of a series' labels: names, values, and no repetition of the grouping key's labels. Apply ops
 * (SQS events) use the legacy name rules; pushes the `utf8` ones (their edge decided: see grouping.ts).
 */
function labelProblems(
  labels: unknown,
  group: GroupingKey,
  path: string,
  out: Problem[],
  validation: NameValidation,
): void {
  if (!isPlainObject(labels)) {
    out.push({ path, message: 'must be an object of label name to string value' });
    return;
  }
  for (const name of Object.keys(labels)) {
    const np = labelNameProblemMemo(name, validation);
    if (np) {
      out.push({ path: `${path}.${name}`, message: `label name ${np}` });
      continue;
    }
    const v = labels[name];
    if (typeof v !== 'string') out.push({ path: `${path}.${name}`, message: 'label value must be a string' });
    else if (v.includes('\u0000'))
      out.push({ path: `${path}.${name}`, message: 'label value must not contain NUL' });
    if (Object.hasOwn(group, name)) {
      out.push({
        path: `${path}.${name}`,
        message: 'must not repeat a grouping-key label (the group adds it)',
      });
    }
  }
  // `__proto__` as an own key only survives JSON.parse; Object.keys shows it, and labelNameProblem refuses it.
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function boundsProblem(bounds: unknown, path: string, out: Problem[]): bounds is number[] {
  if (!Array.isArray(bounds)) {
    out.push({ path, message: 'must be an array of finite numbers' });
    return false;
  }
  const first = layoutProblems(bounds)[0];
  if (first !== undefined) out.push({ path: `${path}[${first.index}]`, message: first.message });
  return first === undefined;
}

/**
 * Validates one op of an apply request (shape, names, values). Problems carry paths like
 * `ops[3].labels.venue`. O(labels + buckets).
 */
export function opProblems(op: unknown, index: number, group: GroupingKey): Problem[] {
  const p = `ops[${index}]`;
  const out: Problem[] = [];
  if (!isPlainObject(op)) return [{ path: p, message: 'must be an object' }];
  const kind = op.kind;
  if (
    kind !== 'counter_inc' &&
    kind !== 'gauge_add' &&
    kind !== 'gauge_set' &&
    kind !== 'histogram_observe'
  ) {
    return [
      { path: `${p}.kind`, message: 'must be one of counter_inc, gauge_add, gauge_set, histogram_observe' },
    ];
  }
  const np = metricNameProblemMemo(op.name, 'legacy');
  if (np) out.push({ path: `${p}.name`, message: `metric name ${np}` });
  if (op.help !== undefined && typeof op.help !== 'string')
    out.push({ path: `${p}.help`, message: 'must be a string' });
  labelProblems(op.labels, group, `${p}.labels`, out, 'legacy');
  switch (kind) {
    case 'counter_inc':
      if (!finite(op.value) || op.value < 0)
        out.push({ path: `${p}.value`, message: 'counter increment must be a finite number >= 0' });
      break;
    case 'gauge_add':
      if (!finite(op.value)) out.push({ path: `${p}.value`, message: 'gauge delta must be a finite number' });
      break;
    case 'gauge_set':
      if (!finite(op.value)) out.push({ path: `${p}.value`, message: 'gauge value must be a finite number' });
      if (!finite(op.timeMs) || op.timeMs < 0)
        out.push({ path: `${p}.timeMs`, message: 'must be a finite number >= 0 (event time, ms)' });
      break;
    case 'histogram_observe': {
      const okBounds = boundsProblem(op.bounds, `${p}.bounds`, out);
      const counts = op.counts;
      if (!Array.isArray(counts) || !counts.every((c) => Number.isSafeInteger(c) && (c as number) >= 0)) {
        out.push({ path: `${p}.counts`, message: 'must be an array of non-negative integers' });
      } else if (okBounds && counts.length !== (op.bounds as number[]).length + 1) {
        out.push({
          path: `${p}.counts`,
          message: 'must have bounds.length + 1 entries (the last is the +Inf share)',
        });
      } else {
        let total = 0;
        for (const c of counts as number[]) total += c;
        if (op.count !== total) out.push({ path: `${p}.count`, message: 'must equal the sum of counts' });
      }
      if (!finite(op.sum)) out.push({ path: `${p}.sum`, message: 'must be a finite number' });
      if (op.native !== undefined && out.length === 0)
        out.push(...nativeObserveProblems(op.native, op.count as number, op.sum as number, `${p}.native`));
      break;
    }
  }
  return out;
}

/**
 * The native part of an observe op: a valid native histogram (shared/model/native/validate.ts) whose
 * populations are whole numbers adding up exactly to the op's count (observations are counted, not
 * weighted; the sum is finite, so no NaN observation hides outside the buckets).
 */
function nativeObserveProblems(native: unknown, count: number, sum: number, path: string): Problem[] {
  const { problems, native: h } = nativeShapeProblems(native, { count, sum }, `${path}.`);
  if (h === undefined) return problems;
  const whole = (c: number) => Number.isSafeInteger(c);
  const sides = [
    ['positive', h.positive.counts],
    ['negative', h.negative.counts],
  ] as const;
  for (const [side, counts] of sides) {
    const k = counts.findIndex((c) => !whole(c));
    if (k >= 0)
      return [{ path: `${path}.${side}.counts[${k}]`, message: 'must be a whole number (observations)' }];
  }
  if (!whole(h.zeroCount))
    return [{ path: `${path}.zeroCount`, message: 'must be a whole number (observations)' }];
  return [];
}

const MAX_PROBLEMS = 20;
const METHODS: readonly PushMethod[] = ['PUT', 'POST', 'DELETE'];

function seriesValueProblems(
  f: MetricFamily,
  s: Record<string, unknown>,
  path: string,
  out: Problem[],
): void {
  if (s.timestampMs !== undefined)
    out.push({ path: `${path}.timestampMs`, message: 'pushed samples must not carry timestamps' });
  if (f.type === 'histogram') {
    const buckets = s.buckets;
    if (!Array.isArray(buckets)) {
      out.push({ path: `${path}.buckets`, message: 'must be an array' });
      return;
    }
    for (let i = 0; i < buckets.length; i++) {
      const b = buckets[i] as { le?: unknown; count?: unknown };
      if (!isPlainObject(b) || typeof b.le !== 'number' || typeof b.count !== 'number') {
        out.push({ path: `${path}.buckets[${i}]`, message: 'must have a numeric le and count' });
        return;
      }
    }
    const bs = buckets as { le: number; count: number }[];
    const count = typeof s.count === 'number' ? s.count : Number.NaN;
    const settled = checkCumulativeBuckets(
      bs.length,
      (i) => bs[i]!.le,
      (i) => bs[i]!.count,
      count,
      undefined,
    );
    if (isBucketProblem(settled)) {
      out.push({
        path: settled.index < 0 ? `${path}.count` : `${path}.buckets[${settled.index}]`,
        message: bucketProblemText(settled, 'count'),
      });
    }
    if (typeof s.sum !== 'number') out.push({ path: `${path}.sum`, message: 'must be a number' });
    if (s.native !== undefined && typeof s.count === 'number' && typeof s.sum === 'number') {
      out.push(...nativeShapeProblems(s.native, { count: s.count, sum: s.sum }, `${path}.native.`).problems);
    }
  } else if (f.type === 'summary') {
    if (!Array.isArray(s.quantiles)) out.push({ path: `${path}.quantiles`, message: 'must be an array' });
    else {
      for (let i = 0; i < s.quantiles.length; i++) {
        const q = s.quantiles[i] as { quantile?: unknown; value?: unknown };
        if (
          !isPlainObject(q) ||
          typeof q.quantile !== 'number' ||
          !(q.quantile >= 0 && q.quantile <= 1) ||
          typeof q.value !== 'number'
        ) {
          out.push({
            path: `${path}.quantiles[${i}]`,
            message: 'must have a quantile in [0, 1] and a number value',
          });
        }
      }
    }
    if (typeof s.count !== 'number' || !(s.count >= 0))
      out.push({ path: `${path}.count`, message: 'must be a number >= 0' });
    if (typeof s.sum !== 'number') out.push({ path: `${path}.sum`, message: 'must be a number' });
  } else if (typeof s.value !== 'number') {
    out.push({ path: `${path}.value`, message: 'must be a number' });
  }
}

/**
 * Validates a push request: method, push time, grouping key (normalized), families (names, types, no
 * duplicate family, no duplicate series, no timestamps, labels not repeating the grouping key, histogram
 * buckets well formed). Returns the normalized grouping key; throws ValidationError listing up to 20
 * problems (reason `duplicate_series` / `timestamp` when that is the only kind of problem).
 */
export function validatePush(request: PushRequest): GroupingKey {
  const out: Problem[] = [];
  const r = request as unknown as Record<string, unknown>;
  if (!isPlainObject(r)) throw new ValidationError([{ path: 'push', message: 'must be an object' }]);
  if (!METHODS.includes(r.method as PushMethod))
    out.push({ path: 'method', message: 'must be PUT, POST or DELETE' });
  if (!finite(r.pushTimeMs))
    out.push({ path: 'pushTimeMs', message: 'must be a finite number (ms since epoch)' });
  let group: GroupingKey = Object.create(null);
  try {
    group = normalizeGroupingKey(isPlainObject(r.group) ? r.group : {});
  } catch (e) {
    if (e instanceof ValidationError) out.push(...e.problems);
    else throw e;
  }
  if (!Array.isArray(r.families)) {
    out.push({ path: 'families', message: 'must be an array' });
    throw new ValidationError(out);
  }
  let dupSeries = 0;
  let timestamps = 0;
  const names = new Set<string>();
  for (let fi = 0; fi < r.families.length && out.length < MAX_PROBLEMS; fi++) {
    const f = r.families[fi] as MetricFamily;
    const fp = `families[${fi}]`;
    if (!isPlainObject(f)) {
      out.push({ path: fp, message: 'must be an object' });
      continue;
    }
    const np = metricNameProblemMemo(f.name, 'utf8');
    if (np) out.push({ path: `${fp}.name`, message: `metric name ${np}` });
    else if (names.has(f.name))
      out.push({ path: `${fp}.name`, message: `family ${f.name} appears twice in one push` });
    else names.add(f.name);
    if (!isMetricType(f.type))
      out.push({ path: `${fp}.type`, message: 'must be counter, gauge, histogram, summary or untyped' });
    if (typeof f.help !== 'string') out.push({ path: `${fp}.help`, message: 'must be a string' });
    if (!Array.isArray(f.series)) {
      out.push({ path: `${fp}.series`, message: 'must be an array' });
      continue;
    }
    const keys = new Set<string>();
    for (let si = 0; si < f.series.length && out.length < MAX_PROBLEMS; si++) {
      const s = f.series[si] as unknown as Record<string, unknown>;
      const sp = `${fp}.series[${si}]`;
      if (!isPlainObject(s)) {
        out.push({ path: sp, message: 'must be an object' });
        continue;
      }
      const before = out.length;
      labelProblems(s.labels, group, `${sp}.labels`, out, 'utf8');
      if (out.length === before) {
        const k = labelsKey(s.labels as Labels);
        if (keys.has(k)) {
          out.push({ path: `${sp}.labels`, message: `duplicate series in family ${String(f.name)}` });
          dupSeries++;
        }
        keys.add(k);
      }
      const beforeValues = out.length;
      seriesValueProblems(f, s, sp, out);
      if (out.length > beforeValues && s.timestampMs !== undefined) timestamps++;
    }
  }
  if (out.length > 0) {
    const reason =
      dupSeries === out.length
        ? RejectReason.duplicateSeries
        : timestamps === out.length
          ? RejectReason.timestamp
          : RejectReason.invalid;
    throw new ValidationError(out.slice(0, MAX_PROBLEMS), reason);
  }
  return group;
}
