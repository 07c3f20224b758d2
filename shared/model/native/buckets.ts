/**
 * Bucket arithmetic of the standard exponential schemas (native histogram spec, "Schema"): which bucket a
 * value falls into and a bucket's boundaries.
 *
 * For schema n the upper inclusive limit of positive bucket i is (2^(2^-n))^i and its lower exclusive
 * limit that of bucket i-1; negative buckets mirror them. The bucket that holds the largest float64 ends
 * at MaxFloat64 and the next one (the overflow bucket) at +Inf; no bucket lies beyond it.
 * The index is computed from the float's exponent and mantissa (frexp), exactly as the Go client does, so
 * values on a boundary land in the same bucket as there.
 */
import { MAX_SCHEMA, MIN_SCHEMA } from './types';

const F64 = new DataView(new ArrayBuffer(8));

/** v = frac * 2^exp with frac in [0.5, 1); v finite and > 0. */
export function frexp(v: number): { frac: number; exp: number } {
  let scaled = v;
  let shift = 0;
  F64.setFloat64(0, v);
  if (((F64.getUint32(0) >>> 20) & 0x7ff) === 0) {
    // subnormal: scale into the normal range first (exact: a power of two)
    scaled = v * 2 ** 64;
    shift = 64;
    F64.setFloat64(0, scaled);
  }
  const exp = ((F64.getUint32(0) >>> 20) & 0x7ff) - 1022;
  return { frac: ldexp(scaled, -exp), exp: exp - shift };
}

/** frac * 2^exp without overflowing an intermediate power of two. */
export function ldexp(frac: number, exp: number): number {
  let f = frac;
  let e = exp;
  while (e > 1000) {
    f *= 2 ** 1000;
    e -= 1000;
  }
  while (e < -1000) {
    f *= 2 ** -1000;
    e += 1000;
  }
  return f * 2 ** e;
}

/** Lower limits, within one power of two, of the 2^schema buckets there (0.5 * 2^(k / 2^schema)). */
const FRACTIONS: number[][] = [];
function fractions(schema: number): number[] {
  let f = FRACTIONS[schema];
  if (f === undefined) {
    const n = 2 ** schema;
    f = [];
    for (let k = 0; k < n; k++) f.push(k === 0 ? 0.5 : 0.5 * 2 ** (k / n));
    FRACTIONS[schema] = f;
  }
  return f;
}

export function isStandardSchema(schema: number): boolean {
  return Number.isInteger(schema) && schema >= MIN_SCHEMA && schema <= MAX_SCHEMA;
}

/** The float64 `bucketIndex` reads bit by bit, as two 32-bit words; `HI` is the word with sign and exponent. */
const BITS = new Float64Array(1);
const WORDS = new Uint32Array(BITS.buffer);
const HI = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 1 : 0;

/**
 * Index of the bucket holding a magnitude `v` (> 0, +Inf allowed: the overflow bucket) for a standard
 * schema. Callers route |v| <= zero threshold to the zero bucket and NaN to no bucket first.
 *
 * This runs once per native observation on the ingest path, so a normal float's exponent and fraction are
 * read from its bits (no `frexp` object, no scaling); zero, subnormals, infinities and NaN take the
 * frexp route. Both give the same index (test/unit/model/native-index.test.ts checks it against the
 * frexp-only formula over random, boundary and extreme values).
 */
export function bucketIndex(v: number, schema: number): number {
  BITS[0] = v;
  const hi = WORDS[HI]!;
  const biased = (hi >>> 20) & 0x7ff;
  if (biased === 0 || biased === 0x7ff) return bucketIndexByFrexp(v, schema);
  // v = frac * 2^exp, frac in [0.5, 1): the same sign and mantissa under the exponent of 0.5.
  WORDS[HI] = (hi & 0x800fffff) | 0x3fe00000;
  return indexOf(BITS[0]!, biased - 1022, schema);
}

function bucketIndexByFrexp(v: number, schema: number): number {
  if (v === Number.POSITIVE_INFINITY) return maxBucketIndex(schema);
  const { frac, exp } = frexp(v);
  return indexOf(frac, exp, schema);
}

/** The bucket of frac * 2^exp: for schema > 0 the first fraction boundary >= frac, else whole powers. */
function indexOf(frac: number, exp: number, schema: number): number {
  if (schema > 0) {
    const bounds = fractions(schema);
    let lo = 0;
    let hi = bounds.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (bounds[mid]! < frac) lo = mid + 1;
      else hi = mid;
    }
    return lo + (exp - 1) * bounds.length;
  }
  const key = frac === 0.5 ? exp - 1 : exp;
  return Math.ceil(key / 2 ** -schema) + 0; // + 0: never -0
}

/** Index of the overflow bucket (the one ending at +Inf), the highest valid index for `schema`. */
export function maxBucketIndex(schema: number): number {
  return bucketIndex(Number.MAX_VALUE, schema) + 1;
}

/** Index of the bucket holding the smallest positive float64, the lowest valid index for `schema`. */
export function minBucketIndex(schema: number): number {
  return bucketIndex(Number.MIN_VALUE, schema);
}

/** Upper inclusive limit of positive bucket `index` (MaxFloat64 and +Inf at the top, as the spec says). */
export function bucketUpperBound(index: number, schema: number): number {
  const max = maxBucketIndex(schema);
  if (index >= max) return Number.POSITIVE_INFINITY;
  if (index === max - 1) return Number.MAX_VALUE;
  if (schema > 0) {
    const n = 2 ** schema;
    const whole = Math.floor(index / n);
    const k = index - whole * n;
    return ldexp(fractions(schema)[k]!, whole + 1);
  }
  return ldexp(1, index * 2 ** -schema);
}

/** Lower exclusive limit of positive bucket `index` (0 below the lowest valid index). */
export function bucketLowerBound(index: number, schema: number): number {
  if (index <= minBucketIndex(schema)) return 0;
  return bucketUpperBound(index - 1, schema);
}

/** Index a bucket of `fromSchema` falls into at the coarser `toSchema` (toSchema <= fromSchema). */
export function coarserIndex(index: number, fromSchema: number, toSchema: number): number {
  return Math.floor((index - 1) / 2 ** (fromSchema - toSchema)) + 1;
}
