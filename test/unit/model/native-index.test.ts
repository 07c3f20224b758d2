/**
 * The ingest's fast native bucketing (shared/model/native: `bucketIndex` reading a float's bits,
 * `NativeObserver` counting sorted indices, `fromAscending`) against the formulas it replaced, kept here
 * as oracles: frexp + binary search for the index, a Map of index → population written out by the old
 * `fromSparse` loop. Random values over the whole float64 range, every bucket boundary's neighbours,
 * subnormals, zero, powers of two and the extremes, at every standard schema.
 */
import fc from 'fast-check';
import {
  bucketIndex,
  bucketUpperBound,
  frexp,
  fromAscending,
  fromSparse,
  maxBucketIndex,
  minBucketIndex,
  type NativeBuckets,
  type NativeHistogram,
  NativeObserver,
  type SparseBuckets,
} from '../../../shared/model/native';

const SCHEMAS = [-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7, 8];

/** The index as it was computed before the bit-reading path: frexp, then the schema's formula. */
function oracleIndex(v: number, schema: number): number {
  if (v === Number.POSITIVE_INFINITY) return oracleIndex(Number.MAX_VALUE, schema) + 1;
  const { frac, exp } = frexp(v);
  if (schema > 0) {
    const n = 2 ** schema;
    const bounds: number[] = [];
    for (let k = 0; k < n; k++) bounds.push(k === 0 ? 0.5 : 0.5 * 2 ** (k / n));
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid]! < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * n;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  return Math.ceil(key / 2 ** -schema) + 0;
}

/** The old sparse-map writer: one span per run, gaps of one or two buckets as explicit zeros. */
function oracleBuckets(sparse: SparseBuckets): NativeBuckets {
  const indices = [...sparse.keys()].filter((i) => sparse.get(i) !== 0).sort((a, b) => a - b);
  if (indices.length === 0) return { spans: [], counts: [] };
  const spans: { offset: number; length: number }[] = [];
  const counts: number[] = [];
  let length = 0;
  let offset = indices[0]!;
  let next = offset;
  for (const i of indices) {
    const gap = i - next;
    if (length > 0 && gap > 2) {
      spans.push({ offset, length });
      offset = gap;
      length = 0;
    } else {
      counts.push(...new Array<number>(gap).fill(0));
      length += gap;
    }
    counts.push(sparse.get(i)!);
    length++;
    next = i + 1;
  }
  spans.push({ offset, length });
  return { spans, counts };
}

/** The old observer: a Map per side. */
function oracleHistogram(values: readonly number[], schema: number, zeroThreshold: number): NativeHistogram {
  const positive: SparseBuckets = new Map();
  const negative: SparseBuckets = new Map();
  let zeroCount = 0;
  for (const v of values) {
    if (Number.isNaN(v)) continue;
    if (Math.abs(v) <= zeroThreshold) zeroCount++;
    else {
      const side = v > 0 ? positive : negative;
      const i = oracleIndex(Math.abs(v), schema);
      side.set(i, (side.get(i) ?? 0) + 1);
    }
  }
  return {
    schema,
    zeroThreshold,
    zeroCount,
    positive: oracleBuckets(positive),
    negative: oracleBuckets(negative),
  };
}

const F = new Float64Array(1);
const B = new BigUint64Array(F.buffer);
/** The float next to `v` (same sign, one unit in the last place away from or toward zero). */
function step(v: number, ulps: bigint): number {
  F[0] = v;
  B[0] = B[0]! + ulps;
  return F[0]!;
}

/** Every bucket boundary near `i` (and its neighbour floats) at `schema`. */
function aroundBoundary(i: number, schema: number): number[] {
  const b = bucketUpperBound(i, schema);
  const out = [b];
  if (b > Number.MIN_VALUE && Number.isFinite(b)) out.push(step(b, -1n));
  if (b < Number.MAX_VALUE) out.push(step(b, 1n));
  return out;
}

const schema = fc.constantFrom(...SCHEMAS);

describe('bucketIndex reads the float bits and agrees with frexp + the schema formula', () => {
  it('on any float64 (subnormals, zero, ±0, infinities, NaN, negatives included)', () => {
    fc.assert(
      fc.property(fc.double(), schema, (v, s) => {
        expect(bucketIndex(v, s)).toBe(oracleIndex(v, s));
      }),
      { numRuns: 5_000 },
    );
  });

  it('on every value next to a bucket boundary', () => {
    fc.assert(
      fc.property(schema, fc.double({ min: 0, max: 1, noNaN: true }), (s, at) => {
        const lo = minBucketIndex(s);
        const hi = maxBucketIndex(s);
        const i = Math.round(lo + at * (hi - lo));
        for (const v of aroundBoundary(i, s)) expect(bucketIndex(v, s)).toBe(oracleIndex(v, s));
      }),
      { numRuns: 5_000 },
    );
  });

  it.each(SCHEMAS)('schema %i: every power of two, the extremes, and the latency range boundaries', (s) => {
    const values: number[] = [
      Number.MIN_VALUE,
      2 ** -1022,
      step(2 ** -1022, -1n),
      Number.MAX_VALUE,
      Infinity,
    ];
    for (let e = -1074; e <= 1023; e++) values.push(2 ** e);
    for (let i = bucketIndex(1e-4, s) - 2; i <= bucketIndex(10, s) + 2; i++)
      values.push(...aroundBoundary(i, s));
    for (const v of values) expect([v, bucketIndex(v, s)]).toEqual([v, oracleIndex(v, s)]);
  });
});

describe('NativeObserver (sorted indices) writes what the Map-per-side observer wrote', () => {
  const value = fc.oneof(
    fc.double({ noNaN: false }),
    fc.double({ min: 1e-6, max: 3, noNaN: true }),
    fc.double({ min: -1e-3, max: 1e-3, noNaN: true }),
    fc.constantFrom(0, -0, 1e-4, Number.MIN_VALUE, Number.MAX_VALUE, Infinity, -Infinity),
  );

  it('for random observations, schemas and zero thresholds', () => {
    fc.assert(
      fc.property(
        fc.array(value, { maxLength: 60 }),
        schema,
        fc.constantFrom(0, 1e-4, 2 ** -128, 1),
        (values, s, zt) => {
          const o = new NativeObserver({ schema: s, zeroThreshold: zt });
          for (const v of values) o.observe(v);
          expect(o.histogram()).toEqual(oracleHistogram(values, s, zt));
        },
      ),
      { numRuns: 3_000 },
    );
  });

  it('for one series seeing many observations (the sorted path above 16 indices)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 1e-5, max: 5, noNaN: true }), { minLength: 17, maxLength: 400 }),
        (values) => {
          const o = new NativeObserver({ schema: 3, zeroThreshold: 1e-4 });
          for (const v of values) o.observe(v);
          expect(o.histogram()).toEqual(oracleHistogram(values, 3, 1e-4));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('fromAscending / fromSparse write what the old sparse writer wrote', () => {
  const sparseMap = fc
    .array(fc.tuple(fc.integer({ min: -300, max: 300 }), fc.integer({ min: 0, max: 5 })), { maxLength: 40 })
    .map((pairs) => new Map(pairs));

  it('from a sparse map (zero populations dropped)', () => {
    fc.assert(
      fc.property(sparseMap, (m) => {
        expect(fromSparse(m)).toEqual(oracleBuckets(m));
      }),
      { numRuns: 3_000 },
    );
  });

  it('from sorted repeated indices (each counts one)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { maxLength: 60 }), (xs) => {
        const sorted = [...xs].sort((a, b) => a - b);
        const m: SparseBuckets = new Map();
        for (const i of sorted) m.set(i, (m.get(i) ?? 0) + 1);
        expect(fromAscending(sorted)).toEqual(oracleBuckets(m));
      }),
      { numRuns: 3_000 },
    );
  });
});
