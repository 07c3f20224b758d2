/**
 * Adding native histograms, following the spec's rules for merging ("Compatibility between histograms",
 * "Zero bucket"):
 * - different schemas: both are reduced to the coarser (lower) schema by adding neighbouring buckets;
 * - different zero thresholds: the larger one is taken; a populated bucket it falls inside widens it to
 *   that bucket's upper limit, and every bucket now inside the threshold is added to the zero bucket
 *   (equal thresholds change nothing, as in Prometheus);
 * - then zero buckets and buckets with the same index are added.
 * Counts and sums of the observations are the caller's (they live on the series): add them alongside.
 */
import { bucketLowerBound, bucketUpperBound, coarserIndex } from './buckets';
import { fromSparse, populatedBuckets, toSparse } from './spans';
import {
  MAX_NATIVE_BUCKETS,
  MIN_SCHEMA,
  type NativeBuckets,
  type NativeHistogram,
  type SparseBuckets,
} from './types';

/** Working form: both sides sparse. */
interface Sparse {
  schema: number;
  zeroThreshold: number;
  zeroCount: number;
  positive: SparseBuckets;
  negative: SparseBuckets;
}

function toWorking(h: NativeHistogram): Sparse {
  return {
    schema: h.schema,
    zeroThreshold: h.zeroThreshold,
    zeroCount: h.zeroCount,
    positive: toSparse(h.positive),
    negative: toSparse(h.negative),
  };
}

function fromWorking(s: Sparse): NativeHistogram {
  return {
    schema: s.schema,
    zeroThreshold: s.zeroThreshold,
    zeroCount: s.zeroCount,
    positive: fromSparse(s.positive),
    negative: fromSparse(s.negative),
  };
}

function reduceSide(side: SparseBuckets, from: number, to: number): SparseBuckets {
  if (from === to) return side;
  const out: SparseBuckets = new Map();
  for (const [i, c] of side) {
    const j = coarserIndex(i, from, to);
    out.set(j, (out.get(j) ?? 0) + c);
  }
  return out;
}

function reduceWorking(s: Sparse, schema: number): Sparse {
  return {
    ...s,
    schema,
    positive: reduceSide(s.positive, s.schema, schema),
    negative: reduceSide(s.negative, s.schema, schema),
  };
}

/** The histogram at a coarser schema (`schema` <= h.schema); populations and the zero bucket unchanged. */
export function reduceSchema(h: NativeHistogram, schema: number): NativeHistogram {
  if (schema > h.schema) throw new RangeError(`cannot raise schema ${h.schema} to ${schema}`);
  if (schema === h.schema) return h;
  return fromWorking(reduceWorking(toWorking(h), schema));
}

/**
 * Moves every bucket whose lower limit is below `threshold` into the zero bucket; a bucket the threshold
 * falls inside raises the threshold to its upper limit. Returns the resulting threshold.
 */
function widenZeroBucket(s: Sparse, threshold: number): void {
  let t = threshold;
  for (const side of [s.positive, s.negative]) {
    for (const [i, c] of side) {
      if (bucketLowerBound(i, s.schema) >= threshold) continue;
      s.zeroCount += c;
      side.delete(i);
      const upper = bucketUpperBound(i, s.schema);
      if (upper > t) t = upper;
    }
  }
  s.zeroThreshold = t;
}

function addSide(into: SparseBuckets, from: SparseBuckets): void {
  for (const [i, c] of from) into.set(i, (into.get(i) ?? 0) + c);
}

/** a + b (both valid, standard schemas). Neither input is changed. */
export function addNative(a: NativeHistogram, b: NativeHistogram): NativeHistogram {
  const schema = Math.min(a.schema, b.schema);
  const x = reduceWorking(toWorking(a), schema);
  const y = reduceWorking(toWorking(b), schema);
  // Zero buckets are reconciled only when the thresholds differ (as Prometheus' FloatHistogram.Add): the
  // side with the smaller threshold is widened to the larger one, which may land inside a populated bucket
  // and move further; the other side then follows. Equal thresholds leave both as they are, so adding two
  // histograms of one layout keeps that layout. Each round moves a threshold up to a bucket boundary of
  // the common schema: a few rounds settle it; the loop is bounded anyway.
  for (let round = 0; x.zeroThreshold !== y.zeroThreshold && round < 8; round++) {
    if (x.zeroThreshold > y.zeroThreshold) widenZeroBucket(y, x.zeroThreshold);
    else widenZeroBucket(x, y.zeroThreshold);
  }
  x.zeroCount += y.zeroCount;
  addSide(x.positive, y.positive);
  addSide(x.negative, y.negative);
  return limitBuckets(fromWorking(x));
}

function populated(h: NativeHistogram): number {
  return populatedBuckets(h.positive) + populatedBuckets(h.negative);
}

/**
 * Reduces the schema one step at a time until the histogram has at most `max` populated buckets (or the
 * lowest schema is reached), as client_golang does when its bucket limit is hit.
 */
export function limitBuckets(h: NativeHistogram, max = MAX_NATIVE_BUCKETS): NativeHistogram {
  let out = h;
  while (populated(out) > max && out.schema > MIN_SCHEMA) out = reduceSchema(out, out.schema - 1);
  return out;
}

/** True when every population of the histogram is a safe integer (it can be written as the integer variant). */
export function isIntegerNative(h: NativeHistogram): boolean {
  const whole = (c: number) => Number.isSafeInteger(c);
  const side = (b: NativeBuckets) => b.counts.every(whole);
  return whole(h.zeroCount) && side(h.positive) && side(h.negative);
}
