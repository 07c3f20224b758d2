/**
 * prometheus/client_model `metrics.proto` (classic and native histogram fields, created timestamps) as a protobufjs root, to encode Go-client
 * bodies and to decode Accrue's protobuf exposition in tests.
 */
import protobuf from 'protobufjs';

export function clientModelRoot(): protobuf.Root {
  return protobuf.Root.fromJSON({
    nested: {
      io: {
        nested: {
          prometheus: {
            nested: {
              client: {
                nested: {
                  LabelPair: {
                    fields: { name: { type: 'string', id: 1 }, value: { type: 'string', id: 2 } },
                  },
                  Gauge: { fields: { value: { type: 'double', id: 1 } } },
                  // google.protobuf.Timestamp, as metrics.proto's created_timestamp fields carry it
                  Timestamp: {
                    fields: { seconds: { type: 'int64', id: 1 }, nanos: { type: 'int32', id: 2 } },
                  },
                  Counter: {
                    fields: {
                      value: { type: 'double', id: 1 },
                      createdTimestamp: { type: 'Timestamp', id: 3 },
                    },
                  },
                  Untyped: { fields: { value: { type: 'double', id: 1 } } },
                  Quantile: {
                    fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } },
                  },
                  Summary: {
                    fields: {
                      sampleCount: { type: 'uint64', id: 1 },
                      sampleSum: { type: 'double', id: 2 },
                      quantile: { rule: 'repeated', type: 'Quantile', id: 3 },
                      createdTimestamp: { type: 'Timestamp', id: 4 },
                    },
                  },
                  Bucket: {
                    fields: {
                      cumulativeCount: { type: 'uint64', id: 1 },
                      cumulativeCountFloat: { type: 'double', id: 4 },
                      upperBound: { type: 'double', id: 2 },
                    },
                  },
                  BucketSpan: {
                    fields: { offset: { type: 'sint32', id: 1 }, length: { type: 'uint32', id: 2 } },
                  },
                  Histogram: {
                    // metrics.proto is proto2: repeated scalars unpacked, as client_golang writes them
                    fields: {
                      sampleCount: { type: 'uint64', id: 1 },
                      sampleCountFloat: { type: 'double', id: 4 },
                      sampleSum: { type: 'double', id: 2 },
                      bucket: { rule: 'repeated', type: 'Bucket', id: 3 },
                      schema: { type: 'sint32', id: 5 },
                      zeroThreshold: { type: 'double', id: 6 },
                      zeroCount: { type: 'uint64', id: 7 },
                      zeroCountFloat: { type: 'double', id: 8 },
                      negativeSpan: { rule: 'repeated', type: 'BucketSpan', id: 9 },
                      negativeDelta: { rule: 'repeated', type: 'sint64', id: 10, options: { packed: false } },
                      negativeCount: { rule: 'repeated', type: 'double', id: 11, options: { packed: false } },
                      positiveSpan: { rule: 'repeated', type: 'BucketSpan', id: 12 },
                      positiveDelta: { rule: 'repeated', type: 'sint64', id: 13, options: { packed: false } },
                      positiveCount: { rule: 'repeated', type: 'double', id: 14, options: { packed: false } },
                      createdTimestamp: { type: 'Timestamp', id: 15 },
                    },
                  },
                  Metric: {
                    fields: {
                      label: { rule: 'repeated', type: 'LabelPair', id: 1 },
                      gauge: { type: 'Gauge', id: 2 },
                      counter: { type: 'Counter', id: 3 },
                      summary: { type: 'Summary', id: 4 },
                      untyped: { type: 'Untyped', id: 5 },
                      histogram: { type: 'Histogram', id: 7 },
                      timestampMs: { type: 'int64', id: 6 },
                    },
                  },
                  MetricType: {
                    values: {
                      COUNTER: 0,
                      GAUGE: 1,
                      SUMMARY: 2,
                      UNTYPED: 3,
                      HISTOGRAM: 4,
                      GAUGE_HISTOGRAM: 5,
                    },
                  },
                  MetricFamily: {
                    fields: {
                      name: { type: 'string', id: 1 },
                      help: { type: 'string', id: 2 },
                      type: { type: 'MetricType', id: 3 },
                      metric: { rule: 'repeated', type: 'Metric', id: 4 },
                    },
                  },
                },
              },
            },
          },
        },
      },
    },
  });
}
