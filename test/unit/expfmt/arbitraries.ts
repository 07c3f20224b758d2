/** fast-check generators of valid MetricFamily lists (the writers' input contract). */
import fc from 'fast-check';
import { labelsKey } from '../../../shared/model/identity';
import type { Labels, MetricFamily } from '../../../shared/model/types';

const nameChars = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_';

/** Label names: a pool of awkward real ones plus random valid ones; never `__…`, `le` or `quantile`. */
export const labelName = fc
  .oneof(
    fc.constantFrom(
      'constructor',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'prototype',
      'symbol',
      'action',
      'status',
      'regime',
      'job',
      'instance',
      '_',
    ),
    fc
      .tuple(
        fc.constantFrom(...'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_'),
        fc.string({ unit: fc.constantFrom(...nameChars), maxLength: 12 }),
      )
      .map(([a, b]) => a + b),
  )
  .filter((n) => !n.startsWith('__') && n !== 'le' && n !== 'quantile');

/** Label values: any text without NUL and CR (both refused by the parser), never empty (empty = absent). */
export const labelValue = fc
  .oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
    fc.constantFrom('"', '\\', '\n', '\\n', '\\"', 'a"b\\c\nd', '{}', ',', '=', '# HELP', ' '),
  )
  .filter((v) => v !== '' && !v.includes('\u0000') && !v.includes('\r'));

export const helpText = fc
  .oneof(
    fc.constant(''),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.constantFrom('a\\b', 'line1\nline2', '"quoted"'),
  )
  .filter((v) => !v.includes('\u0000') && !v.includes('\r'))
  // Leading blanks of HELP text are lost in the text format (parsers skip blanks after the name, as Go's does).
  .map((v) => v.replace(/^[ \t]+/, ''));

export const labels: fc.Arbitrary<Labels> = fc
  .uniqueArray(fc.tuple(labelName, labelValue), { selector: (t) => t[0], maxLength: 5 })
  .map((pairs) => {
    const o: Record<string, string> = {};
    for (const [k, v] of pairs) o[k] = v;
    return o;
  });

const anyDouble = fc.double();
const finiteNonNeg = fc.double({ min: 0, max: 1e12, noNaN: true });

function uniqueSeries<T extends { labels: Labels }>(arb: fc.Arbitrary<T>): fc.Arbitrary<T[]> {
  return fc.uniqueArray(arb, { selector: (s) => labelsKey(s.labels), minLength: 1, maxLength: 6 });
}

const scalarSeries = fc.record({ labels, value: anyDouble });

const histogramSeries = fc
  .record({
    labels,
    bounds: fc.uniqueArray(fc.double({ noNaN: true, noDefaultInfinity: true }), {
      maxLength: 8,
      comparator: 'SameValueZero',
    }),
    incs: fc.array(finiteNonNeg, { maxLength: 9 }),
    extra: finiteNonNeg,
    sum: anyDouble,
  })
  .map(({ labels, bounds, incs, extra, sum }) => {
    // Canonical bounds: -0 is the bound 0 (parsers and writers normalize it).
    const les = [...bounds].map((b) => (b === 0 ? 0 : b)).sort((a, b) => a - b);
    let c = 0;
    const buckets = les.map((le, i) => {
      c += incs[i] ?? 0;
      return { le, count: c };
    });
    return { labels, buckets, sum, count: c + extra };
  });

const summarySeries = fc
  .record({
    labels,
    qs: fc.uniqueArray(fc.double({ min: 0, max: 1, noNaN: true }), {
      maxLength: 5,
      comparator: 'SameValueZero',
    }),
    values: fc.array(anyDouble, { minLength: 5, maxLength: 5 }),
    sum: anyDouble,
    count: finiteNonNeg,
  })
  .map(({ labels, qs, values, sum, count }) => ({
    labels,
    quantiles: [...qs]
      .map((q) => (q === 0 ? 0 : q))
      .sort((a, b) => a - b)
      .map((quantile, i) => ({ quantile, value: values[i]! })),
    sum,
    count,
  }));

const familyBody = fc.oneof(
  fc.record({
    type: fc.constantFrom('counter' as const, 'gauge' as const, 'untyped' as const),
    series: uniqueSeries(scalarSeries),
  }),
  fc.record({ type: fc.constant('histogram' as const), series: uniqueSeries(histogramSeries) }),
  fc.record({ type: fc.constant('summary' as const), series: uniqueSeries(summarySeries) }),
);

/** Family names end in `_f<i>`, so they are unique and never collide with `_sum`/`_count`/`_bucket`. */
export const families: fc.Arbitrary<MetricFamily[]> = fc
  .array(fc.tuple(fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,10}$/), helpText, familyBody), {
    maxLength: 5,
  })
  .map((list) =>
    list.map(([base, help, body], i) => ({ name: `${base}_f${i}`, help, ...body }) as MetricFamily),
  );

/** Groups of jobs a/b, with or without an instance (one that needs escaping), each with random families. */
export const groupSpecs = fc.uniqueArray(
  fc.record({
    job: fc.constantFrom('a', 'b'),
    instance: fc.option(fc.constantFrom('x', 'y', 'a"b'), { nil: undefined }),
    lastUpdateMs: fc.integer({ min: 0, max: 5 }),
    families,
  }),
  { selector: (g) => `${g.job}/${g.instance}`, maxLength: 5 },
);
