/**
 * `GET /api/v1/metrics` in the Pushgateway's JSON shape (prometheus/pushgateway `api/v1/api.go`), so
 * cleanup and audit scripts written against the Pushgateway read Accrue unchanged:
 *
 *   {"status":"success","data":[{
 *     "labels": {<grouping key>},
 *     "last_push_successful": true,
 *     "<family name>": {"time_stamp": "<RFC 3339>", "type": "COUNTER", "help": "...",   (help omitted when empty)
 *                       "metrics": [{"labels": {...}, "value": "1"}]},
 *     "push_time_seconds": {...}, "push_failure_time_seconds": {...}
 *   }]}
 *
 * - Numbers are strings written as Go's `fmt.Sprint` writes them (`1e+06`, `+Inf`, `NaN`); counts are
 *   integers. Histograms: `buckets` maps the upper bound to the cumulative count, `+Inf` included, plus
 *   `count` and `sum`; summaries: `quantiles` maps quantile to value, plus `count` and `sum`.
 * - Native histograms (Pushgateway 1.8+): `buckets` is a list of `[boundaries, "lower", "upper", "count"]`
 *   (the Prometheus HTTP API's bucket form: negative buckets, zero bucket, positive buckets; empty ones
 *   left out) instead of the classic map, also when the series carries classic buckets beside them.
 * - A series' labels are the group's labels over the series' own, with `instance=""` when neither has an
 *   instance, exactly the series `/metrics` exposes.
 * - `push_time_seconds` / `push_failure_time_seconds` are 0 when the group never had a successful / failed
 *   push, as on the Pushgateway.
 * - A family's `time_stamp` is when the newest push that carried it arrived (a PUT sets it for every
 *   family it carries, a POST for its own), as on the Pushgateway (`GroupState.familyPushMs`; a store that
 *   doesn't keep it, and a family written only by SQS events, give the group's last write).
 *   `push_time_seconds`: the group's last successful push; `push_failure_time_seconds`: its last failed
 *   push, or, when it never failed, the group's last change (the Pushgateway: the group's creation).
 * - A family named `labels` or `last_push_successful` would overwrite the group's field (it does on the
 *   Pushgateway); here the group's field wins and such a family is left out of this view only.
 */
import { formatFloat } from '../../shared/expfmt/float';
import { PUSH_FAILURE_TIME_HELP, PUSH_TIME_HELP } from '../../shared/expfmt/snapshot-render';
import { bucketIntervals, type NativeHistogram } from '../../shared/model/native';
import type { AnySeries, Labels, MetricFamily } from '../../shared/model/types';
import type { GroupState, StoreSnapshot } from '../../shared/store/types';

type StringMap = Record<string, string>;

export interface PgMetric {
  readonly labels: StringMap;
  readonly value?: string;
  /** Classic: upper bound → cumulative count. Native: `[boundaries, lower, upper, count]` per bucket. */
  readonly buckets?: StringMap | readonly NativeBucketJson[];
  readonly quantiles?: StringMap;
  readonly count?: string;
  readonly sum?: string;
}

export interface PgFamily {
  readonly time_stamp: string;
  readonly type: string;
  readonly help?: string;
  readonly metrics: readonly PgMetric[];
}

/** One group: `labels`, `last_push_successful` and one key per family. */
export type PgGroup = Record<string, StringMap | boolean | PgFamily>;

const GROUP_FIELDS: ReadonlySet<string> = new Set(['labels', 'last_push_successful']);

/** The `data` array of `/api/v1/metrics`, one entry per group. */
export function pushgatewayMetricsData(snapshot: StoreSnapshot): PgGroup[] {
  return snapshot.groups.map(pushgatewayGroup);
}

export function lastPushSuccessful(g: GroupState): boolean {
  return !(
    g.lastPushFailureMs !== undefined && g.lastPushFailureMs > (g.lastPushMs ?? Number.NEGATIVE_INFINITY)
  );
}

function pushgatewayGroup(g: GroupState): PgGroup {
  const out: PgGroup = Object.create(null);
  out['labels'] = { ...g.key };
  out['last_push_successful'] = lastPushSuccessful(g);
  const groupMs = g.lastPushMs ?? g.lastUpdateMs;
  const seriesLabels = labelsWithGroup(g.key);
  for (const f of g.families) {
    if (GROUP_FIELDS.has(f.name)) continue;
    out[f.name] = family(f, goTime(g.familyPushMs?.get(f.name) ?? groupMs), seriesLabels);
  }
  const groupOnly = seriesLabels({});
  const pushed = goTime(g.lastPushMs ?? g.lastPushFailureMs ?? g.lastUpdateMs);
  const failed = goTime(g.lastPushFailureMs ?? g.lastUpdateMs);
  out['push_time_seconds'] = gaugeFamily(PUSH_TIME_HELP, pushed, groupOnly, g.lastPushMs);
  out['push_failure_time_seconds'] = gaugeFamily(
    PUSH_FAILURE_TIME_HELP,
    failed,
    groupOnly,
    g.lastPushFailureMs,
  );
  return out;
}

function gaugeFamily(help: string, stamp: string, labels: StringMap, ms: number | undefined): PgFamily {
  const seconds = ms === undefined || !Number.isFinite(ms) ? 0 : ms / 1000;
  return { time_stamp: stamp, type: 'GAUGE', help, metrics: [{ labels, value: formatFloat(seconds) }] };
}

function family(f: MetricFamily, stamp: string, labelsOf: (l: Labels) => StringMap): PgFamily {
  const metrics = (f.series as readonly AnySeries[]).map((s) => metric(s, labelsOf(s.labels)));
  return {
    time_stamp: stamp,
    type: f.type.toUpperCase(),
    ...(f.help === '' ? {} : { help: f.help }),
    metrics,
  };
}

function metric(s: AnySeries, labels: StringMap): PgMetric {
  if ('buckets' in s && s.native !== undefined) {
    return { labels, buckets: nativeBuckets(s.native), count: goCount(s.count), sum: formatFloat(s.sum) };
  }
  if ('buckets' in s) {
    const buckets: StringMap = Object.create(null);
    for (const b of s.buckets) buckets[formatFloat(b.le)] = goCount(b.count);
    buckets['+Inf'] = goCount(s.count);
    return { labels, buckets, count: goCount(s.count), sum: formatFloat(s.sum) };
  }
  if ('quantiles' in s) {
    const quantiles: StringMap = Object.create(null);
    for (const q of s.quantiles) quantiles[formatFloat(q.quantile)] = formatFloat(q.value);
    return { labels, quantiles, count: goCount(s.count), sum: formatFloat(s.sum) };
  }
  return { labels, value: formatFloat(s.value) };
}

/** A native bucket as the Pushgateway (1.8+) lists it: boundary code, lower, upper, count. */
export type NativeBucketJson = readonly [number, string, string, string];

function nativeBuckets(h: NativeHistogram): NativeBucketJson[] {
  return bucketIntervals(h).map((b) => [
    b.boundaries,
    formatFloat(b.lower),
    formatFloat(b.upper),
    goCount(b.count),
  ]);
}

/** The labels a series is exposed with: the group's over the series' own, `instance=""` when absent. */
function labelsWithGroup(key: Labels): (series: Labels) => StringMap {
  return (series) => {
    const out: StringMap = Object.create(null);
    for (const n of Object.keys(series)) out[n] = series[n]!;
    for (const n of Object.keys(key)) out[n] = key[n]!;
    if (!Object.hasOwn(out, 'instance')) out['instance'] = '';
    return out;
  };
}

/** A count as Go prints a uint64 (integer digits, never an exponent); non-integers as floats. */
function goCount(n: number): string {
  return Number.isInteger(n) ? BigInt(n).toString() : formatFloat(n);
}

/** A time as Go's `time.Time` marshals to JSON in UTC: RFC 3339 with the fraction's trailing zeros cut. */
export function goTime(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2026-12-03T10:15:07.200Z
  return iso.replace(/\.?0+Z$/, 'Z');
}
