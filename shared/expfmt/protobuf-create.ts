/**
 * MetricFamily[] → varint-length-delimited `io.prometheus.client.MetricFamily` messages, as the Go client
 * pushes them (tests of the Go-client path, tools), and the one home of how a series is written as a
 * protobuf `Metric`, which the snapshot render (./snapshot-protobuf.ts) uses for the exposition.
 * Assumptions as the text writer's (valid families). Counts are written as uint64 when they are safe
 * integers, else as the `_float` fields; the `+Inf` bucket is written explicitly (as client_golang does).
 * Native histograms are written with their native fields (writeHistogram). A counter, histogram or summary
 * series' start (`createdMs`), where known, is its `created_timestamp`.
 */
import {
  type BucketSpan,
  countsToDeltas,
  isIntegerNative,
  type NativeBuckets,
  type NativeHistogram,
} from '../model/native';
import {
  type AnySeries,
  type HistogramSeries,
  hasStart,
  type MetricFamily,
  type ScalarSeries,
  type SummarySeries,
} from '../model/types';
import { canonicalBound } from './float';
import { ProtoSink } from './proto-sink';

/** metrics.proto `MetricType`. */
export const TYPE_NUM = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

/** metrics.proto field numbers used here. */
export const FAMILY_NAME = 1;
export const FAMILY_HELP = 2;
export const FAMILY_TYPE = 3;
export const FAMILY_METRIC = 4;
export const METRIC_LABEL = 1;

export function metricFamiliesToProtobufDelimited(families: readonly MetricFamily[]): Uint8Array {
  const w = new ProtoSink();
  for (const f of families) {
    const message = w.open();
    writeFamilyHeader(w, f.name, f.help, f.type);
    for (const s of f.series as readonly AnySeries[]) {
      const metric = w.open(FAMILY_METRIC);
      for (const k of Object.keys(s.labels)) writeLabelPair(w, k, s.labels[k]!);
      writeMetricValue(w, f.type, s, false);
      w.close(metric);
    }
    w.close(message);
  }
  return w.copy();
}

/** A MetricFamily's name, help (when not empty) and type fields. */
export function writeFamilyHeader(
  w: ProtoSink,
  name: string,
  help: string,
  type: MetricFamily['type'],
): void {
  w.string(FAMILY_NAME, name);
  if (help !== '') w.string(FAMILY_HELP, help);
  w.uintField(FAMILY_TYPE, TYPE_NUM[type]);
}

/** One `label` field of a Metric. */
export function writeLabelPair(w: ProtoSink, name: string, value: string): void {
  const pair = w.open(METRIC_LABEL);
  w.string(1, name);
  w.string(2, value);
  w.close(pair);
}

/**
 * The fields of a Metric after its labels: the value message of the family's type, and the timestamp when
 * the series has one. `exposition`: written as the text exposition shows the series (no timestamp, `-0`
 * bounds as `0`), so that the protobuf and text scrapes of one snapshot carry the same samples.
 */
export function writeMetricValue(
  w: ProtoSink,
  type: MetricFamily['type'],
  s: AnySeries,
  exposition: boolean,
): void {
  const start = hasStart(type) ? s.createdMs : undefined;
  if (type === 'histogram') {
    const m = w.open(7);
    writeHistogram(w, s as HistogramSeries, exposition);
    if (start !== undefined) writeTimestamp(w, 15, start);
    w.close(m);
  } else if (type === 'summary') {
    const q = s as SummarySeries;
    const m = w.open(4);
    w.uintField(1, Number.isFinite(q.count) && q.count > 0 ? Math.round(q.count) : 0);
    w.double(2, q.sum);
    for (const x of q.quantiles) {
      const qm = w.open(3);
      w.double(1, exposition ? canonicalBound(x.quantile) : x.quantile);
      w.double(2, x.value);
      w.close(qm);
    }
    if (start !== undefined) writeTimestamp(w, 4, start);
    w.close(m);
  } else {
    const m = w.open(type === 'gauge' ? 2 : type === 'counter' ? 3 : 5);
    w.double(1, (s as ScalarSeries).value);
    if (start !== undefined) writeTimestamp(w, 3, start);
    w.close(m);
  }
  if (!exposition && s.timestampMs !== undefined) {
    w.tag(6, 0);
    w.int64(s.timestampMs);
  }
}

/**
 * A `created_timestamp` field (Counter 3, Summary 4, Histogram 15): a google.protobuf.Timestamp
 * `{ int64 seconds = 1; int32 nanos = 2 }` of `ms` since the epoch (nanos in [0, 1e9), as the type requires).
 */
function writeTimestamp(w: ProtoSink, field: number, ms: number): void {
  const seconds = Math.floor(ms / 1000);
  const nanos = Math.round((ms - seconds * 1000) * 1e6);
  const m = w.open(field);
  if (seconds !== 0) {
    w.tag(1, 0);
    w.int64(seconds);
  }
  if (nanos !== 0) w.uintField(2, nanos);
  w.close(m);
}

/**
 * A Histogram message: count, sum, the classic buckets (with an explicit `+Inf` bucket, as client_golang
 * writes them) unless the series is native-only, and the native fields. A native histogram whose
 * populations and count are all safe integers is written as the integer variant (deltas), else as the
 * float variant (`sample_count_float`, `zero_count_float`, `*_count`), the form Prometheus tells apart by
 * those float fields. An empty native histogram without a zero threshold gets a no-op span (offset 0,
 * length 0) so that it still reads as native, as client_golang does.
 */
function writeHistogram(w: ProtoSink, h: HistogramSeries, exposition: boolean): void {
  const native = h.native;
  const integer = native === undefined || (isIntegerNative(native) && Number.isSafeInteger(h.count));
  if (integer) w.count(1, 4, h.count);
  else w.double(4, h.count);
  w.double(2, h.sum);
  if (native === undefined || h.buckets.length > 0) {
    for (const b of h.buckets) writeBucket(w, b.count, exposition ? canonicalBound(b.le) : b.le);
    writeBucket(w, h.count, Infinity);
  }
  if (native !== undefined) writeNative(w, native, integer);
}

function writeBucket(w: ProtoSink, count: number, le: number): void {
  const m = w.open(3);
  w.count(1, 4, count);
  w.double(2, le);
  w.close(m);
}

function writeNative(w: ProtoSink, n: NativeHistogram, integer: boolean): void {
  w.tag(5, 0);
  w.sint(n.schema);
  w.double(6, n.zeroThreshold);
  if (integer) w.uintField(7, n.zeroCount);
  else w.double(8, n.zeroCount);
  const empty = n.positive.spans.length === 0 && n.negative.spans.length === 0;
  const noop = empty && n.zeroThreshold === 0 && n.zeroCount === 0;
  writeSide(w, n.negative, 9, integer ? 10 : 11, integer);
  if (noop) writeSpan(w, 12, { offset: 0, length: 0 });
  writeSide(w, n.positive, 12, integer ? 13 : 14, integer);
}

function writeSpan(w: ProtoSink, field: number, span: BucketSpan): void {
  const m = w.open(field);
  w.tag(1, 0);
  w.sint(span.offset);
  w.tag(2, 0);
  w.varint(span.length);
  w.close(m);
}

function writeSide(
  w: ProtoSink,
  b: NativeBuckets,
  spanField: number,
  listField: number,
  integer: boolean,
): void {
  for (const span of b.spans) writeSpan(w, spanField, span);
  if (b.counts.length === 0) return;
  const m = w.open(listField);
  if (integer) for (const d of countsToDeltas(b.counts)) w.sint(d);
  else for (const c of b.counts) w.f64le(c);
  w.close(m);
}
