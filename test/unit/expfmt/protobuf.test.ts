import fc from 'fast-check';
import protobuf from 'protobufjs';
import { metricFamiliesToProtobufDelimited } from '../../../shared/expfmt/protobuf-create';
import { ProtobufParseError, parseProtobufDelimited } from '../../../shared/expfmt/protobuf-parse';
import { families } from './arbitraries';

/** The classic-metrics part of prometheus/client_model metrics.proto, field numbers as upstream. */
const PROTO = `
syntax = "proto2";
package io.prometheus.client;
message LabelPair { optional string name = 1; optional string value = 2; }
enum MetricType { COUNTER = 0; GAUGE = 1; SUMMARY = 2; UNTYPED = 3; HISTOGRAM = 4; GAUGE_HISTOGRAM = 5; }
message Gauge { optional double value = 1; }
message Counter { optional double value = 1; }
message Quantile { optional double quantile = 1; optional double value = 2; }
message Summary { optional uint64 sample_count = 1; optional double sample_sum = 2; repeated Quantile quantile = 3; }
message Untyped { optional double value = 1; }
message BucketSpan { optional sint32 offset = 1; optional uint32 length = 2; }
message Histogram {
  optional uint64 sample_count = 1; optional double sample_count_float = 4; optional double sample_sum = 2;
  repeated Bucket bucket = 3; optional sint32 schema = 5; repeated BucketSpan positive_span = 12; repeated sint64 positive_delta = 13;
}
message Bucket { optional uint64 cumulative_count = 1; optional double cumulative_count_float = 4; optional double upper_bound = 2; }
message Metric {
  repeated LabelPair label = 1; optional Gauge gauge = 2; optional Counter counter = 3; optional Summary summary = 4;
  optional Untyped untyped = 5; optional Histogram histogram = 7; optional int64 timestamp_ms = 6;
}
message MetricFamily { optional string name = 1; optional string help = 2; optional MetricType type = 3; repeated Metric metric = 4; optional string unit = 5; }
`;
const root = protobuf.parse(PROTO).root;
const MF = root.lookupType('io.prometheus.client.MetricFamily');

function encode(...msgs: Record<string, unknown>[]): Uint8Array {
  const parts = msgs.map((m) => {
    const err = MF.verify(m);
    if (err) throw new Error(err);
    return MF.encodeDelimited(MF.fromObject(m)).finish();
  });
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

describe('parseProtobufDelimited: bytes encoded by protobufjs', () => {
  it('decodes every classic type, labels, timestamps, and folds +Inf into count', () => {
    const buf = encode(
      {
        name: 'aria_orders_total',
        help: 'Orders.',
        type: 0,
        metric: [
          {
            label: [
              { name: 'symbol', value: 'BTC' },
              { name: 'empty', value: '' },
            ],
            counter: { value: 3 },
          },
          { label: [{ name: 'symbol', value: 'ETH' }], counter: { value: 1 }, timestampMs: -5 },
        ],
      },
      { name: 'g', type: 1, metric: [{ gauge: { value: Number.NaN } }] },
      { name: 'u', type: 3, metric: [{ untyped: { value: -Infinity }, timestampMs: 1_700_000_000_000 }] },
      {
        name: 'h',
        type: 4,
        metric: [
          {
            histogram: {
              sampleCount: 5,
              sampleSum: 2.5,
              bucket: [
                { upperBound: 1, cumulativeCount: 3 },
                { upperBound: 0.1, cumulativeCount: 1 },
                { upperBound: Infinity, cumulativeCount: 5 },
              ],
            },
          },
        ],
      },
      {
        name: 's',
        type: 2,
        metric: [
          {
            summary: {
              sampleCount: 4,
              sampleSum: 1,
              quantile: [
                { quantile: 0.9, value: 2 },
                { quantile: 0.5, value: 1 },
              ],
            },
          },
        ],
      },
      {
        name: 'hf',
        type: 4,
        metric: [
          {
            histogram: {
              sampleCountFloat: 2.5,
              sampleSum: 1,
              bucket: [{ upperBound: 1, cumulativeCountFloat: 1.5 }],
            },
          },
        ],
      },
    );
    expect(parseProtobufDelimited(buf)).toEqual([
      {
        name: 'aria_orders_total',
        help: 'Orders.',
        type: 'counter',
        series: [
          { labels: { symbol: 'BTC' }, value: 3 },
          { labels: { symbol: 'ETH' }, value: 1, timestampMs: -5 },
        ],
      },
      { name: 'g', help: '', type: 'gauge', series: [{ labels: {}, value: Number.NaN }] },
      {
        name: 'u',
        help: '',
        type: 'untyped',
        series: [{ labels: {}, value: -Infinity, timestampMs: 1_700_000_000_000 }],
      },
      {
        name: 'h',
        help: '',
        type: 'histogram',
        series: [
          {
            labels: {},
            buckets: [
              { le: 0.1, count: 1 },
              { le: 1, count: 3 },
            ],
            sum: 2.5,
            count: 5,
          },
        ],
      },
      {
        name: 's',
        help: '',
        type: 'summary',
        series: [
          {
            labels: {},
            quantiles: [
              { quantile: 0.5, value: 1 },
              { quantile: 0.9, value: 2 },
            ],
            sum: 1,
            count: 4,
          },
        ],
      },
      {
        name: 'hf',
        help: '',
        type: 'histogram',
        series: [{ labels: {}, buckets: [{ le: 1, count: 1.5 }], sum: 1, count: 2.5 }],
      },
    ]);
  });

  it('decodes from a Buffer that is a view at an odd offset of a larger allocation', () => {
    const bytes = metricFamiliesToProtobufDelimited([
      { name: 'g', help: '', type: 'gauge', series: [{ labels: { a: 'é' }, value: 0.1 }] },
    ]);
    const view = Buffer.concat([Buffer.from([1, 2, 3]), Buffer.from(bytes)]).subarray(3);
    expect(parseProtobufDelimited(view)).toEqual([
      { name: 'g', help: '', type: 'gauge', series: [{ labels: { a: 'é' }, value: 0.1 }] },
    ]);
  });

  it('decodes an empty body as no families', () => {
    expect(parseProtobufDelimited(new Uint8Array(0))).toEqual([]);
  });

  const NOT_DECODE: Record<string, string> = {
    'invalid family name': 'invalid_name',
    'empty family name': 'invalid_name',
    '__proto__ label': 'invalid_name',
    'duplicate series': 'duplicate_series',
  };
  it.each<[string, Uint8Array, string]>([
    [
      'invalid family name',
      encode({ name: '1bad', type: 1, metric: [{ gauge: { value: 1 } }] }),
      'protobuf format parsing error in message 1: metric family name "1bad" must match',
    ],
    [
      'empty family name',
      encode({ type: 1, metric: [] }),
      'protobuf format parsing error in message 1: metric family name "" must not be empty',
    ],
    [
      '__proto__ label',
      encode({
        name: 'g',
        type: 1,
        metric: [{ label: [{ name: '__proto__', value: 'x' }], gauge: { value: 1 } }],
      }),
      'protobuf format parsing error in message 1: metric family g, metric 1: label name "__proto__" must not start with "__"',
    ],
    [
      'NUL in label value',
      encode({
        name: 'g',
        type: 1,
        metric: [{ label: [{ name: 'a', value: 'x\u0000y' }], gauge: { value: 1 } }],
      }),
      'protobuf format parsing error in message 1: metric family g, metric 1: label a must not contain NUL',
    ],
    [
      'duplicate label',
      encode({
        name: 'g',
        type: 1,
        metric: [
          {
            label: [
              { name: 'a', value: '1' },
              { name: 'a', value: '2' },
            ],
            gauge: { value: 1 },
          },
        ],
      }),
      'protobuf format parsing error in message 1: metric family g, metric 1: duplicate label name a',
    ],
    [
      'duplicate series',
      encode({
        name: 'g',
        type: 1,
        metric: [
          { label: [{ name: 'a', value: '1' }], gauge: { value: 1 } },
          { label: [{ name: 'a', value: '1' }], gauge: { value: 2 } },
        ],
      }),
      'protobuf format parsing error in message 1: metric family g, metric 2: duplicate series g{a="1"}',
    ],
    [
      'duplicate family',
      encode(
        { name: 'g', type: 1, metric: [{ gauge: { value: 1 } }] },
        { name: 'g', type: 1, metric: [{ gauge: { value: 2 } }] },
      ),
      'protobuf format parsing error in message 2: metric family g appears in more than one message',
    ],
    [
      'type mismatch',
      encode({ name: 'g', type: 0, metric: [{ gauge: { value: 1 } }] }),
      'protobuf format parsing error in message 1: metric family g, metric 1: expected a counter value, got gauge',
    ],
    [
      'gauge histogram',
      encode({ name: 'g', type: 5, metric: [] }),
      'protobuf format parsing error in message 1: metric family g: unsupported type 5',
    ],
    [
      'non-monotonic buckets',
      encode({
        name: 'h',
        type: 4,
        metric: [
          {
            histogram: {
              sampleCount: 5,
              bucket: [
                { upperBound: 1, cumulativeCount: 4 },
                { upperBound: 2, cumulativeCount: 3 },
              ],
            },
          },
        ],
      }),
      'protobuf format parsing error in message 1: metric family h, metric 1: buckets are not cumulative',
    ],
    [
      '+Inf differs from count',
      encode({
        name: 'h',
        type: 4,
        metric: [{ histogram: { sampleCount: 5, bucket: [{ upperBound: Infinity, cumulativeCount: 4 }] } }],
      }),
      'protobuf format parsing error in message 1: metric family h, metric 1: le="+Inf" bucket (4) differs from sample_count (5)',
    ],
    [
      'le label on a histogram',
      encode({
        name: 'h',
        type: 4,
        metric: [{ label: [{ name: 'le', value: '1' }], histogram: { sampleCount: 0 } }],
      }),
      'protobuf format parsing error in message 1: metric family h, metric 1: label le is reserved',
    ],
    [
      'truncated length',
      Uint8Array.from([0x0a, 0x08, 0x0a]),
      'protobuf format parsing error in message 1: length-delimited field runs past its message',
    ],
    [
      'huge declared length',
      Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x0a]),
      'protobuf format parsing error in message 1: length-delimited field runs past its message',
    ],
    [
      'truncated varint',
      Uint8Array.from([0x80]),
      'protobuf format parsing error in message 1: truncated varint',
    ],
    [
      'invalid UTF-8 name',
      Uint8Array.from([0x04, 0x0a, 0x02, 0xc3, 0x28]),
      'protobuf format parsing error in message 1: invalid UTF-8',
    ],
    [
      'bad wire type',
      Uint8Array.from([0x02, 0x0f, 0x00]),
      'protobuf format parsing error in message 1: unsupported wire type 7',
    ],
    [
      'text instead of protobuf',
      new TextEncoder().encode('# TYPE a gauge\na 1\n'),
      'protobuf format parsing error in message 1:',
    ],
  ])('refuses %s', (name, buf, prefix) => {
    let err: unknown;
    try {
      parseProtobufDelimited(buf);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ProtobufParseError);
    expect((err as Error).message.slice(0, prefix.length)).toBe(prefix);
    // Bytes that don't parse are `decode`; bad names and repeated series have their own reasons, as in text.
    expect((err as ProtobufParseError).reason).toBe(NOT_DECODE[name] ?? 'decode');
  });

  it('skips unknown fields', () => {
    // MetricFamily{name:"g", type:GAUGE, field 99 (varint) = 7, metric{gauge{value:1}}}
    const inner = [
      0x0a, 0x01, 0x67, 0x18, 0x01, 0x98, 0x06, 0x07, 0x22, 0x0b, 0x12, 0x09, 0x09, 0, 0, 0, 0, 0, 0, 0xf0,
      0x3f,
    ];
    expect(parseProtobufDelimited(Uint8Array.from([inner.length, ...inner]))).toEqual([
      { name: 'g', help: '', type: 'gauge', series: [{ labels: {}, value: 1 }] },
    ]);
  });
});

describe('metricFamiliesToProtobufDelimited', () => {
  it('round-trips generated families through our decoder', () => {
    fc.assert(
      fc.property(families, (fams) => {
        expect(parseProtobufDelimited(metricFamiliesToProtobufDelimited(fams))).toEqual(
          fams.map((f) =>
            f.type === 'summary'
              ? {
                  ...f,
                  series: f.series.map((s) => ({
                    ...s,
                    count: Number.isFinite(s.count) && s.count > 0 ? Math.round(s.count) : 0,
                  })),
                }
              : f,
          ),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('writes bytes protobufjs decodes to the same content', () => {
    const buf = metricFamiliesToProtobufDelimited([
      { name: 'g', help: 'h', type: 'gauge', series: [{ labels: { a: '1' }, value: 2, timestampMs: -3 }] },
    ]);
    const reader = protobuf.Reader.create(buf);
    const msg = MF.toObject(MF.decodeDelimited(reader), { longs: Number }) as Record<string, unknown>;
    expect(msg).toEqual({
      name: 'g',
      help: 'h',
      type: 1,
      metric: [{ label: [{ name: 'a', value: '1' }], gauge: { value: 2 }, timestampMs: -3 }],
    });
    expect(reader.pos).toBe(buf.length);
  });
});
