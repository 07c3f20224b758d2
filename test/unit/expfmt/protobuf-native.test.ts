import protobuf from 'protobufjs';
import { metricFamiliesToProtobufDelimited } from '../../../shared/expfmt/protobuf-create';
import { ProtobufParseError, parseProtobufDelimited } from '../../../shared/expfmt/protobuf-parse';
import {
  forEachBucket,
  type NativeBuckets,
  NativeHistogramError,
  observeNative,
} from '../../../shared/model/native';
import type { HistogramFamily, HistogramSeries, MetricFamily } from '../../../shared/model/types';
import { clientModelRoot } from '../../support/client-model';

const MF = clientModelRoot().lookupType('io.prometheus.client.MetricFamily');

function encode(...msgs: Record<string, unknown>[]): Uint8Array {
  return Buffer.concat(msgs.map((m) => Buffer.from(MF.encodeDelimited(MF.fromObject(m)).finish())));
}

// biome-ignore lint/suspicious/noExplicitAny: decoded protobuf objects, checked field by field
function decode(bytes: Uint8Array): any[] {
  const r = protobuf.Reader.create(bytes);
  const out: Record<string, unknown>[] = [];
  while (r.pos < r.len) out.push(MF.toObject(MF.decodeDelimited(r), { enums: String, longs: Number }));
  return out;
}

function pairs(b: NativeBuckets): [number, number][] {
  const out: [number, number][] = [];
  forEachBucket(b, (i, c) => out.push([i, c]));
  return out;
}

function histogram(name: string, h: Record<string, unknown>): Record<string, unknown> {
  return {
    name,
    help: 'Latency.',
    type: 'HISTOGRAM',
    metric: [{ label: [{ name: 'path', value: '/x' }], histogram: h }],
  };
}

function only(fams: MetricFamily[]): HistogramSeries {
  return (fams[0] as HistogramFamily).series[0]!;
}

describe('protobuf pushes with native histograms', () => {
  it('reads the integer variant beside classic buckets, as client_golang sends both', () => {
    const body = encode(
      histogram('rpc_seconds', {
        sampleCount: 7,
        sampleSum: 7.5,
        bucket: [
          { cumulativeCount: 2, upperBound: 0.5 },
          { cumulativeCount: 5, upperBound: 2 },
        ],
        schema: 3,
        zeroThreshold: 2 ** -128,
        zeroCount: 1,
        positiveSpan: [
          { offset: -2, length: 2 },
          { offset: 3, length: 1 },
        ],
        positiveDelta: [2, -1, 1],
        negativeSpan: [{ offset: 0, length: 1 }],
        negativeDelta: [1],
      }),
    );
    const s = only(parseProtobufDelimited(body));
    expect(s.buckets).toEqual([
      { le: 0.5, count: 2 },
      { le: 2, count: 5 },
    ]);
    expect(s.count).toBe(7);
    expect(s.native).toMatchObject({ schema: 3, zeroThreshold: 2 ** -128, zeroCount: 1 });
    expect(pairs(s.native!.positive)).toEqual([
      [-2, 2],
      [-1, 1],
      [3, 2],
    ]);
    expect(pairs(s.native!.negative)).toEqual([[0, 1]]);
  });

  it('reads the float variant (sample_count_float, zero_count_float, *_count) of a native-only histogram', () => {
    const body = encode(
      histogram('rate_seconds', {
        sampleCountFloat: 3.5,
        sampleSum: 1,
        schema: 0,
        zeroThreshold: 0.001,
        zeroCountFloat: 0.5,
        positiveSpan: [{ offset: 1, length: 2 }],
        positiveCount: [1.25, 1.75],
      }),
    );
    const s = only(parseProtobufDelimited(body));
    expect(s.buckets).toEqual([]);
    expect(s.count).toBe(3.5);
    expect(s.native!.zeroCount).toBe(0.5);
    expect(pairs(s.native!.positive)).toEqual([
      [1, 1.25],
      [2, 1.75],
    ]);
  });

  it('reads an empty native histogram marked by a no-op span', () => {
    const s = only(
      parseProtobufDelimited(
        encode(
          histogram('idle_seconds', {
            sampleCount: 0,
            sampleSum: 0,
            schema: 2,
            positiveSpan: [{ offset: 0, length: 0 }],
          }),
        ),
      ),
    );
    expect(s.native).toMatchObject({ schema: 2, zeroCount: 0, positive: { spans: [], counts: [] } });
  });

  it('a classic histogram with no native field stays classic', () => {
    const s = only(
      parseProtobufDelimited(
        encode(
          histogram('c_seconds', {
            sampleCount: 1,
            sampleSum: 1,
            bucket: [{ cumulativeCount: 1, upperBound: 1 }],
          }),
        ),
      ),
    );
    expect(s.native).toBeUndefined();
  });

  const bad: [string, Record<string, unknown>, RegExp][] = [
    [
      'schema 9',
      { sampleCount: 1, schema: 9, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [1] },
      /metric family h_seconds, metric 1: histogram\.schema: must be an integer in -4\.\.8/,
    ],
    [
      'custom buckets',
      { sampleCount: 1, schema: -53, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [1] },
      /schema -53 \(custom buckets\) is not supported/,
    ],
    [
      'negative population',
      { sampleCount: 1, positiveSpan: [{ offset: 0, length: 2 }], positiveDelta: [1, -2] },
      /histogram\.positive_deltas\[1\]: makes the bucket population -1/,
    ],
    [
      'spans and deltas disagree',
      { sampleCount: 1, positiveSpan: [{ offset: 0, length: 3 }], positiveDelta: [1] },
      /spans cover 3 buckets but 1 deltas/,
    ],
    [
      'huge offset',
      { sampleCount: 1, positiveSpan: [{ offset: 2147483647, length: 1 }], positiveDelta: [1] },
      /outside the valid range/,
    ],
    [
      'count below the buckets',
      { sampleCount: 1, sampleSum: 1, positiveSpan: [{ offset: 0, length: 1 }], positiveDelta: [5] },
      /sample_count: 1 differs from the 5 observations/,
    ],
    [
      'NaN float count',
      {
        sampleCountFloat: 1,
        zeroCountFloat: 1,
        positiveSpan: [{ offset: 0, length: 1 }],
        positiveCount: [Number.NaN],
      },
      /positive_counts\[0\]: must be a finite number >= 0/,
    ],
    [
      'deltas in a float histogram',
      {
        sampleCountFloat: 1,
        zeroCountFloat: 1,
        positiveSpan: [{ offset: 0, length: 1 }],
        positiveDelta: [1],
        positiveCount: [1],
      },
      /not both/,
    ],
  ];
  it.each(bad)(
    '%s: refused with a NativeHistogramError naming metric, field and rule',
    (_name, h, message) => {
      let err: unknown;
      try {
        parseProtobufDelimited(encode(histogram('h_seconds', h)));
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(NativeHistogramError);
      expect((err as Error).message).toMatch(message);
    },
  );

  it('a native field with the wrong wire type is a parse error', () => {
    // Histogram { schema (field 5) as a double (wire 1) }
    const hist = Buffer.from([0x29, 0, 0, 0, 0, 0, 0, 0, 0]);
    const metric = Buffer.concat([Buffer.from([0x3a, hist.length]), hist]);
    const family = Buffer.concat([Buffer.from([0x0a, 1, 0x68, 0x18, 4, 0x22, metric.length]), metric]);
    const body = Buffer.concat([Buffer.from([family.length]), family]);
    expect(() => parseProtobufDelimited(body)).toThrow(ProtobufParseError);
    expect(() => parseProtobufDelimited(body)).toThrow(/Histogram\.schema has wire type 1, expected 0/);
  });
});

describe('protobuf exposition of native histograms', () => {
  const integer = observeNative([0.001, 0.2, 0.2, 3, -1, 0], 3, 2 ** -128);
  const float = { ...observeNative([1, 2, 4], 0, 0), count: 1.5 };
  const floatNative = {
    ...float.native,
    positive: { ...float.native.positive, counts: float.native.positive.counts.map((c) => c / 2) },
  };
  const fams: MetricFamily[] = [
    {
      name: 'int_seconds',
      help: 'Integer.',
      type: 'histogram',
      series: [
        {
          labels: { a: '1' },
          buckets: [{ le: 1, count: 4 }],
          sum: integer.sum,
          count: integer.count,
          native: integer.native,
        },
      ],
    },
    {
      name: 'float_seconds',
      help: '',
      type: 'histogram',
      series: [{ labels: {}, buckets: [], sum: float.sum, count: 1.5, native: floatNative }],
    },
    {
      name: 'empty_seconds',
      help: '',
      type: 'histogram',
      series: [{ labels: {}, buckets: [], sum: 0, count: 0, native: observeNative([], 1, 0).native }],
    },
  ];

  it('round-trips through our own parser (integer, float and empty histograms)', () => {
    const back = parseProtobufDelimited(metricFamiliesToProtobufDelimited(fams));
    expect(back).toEqual(fams);
  });

  it('decodes with the client model: integer variant as deltas, float variant as counts, classic buckets kept', () => {
    const [i, f, e] = decode(metricFamiliesToProtobufDelimited(fams));
    const ih = i.metric[0].histogram;
    expect(ih).toMatchObject({ sampleCount: 6, schema: 3, zeroThreshold: 2 ** -128, zeroCount: 1 });
    expect(ih.bucket).toEqual([
      { cumulativeCount: 4, upperBound: 1 },
      { cumulativeCount: 6, upperBound: Number.POSITIVE_INFINITY },
    ]);
    expect(ih.positiveSpan.length).toBeGreaterThan(0);
    // deltas decode back to the stored absolute populations
    let run = 0;
    expect(ih.positiveDelta.map((d: number) => (run += d))).toEqual(integer.native.positive.counts);
    expect(ih.negativeDelta).toEqual([1]);
    const fh = f.metric[0].histogram;
    expect(fh.sampleCountFloat).toBe(1.5);
    expect([fh.sampleCount, fh.zeroCount, fh.positiveDelta]).toEqual([undefined, undefined, undefined]);
    expect(fh.positiveCount).toEqual(floatNative.positive.counts);
    expect(fh.bucket).toBeUndefined();
    // An empty histogram without a zero threshold is still recognizably native: a no-op span.
    expect(e.metric[0].histogram.positiveSpan).toHaveLength(1);
    expect(e.metric[0].histogram.positiveSpan[0].length ?? 0).toBe(0);
  });
});
