import { parseText } from '../../../shared/expfmt/text-parse';
import { ParseError } from '../../../shared/model/errors';
import type { HistogramFamily, MetricFamily } from '../../../shared/model/types';
import { promtoolCheckMetrics } from '../../support/promtool';

/** Plain objects for comparison (labels may be frozen / shared). */
function plain(fams: MetricFamily[]): unknown {
  return JSON.parse(
    JSON.stringify(fams, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)),
  );
}

describe('parseText: successes', () => {
  it.each<[string, string, unknown]>([
    ['empty body', '', []],
    ['only comments and blank lines', '# hello\n\n   \n#\n# HELP\n', []],
    [
      'untyped sample without TYPE',
      'a 1\n',
      [{ name: 'a', help: '', type: 'untyped', series: [{ labels: {}, value: 1 }] }],
    ],
    [
      'no final newline',
      '# TYPE a gauge\na 2',
      [{ name: 'a', help: '', type: 'gauge', series: [{ labels: {}, value: 2 }] }],
    ],
    [
      'counter with HELP escapes and labels',
      '# HELP c_total Orders \\\\ placed.\\nSecond line\n# TYPE c_total counter\nc_total{symbol="BTC",action="buy"} 3\n',
      [
        {
          name: 'c_total',
          help: 'Orders \\ placed.\nSecond line',
          type: 'counter',
          series: [{ labels: { symbol: 'BTC', action: 'buy' }, value: 3 }],
        },
      ],
    ],
    [
      'label value escapes, newline and quotes',
      'a{v="x\\"y\\\\z\\nw"} 1\n',
      [{ name: 'a', help: '', type: 'untyped', series: [{ labels: { v: 'x"y\\z\nw' }, value: 1 }] }],
    ],
    [
      'blanks and tabs between tokens, trailing comma',
      '  a \t{ x = "1" , y="2", } \t 5 \t\n',
      [{ name: 'a', help: '', type: 'untyped', series: [{ labels: { x: '1', y: '2' }, value: 5 }] }],
    ],
    [
      'special floats and timestamps',
      'a{k="1"} NaN\na{k="2"} +Inf 1700000000000\na{k="3"} -Inf -5\n',
      [
        {
          name: 'a',
          help: '',
          type: 'untyped',
          series: [
            { labels: { k: '1' }, value: 'NaN' },
            { labels: { k: '2' }, value: 'Infinity', timestampMs: 1700000000000 },
            { labels: { k: '3' }, value: '-Infinity', timestampMs: -5 },
          ],
        },
      ],
    ],
    [
      'TYPE is case-insensitive like Go',
      '# TYPE a GAUGE\na 1\n',
      [{ name: 'a', help: '', type: 'gauge', series: [{ labels: {}, value: 1 }] }],
    ],
    [
      'empty label value is the same as no label',
      'a{x="",y="1"} 1\n',
      [{ name: 'a', help: '', type: 'untyped', series: [{ labels: { y: '1' }, value: 1 }] }],
    ],
    [
      'constructor and toString label names are ordinary labels',
      'a{constructor="c",toString="t",hasOwnProperty="h"} 1\n',
      [
        {
          name: 'a',
          help: '',
          type: 'untyped',
          series: [{ labels: { constructor: 'c', toString: 't', hasOwnProperty: 'h' }, value: 1 }],
        },
      ],
    ],
    [
      'histogram assembled, le canonicalized, +Inf folded into count',
      '# TYPE h histogram\nh_bucket{le="0.5"} 1\nh_bucket{le="1.0"} 2\nh_bucket{le="+Inf"} 3\nh_sum 4.5\nh_count 3\n',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            {
              labels: {},
              buckets: [
                { le: 0.5, count: 1 },
                { le: 1, count: 2 },
              ],
              sum: 4.5,
              count: 3,
            },
          ],
        },
      ],
    ],
    [
      'histogram series interleaved, buckets out of order, count from +Inf',
      '# TYPE h histogram\nh_bucket{a="x",le="1"} 2\nh_bucket{a="y",le="+Inf"} 0\nh_bucket{a="x",le="0.1"} 1\nh_sum{a="x"} 1\nh_bucket{a="x",le="+Inf"} 5\nh_sum{a="y"} 0\n',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            {
              labels: { a: 'x' },
              buckets: [
                { le: 0.1, count: 1 },
                { le: 1, count: 2 },
              ],
              sum: 1,
              count: 5,
            },
            { labels: { a: 'y' }, buckets: [], sum: 0, count: 0 },
          ],
        },
      ],
    ],
    [
      'summary with quantiles',
      '# HELP s Latency.\n# TYPE s summary\ns{quantile="0.99"} 3\ns{quantile="0.5"} 1\ns_sum 10\ns_count 4\n',
      [
        {
          name: 's',
          help: 'Latency.',
          type: 'summary',
          series: [
            {
              labels: {},
              quantiles: [
                { quantile: 0.5, value: 1 },
                { quantile: 0.99, value: 3 },
              ],
              sum: 10,
              count: 4,
            },
          ],
        },
      ],
    ],
    [
      'le on a counter is an ordinary label; HELP-only families are dropped',
      '# HELP unused nothing\n# TYPE c counter\nc{le="x"} 1\n',
      [{ name: 'c', help: '', type: 'counter', series: [{ labels: { le: 'x' }, value: 1 }] }],
    ],
    [
      'label order does not matter for identity but is kept',
      'a{b="1",a="2"} 1\na{a="1",b="2"} 2\n',
      [
        {
          name: 'a',
          help: '',
          type: 'untyped',
          series: [
            { labels: { b: '1', a: '2' }, value: 1 },
            { labels: { a: '1', b: '2' }, value: 2 },
          ],
        },
      ],
    ],
    [
      'unicode label values',
      'a{s="BTC/€ — 🚀"} 1\n',
      [{ name: 'a', help: '', type: 'untyped', series: [{ labels: { s: 'BTC/€ — 🚀' }, value: 1 }] }],
    ],
    [
      'consecutive-line shortcut never merges different label sets',
      '# TYPE h histogram\nh_bucket{a="x",le="1"} 1\nh_bucket{a="x",b="y",le="1"} 2\nh_bucket{a="x",le="2",b="y"} 3\nh_sum{a="x"} 1\nh_count{a="x"} 1\nh_sum{a="x",b="y"} 2\nh_count{a="x",b="y"} 3\nh_bucket{a="xy",le="1"} 0\nh_sum{a="xy"} 0\nh_count{a="xy"} 0\n',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            { labels: { a: 'x' }, buckets: [{ le: 1, count: 1 }], sum: 1, count: 1 },
            {
              labels: { a: 'x', b: 'y' },
              buckets: [
                { le: 1, count: 2 },
                { le: 2, count: 3 },
              ],
              sum: 2,
              count: 3,
            },
            { labels: { a: 'xy' }, buckets: [{ le: 1, count: 0 }], sum: 0, count: 0 },
          ],
        },
      ],
    ],
  ])('%s', (_name, body, want) => {
    expect(plain(parseText(body))).toEqual(want);
  });

  it('parses a 10k-character label value and a 100-digit number', () => {
    const v = 'x'.repeat(10_000);
    const big = '9'.repeat(100);
    const fams = parseText(`a{v="${v}"} ${big}\n`);
    expect(fams[0]!.series[0]!.labels.v).toHaveLength(10_000);
    expect((fams[0]!.series[0] as { value: number }).value).toBe(1e100);
  });

  it('keeps `constructor` labels off the prototype', () => {
    const fams = parseText('a{constructor="c"} 1\n');
    const labels = fams[0]!.series[0]!.labels;
    expect(Object.hasOwn(labels, 'constructor')).toBe(true);
    expect(({} as Record<string, unknown>).constructor).toBe(Object);
  });
});

describe('parseText: failures pinned by message prefix', () => {
  it.each<[string, string, string]>([
    ['CR line ending', 'a 1\r\nb 2\n', 'text format parsing error in line 1: carriage return (CR) found'],
    ['CR on a later line', 'a 1\nb 2\r\n', 'text format parsing error in line 2: carriage return (CR) found'],
    [
      'NUL in a label value',
      'a 1\nb{x="a\u0000b"} 2\n',
      'text format parsing error in line 2: NUL character found',
    ],
    [
      'metric name starting with a digit',
      '1a 1\n',
      'text format parsing error in line 1: invalid metric name "1a"',
    ],
    [
      'metric name with a dash',
      'a-b 1\n',
      'text format parsing error in line 1: expected float as value for "a", got "-b"',
    ],
    [
      'label name with a dash',
      'a{b-c="1"} 1\n',
      'text format parsing error in line 1: expected \'=\' after label name "b"',
    ],
    [
      'label name starting with a digit',
      'a{1b="1"} 1\n',
      'text format parsing error in line 1: invalid label name "1b"',
    ],
    [
      '__proto__ label name',
      'a{__proto__="x"} 1\n',
      'text format parsing error in line 1: label name "__proto__" for "a" must not start with "__"',
    ],
    [
      '__name__ label name',
      'a{__name__="x"} 1\n',
      'text format parsing error in line 1: label name "__name__"',
    ],
    [
      'unterminated quote',
      'a{b="1} 1\n',
      'text format parsing error in line 1: unterminated quoted string in value of label "b"',
    ],
    [
      'unterminated label set',
      'a{b="1"\n',
      'text format parsing error in line 1: unterminated label set for "a"',
    ],
    [
      'unquoted label value',
      'a{b=1} 1\n',
      'text format parsing error in line 1: expected \'"\' to start the value of label "b"',
    ],
    [
      'missing comma',
      'a{b="1" c="2"} 1\n',
      "text format parsing error in line 1: expected ',' or '}' after value of label \"b\"",
    ],
    [
      'invalid escape in label value',
      'a{b="\\t"} 1\n',
      "text format parsing error in line 1: invalid escape sequence '\\t'",
    ],
    [
      'invalid escape in HELP',
      '# HELP a x\\"y\na 1\n',
      "text format parsing error in line 1: invalid escape sequence '\\\"' in HELP text",
    ],
    [
      'duplicate label name',
      'a{b="1",b="2"} 1\n',
      'text format parsing error in line 1: duplicate label name "b"',
    ],
    [
      'duplicate label name after a reference sample',
      'a{a="1",b="1"} 1\na{b="1",b="2"} 2\n',
      'text format parsing error in line 2: duplicate label name "b"',
    ],
    [
      'duplicate series, spacing differs',
      'a{x="1",y="2"} 1\na{ x = "1" , y="2" , } 2\n',
      'text format parsing error in line 2: duplicate series a{x="1",y="2"}',
    ],
    [
      'duplicate series, escapes',
      'a{x="q\\"\\n"} 1\na{x="q\\"\\n"} 2\n',
      'text format parsing error in line 2: duplicate series a{x="q\\"\\n"}',
    ],
    [
      'duplicate series, other label names',
      'a{x="1"} 1\na{y="1",z="2"} 1\na{z="2",y="1"} 2\n',
      'text format parsing error in line 3: duplicate series a{z="2",y="1"}',
    ],
    [
      'duplicate series, le not last',
      '# TYPE h histogram\nh_bucket{a="1",le="1"} 1\nh_bucket{le="1",a="1"} 1\n',
      'text format parsing error in line 3: duplicate series h_bucket{a="1",le="1"}',
    ],
    [
      'duplicate label name, first empty',
      'a{b="",b="2"} 1\n',
      'text format parsing error in line 1: duplicate label name "b"',
    ],
    ['missing value', 'a{b="1"}\n', 'text format parsing error in line 1: expected a value for "a"'],
    [
      'value not a float',
      'a one\n',
      'text format parsing error in line 1: expected float as value for "a", got "one"',
    ],
    [
      'value a JS-only form',
      'a 0b101\n',
      'text format parsing error in line 1: expected float as value for "a", got "0b101"',
    ],
    [
      'value out of range',
      'a 1e400\n',
      'text format parsing error in line 1: expected float as value for "a", got "1e400"',
    ],
    [
      'timestamp not an integer',
      'a 1 1.5\n',
      'text format parsing error in line 1: expected integer (milliseconds) as timestamp for "a", got "1.5"',
    ],
    [
      'timestamp beyond 2^53',
      'a 1 99999999999999999999\n',
      'text format parsing error in line 1: expected integer (milliseconds) as timestamp',
    ],
    [
      'text after timestamp',
      'a 1 2 3\n',
      'text format parsing error in line 1: spurious string after timestamp for "a"',
    ],
    [
      'duplicate series',
      'a{x="1"} 1\na{x="1"} 2\n',
      'text format parsing error in line 2: duplicate series a{x="1"}',
    ],
    [
      'duplicate series, labels reordered',
      'a{x="1",y="2"} 1\na{y="2",x="1"} 2\n',
      'text format parsing error in line 2: duplicate series a{y="2",x="1"}',
    ],
    [
      'duplicate series, empty label',
      'a 1\na{x=""} 2\n',
      'text format parsing error in line 2: duplicate series a',
    ],
    [
      'duplicate HELP',
      '# HELP a x\n# HELP a y\na 1\n',
      'text format parsing error in line 2: second HELP line for metric name "a"',
    ],
    [
      'duplicate TYPE',
      '# TYPE a gauge\n# TYPE a gauge\na 1\n',
      'text format parsing error in line 2: second TYPE line for metric name "a"',
    ],
    [
      'TYPE after sample',
      'a 1\n# TYPE a gauge\n',
      'text format parsing error in line 2: TYPE line for metric name "a" after its samples',
    ],
    [
      'unknown type',
      '# TYPE a gaugehistogram\na 1\n',
      'text format parsing error in line 1: unknown metric type "gaugehistogram"',
    ],
    ['missing type', '# TYPE a\na 1\n', 'text format parsing error in line 1: missing type in TYPE line'],
    [
      'text after type',
      '# TYPE a gauge extra\na 1\n',
      'text format parsing error in line 1: unexpected text after type',
    ],
    [
      'invalid name in HELP',
      '# HELP 1a x\n',
      'text format parsing error in line 1: invalid metric name "1a" in HELP line',
    ],
    [
      'non-contiguous family (sample)',
      'a 1\nb 1\na{x="2"} 2\n',
      'text format parsing error in line 3: sample of metric family "a" whose lines started at line 1',
    ],
    [
      'non-contiguous family (HELP)',
      'a 1\nb 1\n# HELP a x\n',
      'text format parsing error in line 3: HELP line for metric name "a" whose lines started at line 1',
    ],
    [
      'histogram sample after its block',
      '# TYPE h histogram\nh_sum 1\nh_count 1\nb 1\nh_bucket{le="1"} 1\n',
      'text format parsing error in line 5: "h_bucket" belongs to histogram "h"',
    ],
    [
      'histogram reserving an existing family',
      'h_sum 1\n# TYPE h histogram\n',
      'text format parsing error in line 2: histogram "h" reserves the name "h_sum"',
    ],
    [
      'histogram sample with the bare name',
      '# TYPE h histogram\nh 1\n',
      'text format parsing error in line 2: sample "h" of histogram "h" must be named',
    ],
    [
      'bucket without le',
      '# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n',
      'text format parsing error in line 2: h_bucket: missing label "le"',
    ],
    [
      'bad le',
      '# TYPE h histogram\nh_bucket{le="x"} 1\n',
      'text format parsing error in line 2: h_bucket: expected float as value for label "le", got "x"',
    ],
    [
      'NaN le',
      '# TYPE h histogram\nh_bucket{le="NaN"} 1\n',
      'text format parsing error in line 2: h_bucket: expected float as value for label "le"',
    ],
    [
      '-Inf le',
      '# TYPE h histogram\nh_bucket{le="-Inf"} 1\n',
      'text format parsing error in line 2: h_bucket: label "le" must be finite or +Inf',
    ],
    [
      'le on _sum',
      '# TYPE h histogram\nh_sum{le="1"} 1\n',
      'text format parsing error in line 2: label "le" is not allowed on "h_sum"',
    ],
    [
      'duplicate bucket',
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_bucket{le="0.5"} 0\nh_bucket{le="1.0"} 1\nh_sum 1\nh_count 1\n',
      'text format parsing error in line 4: duplicate series h_bucket{le="1"}',
    ],
    [
      'duplicate +Inf bucket',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_bucket{le="Inf"} 1\n',
      'text format parsing error in line 3: duplicate series h_bucket{le="+Inf"}',
    ],
    [
      'duplicate _sum',
      '# TYPE h histogram\nh_sum 1\nh_sum 2\n',
      'text format parsing error in line 3: duplicate series h_sum',
    ],
    [
      'non-monotonic buckets',
      '# TYPE h histogram\nh_bucket{le="1"} 5\nh_bucket{le="2"} 3\nh_bucket{le="+Inf"} 5\nh_sum 1\nh_count 5\n',
      'text format parsing error in line 3: histogram h: buckets are not cumulative',
    ],
    [
      '+Inf differs from count',
      '# TYPE h histogram\nh_bucket{le="+Inf"} 4\nh_sum 1\nh_count 5\n',
      'text format parsing error in line 2: histogram h: le="+Inf" bucket (4) differs from h_count (5)',
    ],
    [
      'count below last bucket',
      '# TYPE h histogram\nh_bucket{le="1"} 5\nh_sum 1\nh_count 4\n',
      'text format parsing error in line 2: histogram h: h_count 4 is below the highest bucket',
    ],
    [
      'histogram without count or +Inf',
      '# TYPE h histogram\nh_bucket{le="1"} 5\nh_sum 1\n',
      'text format parsing error in line 2: histogram h has neither h_count nor a le="+Inf" bucket',
    ],
    [
      'histogram without sum',
      '# TYPE h histogram\nh_count 1\n',
      'text format parsing error in line 2: histogram h has no h_sum sample',
    ],
    [
      'negative bucket count',
      '# TYPE h histogram\nh_bucket{le="1"} -1\n',
      'text format parsing error in line 2: h_bucket: bucket count must be a finite number >= 0',
    ],
    [
      'NaN count',
      '# TYPE h histogram\nh_count NaN\n',
      'text format parsing error in line 2: h_count: count must be a finite number >= 0',
    ],
    [
      'summary without quantile label',
      '# TYPE s summary\ns 1\n',
      'text format parsing error in line 2: s: missing label "quantile"',
    ],
    [
      'summary quantile on _count',
      '# TYPE s summary\ns_count{quantile="0.5"} 1\n',
      'text format parsing error in line 2: label "quantile" is not allowed on "s_count"',
    ],
    [
      'summary without count',
      '# TYPE s summary\ns{quantile="0.5"} 1\ns_sum 1\n',
      'text format parsing error in line 2: summary s has no s_count sample',
    ],
    [
      "raw newline can't hide in a label value",
      'a{b="x\ny"} 1\n',
      'text format parsing error in line 1: unterminated quoted string',
    ],
    // Prometheus's parser reads the value where a second `{` stands ("expected float as value, got
    // "{a=\"b\"}"", promtool check metrics 2.42 on the unquoted line); Accrue names the rule.
    [
      'second label set after a quoted name',
      '{"a"}{b="1"} 1\n',
      'text format parsing error in line 1: second label set for "a": a sample has at most one label set, with the quoted metric name inside it',
    ],
    [
      'second label set after a quoted name and a blank',
      'x 1\n{"a"} {b="1"} 1\n',
      'text format parsing error in line 2: second label set for "a"',
    ],
    [
      'second label set after a quoted name and labels',
      '{"a",b="1"}{c="2"} 1\n',
      'text format parsing error in line 1: second label set for "a"',
    ],
    [
      'second label set after a label set',
      'a{b="1"}{c="2"} 1\n',
      'text format parsing error in line 1: second label set for "a": a sample has at most one label set, after the metric name',
    ],
    [
      'second label set on a histogram bucket',
      '# TYPE h histogram\nh_bucket{le="1"}{a="1"} 1\n',
      'text format parsing error in line 2: second label set for "h_bucket"',
    ],
    [
      'brace garbage',
      'a} 1\n',
      'text format parsing error in line 1: expected float as value for "a", got "}"',
    ],
  ])('%s', (_name, body, prefix) => {
    let err: unknown;
    try {
      parseText(body);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ParseError);
    expect((err as ParseError).message.slice(0, prefix.length)).toBe(prefix);
    // Reasons as docs/service.md tables them: names invalid_name, repeated series duplicate_series,
    // everything else decode.
    const msg = (err as ParseError).message;
    // __name__ is syntax to the Go parser (the Pushgateway records no failure for it).
    const reason = /: duplicate series /.test(msg)
      ? 'duplicate_series'
      : /label name "__name__"/.test(msg)
        ? 'decode'
        : /invalid (metric|label) name|must not start with "__"/.test(msg)
          ? 'invalid_name'
          : 'decode';
    expect((err as ParseError).reason).toBe(reason);
    expect((err as ParseError).line).toBe(Number(/line (\d+)/.exec(prefix)![1]));
  });

  // The same lines through the real promtool (2.42): refused too. It reads a value where the second `{`
  // stands; it predates quoted names, so it refuses those lines already at the name.
  it.each<[string, string, string]>([
    ['after a label set', 'a{b="1"}{c="2"} 1\n', 'expected float as value, got "{c=\\"2\\"}"'],
    ['after a quoted name', '{"a"}{b="1"} 1\n', 'invalid metric name'],
  ])('promtool refuses a second label set %s', async (_name, body, said) => {
    expect(() => parseText(body)).toThrow(/second label set for "a"/);
    const r = await promtoolCheckMetrics(body);
    expect(r.code).not.toBe(0);
    expect(r.output).toContain(said);
  });

  it.each<[string, unknown]>([
    ['a number', 42],
    ['undefined', undefined],
    ['an object', { toString: () => 'a 1\n' }],
  ])('refuses %s as the body', (_name, body) => {
    expect(() => parseText(body as string)).toThrow(ParseError);
  });

  it('names the line of a CR deep in a long body', () => {
    const body =
      'a{i="0"} 1\n' + Array.from({ length: 999 }, (_, i) => `a{i="${i + 1}"} 1\n`).join('') + 'b 1\r\n';
    expect(() => parseText(body)).toThrow('text format parsing error in line 1001: carriage return');
  });
});

describe('parseText: oversize input stays linear and correct', () => {
  it('a sample with 50k labels', () => {
    const labels = Array.from({ length: 50_000 }, (_, i) => `l${i}="${i}"`).join(',');
    const fams = parseText(`a{${labels}} 1\n`);
    expect(Object.keys(fams[0]!.series[0]!.labels)).toHaveLength(50_000);
  });

  it('a duplicate label name at the end of 50k labels', () => {
    const labels = Array.from({ length: 50_000 }, (_, i) => `l${i}="${i}"`).join(',');
    expect(() => parseText(`a{${labels},l7="x"} 1\n`)).toThrow(
      'text format parsing error in line 1: duplicate label name "l7"',
    );
  });

  it('a 1 MiB label value and 100k lines', () => {
    const big = 'v'.repeat(1 << 20);
    const body =
      `a{x="${big}"} 1\n` + Array.from({ length: 100_000 }, (_, i) => `b{i="${i}"} ${i}\n`).join('');
    const fams = parseText(body);
    expect(fams[0]!.series[0]!.labels.x).toHaveLength(1 << 20);
    expect(fams[1]!.series).toHaveLength(100_000);
  });

  it('a histogram with 10k buckets given in reverse order', () => {
    const lines = ['# TYPE h histogram'];
    for (let i = 10_000; i >= 1; i--) lines.push(`h_bucket{le="${i}"} ${i}`);
    lines.push('h_bucket{le="+Inf"} 10000', 'h_sum 1', 'h_count 10000', '');
    const h = parseText(lines.join('\n'))[0] as HistogramFamily;
    expect(h.series[0]!.buckets).toHaveLength(10_000);
    expect(h.series[0]!.buckets[0]).toEqual({ le: 1, count: 1 });
  });
});
