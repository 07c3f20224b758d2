import { ParseError, RejectReason, ValidationError } from '../../../shared/model/errors';
import { observeNative } from '../../../shared/model/native';
import type { MetricFamily } from '../../../shared/model/types';
import { preparePush } from '../../../shared/push/prepare';

const group = { job: 'batch', instance: 'h1' };
const T = 1_700_000_000_000;

function errorOf(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (e) {
    return e as ValidationError;
  }
  throw new Error('expected a throw');
}

describe('preparePush: accepted pushes', () => {
  it('strips grouping labels from series, silently (path wins)', () => {
    const fams: MetricFamily[] = [
      {
        name: 'm',
        help: 'h',
        type: 'gauge',
        series: [{ labels: { job: 'other', instance: 'x', a: '1' }, value: 1 }],
      },
    ];
    const req = preparePush('PUT', group, fams, T);
    expect(req.method).toBe('PUT');
    expect({ ...req.group }).toEqual(group);
    expect(req.families).toHaveLength(1);
    expect({ ...req.families[0]!.series[0]!.labels }).toEqual({ a: '1' });
    expect(req.pushTimeMs).toBe(T);
  });

  it('parses a text body and keeps hostile label values intact', () => {
    const req = preparePush('POST', group, '# TYPE m counter\nm{a="x\\"y\\nz\\\\"} 3\n', T);
    const s = req.families[0]!.series[0] as { labels: Record<string, string>; value: number };
    expect(s.labels['a']).toBe('x"y\nz\\');
    expect(s.value).toBe(3);
  });

  it('DELETE ignores the body', () => {
    expect(preparePush('DELETE', group, 'garbage {{{', T).families).toEqual([]);
  });

  it('an empty PUT body is an empty push (clears the group)', () => {
    expect(preparePush('PUT', group, '', T).families).toEqual([]);
  });

  it('drops families without series and empty label values', () => {
    const req = preparePush(
      'PUT',
      group,
      [
        { name: 'e', help: '', type: 'gauge', series: [] },
        { name: 'm', help: '', type: 'gauge', series: [{ labels: { a: '' }, value: 1 }] },
      ],
      T,
    );
    expect(req.families.map((f) => f.name)).toEqual(['m']);
    expect(Object.keys(req.families[0]!.series[0]!.labels)).toEqual([]);
  });

  it('keeps NaN and ±Inf values (valid in Prometheus)', () => {
    const req = preparePush('PUT', group, 'a NaN\nb +Inf\nc -Inf\n', T);
    expect(req.families.map((f) => (f.series[0] as { value: number }).value)).toEqual([
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ]);
  });

  it('accepts a label named constructor and keeps labels null-prototype', () => {
    const req = preparePush('PUT', group, 'm{constructor="x"} 1\n', T);
    const labels = req.families[0]!.series[0]!.labels;
    expect(Object.getPrototypeOf(labels)).toBeNull();
    expect(labels['constructor']).toBe('x');
  });

  it('accepts histograms and summaries', () => {
    const req = preparePush(
      'PUT',
      group,
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            {
              labels: {},
              buckets: [
                { le: 0.1, count: 1 },
                { le: 1, count: 2 },
              ],
              sum: 1.5,
              count: 3,
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
                { quantile: 0.9, value: 2 },
                { quantile: 0.5, value: 1 },
              ],
              sum: 3,
              count: 2,
            },
          ],
        },
      ],
      T,
    );
    expect(req.families).toHaveLength(2);
    expect(
      (req.families[1]!.series[0] as unknown as { quantiles: { quantile: number }[] }).quantiles.map(
        (q) => q.quantile,
      ),
    ).toEqual([0.5, 0.9]);
  });
});

const ok = { labels: {}, value: 1 };
describe('preparePush: refused pushes', () => {
  it.each<[string, unknown, RegExp, string]>([
    ['timestamps', 'm 1 1700000000000\n', /must not carry timestamps/, RejectReason.timestamp],
    [
      'duplicate series',
      [
        {
          name: 'm',
          help: '',
          type: 'gauge',
          series: [
            { labels: { a: '1' }, value: 1 },
            { labels: { a: '1' }, value: 2 },
          ],
        },
      ],
      /duplicate series/,
      RejectReason.duplicateSeries,
    ],
    [
      'duplicates created by the grouping override',
      [
        {
          name: 'm',
          help: '',
          type: 'gauge',
          series: [
            { labels: { instance: 'a' }, value: 1 },
            { labels: { instance: 'b' }, value: 2 },
          ],
        },
      ],
      /duplicate series/,
      RejectReason.duplicateSeries,
    ],
    [
      'reserved accrue_ prefix',
      [{ name: 'accrue_x', help: '', type: 'gauge', series: [ok] }],
      /reserved/,
      RejectReason.invalidName,
    ],
    [
      'push_time_seconds',
      [{ name: 'push_time_seconds', help: '', type: 'gauge', series: [ok] }],
      /reserved/,
      RejectReason.invalidName,
    ],
    [
      '__ metric name',
      [{ name: '__proto__', help: '', type: 'gauge', series: [ok] }],
      /must not start with "__"/,
      RejectReason.invalidName,
    ],
    [
      'invalid metric name',
      [{ name: 'a-b', help: '', type: 'gauge', series: [ok] }],
      /metric name must match/,
      RejectReason.invalidName,
    ],
    [
      'metric name of wrong type',
      [{ name: 42, help: '', type: 'gauge', series: [ok] }],
      /must be a string/,
      RejectReason.invalidName,
    ],
    [
      '__ label name',
      [{ name: 'm', help: '', type: 'gauge', series: [{ labels: { __x: 'a' }, value: 1 }] }],
      /must not start with "__"/,
      RejectReason.invalidName,
    ],
    [
      '__proto__ label key',
      [
        {
          name: 'm',
          help: '',
          type: 'gauge',
          series: [{ labels: JSON.parse('{"__proto__":"x"}'), value: 1 }],
        },
      ],
      /must not start with "__"/,
      RejectReason.invalidName,
    ],
    [
      'label value of wrong type',
      [{ name: 'm', help: '', type: 'gauge', series: [{ labels: { a: 1 }, value: 1 }] }],
      /label value must be a string/,
      RejectReason.invalid,
    ],
    [
      'NUL in a label value',
      [{ name: 'm', help: '', type: 'gauge', series: [{ labels: { a: 'x\u0000' }, value: 1 }] }],
      /NUL/,
      RejectReason.invalid,
    ],
    [
      'value as string',
      [{ name: 'm', help: '', type: 'gauge', series: [{ labels: {}, value: '1' }] }],
      /value: must be a number/,
      RejectReason.invalid,
    ],
    [
      'unknown type',
      [{ name: 'm', help: '', type: 'weird', series: [ok] }],
      /type must be/,
      RejectReason.invalid,
    ],
    [
      'family twice',
      [
        { name: 'm', help: '', type: 'gauge', series: [ok] },
        { name: 'm', help: '', type: 'gauge', series: [ok] },
      ],
      /more than once/,
      RejectReason.invalid,
    ],
    [
      'histogram name collision',
      [
        { name: 'h', help: '', type: 'histogram', series: [{ labels: {}, buckets: [], sum: 0, count: 0 }] },
        { name: 'h_count', help: '', type: 'gauge', series: [ok] },
      ],
      /collides/,
      RejectReason.invalid,
    ],
    [
      'le label on histogram',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [{ labels: { le: '1' }, buckets: [], sum: 0, count: 0 }],
        },
      ],
      /reserved for histogram/,
      RejectReason.invalid,
    ],
    [
      'buckets not ascending',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            {
              labels: {},
              buckets: [
                { le: 2, count: 1 },
                { le: 1, count: 1 },
              ],
              sum: 0,
              count: 1,
            },
          ],
        },
      ],
      /ascending/,
      RejectReason.invalid,
    ],
    [
      'buckets not cumulative',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [
            {
              labels: {},
              buckets: [
                { le: 1, count: 2 },
                { le: 2, count: 1 },
              ],
              sum: 0,
              count: 2,
            },
          ],
        },
      ],
      /cumulative/,
      RejectReason.invalid,
    ],
    [
      'count NaN',
      [
        {
          name: 'h',
          help: '',
          type: 'histogram',
          series: [{ labels: {}, buckets: [], sum: 0, count: Number.NaN }],
        },
      ],
      /count: must be a finite/,
      RejectReason.invalid,
    ],
    [
      'quantile out of range',
      [
        {
          name: 's',
          help: '',
          type: 'summary',
          series: [{ labels: {}, quantiles: [{ quantile: 1.5, value: 1 }], sum: 0, count: 0 }],
        },
      ],
      /quantile must be in/,
      RejectReason.invalid,
    ],
    [
      'series not an array',
      [{ name: 'm', help: '', type: 'gauge', series: 'x' }],
      /series: must be an array/,
      RejectReason.invalid,
    ],
    ['family not an object', [null], /must be an object/, RejectReason.invalid],
  ])('%s', (_name, input, message, reason) => {
    const err = errorOf(() => preparePush('PUT', group, input as MetricFamily[], T));
    expect(err).toBeInstanceOf(ValidationError);
    expect(err.message).toMatch(message);
    expect(err.reason).toBe(reason);
  });

  it('reports every problem of a push', () => {
    const err = errorOf(() =>
      preparePush(
        'PUT',
        group,
        [
          { name: 'accrue_a', help: '', type: 'gauge', series: [ok] },
          { name: 'm', help: '', type: 'gauge', series: [{ labels: { __b: '1' }, value: 1 }] },
          { name: 'n', help: '', type: 'gauge', series: [{ labels: {}, value: 1, timestampMs: 5 }] },
        ],
        T,
      ),
    );
    expect(err.problems.length).toBe(3);
  });

  it.each<[string, Record<string, unknown>]>([
    ['missing job', { instance: 'a' }],
    ['empty job', { job: '' }],
    ['job of wrong type', { job: 5 }],
    ['__ grouping label', { job: 'a', __x: 'b' }],
  ])('refuses grouping key: %s', (_name, g) => {
    expect(() => preparePush('PUT', g, [], T)).toThrow(ValidationError);
  });

  it.each<[string, unknown]>([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['negative', -1],
    ['string', '1'],
  ])('refuses push time %s', (_name, t) => {
    expect(() => preparePush('PUT', group, [], t as number)).toThrow(/pushTimeMs/);
  });

  it('refuses an unknown method', () => {
    expect(() => preparePush('PATCH' as 'PUT', group, [], T)).toThrow(/method/);
  });

  it('passes the parser error through for text that does not parse', () => {
    expect(() => preparePush('PUT', group, 'm{a="1} 1\n', T)).toThrow(ParseError);
  });

  it('handles a CR in the text body as a parse error, not a silent accept', () => {
    expect(() => preparePush('PUT', group, 'm 1\r\n', T)).toThrow();
  });
});

describe('preparePush: native histograms (HTTP protobuf and SQS push events)', () => {
  const native = observeNative([0.5, 2, 2], 2, 0).native;
  const fam = (n: unknown, count = 3): MetricFamily[] =>
    [
      {
        name: 'nh_seconds',
        help: '',
        type: 'histogram',
        series: [{ labels: {}, buckets: [], sum: 4.5, count, native: n }],
      },
    ] as unknown as MetricFamily[];

  it('keeps a valid native histogram on the series', () => {
    const req = preparePush('PUT', { job: 'j' }, fam(native), 1000);
    expect((req.families[0]!.series[0] as { native?: unknown }).native).toEqual(native);
  });

  it.each([
    [
      'a __proto__ key',
      JSON.parse(`{"__proto__":{"schema":1},${JSON.stringify(native).slice(1)}`),
      /native\.__proto__: unknown field/,
    ],
    ['a schema as a string', { ...native, schema: '2' }, /native\.schema: must be an integer in -4\.\.8/],
    [
      'sides that are not objects',
      { ...native, positive: [1, 2] },
      /native\.positive: must be an object \{spans, counts\}/,
    ],
    [
      'a NaN population',
      { ...native, positive: { ...native.positive, counts: [Number.NaN, 1] } },
      /positive_counts\[0\]: must be a finite number >= 0/,
    ],
    ['a native histogram that is null', null, /native: must be an object/],
  ])('refuses %s, naming the field', (_name, n, message) => {
    let err: unknown;
    try {
      preparePush('PUT', { job: 'j' }, fam(n), 1000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).reason).toBe(RejectReason.invalid);
    expect((err as Error).message).toMatch(message);
  });

  it('refuses a count below the native buckets', () => {
    expect(() => preparePush('PUT', { job: 'j' }, fam(native, 2), 1000)).toThrow(
      /sample_count: 2 differs from the 3 observations/,
    );
  });
});
