/**
 * Protobuf-delimited `io.prometheus.client.MetricFamily` messages → MetricFamily[]: the body the Go client
 * pushes (`application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited`).
 *
 * A small hand-written decoder for the fields of prometheus/client_model `metrics.proto` that classic
 * metrics use (field numbers in the comments below); unknown fields are skipped as protobuf requires.
 * A counter's, histogram's or summary's `created_timestamp` is kept as the series' start (`createdMs`; nanos
 * outside [0, 1e9) are refused); exemplars and units are ignored; GAUGE_HISTOGRAM is refused. Native histograms
 * (schema, zero bucket, spans with deltas or float counts), alone or beside classic buckets in one
 * series, are validated by shared/model/native (a NativeHistogramError names metric, field and rule). The result obeys the same rules as the text parser's: valid
 * names, no `__` label names, no NUL, empty label values dropped, no duplicate label or series, histogram
 * buckets sorted and cumulative with the `+Inf` bucket folded into `count`, quantiles sorted.
 * Errors are `ProtobufParseError`: `protobuf format parsing error in message N: …` (N is 1-based).
 */

import { bucketProblemText, checkCumulativeBuckets, isBucketProblem } from '../model/buckets';
import { AccrueError, LimitError, RejectReason } from '../model/errors';
import { labelsKey } from '../model/identity';
import { clip, labelNameProblem, metricNameProblem, type NameValidation } from '../model/names';
import { type NativeHistogram, validateNativeHistogram } from '../model/native';
import type {
  Bucket,
  HistogramSeries,
  Labels,
  MetricFamily,
  MetricType,
  Quantile,
  ScalarSeries,
  SummarySeries,
} from '../model/types';
import { canonicalBound } from './float';
import { expectWire, Reader, readRepeated, Truncated, zigzag } from './protobuf-reader';

export class ProtobufParseError extends AccrueError {
  /** 1-based index of the delimited message. */
  readonly message_index: number;
  /** `reason`: `decode` for bytes that don't parse; a bad name is `invalid_name`, a repeated series `duplicate_series`. */
  constructor(index: number, msg: string, reason: RejectReason = RejectReason.decode) {
    super(reason, `protobuf format parsing error in message ${index}: ${msg}`);
    this.message_index = index;
  }
}

// metrics.proto enum MetricType
const PB_TYPES: readonly (MetricType | undefined)[] = ['counter', 'gauge', 'summary', 'untyped', 'histogram'];

interface RawMetric {
  labels: [string, string][];
  value?: number;
  kind?: 'gauge' | 'counter' | 'untyped' | 'summary' | 'histogram';
  count?: number;
  sum?: number;
  buckets?: { le: number; count: number }[];
  quantiles?: Quantile[];
  /** Native histogram fields as read (validated in buildFamily). */
  native?: RawNative;
  timestampMs?: number;
  /** created_timestamp (Counter 3, Summary 4, Histogram 15), in ms: the series' start (SeriesStart). */
  createdMs?: number;
}

/** The native histogram fields of a Histogram message as read, before validation. */
interface RawNative {
  schema?: number;
  zeroThreshold?: number;
  zeroCount?: number;
  /** zero_count_float was given: the float variant. */
  float?: boolean;
  positiveSpans?: { offset: number; length: number }[];
  positiveDeltas?: number[];
  positiveCounts?: number[];
  negativeSpans?: { offset: number; length: number }[];
  negativeDeltas?: number[];
  negativeCounts?: number[];
}

type ListKey =
  | 'positiveSpans'
  | 'negativeSpans'
  | 'positiveDeltas'
  | 'negativeDeltas'
  | 'positiveCounts'
  | 'negativeCounts';

/** The list of a repeated native field, created on first use. */
function listOf<K extends ListKey>(n: RawNative, key: K): NonNullable<RawNative[K]> {
  let list = n[key];
  if (list === undefined) {
    list = [] as NonNullable<RawNative[K]>;
    n[key] = list;
  }
  return list as NonNullable<RawNative[K]>;
}

/** BucketSpan { sint32 offset = 1; uint32 length = 2 } */
function readSpan(r: Reader): { offset: number; length: number } {
  const sr = r.sub();
  let offset = 0;
  let length = 0;
  while (sr.pos < sr.end) {
    const t = sr.uint32();
    if (t === (1 << 3) + 0) offset = zigzag(sr);
    else if (t === (2 << 3) + 0) length = sr.varint64(false);
    else sr.skip(t & 7);
  }
  return { offset, length };
}

/**
 * Native histogram fields of metrics.proto's Histogram: sint32 schema = 5; double zero_threshold = 6;
 * uint64 zero_count = 7; double zero_count_float = 8; BucketSpan negative_span = 9; sint64 negative_delta
 * = 10; double negative_count = 11; positive_span = 12, positive_delta = 13, positive_count = 14.
 * Returns false for any other field (the caller skips it). Wire types are checked.
 */
function readNativeField(r: Reader, field: number, wire: number, n: RawNative): boolean {
  const double = (x: Reader) => x.double();
  switch (field) {
    case 5:
      expectWire(wire, 0, 'Histogram.schema');
      n.schema = zigzag(r);
      return true;
    case 6:
      expectWire(wire, 1, 'Histogram.zero_threshold');
      n.zeroThreshold = r.double();
      return true;
    case 7:
      expectWire(wire, 0, 'Histogram.zero_count');
      n.zeroCount = r.varint64(false);
      return true;
    case 8:
      expectWire(wire, 1, 'Histogram.zero_count_float');
      n.zeroCount = r.double();
      n.float = true;
      return true;
    case 9:
    case 12:
      expectWire(wire, 2, field === 9 ? 'Histogram.negative_span' : 'Histogram.positive_span');
      listOf(n, field === 9 ? 'negativeSpans' : 'positiveSpans').push(readSpan(r));
      return true;
    case 10:
    case 13:
      if (wire !== 0 && wire !== 2) expectWire(wire, 0, 'Histogram.*_delta');
      readRepeated(r, wire, zigzag, listOf(n, field === 10 ? 'negativeDeltas' : 'positiveDeltas'));
      return true;
    case 11:
    case 14:
      if (wire !== 1 && wire !== 2) expectWire(wire, 1, 'Histogram.*_count');
      readRepeated(r, wire, double, listOf(n, field === 11 ? 'negativeCounts' : 'positiveCounts'));
      return true;
    default:
      return false;
  }
}

/**
 * A Histogram message is native when it carries spans, buckets, a zero threshold or a zero bucket (what
 * Prometheus checks); the schema alone does not make one (0 is its default).
 */
function isNative(n: RawNative | undefined): n is RawNative {
  if (n === undefined) return false;
  return (
    (n.positiveSpans?.length ?? 0) + (n.negativeSpans?.length ?? 0) > 0 ||
    (n.positiveDeltas?.length ?? 0) + (n.negativeDeltas?.length ?? 0) > 0 ||
    (n.positiveCounts?.length ?? 0) + (n.negativeCounts?.length ?? 0) > 0 ||
    (n.zeroThreshold ?? 0) > 0 ||
    (n.zeroCount ?? 0) > 0
  );
}

/** A Gauge/Counter/Untyped message: `double value = 1`, and a Counter's `created_timestamp = 3`. */
function readValueMessage(r: Reader, m: RawMetric, counter: boolean): void {
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag >>> 3 === 1 && (tag & 7) === 1) m.value = r.double();
    else if (counter && tag === (3 << 3) + 2) m.createdMs = readTimestamp(r.sub());
    else r.skip(tag & 7);
  }
}

/**
 * A google.protobuf.Timestamp `{ int64 seconds = 1; int32 nanos = 2 }` as ms since the epoch; nanos must be
 * in [0, 1e9) as the type defines them.
 */
function readTimestamp(r: Reader): number {
  let seconds = 0;
  let nanos = 0;
  while (r.pos < r.end) {
    const tag = r.uint32();
    if (tag === (1 << 3) + 0) seconds = r.varint64(true);
    else if (tag === (2 << 3) + 0) nanos = r.varint64(true);
    else r.skip(tag & 7);
  }
  if (!(nanos >= 0 && nanos < 1e9))
    throw new Truncated(`created_timestamp.nanos must be in [0, 999999999], got ${nanos}`);
  return seconds * 1000 + nanos / 1e6;
}

/**
 * A Metric message: `LabelPair label = 1`, one value message (Gauge 2, Counter 3, Summary 4, Untyped 5,
 * Histogram 7) and `int64 timestamp_ms = 6`.
 */
function readMetric(r: Reader): RawMetric {
  const m: RawMetric = { labels: [] };
  while (r.pos < r.end) {
    const tag = r.uint32();
    const field = tag >>> 3;
    const wire = tag & 7;
    switch (field) {
      case 1:
        expectWire(wire, 2, 'Metric.label');
        m.labels.push(readLabelPair(r.sub()));
        break;
      case 2: // Gauge { double value = 1 }
      case 3: // Counter { double value = 1; exemplar = 2; created_timestamp = 3 }
      case 5: // Untyped { double value = 1 }
        expectWire(wire, 2, 'Metric.value');
        m.kind = field === 2 ? 'gauge' : field === 3 ? 'counter' : 'untyped';
        readValueMessage(r.sub(), m, field === 3);
        break;
      case 4:
        expectWire(wire, 2, 'Metric.summary');
        readSummary(r.sub(), m);
        break;
      case 7:
        expectWire(wire, 2, 'Metric.histogram');
        readHistogram(r.sub(), m);
        break;
      case 6:
        expectWire(wire, 0, 'Metric.timestamp_ms');
        m.timestampMs = r.varint64(true);
        break;
      default:
        r.skip(wire);
    }
  }
  return m;
}

/** LabelPair { string name = 1; string value = 2 } */
function readLabelPair(lr: Reader): [string, string] {
  let name = '';
  let value = '';
  while (lr.pos < lr.end) {
    const t = lr.uint32();
    if (t === (1 << 3) + 2) name = lr.string();
    else if (t === (2 << 3) + 2) value = lr.string();
    else lr.skip(t & 7);
  }
  return [name, value];
}

/**
 * Summary { uint64 sample_count = 1; double sample_sum = 2; repeated Quantile quantile = 3;
 * Timestamp created_timestamp = 4 }
 */
function readSummary(sr: Reader, m: RawMetric): void {
  m.kind = 'summary';
  const quantiles: Quantile[] = [];
  m.quantiles = quantiles;
  while (sr.pos < sr.end) {
    const t = sr.uint32();
    const f = t >>> 3;
    const w = t & 7;
    if (f === 1 && w === 0) m.count = sr.varint64(false);
    else if (f === 2 && w === 1) m.sum = sr.double();
    else if (f === 3 && w === 2) quantiles.push(readQuantile(sr.sub()));
    else if (f === 4 && w === 2) m.createdMs = readTimestamp(sr.sub());
    else sr.skip(w);
  }
}

/** Quantile { double quantile = 1; double value = 2 } */
function readQuantile(qr: Reader): Quantile {
  let q = 0;
  let v = 0;
  while (qr.pos < qr.end) {
    const qt = qr.uint32();
    if (qt === (1 << 3) + 1) q = qr.double();
    else if (qt === (2 << 3) + 1) v = qr.double();
    else qr.skip(qt & 7);
  }
  return { quantile: canonicalBound(q), value: v };
}

/**
 * Histogram { uint64 sample_count = 1; double sample_count_float = 4; double sample_sum = 2; repeated
 * Bucket bucket = 3; native fields 5..14 (readNativeField); Timestamp created_timestamp = 15 }
 */
function readHistogram(hr: Reader, m: RawMetric): void {
  m.kind = 'histogram';
  const buckets: { le: number; count: number }[] = [];
  m.buckets = buckets;
  const native: RawNative = {};
  m.native = native;
  while (hr.pos < hr.end) {
    const t = hr.uint32();
    const f = t >>> 3;
    const w = t & 7;
    if (f === 1 && w === 0) m.count = hr.varint64(false);
    else if (f === 4 && w === 1) m.count = hr.double();
    else if (f === 2 && w === 1) m.sum = hr.double();
    else if (f === 3 && w === 2) buckets.push(readBucket(hr.sub()));
    else if (f === 15 && w === 2) m.createdMs = readTimestamp(hr.sub());
    else if (!readNativeField(hr, f, w, native)) hr.skip(w);
  }
}

/** Bucket { uint64 cumulative_count = 1; double cumulative_count_float = 4; double upper_bound = 2 } */
function readBucket(br: Reader): { le: number; count: number } {
  let count = 0;
  let le = 0;
  while (br.pos < br.end) {
    const bt = br.uint32();
    if (bt === (1 << 3) + 0) count = br.varint64(false);
    else if (bt === (4 << 3) + 1) count = br.double();
    else if (bt === (2 << 3) + 1) le = br.double();
    else br.skip(bt & 7);
  }
  return { le, count };
}

/**
 * Parses varint-length-delimited MetricFamily messages. Throws ProtobufParseError, or LimitError as soon
 * as the body holds more than `opts.maxSeries` metrics (series). Names are taken as they are (protobuf
 * has no quoting) and checked with `opts.names` (`utf8` with ACCRUE_UTF8_NAMES; default `legacy`).
 */
export function parseProtobufDelimited(
  buf: Uint8Array,
  opts: { readonly maxSeries?: number; readonly names?: NameValidation } = {},
): MetricFamily[] {
  const nameRules = opts.names ?? 'legacy';
  const maxSeries = opts.maxSeries ?? Number.POSITIVE_INFINITY;
  let series = 0;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const outer = new Reader(buf, 0, buf.byteLength, view);
  const out: MetricFamily[] = [];
  const names = new Set<string>();
  let index = 0;
  while (outer.pos < outer.end) {
    index++;
    let name = '';
    let help = '';
    let typeNum = 0;
    const metrics: RawMetric[] = [];
    try {
      const r = outer.sub();
      while (r.pos < r.end) {
        const tag = r.uint32();
        const field = tag >>> 3;
        const wire = tag & 7;
        if (field === 1 && wire === 2) name = r.string();
        else if (field === 2 && wire === 2) help = r.string();
        else if (field === 3 && wire === 0) typeNum = r.varint64(false);
        else if (field === 4 && wire === 2) {
          if (++series > maxSeries)
            throw new LimitError(
              'maxSeriesPerPush',
              `body: more than ${maxSeries} series (maxSeriesPerPush; refused in message ${index}, before reading the rest)`,
            );
          metrics.push(readMetric(r.sub()));
        } else r.skip(wire);
      }
    } catch (e) {
      if (e instanceof Truncated || e instanceof TypeError) {
        throw new ProtobufParseError(
          index,
          e instanceof TypeError ? 'invalid UTF-8 in a string field' : e.message,
        );
      }
      throw e;
    }
    const fail = (msg: string, reason?: RejectReason): never => {
      throw new ProtobufParseError(index, msg, reason);
    };
    const np = metricNameProblem(name, nameRules);
    if (np) fail(`metric family name ${JSON.stringify(clip(name))} ${np}`, RejectReason.invalidName);
    if (names.has(name)) fail(`metric family ${name} appears in more than one message`);
    names.add(name);
    const type = PB_TYPES[typeNum];
    if (type === undefined)
      fail(
        `metric family ${name}: unsupported type ${typeNum} (GAUGE_HISTOGRAM and unknown types are refused)`,
      );
    out.push(buildFamily(name, help, type as MetricType, metrics, fail, nameRules));
  }
  return out;
}

function buildFamily(
  name: string,
  help: string,
  type: MetricType,
  metrics: readonly RawMetric[],
  fail: (msg: string, reason?: RejectReason) => never,
  nameRules: NameValidation,
): MetricFamily {
  const keys = new Set<string>();
  const series: (ScalarSeries | HistogramSeries | SummarySeries)[] = [];
  for (let mi = 0; mi < metrics.length; mi++) {
    const m = metrics[mi]!;
    const where = `metric family ${name}, metric ${mi + 1}`;
    const labels: Record<string, string> = {};
    const seen = new Set<string>();
    for (const [ln, lv] of m.labels) {
      const lp = labelNameProblem(ln, nameRules);
      if (lp) fail(`${where}: label name ${JSON.stringify(clip(ln))} ${lp}`, RejectReason.invalidName);
      if (seen.has(ln)) fail(`${where}: duplicate label name ${ln}`);
      seen.add(ln);
      if (lv.includes('\u0000')) fail(`${where}: label ${ln} must not contain NUL`);
      if ((type === 'histogram' && ln === 'le') || (type === 'summary' && ln === 'quantile')) {
        fail(`${where}: label ${ln} is reserved for ${type} series`);
      }
      if (lv !== '') labels[ln] = lv;
    }
    const key = labelsKey(labels);
    if (keys.has(key))
      fail(`${where}: duplicate series ${name}${labelsForMsg(labels)}`, RejectReason.duplicateSeries);
    keys.add(key);
    if (m.kind !== type) fail(`${where}: expected a ${type} value, got ${m.kind ?? 'none'}`);
    const ts = m.timestampMs;
    const start = m.createdMs === undefined ? {} : { createdMs: m.createdMs };
    if (type === 'histogram') {
      const { buckets, count } = settleBuckets(m.buckets!, m.count ?? 0, where, fail);
      const sum = m.sum ?? 0;
      const native = isNative(m.native) ? nativeOf(m.native, count, sum, where) : undefined;
      series.push({
        labels,
        buckets,
        sum,
        count,
        ...(native === undefined ? {} : { native }),
        ...(ts === undefined ? {} : { timestampMs: ts }),
        ...start,
      });
    } else if (type === 'summary') {
      const quantiles = m.quantiles!.slice().sort((a, b) => a.quantile - b.quantile);
      for (let i = 0; i < quantiles.length; i++) {
        const q = quantiles[i]!.quantile;
        if (!Number.isFinite(q)) fail(`${where}: quantile must be finite`);
        if (i > 0 && q === quantiles[i - 1]!.quantile) fail(`${where}: duplicate quantile ${q}`);
      }
      const count = m.count ?? 0;
      const sum = m.sum ?? 0;
      series.push(
        ts === undefined
          ? { labels, quantiles, sum, count, ...start }
          : { labels, quantiles, sum, count, timestampMs: ts, ...start },
      );
    } else {
      const value = m.value ?? 0;
      const scalar = ts === undefined ? { labels, value } : { labels, value, timestampMs: ts };
      series.push(type === 'counter' ? { ...scalar, ...start } : scalar);
    }
  }
  return { name, help, type, series } as MetricFamily;
}

/**
 * A protobuf histogram's classic buckets, checked by the one bucket rule (shared/model/buckets.ts):
 * sorted by upper bound, the `+Inf` bucket folded into the count (it must equal sample_count).
 */
function settleBuckets(
  raw: readonly { le: number; count: number }[],
  sampleCount: number,
  where: string,
  fail: (msg: string) => never,
): { buckets: Bucket[]; count: number } {
  const bs = raw.slice().sort((a, b) => a.le - b.le);
  let n = bs.length;
  let inf: number | undefined;
  if (n > 0 && bs[n - 1]!.le === Number.POSITIVE_INFINITY) {
    inf = bs[--n]!.count;
    if (n > 0 && bs[n - 1]!.le === Number.POSITIVE_INFINITY)
      fail(`${where}: duplicate bucket upper bound +Inf`);
    if (!(inf >= 0) || inf === Number.POSITIVE_INFINITY)
      fail(`${where}: bucket count must be a finite number >= 0`);
  }
  const settled = checkCumulativeBuckets(
    n,
    (i) => bs[i]!.le,
    (i) => bs[i]!.count,
    sampleCount,
    inf,
  );
  if (isBucketProblem(settled)) fail(`${where}: ${bucketProblemText(settled, 'sample_count')}`);
  const buckets: Bucket[] = new Array(n);
  for (let i = 0; i < n; i++) buckets[i] = { le: canonicalBound(bs[i]!.le), count: bs[i]!.count };
  return { buckets, count: settled.count };
}

function labelsForMsg(labels: Labels): string {
  const ks = Object.keys(labels);
  if (ks.length === 0) return '';
  return `{${ks.map((k) => `${k}=${JSON.stringify(labels[k])}`).join(',')}}`;
}

/** The validated native histogram of a metric; a NativeHistogramError names the metric, field and rule. */
function nativeOf(raw: RawNative, count: number, sum: number, where: string): NativeHistogram {
  const { float, ...input } = raw;
  // The float variant carries its populations in *_count fields; deltas beside them are refused there.
  if (float && input.positiveCounts === undefined && input.positiveDeltas === undefined)
    input.positiveCounts = [];
  if (float && input.negativeCounts === undefined && input.negativeDeltas === undefined)
    input.negativeCounts = [];
  return validateNativeHistogram(input, { count, sum }, `${where}: histogram.`);
}
