import {
  negotiate,
  OPENMETRICS_CONTENT_TYPE,
  PROTOBUF_EXPOSITION_CONTENT_TYPE,
  TEXT_CONTENT_TYPE,
} from '../../../shared/expfmt/negotiate';

const OM0 = 'application/openmetrics-text; version=0.0.1; charset=utf-8';

describe('negotiate', () => {
  it.each<[string, string | undefined, string, string]>([
    ['no header', undefined, 'text', TEXT_CONTENT_TYPE],
    ['empty header', '', 'text', TEXT_CONTENT_TYPE],
    ['*/*', '*/*', 'text', TEXT_CONTENT_TYPE],
    ['text/plain', 'text/plain', 'text', TEXT_CONTENT_TYPE],
    ['text/plain version 0.0.4', 'text/plain;version=0.0.4', 'text', TEXT_CONTENT_TYPE],
    [
      'Prometheus 2.x scrape header',
      'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
      'openmetrics',
      OPENMETRICS_CONTENT_TYPE,
    ],
    [
      'Prometheus 3.x scrape header with protobuf first',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1',
      'protobuf',
      PROTOBUF_EXPOSITION_CONTENT_TYPE,
    ],
    [
      'Prometheus 2.x with native histograms enabled',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.2',
      'protobuf',
      PROTOBUF_EXPOSITION_CONTENT_TYPE,
    ],
    [
      'protobuf of another message or encoding is not ours',
      'application/vnd.google.protobuf;proto=io.prometheus.client.Metric;encoding=delimited,application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text;q=0.9,text/plain;q=0.1',
      'text',
      TEXT_CONTENT_TYPE,
    ],
    [
      'protobuf refused with q=0',
      'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0,application/openmetrics-text;q=0.1',
      'openmetrics',
      OPENMETRICS_CONTENT_TYPE,
    ],
    ['OpenMetrics 0.0.1 only', 'application/openmetrics-text; version=0.0.1', 'openmetrics', OM0],
    ['OpenMetrics without version', 'application/openmetrics-text', 'openmetrics', OPENMETRICS_CONTENT_TYPE],
    [
      'OpenMetrics with quoted version',
      'application/openmetrics-text; version="1.0.0"',
      'openmetrics',
      OPENMETRICS_CONTENT_TYPE,
    ],
    [
      'text preferred by q',
      'application/openmetrics-text;q=0.2, text/plain;q=0.9',
      'text',
      TEXT_CONTENT_TYPE,
    ],
    [
      'OpenMetrics refused with q=0',
      'application/openmetrics-text;q=0, text/plain;q=0.1',
      'text',
      TEXT_CONTENT_TYPE,
    ],
    ['unknown OpenMetrics version', 'application/openmetrics-text; version=2.0.0', 'text', TEXT_CONTENT_TYPE],
    [
      'media type case-insensitive',
      'Application/OpenMetrics-Text; Version=1.0.0',
      'openmetrics',
      OPENMETRICS_CONTENT_TYPE,
    ],
    ['protobuf only (we fall back to text)', 'application/vnd.google.protobuf', 'text', TEXT_CONTENT_TYPE],
    ['garbage', ';;;,,,=q=;', 'text', TEXT_CONTENT_TYPE],
    ['NaN q-value', 'application/openmetrics-text;q=NaN', 'text', TEXT_CONTENT_TYPE],
    ['q-value above 1', 'application/openmetrics-text;q=5', 'text', TEXT_CONTENT_TYPE],
    ['huge header', `${'x/y;q=0.1,'.repeat(100_000)}application/openmetrics-text`, 'text', TEXT_CONTENT_TYPE],
    ['non-string', 42 as unknown as string, 'text', TEXT_CONTENT_TYPE],
  ])('%s', (_name, accept, format, contentType) => {
    expect(negotiate(accept)).toEqual({ format, contentType, escaping: 'underscores' });
  });
});

describe('negotiate: escaping of names', () => {
  const P3 =
    'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;escaping=allow-utf-8;q=0.6,application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2';
  it.each<[string, string, string, string, string]>([
    [
      'Prometheus 3 protobuf',
      P3,
      'protobuf',
      'allow-utf-8',
      `${PROTOBUF_EXPOSITION_CONTENT_TYPE}; escaping=allow-utf-8`,
    ],
    [
      'OpenMetrics with values',
      'application/openmetrics-text;version=1.0.0;escaping=values',
      'openmetrics',
      'values',
      `${OPENMETRICS_CONTENT_TYPE}; escaping=values`,
    ],
    [
      'text 1.0.0 with allow-utf-8',
      'text/plain;version=1.0.0;escaping=allow-utf-8',
      'text',
      'allow-utf-8',
      'text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8',
    ],
    ['text with dots', 'text/plain;escaping=dots', 'text', 'dots', `${TEXT_CONTENT_TYPE}; escaping=dots`],
    [
      'quoted scheme',
      'text/plain;escaping="underscores"',
      'text',
      'underscores',
      `${TEXT_CONTENT_TYPE}; escaping=underscores`,
    ],
    ['unknown scheme ignored', 'text/plain;escaping=rot13', 'text', 'underscores', TEXT_CONTENT_TYPE],
    [
      'hostile scheme ignored',
      'text/plain;escaping=a\r\nX-Evil: 1',
      'text',
      'underscores',
      TEXT_CONTENT_TYPE,
    ],
    [
      'the winning range decides, not a refused one',
      'text/plain;escaping=allow-utf-8;q=0,application/openmetrics-text;escaping=dots',
      'openmetrics',
      'dots',
      `${OPENMETRICS_CONTENT_TYPE}; escaping=dots`,
    ],
    [
      'a range we cannot serve does not lend its scheme',
      'application/json;escaping=values,text/plain;version=0.0.4;q=0.5',
      'text',
      'underscores',
      TEXT_CONTENT_TYPE,
    ],
    ['text/* is not text 1.0.0', 'text/*;version=1.0.0', 'text', 'underscores', TEXT_CONTENT_TYPE],
  ])('%s', (_name, accept, format, escaping, contentType) => {
    expect(negotiate(accept)).toEqual({ format, escaping, contentType });
  });
});
