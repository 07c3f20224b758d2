/**
 * Which names a family occupies in the exposition, and which metric names belong to Accrue: the one home
 * of these rules. The text and protobuf parsers, the push validator, the SQS decoder, the stores, the
 * renderer, the profile compiler and the client all call it, so they cannot disagree.
 *
 * Exposition (text format 0.0.4, https://prometheus.io/docs/instrumenting/exposition_formats/):
 * - a histogram `x` writes the samples `x_bucket`, `x_sum` and `x_count`;
 * - a summary `x` writes `x` (its quantiles), `x_sum` and `x_count`;
 * - a counter, gauge or untyped `x` writes `x`;
 * - OpenMetrics names a counter family without its `_total` and writes its sample as `<family>_total`, and
 *   writes `<family>_created` for a counter, histogram or summary series whose start is known.
 * So a histogram `x` and a family `x_bucket` would collide, and so would a summary `x` and a family `x_sum`.
 *
 * Reserved names: metric names starting with `__` are reserved by Prometheus; names starting with
 * `accrue_` are Accrue's own metrics; `push_time_seconds` and `push_failure_time_seconds` are the gauges the
 * renderer adds to every group (as the Pushgateway does).
 */
import type { MetricType } from './types';

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'] as const;
const SUMMARY_SUFFIXES = ['_sum', '_count'] as const;
const NO_SUFFIXES = [] as const;

/** The suffix of every OpenMetrics counter sample. */
export const COUNTER_SUFFIX = '_total';

/** Suffixes `s` for which a family `x` of `type` owns the sample name `x<s>`. */
export function reservedSuffixes(type: MetricType | undefined): readonly string[] {
  if (type === 'histogram') return HISTOGRAM_SUFFIXES;
  if (type === 'summary') return SUMMARY_SUFFIXES;
  return NO_SUFFIXES;
}

/** True when a family of `type` owns `<its name><suffix>`. */
export function reservesSuffix(type: MetricType | undefined, suffix: string): boolean {
  return (reservedSuffixes(type) as readonly string[]).includes(suffix);
}

/**
 * The families `name` could be a sample of: `{ base, suffix }` for each reserved suffix `name` ends with
 * (a family `base` of a type that `reservesSuffix` would own it).
 */
export function suffixOwners(name: string): { base: string; suffix: string }[] {
  const out: { base: string; suffix: string }[] = [];
  for (const suffix of HISTOGRAM_SUFFIXES) {
    if (name.length > suffix.length && name.endsWith(suffix)) {
      out.push({ base: name.slice(0, -suffix.length), suffix });
    }
  }
  return out;
}

/**
 * The names a family occupies in the text exposition: its own name (its HELP/TYPE lines name it, even a
 * histogram's, which writes no sample under it) and its sample names. Two families may be exposed together
 * only when these are disjoint: a histogram `h_count` beside a summary `h` is refused (the parser, the push
 * validator and the stores refuse it by `suffixOwners`/`reservedSuffixes`, the renderer drops it by this).
 */
export function exposedNames(name: string, type: MetricType): string[] {
  const names = sampleNames(name, type);
  return names[0] === name ? names : [name, ...names];
}

/** The sample names a family writes in the text format (histograms write no sample under their own name). */
export function sampleNames(name: string, type: MetricType): string[] {
  const own = type === 'histogram' ? [] : [name];
  for (const suffix of reservedSuffixes(type)) own.push(name + suffix);
  return own;
}

/** Sample name of a counter: text keeps the family name, OpenMetrics needs `_total`. */
export function counterSampleName(name: string, openMetrics: boolean): string {
  if (!openMetrics || name.endsWith(COUNTER_SUFFIX)) return name;
  return name + COUNTER_SUFFIX;
}

/** OpenMetrics family name: counters lose their `_total` suffix. */
export function openMetricsFamilyName(name: string, type: MetricType): string {
  return type === 'counter' && name.endsWith(COUNTER_SUFFIX) ? name.slice(0, -COUNTER_SUFFIX.length) : name;
}

/**
 * OpenMetrics `_created` sample of a counter, histogram or summary series whose start is known: the
 * OpenMetrics family name + `_created` (`x_total` counter → `x_created`).
 */
export function createdSampleName(name: string, type: MetricType): string {
  return `${openMetricsFamilyName(name, type)}_created`;
}

// ------------------------------------------------------------------------------------- reserved names

/**
 * Metric names starting with this prefix belong to Accrue's own metrics: pushes, events and profiles
 * can't use it, so Accrue's metrics never collide with its users' (docs/architecture.md).
 */
export const RESERVED_PREFIX = 'accrue_';

/** The per-group gauges the renderer adds, as the Pushgateway does. */
export const PUSH_TIME_METRIC = 'push_time_seconds';
export const PUSH_FAILURE_TIME_METRIC = 'push_failure_time_seconds';

/** Whole metric names that belong to Accrue (the per-group gauges). */
export const RESERVED_NAMES: ReadonlySet<string> = new Set([PUSH_TIME_METRIC, PUSH_FAILURE_TIME_METRIC]);

/** Names starting with this prefix are reserved by Prometheus for internal use. */
const PROMETHEUS_RESERVED_PREFIX = '__';

/**
 * Why the (syntactically valid) metric name `name` may not be used by a producer, or undefined when it
 * may. Callers prefix the subject ("metric name …").
 */
export function reservedNameProblem(name: string): string | undefined {
  if (name.startsWith(PROMETHEUS_RESERVED_PREFIX)) return 'must not start with "__" (reserved)';
  if (name.startsWith(RESERVED_PREFIX) || RESERVED_NAMES.has(name)) {
    return `is reserved (prefix "${RESERVED_PREFIX}", ${PUSH_TIME_METRIC} and ${PUSH_FAILURE_TIME_METRIC} belong to Accrue)`;
  }
  return undefined;
}

/**
 * A regex lookahead (source text) refusing what `reservedNameProblem` refuses, for JSON Schema patterns
 * (the SQS envelope): `^` + this + the name pattern.
 */
export const RESERVED_NAME_LOOKAHEAD = `(?!${[
  PROMETHEUS_RESERVED_PREFIX,
  RESERVED_PREFIX,
  ...[...RESERVED_NAMES].map((n) => `${n}$`),
].join('|')})`;
