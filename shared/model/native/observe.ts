/**
 * Native histograms from raw observations (what the event path aggregates), following the spec's
 * "Special cases of observed values": |v| <= zero threshold → zero bucket; NaN → counted, no bucket;
 * ±Inf → the positive / negative overflow bucket; the sum follows float arithmetic.
 */
import { bucketIndex } from './buckets';
import { fromAscending } from './spans';
import { EMPTY_BUCKETS, type NativeBuckets, type NativeHistogram } from './types';

/** The layout a profile declares for a native histogram: a standard schema and a zero threshold. */
export interface NativeLayout {
  readonly schema: number;
  readonly zeroThreshold: number;
}

/**
 * Buckets of observations, one at a time (the ingest's per-series accumulator). It keeps the bucket index
 * of each observation and counts them when asked for the histogram: a series sees a few observations per
 * message, and a small array costs less to make than a map (the work is O(n log n) in the observations).
 */
export class NativeObserver {
  zeroCount = 0;
  /** Bucket indices of the positive / negative observations. */
  private readonly positive: number[] = [];
  private readonly negative: number[] = [];
  private readonly schema: number;
  private readonly zeroThreshold: number;
  constructor(layout: NativeLayout) {
    this.schema = layout.schema;
    this.zeroThreshold = layout.zeroThreshold;
  }

  observe(v: number): void {
    if (Number.isNaN(v)) return;
    if (Math.abs(v) <= this.zeroThreshold) {
      this.zeroCount++;
      return;
    }
    if (v > 0) this.positive.push(bucketIndex(v, this.schema));
    else this.negative.push(bucketIndex(-v, this.schema));
  }

  histogram(): NativeHistogram {
    return {
      schema: this.schema,
      zeroThreshold: this.zeroThreshold,
      zeroCount: this.zeroCount,
      positive: bucketsOf(this.positive),
      negative: bucketsOf(this.negative),
    };
  }
}

/** One side's spans and populations from its observations' bucket indices (sorted in place). */
function bucketsOf(indices: number[]): NativeBuckets {
  if (indices.length === 0) return EMPTY_BUCKETS;
  if (indices.length === 1) return { spans: [{ offset: indices[0]!, length: 1 }], counts: [1] };
  return fromAscending(sortAscending(indices));
}

/** Sorts small integer arrays in place (insertion sort below 16 items: most series see one or two). */
function sortAscending(a: number[]): number[] {
  if (a.length > 16) return a.sort((x, y) => x - y);
  for (let i = 1; i < a.length; i++) {
    const x = a[i]!;
    let j = i - 1;
    while (j >= 0 && a[j]! > x) {
      a[j + 1] = a[j]!;
      j--;
    }
    a[j + 1] = x;
  }
  return a;
}

export interface ObservedNative {
  readonly native: NativeHistogram;
  readonly count: number;
  readonly sum: number;
}

export function observeNative(
  values: readonly number[],
  schema: number,
  zeroThreshold: number,
): ObservedNative {
  const o = new NativeObserver({ schema, zeroThreshold });
  let sum = 0;
  for (const v of values) {
    sum += v;
    o.observe(v);
  }
  return { native: o.histogram(), count: values.length, sum };
}
