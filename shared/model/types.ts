/**
 * The metric model shared by every part of Accrue: the exposition formats, the store, ingest and the service.
 *
 * It follows the Prometheus data model (https://prometheus.io/docs/concepts/data_model/) and the
 * MetricFamily shape of the text exposition format 0.0.4: a family has one name, one type, one HELP and
 * a list of series ("metrics"), each identified by its label set.
 *
 * Conventions every module relies on:
 * - `Labels` are plain objects whose own enumerable keys are label names. Never read a label with `labels[x]`
 *   unless `Object.hasOwn(labels, x)`: a label may legitimately be called `constructor`.
 *   Names starting with `__` are reserved and are rejected at the edge, so `__proto__` never gets here.
 * - Label order carries no meaning; identity is `seriesKey()` (sorted names), never `JSON.stringify`.
 * - Histogram buckets are cumulative, `le` strictly ascending, and never contain `+Inf`: the `+Inf`
 *   bucket is implied and always equals `count`.
 * - Counter names keep the name as the producer gave it (usually with `_total`). The OpenMetrics writer
 *   derives the family name by stripping `_total` and always writes the sample as `<family>_total`.
 */

import type { NativeHistogram } from './native/types';

export const MetricType = {
  counter: 'counter',
  gauge: 'gauge',
  histogram: 'histogram',
  summary: 'summary',
  untyped: 'untyped',
} as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** True when `t` names one of the metric types (the one list every validator and parser uses). */
export function isMetricType(t: unknown): t is MetricType {
  return typeof t === 'string' && Object.hasOwn(MetricType, t);
}

/**
 * True for the types whose series accumulate from a start (counters, histograms, summaries): the only
 * ones with a creation time (`SeriesStart`, OpenMetrics `_created`). Gauges and untyped series have none.
 */
export function hasStart(t: MetricType): boolean {
  return t === 'counter' || t === 'histogram' || t === 'summary';
}

export type Labels = Readonly<Record<string, string>>;

/** A counter, gauge or untyped series. */
export interface ScalarSeries extends SeriesStart {
  readonly labels: Labels;
  readonly value: number;
  /** Only set by the parser, so that callers (the push path) can refuse timestamped samples. */
  readonly timestampMs?: number;
}

/**
 * When a cumulative series (counter, histogram, summary) started, in ms since the epoch, where it is known:
 * the store clock of the apply that created a series the store accumulates itself (SQS events, the
 * aggregating endpoint), or the `created_timestamp` a protobuf push carried. Absent when unknown (text
 * pushes, series stored before creation times were kept) and never on gauges or untyped series. Written as
 * OpenMetrics `_created` and protobuf `created_timestamp` (docs/exposition.md "Creation times").
 */
export interface SeriesStart {
  readonly createdMs?: number;
}

export interface Bucket {
  /** Upper bound, finite, strictly ascending within a series. */
  readonly le: number;
  /** Cumulative count of observations <= le. */
  readonly count: number;
}

export interface HistogramSeries extends SeriesStart {
  readonly labels: Labels;
  /** Cumulative buckets without `+Inf` (which equals `count`). Empty for a native-only histogram. */
  readonly buckets: readonly Bucket[];
  readonly sum: number;
  readonly count: number;
  /**
   * The native (exponential) buckets, when the producer sent them: alone, or beside classic `buckets` in
   * one series as client_golang can send. `count` and `sum` are shared by both layouts. Only the protobuf
   * exposition and `/api/v1/metrics` show it; text formats show the classic buckets (docs/exposition.md).
   */
  readonly native?: NativeHistogram;
  readonly timestampMs?: number;
}

export interface Quantile {
  readonly quantile: number;
  readonly value: number;
}

export interface SummarySeries extends SeriesStart {
  readonly labels: Labels;
  readonly quantiles: readonly Quantile[];
  readonly sum: number;
  readonly count: number;
  readonly timestampMs?: number;
}

interface FamilyBase {
  readonly name: string;
  /** HELP text, unescaped. Empty string when the source had none. */
  readonly help: string;
}

export interface ScalarFamily extends FamilyBase {
  readonly type: 'counter' | 'gauge' | 'untyped';
  readonly series: readonly ScalarSeries[];
}

export interface HistogramFamily extends FamilyBase {
  readonly type: 'histogram';
  readonly series: readonly HistogramSeries[];
}

export interface SummaryFamily extends FamilyBase {
  readonly type: 'summary';
  readonly series: readonly SummarySeries[];
}

export type MetricFamily = ScalarFamily | HistogramFamily | SummaryFamily;

export type AnySeries = ScalarSeries | HistogramSeries | SummarySeries;
