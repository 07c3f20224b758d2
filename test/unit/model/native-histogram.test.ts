import fc from 'fast-check';
import {
  addNative,
  bucketIndex,
  bucketLowerBound,
  bucketUpperBound,
  coarserIndex,
  countsToDeltas,
  deltasToCounts,
  forEachBucket,
  fromSparse,
  isIntegerNative,
  limitBuckets,
  MAX_NATIVE_BUCKETS,
  maxBucketIndex,
  minBucketIndex,
  type NativeBuckets,
  type NativeHistogram,
  NativeHistogramError,
  nativeHistogramProblems,
  observeNative,
  reduceSchema,
  toSparse,
  validateNativeHistogram,
} from '../../../shared/model/native';

const SCHEMAS = [-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8];

function sparse(b: NativeBuckets): [number, number][] {
  const out: [number, number][] = [];
  forEachBucket(b, (i, c) => {
    if (c !== 0) out.push([i, c]);
  });
  return out;
}

/** Observations with a positive magnitude spread over many orders of magnitude (and both signs). */
const observation = fc.oneof(
  fc.double({ min: 1e-12, max: 1e12, noNaN: true }),
  fc.double({ min: -1e6, max: -1e-9, noNaN: true }),
  fc.constantFrom(0, 1, 2, 0.5, 1024, -4, 2 ** -128),
);

describe('bucketIndex: the spec formula (upper inclusive limit (2^2^-n)^i)', () => {
  it.each([
    // [value, schema, index]: boundaries are inclusive at the top
    [1, 0, 0],
    [2, 0, 1],
    [3, 0, 2],
    [4, 0, 2],
    [0.5, 0, -1],
    [1, 3, 0],
    [1.0000001, 3, 1],
    [2, 3, 8],
    [4, -1, 1],
    [5, -1, 2],
    [16, -1, 2],
    [1, -4, 0],
    [2 ** 16, -4, 1],
    [2 ** 16 + 1, -4, 2],
    [Math.SQRT2, 1, 1],
    [1.5, 1, 2],
  ])('value %p at schema %p is in bucket %p', (v, schema, index) => {
    expect(bucketIndex(v, schema)).toBe(index);
  });

  // Normal floats: in the subnormal range the limits of fractional-power buckets are not representable.
  it('every normal value lies in (lower, upper] of its bucket, for every schema', () => {
    fc.assert(
      fc.property(
        fc.double({ min: 2 ** -1022, max: Number.MAX_VALUE, noNaN: true }),
        fc.constantFrom(...SCHEMAS),
        (v, s) => {
          const i = bucketIndex(v, s);
          expect(v).toBeLessThanOrEqual(bucketUpperBound(i, s));
          expect(v).toBeGreaterThan(bucketLowerBound(i, s));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('MaxFloat64 is in the bucket ending at MaxFloat64 and +Inf in the overflow bucket (spec: 262144 / 262145 at schema 8)', () => {
    expect(bucketIndex(Number.MAX_VALUE, 8)).toBe(262144);
    expect(maxBucketIndex(8)).toBe(262145);
    expect(bucketIndex(Number.POSITIVE_INFINITY, 8)).toBe(262145);
    expect(bucketUpperBound(262144, 8)).toBe(Number.MAX_VALUE);
    expect(bucketUpperBound(262145, 8)).toBe(Number.POSITIVE_INFINITY);
    for (const s of SCHEMAS) expect(bucketUpperBound(maxBucketIndex(s) - 1, s)).toBe(Number.MAX_VALUE);
  });

  it('the smallest subnormal is in the lowest valid bucket', () => {
    expect(bucketIndex(Number.MIN_VALUE, 0)).toBe(-1074);
    expect(minBucketIndex(0)).toBe(-1074);
    expect(bucketUpperBound(-1074, 0)).toBe(Number.MIN_VALUE);
    for (const s of SCHEMAS) expect(bucketLowerBound(minBucketIndex(s), s)).toBe(0);
  });

  it('a bucket of a finer schema falls into the coarser bucket holding the same values', () => {
    fc.assert(
      fc.property(
        fc.double({ min: Number.MIN_VALUE, max: Number.MAX_VALUE, noNaN: true }),
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...SCHEMAS),
        (v, a, b) => {
          const [fine, coarse] = a >= b ? [a, b] : [b, a];
          expect(coarserIndex(bucketIndex(v, fine), fine, coarse)).toBe(bucketIndex(v, coarse));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('spans and deltas ⇄ absolute bucket populations', () => {
  // The spec's example: positive buckets -2→3, -1→5, 0→0, 1→0, 2→1, 3→0, 4→3, 5→2, in three encodings.
  const expected = [
    [-2, 3],
    [-1, 5],
    [2, 1],
    [4, 3],
    [5, 2],
  ];
  it.each([
    [
      [3, 2, -4, 2, -1],
      [
        [-2, 2],
        [2, 1],
        [1, 2],
      ],
    ],
    [
      [3, 2, -4, -1, 3, -1],
      [
        [-2, 2],
        [2, 4],
      ],
    ],
    [[3, 2, -5, 0, 1, -1, 3, -1], [[-2, 8]]],
  ])('deltas %p over spans %p decode to the spec example', (deltas, spans) => {
    const b = {
      spans: spans.map(([offset, length]) => ({ offset: offset!, length: length! })),
      counts: deltasToCounts(deltas),
    };
    expect(sparse(b)).toEqual(expected);
    expect(sparse(fromSparse(toSparse(b)))).toEqual(expected);
  });

  it('deltas and counts round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 1e9 }), { maxLength: 50 }), (counts) => {
        expect(deltasToCounts(countsToDeltas(counts))).toEqual(counts);
      }),
    );
  });

  it('fromSparse writes short gaps as zeros and long gaps as new spans', () => {
    const b = fromSparse(
      new Map([
        [0, 1],
        [2, 1],
        [10, 4],
      ]),
    );
    expect(b.spans).toEqual([
      { offset: 0, length: 3 },
      { offset: 7, length: 1 },
    ]);
    expect(b.counts).toEqual([1, 0, 1, 4]);
  });

  it('sparse → spans → sparse is the identity (empty buckets dropped)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: -500, max: 500 }), fc.nat({ max: 100 })), { maxLength: 60 }),
        (pairs) => {
          const m = new Map<number, number>();
          for (const [i, c] of pairs) m.set(i, c);
          const want = [...m].filter(([, c]) => c !== 0).sort((a, b) => a[0] - b[0]);
          expect(sparse(fromSparse(m))).toEqual(want);
        },
      ),
    );
  });
});

describe('addNative: merging per the spec', () => {
  it('merging histograms of two producers equals observing all values at the coarser schema', () => {
    fc.assert(
      fc.property(
        fc.array(observation, { maxLength: 40 }),
        fc.array(observation, { maxLength: 40 }),
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...SCHEMAS),
        (xs, ys, sa, sb) => {
          const a = observeNative(xs, sa, 0).native;
          const b = observeNative(ys, sb, 0).native;
          const merged = addNative(a, b);
          const direct = observeNative([...xs, ...ys], Math.min(sa, sb), 0).native;
          expect(merged.schema).toBe(Math.min(sa, sb));
          expect(merged.zeroCount).toBe(direct.zeroCount);
          expect(sparse(merged.positive)).toEqual(sparse(direct.positive));
          expect(sparse(merged.negative)).toEqual(sparse(direct.negative));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is commutative', () => {
    fc.assert(
      fc.property(
        fc.array(observation),
        fc.array(observation),
        fc.constantFrom(...SCHEMAS),
        fc.constantFrom(...SCHEMAS),
        (xs, ys, sa, sb) => {
          const a = observeNative(xs, sa, 2 ** -20).native;
          const b = observeNative(ys, sb, 0.25).native;
          expect(addNative(a, b)).toEqual(addNative(b, a));
        },
      ),
    );
  });

  it('takes the larger zero threshold and moves the other side’s buckets below it into the zero bucket', () => {
    // a: threshold 0, observations 0.1 (bucket (1/16,1/8]), 0.3 ((1/4,1/2]) and 3 ((2,4]) at schema 0.
    const a = observeNative([0.1, 0.3, 3, -0.2], 0, 0).native;
    // b: threshold 0.25 (a bucket boundary), one observation in its zero bucket.
    const b = observeNative([0.2], 0, 0.25).native;
    const m = addNative(a, b);
    expect(m.zeroThreshold).toBe(0.25);
    expect(m.zeroCount).toBe(3); // 0.2 from b, 0.1 and -0.2 from a
    expect(sparse(m.positive)).toEqual([
      [-1, 1],
      [2, 1],
    ]);
    expect(sparse(m.negative)).toEqual([]);
  });

  it('widens a threshold that falls inside a populated bucket to that bucket’s upper limit', () => {
    const a = observeNative([0.3, 0.6], 0, 0).native; // buckets (1/4,1/2] and (1/2,1]
    const b = observeNative([], 0, 0.4).native; // 0.4 lies inside (1/4,1/2]
    const m = addNative(a, b);
    expect(m.zeroThreshold).toBe(0.5);
    expect(m.zeroCount).toBe(1);
    expect(sparse(m.positive)).toEqual([[0, 1]]);
  });

  it('equal zero thresholds change nothing, even one inside a populated bucket (as Prometheus)', () => {
    // 0.001 is not a boundary at schema 3: 0.00105 lands in a bucket whose lower limit is below it.
    const a = observeNative([0.00105, 0.5], 3, 0.001).native;
    const b = observeNative([0.00106, 2], 3, 0.001).native;
    const m = addNative(a, b);
    expect(m.zeroThreshold).toBe(0.001);
    expect(m).toEqual(observeNative([0.00105, 0.5, 0.00106, 2], 3, 0.001).native);
  });

  it('reduceSchema of observations equals observing at the lower schema', () => {
    const v = [0.0003, 0.02, 0.7, 1, 1.5, 3, 99, 12345, -0.4, -8];
    for (const to of [2, 0, -2, -4])
      expect(reduceSchema(observeNative(v, 5, 0).native, to)).toEqual(observeNative(v, to, 0).native);
  });

  it('reduceSchema keeps every observation and refuses to raise the resolution', () => {
    const h = observeNative([1, 1.1, 1.3, 1.9, 2, 3, 100], 3, 0).native;
    const r = reduceSchema(h, -1);
    expect(r.schema).toBe(-1);
    expect(sparse(r.positive)).toEqual(
      sparse(observeNative([1, 1.1, 1.3, 1.9, 2, 3, 100], -1, 0).native.positive),
    );
    expect(() => reduceSchema(r, 0)).toThrow(RangeError);
  });

  it('limitBuckets reduces the schema until the histogram fits', () => {
    const values = Array.from({ length: 3000 }, (_, i) => 1 + i / 10);
    const h = observeNative(values, 8, 0).native;
    const limited = limitBuckets(h, 20);
    expect(limited.schema).toBeLessThan(8);
    expect(limited.positive.counts.filter((c) => c > 0).length).toBeLessThanOrEqual(20);
    expect(limited.positive.counts.reduce((n, c) => n + c, 0)).toBe(3000);
  });

  it('observations: NaN counted in no bucket, ±Inf in the overflow buckets', () => {
    const o = observeNative([Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, 0], 0, 0);
    expect(o.count).toBe(4);
    expect(o.sum).toBeNaN();
    expect(o.native.zeroCount).toBe(1);
    expect(sparse(o.native.positive)).toEqual([[maxBucketIndex(0), 1]]);
    expect(sparse(o.native.negative)).toEqual([[maxBucketIndex(0), 1]]);
  });

  it('isIntegerNative tells the integer variant from the float one', () => {
    const h = observeNative([1, 2, 3], 0, 0).native;
    expect(isIntegerNative(h)).toBe(true);
    const f: NativeHistogram = {
      ...h,
      positive: { ...h.positive, counts: h.positive.counts.map((c) => c / 2) },
    };
    expect(isIntegerNative(f)).toBe(false);
  });
});

describe('validateNativeHistogram', () => {
  const good = {
    schema: 3,
    zeroThreshold: 2 ** -128,
    zeroCount: 1,
    positiveSpans: [
      { offset: -2, length: 2 },
      { offset: 2, length: 1 },
    ],
    positiveDeltas: [3, 2, -4],
    negativeSpans: [{ offset: 0, length: 1 }],
    negativeDeltas: [2],
  };

  it('accepts the integer variant and converts deltas to absolute populations', () => {
    const h = validateNativeHistogram(good, { count: 12, sum: 3.5 });
    expect(sparse(h.positive)).toEqual([
      [-2, 3],
      [-1, 5],
      [2, 1],
    ]);
    expect(sparse(h.negative)).toEqual([[0, 2]]);
    expect(h.zeroCount).toBe(1);
  });

  it('accepts the float variant', () => {
    const h = validateNativeHistogram(
      { schema: 0, zeroCount: 0.5, positiveSpans: [{ offset: 1, length: 2 }], positiveCounts: [1.5, 0.25] },
      { count: 2.25, sum: 4 },
    );
    expect(sparse(h.positive)).toEqual([
      [1, 1.5],
      [2, 0.25],
    ]);
  });

  it('accepts an empty histogram (client_golang sends a no-op span)', () => {
    const h = validateNativeHistogram(
      { schema: 0, positiveSpans: [{ offset: 0, length: 0 }] },
      { count: 0, sum: 0 },
    );
    expect(h.positive.counts).toEqual([]);
  });

  it('an integer histogram with a NaN sum may count more observations than its buckets hold', () => {
    expect(() => validateNativeHistogram(good, { count: 13, sum: Number.NaN })).not.toThrow();
  });

  const hostile: [string, Record<string, unknown>, { count: number; sum: number }, RegExp][] = [
    [
      'schema too high',
      { ...good, schema: 9 },
      { count: 12, sum: 0 },
      /schema: must be an integer in -4\.\.8/,
    ],
    ['schema not an integer', { ...good, schema: 1.5 }, { count: 12, sum: 0 }, /schema: must be an integer/],
    ['schema a string', { ...good, schema: '3' }, { count: 12, sum: 0 }, /schema: must be an integer/],
    [
      'custom buckets',
      { ...good, schema: -53 },
      { count: 12, sum: 0 },
      /schema -53 \(custom buckets\) is not supported/,
    ],
    [
      'NaN zero threshold',
      { ...good, zeroThreshold: Number.NaN },
      { count: 12, sum: 0 },
      /zero_threshold: must be a finite number >= 0/,
    ],
    [
      'negative zero count',
      { ...good, zeroCount: -1 },
      { count: 12, sum: 0 },
      /zero_count: must be a finite number >= 0/,
    ],
    [
      'negative population',
      { ...good, positiveDeltas: [3, -4, 1] },
      { count: 12, sum: 0 },
      /positive_deltas\[1\]: makes the bucket population -1/,
    ],
    [
      'fractional delta',
      { ...good, positiveDeltas: [3, 0.5, 1] },
      { count: 12, sum: 0 },
      /positive_deltas\[1\]: must be a safe integer/,
    ],
    [
      'NaN float count',
      { ...good, positiveDeltas: undefined, positiveCounts: [1, Number.NaN, 1] },
      { count: 12, sum: 0 },
      /positive_counts\[1\]: must be a finite number >= 0/,
    ],
    ['deltas and counts', { ...good, positiveCounts: [3, 5, 1] }, { count: 12, sum: 0 }, /not both/],
    [
      'lengths mismatch',
      { ...good, positiveDeltas: [3, 2] },
      { count: 12, sum: 0 },
      /spans cover 3 buckets but 2 deltas were given/,
    ],
    [
      'huge span offset',
      {
        ...good,
        positiveSpans: [
          { offset: 2 ** 31 - 1, length: 2 },
          { offset: 2, length: 1 },
        ],
      },
      { count: 12, sum: 0 },
      /outside the valid range .* of schema 3/,
    ],
    [
      'offset beyond int32',
      { ...good, positiveSpans: [{ offset: 2 ** 40, length: 3 }] },
      { count: 12, sum: 0 },
      /offset: must be an int32/,
    ],
    [
      'negative later offset',
      {
        ...good,
        positiveSpans: [
          { offset: 0, length: 2 },
          { offset: -1, length: 1 },
        ],
      },
      { count: 12, sum: 0 },
      /only the first span may have a negative offset/,
    ],
    [
      'huge span length',
      { ...good, positiveSpans: [{ offset: 0, length: 2 ** 32 - 1 }] },
      { count: 12, sum: 0 },
      /cover 4294967295 buckets but 3 deltas/,
    ],
    [
      'span not an object',
      { ...good, positiveSpans: [7] },
      { count: 12, sum: 0 },
      /positive_spans\[0\]: must be an object/,
    ],
    [
      'spans not an array',
      { ...good, positiveSpans: 'x' },
      { count: 12, sum: 0 },
      /positive_spans: must be an array/,
    ],
    ['count too low', good, { count: 11, sum: 0 }, /sample_count: 11 differs from the 12 observations/],
    [
      'count below buckets (float)',
      { ...good, positiveDeltas: undefined, positiveCounts: [3, 5, 1] },
      { count: 8, sum: 0 },
      /sample_count: 8 is below the 12 observations/,
    ],
    [
      'too many buckets',
      {
        schema: 0,
        positiveSpans: [{ offset: 0, length: MAX_NATIVE_BUCKETS + 1 }],
        positiveCounts: new Array(MAX_NATIVE_BUCKETS + 1).fill(0),
      },
      { count: 0, sum: 0 },
      /at most 4096 buckets/,
    ],
    [
      'unknown field',
      { ...good, extra: 1 },
      { count: 12, sum: 0 },
      /extra: unknown field of a native histogram/,
    ],
  ];
  it.each(hostile)('%s is refused naming the field and the rule', (_name, input, obs, message) => {
    let err: unknown;
    try {
      validateNativeHistogram(input, obs, 'native.');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NativeHistogramError);
    expect((err as Error).message).toMatch(message);
    expect((err as NativeHistogramError).reason).toBe('invalid');
  });

  it('a __proto__ key is an unknown field, never read as a prototype', () => {
    const input = JSON.parse(
      '{"schema":0,"__proto__":{"schema":99},"positiveSpans":[{"offset":0,"length":1,"__proto__":{"x":1}}],"positiveDeltas":[1]}',
    );
    const { problems } = nativeHistogramProblems(input, { count: 1, sum: 1 });
    expect(problems.map((p) => p.path)).toEqual(['__proto__', 'positive_spans[0].__proto__']);
    expect(({} as Record<string, unknown>).schema).toBeUndefined();
  });

  it('reports every problem, not only the first', () => {
    const { problems } = nativeHistogramProblems(
      { schema: 99, zeroThreshold: -1, zeroCount: 'x' },
      { count: 0, sum: 0 },
    );
    expect(problems.map((p) => p.path)).toEqual(['schema', 'zero_threshold', 'zero_count']);
  });

  it.each([null, 7, 'x', [1, 2]])('input %p is not an object', (input) => {
    expect(() => validateNativeHistogram(input, { count: 0, sum: 0 })).toThrow(/must be an object/);
  });

  it('an offset of 2^31-1 with a tiny length is refused without iterating over the gap', () => {
    const t0 = process.hrtime.bigint();
    const { problems } = nativeHistogramProblems(
      {
        schema: -4,
        positiveSpans: [
          { offset: -(2 ** 31), length: 1 },
          { offset: 2 ** 31 - 1, length: 1 },
        ],
        positiveDeltas: [1, 0],
      },
      { count: 2, sum: 0 },
    );
    expect(problems[0]?.message).toMatch(/outside the valid range/);
    expect(Number(process.hrtime.bigint() - t0)).toBeLessThan(5e8);
  });
});
