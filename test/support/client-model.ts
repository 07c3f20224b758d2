/**
 * prometheus/client_model `metrics.proto` (the classic fields) as a protobufjs root, to encode Go-client
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
                  Counter: { fields: { value: { type: 'double', id: 1 } } },
                  Untyped: { fields: { value: { type: 'double', id: 1 } } },
                  Quantile: {
                    fields: { quantile: { type: 'double', id: 1 }, value: { type: 'double', id: 2 } },
                  },
                  Summary: {
                    fields: {
                      sampleCount: { type: 'uint64', id: 1 },
                      sampleSum: { type: 'double', id: 2 },
                      quantile: { rule: 'repeated', type: 'Quantile', id: 3 },
                    },
                  },
                  Bucket: {
                    fields: {
                      cumulativeCount: { type: 'uint64', id: 1 },
                      upperBound: { type: 'double', id: 2 },
                    },
                  },
                  Histogram: {
                    fields: {
                      sampleCount: { type: 'uint64', id: 1 },
                      sampleSum: { type: 'double', id: 2 },
                      bucket: { rule: 'repeated', type: 'Bucket', id: 3 },
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
                  MetricType: { values: { COUNTER: 0, GAUGE: 1, SUMMARY: 2, UNTYPED: 3, HISTOGRAM: 4 } },
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
