/**
 * Validation of a Pushgateway push, shared by HTTP pushes (service/) and push events that arrive through
 * SQS (functions/ingest). Pure: no I/O, no clock.
 *
 * What is refused, as the Pushgateway refuses it (400 over HTTP), with every problem listed:
 * - invalid metric or label names, names starting with `__` (reason `invalid_name`);
 * - metric names with Accrue's reserved prefix `accrue_` and the per-group gauges `push_time_seconds` /
 *   `push_failure_time_seconds`, which the renderer adds itself (reason `invalid_name`);
 * - samples carrying timestamps (reason `timestamp`);
 * - the same series twice in one push, after the grouping labels were applied (reason `duplicate_series`);
 * - a family named twice, or names that collide in the exposition (`x` histogram and `x_bucket`, ...),
 *   `le` / `quantile` used as labels of histograms / summaries, malformed values (reason `invalid`).
 *
 * Grouping labels in the body are overridden by the path silently, like the Pushgateway: they are stripped
 * from the series here (the renderer adds the group's labels back). Families without series are dropped.
 */
import { parseText } from '../expfmt/text-parse';
import { bucketProblemText, checkCumulativeBuckets, isBucketProblem } from '../model/buckets';
import { type Problem, RejectReason, ValidationError } from '../model/errors';
import { exposedNames, reservedNameProblem } from '../model/exposed-names';
import { labelsKey } from '../model/identity';
import {
  labelNameProblem,
  loneSurrogateProblem,
  metricNameProblem,
  type NameValidation,
} from '../model/names';
import { type NativeHistogram, nativeShapeProblems } from '../model/native';
import {
  type AnySeries,
  hasStart,
  isMetricType,
  type Labels,
  type MetricFamily,
  type MetricType,
} from '../model/types';
import { normalizeGroupingKey } from '../store/grouping';
import type { GroupingKey, PushMethod, ValidPush } from '../store/types';
import { brandPreparedPush } from '../store/valid';

const PUSH_METHODS: ReadonlySet<string> = new Set(['PUT', 'POST', 'DELETE']);

interface Found extends Problem {
  readonly reason: RejectReason;
}

/**
 * Validates a push and builds the store request (`ValidPush`: the store checks it against its state only). `group` is validated and normalized
 * (`normalizeGroupingKey`); `input` is parsed families or a text-format body. DELETE ignores the body.
 * Throws `ValidationError` (every problem, reason of the first) or the parser's `ParseError`.
 * `names` selects the name rules: `legacy`, or `utf8` when the deployment enabled UTF-8 names
 * (ACCRUE_UTF8_NAMES, as the Pushgateway's `--push.enable-utf8-names`).
 */
export function preparePush(
  method: PushMethod,
  group: Readonly<Record<string, unknown>>,
  input: readonly MetricFamily[] | string,
  pushTimeMs: number,
  id?: string,
  names: NameValidation = 'legacy',
): ValidPush {
  if (typeof method !== 'string' || !PUSH_METHODS.has(method)) {
    throw new ValidationError([{ path: 'method', message: 'must be PUT, POST or DELETE' }]);
  }
  if (typeof pushTimeMs !== 'number' || !Number.isFinite(pushTimeMs) || pushTimeMs < 0) {
    throw new ValidationError([{ path: 'pushTimeMs', message: 'must be a finite, non-negative number' }]);
  }
  const key = normalizeGroupingKey(group, names);
  const base = id === undefined ? {} : { id };
  if (method === 'DELETE')
    return brandPreparedPush({ method, group: key, families: [], pushTimeMs, ...base });
  let families: readonly MetricFamily[];
  if (typeof input === 'string') {
    families = parseText(input, { names });
  } else {
    families = input;
  }
  if (!Array.isArray(families))
    throw new ValidationError([{ path: 'families', message: 'must be an array' }]);
  const { prepared, problems } = validateFamilies(families, key, false, names);
  if (problems.length > 0) throw new ValidationError(problems, problems[0]!.reason);
  return brandPreparedPush({ method, group: key, families: prepared, pushTimeMs, ...base });
}

/**
 * The families of an aggregating push (service/routes, docs/service.md "Aggregating pushes"): the same
 * rules as a push, except that samples may carry timestamps (kept on the series: a gauge's event time).
 * `group` must be normalized. Throws `ValidationError` (every problem, reason of the first).
 */
export function prepareTimedFamilies(group: GroupingKey, families: readonly MetricFamily[]): MetricFamily[] {
  // Aggregated like SQS events, so legacy names (docs/exposition.md "UTF-8 names").
  const { prepared, problems } = validateFamilies(families, group, true, 'legacy');
  if (problems.length > 0) throw new ValidationError(problems, problems[0]!.reason);
  return prepared;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What a family's own fields say, read from untyped input once it is known to be valid. */
interface FamilyHead {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string;
  readonly series: readonly unknown[];
}

/** A pushed family's name, type, help and series list, or the problem that refuses the family. */
function familyHead(raw: unknown, fi: number, nameRules: NameValidation): FamilyHead | Found {
  if (!isObject(raw))
    return { path: `families[${fi}]`, message: 'must be an object', reason: RejectReason.invalid };
  const { name, type, help, series } = raw;
  const fname = typeof name === 'string' ? name : `families[${fi}]`;
  const np = metricNameProblem(name, nameRules);
  if (np !== undefined || typeof name !== 'string')
    return {
      path: fname,
      message: `metric name ${np ?? 'must be a string'}`,
      reason: RejectReason.invalidName,
    };
  const rp = reservedNameProblem(name);
  if (rp) return { path: fname, message: `metric name ${rp}`, reason: RejectReason.invalidName };
  if (!isMetricType(type)) {
    return {
      path: fname,
      message: 'type must be counter, gauge, untyped, histogram or summary',
      reason: RejectReason.invalid,
    };
  }
  if (help !== undefined && typeof help !== 'string')
    return { path: `${fname}.help`, message: 'must be a string', reason: RejectReason.invalid };
  if (!Array.isArray(series))
    return { path: `${fname}.series`, message: 'must be an array', reason: RejectReason.invalid };
  return { name, type, help: help ?? '', series };
}

function validateFamilies(
  families: readonly unknown[],
  group: GroupingKey,
  keepTimestamps: boolean,
  nameRules: NameValidation,
): { prepared: MetricFamily[]; problems: Found[] } {
  const problems: Found[] = [];
  const prepared: MetricFamily[] = [];
  const names = new Map<string, string>(); // exposed name -> owning family
  families.forEach((raw, fi) => {
    const f = familyHead(raw, fi, nameRules);
    if ('reason' in f) {
      problems.push(f);
      return;
    }
    const fname = f.name;
    let clash = false;
    const exposed = exposedNames(f.name, f.type);
    for (const n of exposed) {
      const owner = names.get(n);
      if (owner !== undefined) {
        problems.push({
          path: fname,
          message:
            owner === f.name
              ? 'family appears more than once in the push'
              : `name ${n} collides with family ${owner}`,
          reason: RejectReason.invalid,
        });
        clash = true;
        break;
      }
    }
    if (clash) return;
    for (const n of exposed) names.set(n, f.name);
    const seen = new Set<string>();
    const series: AnySeries[] = [];
    f.series.forEach((s: unknown, si: number) => {
      const path = `${fname}[${si}]`;
      const out = validateSeries(f.type, s, path, group, problems, keepTimestamps, nameRules);
      if (!out) return;
      const k = labelsKey(out.labels);
      if (seen.has(k)) {
        problems.push({
          path,
          message: 'duplicate series in one push (same name and labels, after applying the grouping labels)',
          reason: RejectReason.duplicateSeries,
        });
        return;
      }
      seen.add(k);
      series.push(out);
    });
    if (series.length > 0) {
      prepared.push({ name: f.name, help: f.help, type: f.type, series } as MetricFamily);
    }
  });
  return { prepared, problems };
}

function isNum(v: unknown): v is number {
  return typeof v === 'number';
}

function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0;
}

function validateSeries(
  type: MetricFamily['type'],
  raw: unknown,
  path: string,
  group: GroupingKey,
  problems: Found[],
  keepTimestamps: boolean,
  names: NameValidation,
): AnySeries | undefined {
  if (!isObject(raw)) {
    problems.push({ path, message: 'series must be an object', reason: RejectReason.invalid });
    return undefined;
  }
  const before = problems.length;
  const ts = raw['timestampMs'];
  if (ts !== undefined && !keepTimestamps) {
    problems.push({
      path,
      message: 'pushed samples must not carry timestamps',
      reason: RejectReason.timestamp,
    });
  }
  const labels = stripLabels(raw['labels'], path, type, group, problems, names);
  let out: AnySeries | undefined;
  if (type === 'histogram') {
    const { buckets, sum, count } = raw as { buckets?: unknown; sum?: unknown; count?: unknown };
    if (!isNum(sum))
      problems.push({ path: `${path}.sum`, message: 'must be a number', reason: RejectReason.invalid });
    if (!isCount(count))
      problems.push({
        path: `${path}.count`,
        message: 'must be a finite number >= 0',
        reason: RejectReason.invalid,
      });
    const bs = checkBuckets(buckets, isCount(count) ? count : undefined, `${path}.buckets`, problems);
    const native = checkNative(raw['native'], sum, count, `${path}.native.`, problems);
    if (bs && isNum(sum) && isCount(count) && labels && native !== null)
      out = { labels, buckets: bs, sum, count, ...(native === undefined ? {} : { native }) };
  } else if (type === 'summary') {
    const { quantiles, sum, count } = raw as { quantiles?: unknown; sum?: unknown; count?: unknown };
    if (!isNum(sum))
      problems.push({ path: `${path}.sum`, message: 'must be a number', reason: RejectReason.invalid });
    if (!isCount(count))
      problems.push({
        path: `${path}.count`,
        message: 'must be a finite number >= 0',
        reason: RejectReason.invalid,
      });
    const qs = checkQuantiles(quantiles, `${path}.quantiles`, problems);
    if (qs && isNum(sum) && isCount(count) && labels) out = { labels, quantiles: qs, sum, count };
  } else {
    const value = raw['value'];
    if (!isNum(value))
      problems.push({ path: `${path}.value`, message: 'must be a number', reason: RejectReason.invalid });
    else if (labels) out = { labels, value };
  }
  const start = seriesStart(type, raw['createdMs'], path, problems);
  if (problems.length !== before || !out) return undefined;
  const started = start === undefined ? out : { ...out, createdMs: start };
  return keepTimestamps && typeof ts === 'number' ? { ...started, timestampMs: ts } : started;
}

/**
 * The start a pushed series carries (a protobuf `created_timestamp`, docs/exposition.md "Series starts"):
 * kept for counters, histograms and summaries, dropped for gauges and untyped series.
 */
function seriesStart(
  type: MetricFamily['type'],
  v: unknown,
  path: string,
  problems: Found[],
): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    problems.push({
      path: `${path}.createdMs`,
      message: 'must be a finite number (ms since the epoch)',
      reason: RejectReason.invalid,
    });
    return undefined;
  }
  return hasStart(type) ? v : undefined;
}

/** Validates series labels and removes the grouping labels (the path wins, silently). */
function stripLabels(
  raw: unknown,
  path: string,
  type: MetricFamily['type'],
  group: GroupingKey,
  problems: Found[],
  names: NameValidation,
): Labels | undefined {
  if (raw === undefined) return Object.create(null) as Labels;
  if (!isObject(raw)) {
    problems.push({ path: `${path}.labels`, message: 'must be an object', reason: RejectReason.invalid });
    return undefined;
  }
  const out: Record<string, string> = Object.create(null);
  let ok = true;
  for (const name of Object.keys(raw)) {
    const value = raw[name];
    const np = labelNameProblem(name, names);
    if (np) {
      problems.push({
        path: `${path}.labels.${name}`,
        message: `label name ${np}`,
        reason: RejectReason.invalidName,
      });
      ok = false;
      continue;
    }
    if ((type === 'histogram' && name === 'le') || (type === 'summary' && name === 'quantile')) {
      problems.push({
        path: `${path}.labels.${name}`,
        message: `label name ${name} is reserved for ${type} samples`,
        reason: RejectReason.invalid,
      });
      ok = false;
      continue;
    }
    if (typeof value !== 'string') {
      problems.push({
        path: `${path}.labels.${name}`,
        message: 'label value must be a string',
        reason: RejectReason.invalid,
      });
      ok = false;
      continue;
    }
    if (value.includes('\u0000')) {
      problems.push({
        path: `${path}.labels.${name}`,
        message: 'label value must not contain NUL',
        reason: RejectReason.invalid,
      });
      ok = false;
      continue;
    }
    const sp = loneSurrogateProblem(value);
    if (sp !== undefined) {
      problems.push({
        path: `${path}.labels.${name}`,
        message: `label value ${sp}`,
        reason: RejectReason.invalid,
      });
      ok = false;
      continue;
    }
    if (Object.hasOwn(group, name)) continue;
    // An empty label value is the same as no label (Prometheus data model).
    if (value === '') continue;
    out[name] = value;
  }
  return ok ? out : undefined;
}

/**
 * The series' native histogram (shared/model/native rules), undefined when it has none, null when it is
 * invalid (its problems are added).
 */
function checkNative(
  raw: unknown,
  sum: unknown,
  count: unknown,
  path: string,
  problems: Found[],
): NativeHistogram | undefined | null {
  if (raw === undefined) return undefined;
  if (!isNum(sum) || !isCount(count)) return null;
  const r = nativeShapeProblems(raw, { count, sum }, path);
  for (const p of r.problems) problems.push({ ...p, reason: RejectReason.invalid });
  return r.native ?? null;
}

/**
 * A pushed series' buckets: objects with a numeric `le` and `count`, then the one bucket rule
 * (shared/model/buckets.ts). A trailing `+Inf` bucket is implied by `count` and must equal it.
 */
function checkBuckets(raw: unknown, count: number | undefined, path: string, problems: Found[]) {
  if (!Array.isArray(raw)) {
    problems.push({ path, message: 'must be an array', reason: RejectReason.invalid });
    return undefined;
  }
  for (let i = 0; i < raw.length; i++) {
    const b: unknown = raw[i];
    if (!isObject(b) || !isNum(b['le']) || !isCount(b['count'])) {
      problems.push({
        path: `${path}[${i}]`,
        message: 'must have a numeric le and a finite count >= 0',
        reason: RejectReason.invalid,
      });
      return undefined;
    }
  }
  const bs = raw as { le: number; count: number }[];
  const n = bs.length > 0 && bs[bs.length - 1]!.le === Number.POSITIVE_INFINITY ? bs.length - 1 : bs.length;
  const settled = checkCumulativeBuckets(
    n,
    (i) => bs[i]!.le,
    (i) => bs[i]!.count,
    count,
    n < bs.length ? bs[n]!.count : undefined,
  );
  // An invalid count is reported by the caller; only the bucket rules are this function's.
  if (isBucketProblem(settled) && (count !== undefined || settled.rule !== 'noCount')) {
    problems.push({
      path:
        settled.index < 0 ? (settled.rule === 'inf' ? `${path}[${n}]` : path) : `${path}[${settled.index}]`,
      message: bucketProblemText(settled, 'count'),
      reason: RejectReason.invalid,
    });
    return undefined;
  }
  const out: { le: number; count: number }[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { le: bs[i]!.le, count: bs[i]!.count };
  return out;
}

function checkQuantiles(raw: unknown, path: string, problems: Found[]) {
  if (!Array.isArray(raw)) {
    problems.push({ path, message: 'must be an array', reason: RejectReason.invalid });
    return undefined;
  }
  const out: { quantile: number; value: number }[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < raw.length; i++) {
    const q: unknown = raw[i];
    if (!isObject(q) || !isNum(q['quantile']) || !isNum(q['value'])) {
      problems.push({
        path: `${path}[${i}]`,
        message: 'must have numeric quantile and value',
        reason: RejectReason.invalid,
      });
      return undefined;
    }
    const qq = q['quantile'];
    if (!(qq >= 0 && qq <= 1) || seen.has(qq)) {
      problems.push({
        path: `${path}[${i}]`,
        message: 'quantile must be in [0, 1] and unique',
        reason: RejectReason.invalid,
      });
      return undefined;
    }
    seen.add(qq);
    out.push({ quantile: qq, value: q['value'] });
  }
  out.sort((a, b) => a.quantile - b.quantile);
  return out;
}
