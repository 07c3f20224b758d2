/**
 * MetricFamily[] → varint-length-delimited `io.prometheus.client.MetricFamily` messages, as the Go client
 * pushes them. Used by tests of the Go-client path and by tools; not on a hot path.
 * Assumptions as the text writer's (valid families). Counts are written as uint64 when they are safe
 * integers, else as the `_float` fields; the `+Inf` bucket is written explicitly (as client_golang does).
 * Native histograms are written with their native fields (writeHistogram).
 */
import {
  type BucketSpan,
  countsToDeltas,
  isIntegerNative,
  type NativeBuckets,
  type NativeHistogram,
} from '../model/native';
import type { HistogramSeries, MetricFamily, ScalarSeries, SummarySeries } from '../model/types';

class Writer {
  private bytes: number[] = [];
  private readonly f64 = new DataView(new ArrayBuffer(8));
  varint(v: number): void {
    // non-negative integers up to 2^53
    while (v >= 0x80) {
      this.bytes.push((v % 128) | 0x80);
      v = Math.floor(v / 128);
    }
    this.bytes.push(v);
  }
  int64(v: number): void {
    if (v >= 0) {
      this.varint(v);
      return;
    }
    // two's complement over 64 bits, 10 bytes
    let big = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.bytes.push(Number(big & 0x7fn) | 0x80);
      big >>= 7n;
    }
    this.bytes.push(Number(big));
  }
  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }
  double(field: number, v: number): void {
    this.tag(field, 1);
    this.f64.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.f64.getUint8(i));
  }
  /** A bare little-endian double (an element of a packed repeated double). */
  f64le(v: number): void {
    this.f64.setFloat64(0, v, true);
    for (let i = 0; i < 8; i++) this.bytes.push(this.f64.getUint8(i));
  }
  string(field: number, s: string): void {
    this.raw(field, new TextEncoder().encode(s));
  }
  raw(field: number, b: Uint8Array | number[]): void {
    this.tag(field, 2);
    this.varint(b.length);
    for (const x of b) this.bytes.push(x);
  }
  message(field: number, build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.raw(field, w.bytes);
  }
  sint(v: number): void {
    // zigzag (sint32 / sint64), exact up to 2^52 in magnitude
    this.varint(v >= 0 ? v * 2 : -v * 2 - 1);
  }
  count(intField: number, floatField: number, v: number): void {
    if (Number.isSafeInteger(v) && v >= 0) {
      this.tag(intField, 0);
      this.varint(v);
    } else this.double(floatField, v);
  }
  delimited(build: (w: Writer) => void): void {
    const w = new Writer();
    build(w);
    this.varint(w.bytes.length);
    for (const x of w.bytes) this.bytes.push(x);
  }
  result(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const TYPE_NUM = { counter: 0, gauge: 1, summary: 2, untyped: 3, histogram: 4 } as const;

export function metricFamiliesToProtobufDelimited(families: readonly MetricFamily[]): Uint8Array {
  const out = new Writer();
  for (const f of families) {
    out.delimited((w) => {
      w.string(1, f.name);
      if (f.help !== '') w.string(2, f.help);
      w.tag(3, 0);
      w.varint(TYPE_NUM[f.type]);
      for (const s of f.series) {
        w.message(4, (m) => {
          for (const k of Object.keys(s.labels)) {
            m.message(1, (l) => {
              l.string(1, k);
              l.string(2, s.labels[k]!);
            });
          }
          if (f.type === 'histogram') {
            const h = s as HistogramSeries;
            m.message(7, (hw) => writeHistogram(hw, h));
          } else if (f.type === 'summary') {
            const q = s as SummarySeries;
            m.message(4, (sw) => {
              sw.tag(1, 0);
              sw.varint(Number.isFinite(q.count) && q.count > 0 ? Math.round(q.count) : 0);
              sw.double(2, q.sum);
              for (const x of q.quantiles) {
                sw.message(3, (qw) => {
                  qw.double(1, x.quantile);
                  qw.double(2, x.value);
                });
              }
            });
          } else {
            const field = f.type === 'gauge' ? 2 : f.type === 'counter' ? 3 : 5;
            m.message(field, (vw) => vw.double(1, (s as ScalarSeries).value));
          }
          if (s.timestampMs !== undefined) {
            m.tag(6, 0);
            m.int64(s.timestampMs);
          }
        });
      }
    });
  }
  return out.result();
}

/**
 * A Histogram message: count, sum, the classic buckets (with an explicit `+Inf` bucket, as client_golang
 * writes them) unless the series is native-only, and the native fields. A native histogram whose
 * populations and count are all safe integers is written as the integer variant (deltas), else as the
 * float variant (`sample_count_float`, `zero_count_float`, `*_count`), the form Prometheus tells apart by
 * those float fields. An empty native histogram without a zero threshold gets a no-op span (offset 0,
 * length 0) so that it still reads as native, as client_golang does.
 */
function writeHistogram(hw: Writer, h: HistogramSeries): void {
  const native = h.native;
  const integer = native === undefined || (isIntegerNative(native) && Number.isSafeInteger(h.count));
  if (integer) hw.count(1, 4, h.count);
  else hw.double(4, h.count);
  hw.double(2, h.sum);
  if (native === undefined || h.buckets.length > 0) {
    for (const b of [...h.buckets, { le: Infinity, count: h.count }]) {
      hw.message(3, (bw) => {
        bw.count(1, 4, b.count);
        bw.double(2, b.le);
      });
    }
  }
  if (native !== undefined) writeNative(hw, native, integer);
}

function writeNative(hw: Writer, n: NativeHistogram, integer: boolean): void {
  hw.tag(5, 0);
  hw.sint(n.schema);
  hw.double(6, n.zeroThreshold);
  if (integer) {
    hw.tag(7, 0);
    hw.varint(n.zeroCount);
  } else hw.double(8, n.zeroCount);
  const empty = n.positive.spans.length === 0 && n.negative.spans.length === 0;
  const noop = empty && n.zeroThreshold === 0 && n.zeroCount === 0;
  writeSide(hw, n.negative, 9, integer ? 10 : 11, integer);
  if (noop) writeSpan(hw, 12, { offset: 0, length: 0 });
  writeSide(hw, n.positive, 12, integer ? 13 : 14, integer);
}

function writeSpan(hw: Writer, field: number, span: BucketSpan): void {
  hw.message(field, (sw) => {
    sw.tag(1, 0);
    sw.sint(span.offset);
    sw.tag(2, 0);
    sw.varint(span.length);
  });
}

function writeSide(
  hw: Writer,
  b: NativeBuckets,
  spanField: number,
  listField: number,
  integer: boolean,
): void {
  for (const span of b.spans) writeSpan(hw, spanField, span);
  if (b.counts.length === 0) return;
  hw.message(listField, (lw) => {
    if (integer) for (const d of countsToDeltas(b.counts)) lw.sint(d);
    else for (const c of b.counts) lw.f64le(c);
  });
}
