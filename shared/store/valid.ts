/**
 * Validation at the edge (docs/architecture.md "Where validation happens"): the only producer of the
 * branded types the stores accept (`ValidApplyRequest`, `ValidOp`, `ValidPush`, shared/store/types.ts).
 *
 * - `validateApplyRequest` / `validatePushRequest` check untyped input and throw a `ValidationError` whose
 *   problems name the field (`ops[3].labels.venue`, `families[0].series[1].value`) and the rule;
 * - `opProblems` is the op rule itself, for edges that report problems in their own terms (aggregating
 *   pushes, shared/push/deltas.ts);
 * - `brandCheckedApply` / `brandPreparedPush` brand what an edge built from input it already checked (the
 *   SQS decoder's pre-aggregated ops; `preparePush`). Only the modules listed in
 *   test/unit/architecture/edge-validation.test.ts may import them.
 *
 * Stores check state only (family conflicts with stored data, bucket layouts of stored series, reserved
 * names taken by stored families, limits): a value of these types is never validated again.
 */
import { bucketProblemText, checkCumulativeBuckets, isBucketProblem, layoutProblems } from '../model/buckets';
import { type Problem, RejectReason, ValidationError } from '../model/errors';
import { labelsKey } from '../model/identity';
import { labelNameProblemMemo, metricNameProblemMemo } from '../model/name-memo';
import type { NameValidation } from '../model/names';
import { nativeShapeProblems } from '../model/native';
import { isMetricType, type Labels, type MetricFamily } from '../model/types';
import { normalizeGroupingKey } from './grouping';
import type {
  ApplyRequest,
  GroupingKey,
  PushMethod,
  PushRequest,
  ValidApplyRequest,
  ValidGroupingKey,
  ValidPush,
} from './types';

/** The one place a value becomes branded (the brand is a compile-time mark; nothing is added at run time). */
const brand = <T>(v: unknown): T => v as T;

/**
 * The edge validator of a grouping key (for `Store.deleteGroup` / `recordPushFailure`): normalizes it
 * (`normalizeGroupingKey`: names under `validation`, empty values dropped, a non-empty `job`) and throws
 * its `ValidationError` (paths `grouping_key.<name>`) when it is not valid.
 */
export function validateGroupingKey(raw: unknown, validation: NameValidation = 'utf8'): ValidGroupingKey {
  return brand<ValidGroupingKey>(normalizeGroupingKey(isPlainObject(raw) ? raw : {}, validation));
}

/**
 * An apply request an edge built from input it had already validated: the SQS decoder's pre-aggregated
 * ops (every event passed the envelope and profile validators) and an aggregating push's ops (each
 * checked with `opProblems`). Not a validator: anything else goes through `validateApplyRequest`.
 */
export function brandCheckedApply(request: ApplyRequest): ValidApplyRequest {
  return brand<ValidApplyRequest>(request);
}

/** A push `preparePush` (shared/push/prepare.ts) validated and built. Not a validator. */
export function brandPreparedPush(request: PushRequest): ValidPush {
  return brand<ValidPush>(request);
}

/**
 * The edge validator of an apply request: a non-empty `id`, a grouping key (normalized, legacy names as
 * SQS events have), `ops` an array of valid ops (`opProblems`), an optional `eventTimeMs` (finite, >= 0)
 * and `contentHash` (a string). Throws `ValidationError` naming every problem (up to 20); the first of id,
 * ops and group that is wrong is thrown alone, as the stores answered before.
 */
export function validateApplyRequest(raw: unknown): ValidApplyRequest {
  if (!isPlainObject(raw)) throw new ValidationError([{ path: 'request', message: 'must be an object' }]);
  const { id, ops, eventTimeMs, contentHash } = raw;
  if (typeof id !== 'string' || id === '')
    throw new ValidationError([{ path: 'id', message: 'must be a non-empty string' }]);
  if (!Array.isArray(ops)) throw new ValidationError([{ path: 'ops', message: 'must be an array' }]);
  // Apply requests come from SQS events: legacy names (docs/exposition.md "UTF-8 names").
  const group = validateGroupingKey(raw.group, 'legacy');
  const out: Problem[] = [];
  if (eventTimeMs !== undefined && (!finite(eventTimeMs) || eventTimeMs < 0))
    out.push({ path: 'eventTimeMs', message: 'must be a finite number >= 0 (event time, ms)' });
  if (contentHash !== undefined && typeof contentHash !== 'string')
    out.push({ path: 'contentHash', message: 'must be a string' });
  for (let i = 0; i < ops.length && out.length < MAX_PROBLEMS; i++) out.push(...opProblems(ops[i], i, group));
  if (out.length > 0) throw new ValidationError(out.slice(0, MAX_PROBLEMS));
  return brand<ValidApplyRequest>({
    id,
    group,
    ops,
    ...(eventTimeMs === undefined ? {} : { eventTimeMs }),
    ...(contentHash === undefined ? {} : { contentHash }),
  });
}

const MAX_PROBLEMS = 20;
const METHODS: readonly PushMethod[] = ['PUT', 'POST', 'DELETE'];

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

function seriesValueProblems(
  f: Readonly<Record<string, unknown>>,
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
 * The edge validator of a push request built by code rather than parsed from a body (tests, benches,
 * tools; HTTP and SQS pushes are checked by `preparePush`, which applies stricter rules): method, push
 * time, id, grouping key (normalized), families (names, types, no
 * duplicate family, no duplicate series, no timestamps, labels not repeating the grouping key, histogram
 * buckets well formed). Returns the request with its grouping key normalized; throws ValidationError listing up to 20
 * problems (reason `duplicate_series` / `timestamp` when that is the only kind of problem).
 */
export function validatePushRequest(raw: unknown): ValidPush {
  const out: Problem[] = [];
  if (!isPlainObject(raw)) throw new ValidationError([{ path: 'push', message: 'must be an object' }]);
  const r = raw;
  if (!METHODS.includes(r.method as PushMethod))
    out.push({ path: 'method', message: 'must be PUT, POST or DELETE' });
  if (!finite(r.pushTimeMs))
    out.push({ path: 'pushTimeMs', message: 'must be a finite number (ms since epoch)' });
  if (r.id !== undefined && (typeof r.id !== 'string' || r.id === ''))
    out.push({ path: 'id', message: 'must be a non-empty string' });
  if (r.contentHash !== undefined && typeof r.contentHash !== 'string')
    out.push({ path: 'contentHash', message: 'must be a string' });
  let group = brand<ValidGroupingKey>(Object.create(null));
  try {
    group = validateGroupingKey(r.group);
  } catch (e) {
    if (e instanceof ValidationError) out.push(...e.problems);
    else throw e;
  }
  if (!Array.isArray(r.families)) {
    out.push({ path: 'families', message: 'must be an array' });
    throw new ValidationError(out);
  }
  const { dupSeries, timestamps } = familiesProblems(r.families, group, out);
  if (out.length > 0) {
    const reason =
      dupSeries === out.length
        ? RejectReason.duplicateSeries
        : timestamps === out.length
          ? RejectReason.timestamp
          : RejectReason.invalid;
    throw new ValidationError(out.slice(0, MAX_PROBLEMS), reason);
  }
  return brand<ValidPush>({
    method: r.method as PushMethod,
    group,
    families: r.families as MetricFamily[],
    pushTimeMs: r.pushTimeMs as number,
    ...(r.id === undefined ? {} : { id: r.id as string }),
    ...(r.contentHash === undefined ? {} : { contentHash: r.contentHash as string }),
  });
}

/** Problems of a push's families (appended to `out`); counts the duplicate-series and timestamp ones. */
function familiesProblems(
  families: readonly unknown[],
  group: GroupingKey,
  out: Problem[],
): { dupSeries: number; timestamps: number } {
  let dupSeries = 0;
  let timestamps = 0;
  const names = new Set<string>();
  for (let fi = 0; fi < families.length && out.length < MAX_PROBLEMS; fi++) {
    const f: unknown = families[fi];
    const fp = `families[${fi}]`;
    if (!isPlainObject(f)) {
      out.push({ path: fp, message: 'must be an object' });
      continue;
    }
    const name = f.name;
    const np = metricNameProblemMemo(name, 'utf8');
    if (np || typeof name !== 'string') out.push({ path: `${fp}.name`, message: `metric name ${np}` });
    else if (names.has(name))
      out.push({ path: `${fp}.name`, message: `family ${name} appears twice in one push` });
    else names.add(name);
    if (!isMetricType(f.type))
      out.push({ path: `${fp}.type`, message: 'must be counter, gauge, histogram, summary or untyped' });
    if (typeof f.help !== 'string') out.push({ path: `${fp}.help`, message: 'must be a string' });
    if (!Array.isArray(f.series)) {
      out.push({ path: `${fp}.series`, message: 'must be an array' });
      continue;
    }
    const keys = new Set<string>();
    for (let si = 0; si < f.series.length && out.length < MAX_PROBLEMS; si++) {
      const s: unknown = f.series[si];
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
  return { dupSeries, timestamps };
}
